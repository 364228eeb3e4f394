"""Alpaca instructions: ``instruction`` (+ optional ``input``) -> ``output``, with optional ``history`` pairs."""

from ftlab.data.formats import DataFormat
from ftlab.data.formats._fields import history_turns, sft_from_dialogue, synonyms, system_turn, text
from ftlab.data.records import Record


def instruction_dialogue(row: dict, cols: dict[str, str]) -> list[dict]:
    """System turn, history pairs, then the instruction (with its input below it) and the output."""
    instruction = text(row, cols, "instruction")
    extra = text(row, cols, "input", required=False)
    prompt = f"{instruction}\n\n{extra}" if extra and extra.strip() else instruction
    return system_turn(row, cols) + history_turns(row, cols) + [
        {"role": "user", "content": prompt}, {"role": "assistant", "content": text(row, cols, "output")}]


def parse(row: dict, cols: dict[str, str]) -> Record:
    return Record("alpaca", instruction_dialogue(row, cols))


ENTRY = DataFormat("alpaca", "Alpaca instructions: instruction (+ input) -> output, optional history.",
                   required=("instruction", "output"), optional=("input", "system", "history"),
                   synonyms=synonyms("instruction", "output", "input", "system", "history"), parse=parse,
                   rows={"sft": sft_from_dialogue}, view="qa", priority=40)
