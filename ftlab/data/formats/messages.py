"""OpenAI-style chat: a list of ``{"role", "content"}`` messages."""

from ftlab.data.formats import DataFormat
from ftlab.data.formats._fields import dialogue, sft_from_dialogue, synonyms, turns, turns_fit
from ftlab.data.records import Record


def parse(row: dict, cols: dict[str, str]) -> Record:
    return Record("messages", dialogue(turns(row.get(cols["messages"]), "role", "content", None,
                                             repr(cols["messages"]))))


ENTRY = DataFormat("messages", "OpenAI-style chat messages ({role, content} turns).", required=("messages",),
                   optional=(), synonyms=synonyms("messages"), parse=parse, rows={"sft": sft_from_dialogue},
                   priority=30, fits=lambda rows, cols: turns_fit(rows, cols["messages"], "role"))
