"""ShareGPT conversations: a list of ``{"from": "human"|"gpt"|..., "value": ...}`` turns."""

from ftlab.data.formats import DataFormat
from ftlab.data.formats._fields import dialogue, sft_from_dialogue, synonyms, system_turn, turns, turns_fit
from ftlab.data.records import Record

SPEAKERS = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "bot": "assistant",
            "chatgpt": "assistant", "model": "assistant", "system": "system", "function_call": "assistant",
            "observation": "tool", "tool": "tool", "function": "tool"}


def parse(row: dict, cols: dict[str, str]) -> Record:
    said = turns(row.get(cols["conversations"]), "from", "value", SPEAKERS, repr(cols["conversations"]))
    head = system_turn(row, cols) if not said or said[0]["role"] != "system" else []
    return Record("sharegpt", dialogue(head + said))


ENTRY = DataFormat("sharegpt", "ShareGPT conversations ({from, value} turns).", required=("conversations",),
                   optional=("system",), synonyms=synonyms("conversations", "system"), parse=parse,
                   rows={"sft": sft_from_dialogue}, priority=20,
                   fits=lambda rows, cols: turns_fit(rows, cols["conversations"], "from"))
