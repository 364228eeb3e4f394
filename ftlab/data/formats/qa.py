"""Question/answer pairs: ``prompt`` + ``completion`` columns under any of their usual names."""

from ftlab.data.formats import DataFormat
from ftlab.data.formats._fields import sft_from_dialogue, synonyms, system_turn, text
from ftlab.data.records import Record


def parse(row: dict, cols: dict[str, str]) -> Record:
    return Record("qa", system_turn(row, cols) + [{"role": "user", "content": text(row, cols, "prompt")},
                                                  {"role": "assistant", "content": text(row, cols, "completion")}])


ENTRY = DataFormat("qa", "Question/answer pairs (prompt + completion).", required=("prompt", "completion"),
                   optional=("system",), synonyms=synonyms("prompt", "completion", "system"), parse=parse,
                   rows={"sft": sft_from_dialogue}, view="qa", priority=70)
