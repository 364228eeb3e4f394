"""Raw text (documents, a folder of .txt files): the data of continued pretraining."""

from ftlab.data.formats import DataFormat
from ftlab.data.formats._fields import synonyms, text
from ftlab.data.records import Record

ENTRY = DataFormat("text", "Plain text documents (continued pretraining).", required=("text",), optional=(),
                   synonyms=synonyms("text"),
                   parse=lambda row, cols: Record("text", text=text(row, cols, "text")),
                   rows={"text": lambda record: [{"text": record.text}]}, view="document", priority=90)
