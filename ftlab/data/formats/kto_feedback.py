"""KTO feedback: one answer to a prompt, labelled good or bad (thumbs up / down).

A good answer is also an SFT target; a bad one is not an answer to imitate,
so it gives no SFT row.
"""

from ftlab.data.formats import DataFormat, RowProblem
from ftlab.data.formats._fields import as_bool, synonyms, system_turn, text
from ftlab.data.records import Record


def parse(row: dict, cols: dict[str, str]) -> Record:
    label = as_bool(row.get(cols["label"]))
    if label is None:
        raise RowProblem(f"label {row.get(cols['label'])!r} is neither good nor bad (use true/false, good/bad, 1/0)")
    return Record("kto", system_turn(row, cols) + [{"role": "user", "content": text(row, cols, "prompt")}],
                  completion=text(row, cols, "completion"), label=label)


def labels_are_feedback(rows: list[dict], cols: dict[str, str]) -> bool:
    labels = [r.get(cols["label"]) for r in rows[:200] if r.get(cols["label"]) is not None]
    return bool(labels) and all(as_bool(v) is not None for v in labels)


def answer(record: Record) -> list[dict]:
    return [{"role": "assistant", "content": record.completion}]


ENTRY = DataFormat(
    "kto", "KTO feedback: a prompt, one answer and whether it is good or bad.",
    required=("prompt", "completion", "label"), optional=("system",),
    synonyms=synonyms("prompt", "completion", "label", "system"), parse=parse,
    rows={"sft": lambda r: [{"prompt": list(r.messages), "completion": answer(r)}] if r.label else [],
          "kto": lambda r: [{"prompt": list(r.messages), "completion": answer(r), "label": bool(r.label)}]},
    view="feedback", priority=35, fits=labels_are_feedback)
