"""Chain of thought: a prompt, the reasoning and the final answer, kept apart.

For SFT the reasoning goes before the answer (``Record.rationale`` through
``TEMPLATE``), so the model learns to think before it answers.
"""

from ftlab.data.formats import DataFormat
from ftlab.data.formats._fields import synonyms, system_turn, text
from ftlab.data.records import Record

TEMPLATE = "{rationale}\n\nAnswer: {answer}"


def parse(row: dict, cols: dict[str, str]) -> Record:
    return Record("cot", system_turn(row, cols) + [{"role": "user", "content": text(row, cols, "prompt")},
                                                   {"role": "assistant", "content": text(row, cols, "completion")}],
                  rationale=text(row, cols, "rationale"))


def sft(record: Record) -> list[dict]:
    answer = TEMPLATE.format(rationale=record.rationale, answer=record.messages[-1]["content"])
    return [{"prompt": list(record.messages[:-1]), "completion": [{"role": "assistant", "content": answer}]}]


ENTRY = DataFormat("cot", "Chain of thought: prompt, rationale and final answer.",
                   required=("prompt", "rationale", "completion"), optional=("system",),
                   synonyms=synonyms("prompt", "rationale", "completion", "system"), parse=parse,
                   rows={"sft": sft}, view="qa", priority=60)
