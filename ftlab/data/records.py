"""One record type for every data format.

Whatever a file looked like (Q/A columns, Alpaca, ShareGPT, OpenAI messages,
preference pairs...), it becomes a ``Record``: dialogue turns as
``{"role", "content"}`` messages plus the fields only some formats have.
Quality steps and converters then deal with one shape, whatever the format
(:mod:`ftlab.data.formats` holds the formats).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Callable

from ftlab.files import canonical_json, content_hash


@dataclass
class Record:
    """A single example in ftlab's internal shape.

    messages   chat formats: the whole dialogue; preference/kto: the prompt turns
    chosen, rejected   preference: the preferred / dispreferred assistant turns
    completion, label  kto: one answer and whether it is good (True) or bad
    text, label        classification; ``text`` alone is raw text for pretraining
    rationale  cot: the reasoning, kept apart so a template can put it before the answer
    meta       where the row came from (``where``) and an ``id`` if the source had one;
               not content, so it never changes a hash
    """

    format: str
    messages: list[dict] = field(default_factory=list)
    chosen: list[dict] | None = None
    rejected: list[dict] | None = None
    completion: str | None = None
    label: str | bool | None = None
    text: str | None = None
    rationale: str | None = None
    meta: dict = field(default_factory=dict, compare=False)

    # --- content ---------------------------------------------------------
    def to_dict(self, with_meta: bool = True) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)
               if getattr(self, f.name) not in (None, [], {}) or f.name == "format"}
        if not with_meta:
            out.pop("meta", None)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Record":
        return cls(**{k: v for k, v in data.items() if k in _FIELD_NAMES})

    def key(self) -> str:
        """The content as canonical JSON: equal content, equal key."""
        return canonical_json(self.to_dict(with_meta=False))

    def digest(self) -> str:
        return content_hash(self.key())

    def strings(self) -> list[str]:
        """Every piece of text in the record, in a fixed order."""
        out = [m["content"] for m in self.messages]
        for turns in (self.chosen, self.rejected):
            out += [m["content"] for m in turns or []]
        out += [s for s in (self.completion, self.text, self.rationale) if s is not None]
        if isinstance(self.label, str):
            out.append(self.label)
        return out

    def joined(self) -> str:
        """All text in one string, e.g. for length limits and duplicate detection."""
        return "\n".join(self.strings())

    def map_strings(self, fn: Callable[[str], str], labels: bool = False) -> "Record":
        """A copy with ``fn`` applied to every text (labels only when asked: they are categories)."""
        def turns(items):
            return None if items is None else [{**m, "content": fn(m["content"])} for m in items]

        def text(value):
            return None if value is None else fn(value)

        return replace(self, messages=turns(self.messages), chosen=turns(self.chosen),
                       rejected=turns(self.rejected), completion=text(self.completion), text=text(self.text),
                       rationale=text(self.rationale),
                       label=fn(self.label) if labels and isinstance(self.label, str) else self.label,
                       meta=dict(self.meta))

    @property
    def where(self) -> str:
        return self.meta.get("where", "?")

    @property
    def row_id(self) -> str:
        """How versions recognise 'the same row' across edits: the source id, else its location."""
        return str(self.meta.get("id", self.meta.get("where", self.digest())))


_FIELD_NAMES = {f.name for f in fields(Record)}
