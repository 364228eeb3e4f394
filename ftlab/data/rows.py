"""Records -> the rows a training stage or an evaluation reads, through each record's format.

    sft         {"prompt": [turns], "completion": [assistant turn]}: TRL's conversational
                prompt-completion shape, so the loss falls on the completion only and the
                whole prompt dialogue (system prompt, earlier turns) is its context
    preference  {"prompt": [turns], "chosen": [turns], "rejected": [turns]}
    kto         {"prompt": [turns], "completion": [turns], "label": bool}
    text        {"text": str}
    prompt      {"prompt": [turns], "reference": str}: what an RL stage samples answers to, with the
                answer a reward may check against (any record that gives SFT rows gives these)

Training and evaluation read the same SFT rows: an evaluation example is the
prompt dialogue of an SFT row and its completion is the reference, so a
system prompt and multi-turn context reach evaluation exactly as they reach
training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from ftlab.data.formats import FORMATS
from ftlab.data.records import Record
from ftlab.errors import FtlabError

if TYPE_CHECKING:
    from datasets import Dataset


def with_system(prompt: list[dict], system_prompt: str | None) -> list[dict]:
    """Put ``system_prompt`` first unless the dialogue brings its own system turn."""
    if not system_prompt or any(turn["role"] == "system" for turn in prompt):
        return list(prompt)
    return [{"role": "system", "content": system_prompt}] + list(prompt)


def training_rows(records: Iterable[Record], kind: str, system_prompt: str | None = None) -> list[dict]:
    """Every record's rows of ``kind``; a record whose format cannot give them stops with the reason."""
    rows = []
    for record in records:
        if kind == "prompt":
            rows += [{"prompt": with_system(row["prompt"], system_prompt),
                      "reference": row["completion"][-1]["content"]}
                     for row in FORMATS[record.format].convert(record, "sft")]
            continue
        for row in FORMATS[record.format].convert(record, kind):
            if "prompt" in row:
                row = {**row, "prompt": with_system(row["prompt"], system_prompt)}
            rows.append(row)
    return rows


def to_dataset(records: list[Record], kind: str, system_prompt: str | None = None, source: str = "data") -> "Dataset":
    from datasets import Dataset

    if not records:
        raise FtlabError(f"{source}: no rows.")
    rows = training_rows(records, kind, system_prompt)
    if not rows:
        raise FtlabError(f"{source}: none of its {len(records)} rows gives {kind!r} training data.")
    return Dataset.from_list(rows)


@dataclass
class Example:
    """One evaluation example: the prompt dialogue the model answers and the reference answer."""

    prompt: list[dict]
    reference: str
    where: str

    @property
    def question(self) -> str:
        """The last user turn: what a person reads as 'the prompt' in a table."""
        return last_user_turn(self.prompt)


def last_user_turn(prompt: list[dict] | str) -> str:
    """A prompt as a person reads it: the last user turn of a dialogue, or the plain text."""
    if isinstance(prompt, str):
        return prompt
    return next((t["content"] for t in reversed(prompt) if t["role"] == "user"), "")


def examples(records: Iterable[Record], system_prompt: str | None = None) -> list[Example]:
    """Evaluation examples from records that give SFT rows (a bad KTO answer gives none)."""
    out = []
    for record in records:
        for row in FORMATS[record.format].convert(record, "sft"):
            out.append(Example(with_system(row["prompt"], system_prompt), row["completion"][-1]["content"],
                               record.where))
    return out
