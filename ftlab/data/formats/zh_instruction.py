"""Chinese instruction data: 指令 (+ 输入) -> 输出, with optional 系统提示 and 历史 pairs.

Instruction sets collected in Chinese (BELLE, COIG, Firefly-style exports, a
team's own spreadsheet) often keep Chinese column names.  They mean what
Alpaca's do, so a row becomes the same dialogue record; the English synonyms
are accepted too, so a half-translated header still reads.
"""

from ftlab.data.formats import DataFormat
from ftlab.data.formats._fields import sft_from_dialogue
from ftlab.data.formats.alpaca import instruction_dialogue
from ftlab.data.records import Record

SYNONYMS = {
    "instruction": ("指令", "任务", "instruction"),
    "input": ("输入", "上下文", "input"),
    "output": ("输出", "回答", "答案", "output"),
    "system": ("系统提示", "系统", "system"),
    "history": ("历史", "历史对话", "history"),
}


def parse(row: dict, cols: dict[str, str]) -> Record:
    return Record("zh_instruction", instruction_dialogue(row, cols))


def chinese_header(rows: list[dict], cols: dict[str, str]) -> bool:
    """The instruction column has a Chinese name; an all-English header is plain Alpaca."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in cols["instruction"] + cols["output"])


ENTRY = DataFormat("zh_instruction", "Chinese instruction data: 指令 (+ 输入) -> 输出, optional 系统提示 and 历史.",
                   required=("instruction", "output"), optional=("input", "system", "history"), synonyms=SYNONYMS,
                   parse=parse, rows={"sft": sft_from_dialogue}, view="qa", priority=38, fits=chinese_header)
