"""The data-format registry: one file per format in this package.

A format says which *roles* its rows have (prompt, completion, chosen...)
and which column names commonly carry each role, how to check that values
fit (a ``label`` of good/bad is KTO feedback, one of many classes is
classification), how one row becomes a :class:`~ftlab.data.records.Record`,
which training rows a record can become (``sft`` prompt-completion pairs,
``preference`` pairs, ``kto`` feedback, plain ``text``), and how the data
explorer shows it.  Detection (:mod:`ftlab.data.parsing`) tries the formats
in ``priority`` order, most specific first.

This module imports nothing from ftlab but the registry and the record type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ftlab.data.records import Record
from ftlab.errors import FtlabError
from ftlab.registry import Registry

# How the data explorer draws a record (ftlab.widgets.data_explorer has one renderer per view).
VIEWS = ("chat", "qa", "pair", "feedback", "labelled", "document")


class RowProblem(Exception):
    """A row that cannot be read as its format; the message names the field and what is wrong."""


@dataclass(frozen=True)
class DataFormat:
    name: str
    summary: str
    required: tuple[str, ...]  # roles every row must have a column for
    optional: tuple[str, ...]
    synonyms: dict[str, tuple[str, ...]]  # role -> accepted column names, most usual first
    parse: Callable[[dict, dict[str, str]], Record]  # (row, role -> column) -> Record; raises RowProblem
    rows: dict[str, Callable[[Record], list[dict]]] = field(default_factory=dict)  # row kind -> converter
    view: str = "chat"
    priority: int = 50  # detection order: lower first
    fits: Callable[[list[dict], dict[str, str]], bool] | None = None  # values (not just names) fit the format

    @property
    def roles(self) -> tuple[str, ...]:
        return self.required + self.optional

    @property
    def chat(self) -> bool:
        """Rows are dialogues whose last assistant turn is the answer."""
        return self.view in ("chat", "qa")

    def convert(self, record: Record, kind: str) -> list[dict]:
        """The rows of ``kind`` this record gives; a format that cannot give them says why."""
        if kind not in self.rows:
            can = ", ".join(self.rows) or "none"
            raise FtlabError(f"{record.where}: a {self.name!r} row cannot become {kind!r} training data "
                             f"(it gives: {can}); {_WHAT_FITS[kind]}")
        return self.rows[kind](record)


_WHAT_FITS = {
    "sft": "supervised fine-tuning needs prompts with answers (Q/A, instruction or chat data).",
    "preference": "preference training needs pairs of a chosen and a rejected answer.",
    "kto": "KTO needs answers labelled good or bad, or preference pairs.",
    "text": "continued pretraining reads plain text (format 'text').",
}

FORMATS: Registry[DataFormat] = Registry("data format", __name__, sort_key=lambda f: (f.priority, f.name))
