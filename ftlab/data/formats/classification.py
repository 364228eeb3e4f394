"""Classification: a ``text`` and its ``label``.  For SFT the text is the prompt and the label the answer."""

from ftlab.data.formats import DataFormat, RowProblem
from ftlab.data.formats._fields import synonyms, text
from ftlab.data.records import Record


def parse(row: dict, cols: dict[str, str]) -> Record:
    label = row.get(cols["label"])
    if label is None or str(label).strip() == "":
        raise RowProblem(f"field {cols['label']!r} (label) is missing or empty")
    return Record("classification", text=text(row, cols, "text"), label=str(label).strip())


def sft(record: Record) -> list[dict]:
    return [{"prompt": [{"role": "user", "content": record.text}],
             "completion": [{"role": "assistant", "content": str(record.label)}]}]


ENTRY = DataFormat("classification", "Texts with a class label.", required=("text", "label"), optional=(),
                   synonyms=synonyms("text", "label"), parse=parse, rows={"sft": sft}, view="labelled",
                   priority=80)
