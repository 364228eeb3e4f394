"""Records in the shapes TRL's trainers read.

    SFT   conversational prompt-completion: {"prompt": [turns], "completion": [assistant turn]}
          (the loss falls on the completion only), or {"text": ...} for raw text
    DPO   {"prompt": [turns], "chosen": [turns], "rejected": [turns]}
    KTO   {"prompt": [turns], "completion": [turns], "label": bool}

Records of another format are converted where that has a clear meaning
(a preference pair gives one good and one bad KTO row; SFT learns the chosen
answer) and refused with the reason where it has none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from ftlab.data.records import CHAT_FORMATS, Record
from ftlab.errors import FtlabError

if TYPE_CHECKING:
    from datasets import Dataset

COT_TEMPLATE = "{rationale}\n\nAnswer: {answer}"
CLASSIFY_TEMPLATE = "{text}"


def sft_row(record: Record, cot_template: str = COT_TEMPLATE, system_prompt: str | None = None) -> dict:
    """One SFT example; the last assistant turn is the completion, everything before it the prompt."""
    fmt = record.format
    if fmt == "text":
        return {"text": record.text}
    if fmt == "classification":
        prompt, answer = [{"role": "user", "content": CLASSIFY_TEMPLATE.format(text=record.text)}], record.label
    elif fmt == "preference":
        prompt, answer = record.messages, record.chosen[-1]["content"]
    elif fmt == "kto":
        if not record.label:
            raise FtlabError(f"{record.where}: an undesirable KTO answer cannot be an SFT target; "
                             "drop label=False rows first (to_sft does) or train with KTO.")
        prompt, answer = record.messages, record.completion
    elif fmt in CHAT_FORMATS:
        last = max(i for i, m in enumerate(record.messages) if m["role"] == "assistant")
        prompt, answer = record.messages[:last], record.messages[last]["content"]
        if fmt == "cot" and record.rationale:
            answer = cot_template.format(rationale=record.rationale, answer=answer)
    else:
        raise FtlabError(f"{record.where}: unknown format {fmt!r}.")
    if system_prompt and not any(m["role"] == "system" for m in prompt):
        prompt = [{"role": "system", "content": system_prompt}] + prompt
    return {"prompt": list(prompt), "completion": [{"role": "assistant", "content": answer}]}


def dpo_row(record: Record) -> dict:
    if record.format != "preference":
        raise FtlabError(f"{record.where}: DPO needs preference pairs (prompt/chosen/rejected), "
                         f"this row is {record.format!r}.")
    return {"prompt": record.messages, "chosen": record.chosen, "rejected": record.rejected}


def kto_rows(record: Record) -> list[dict]:
    if record.format == "kto":
        return [{"prompt": record.messages, "completion": [{"role": "assistant", "content": record.completion}],
                 "label": bool(record.label)}]
    if record.format == "preference":
        return [{"prompt": record.messages, "completion": record.chosen, "label": True},
                {"prompt": record.messages, "completion": record.rejected, "label": False}]
    raise FtlabError(f"{record.where}: KTO needs answers labelled good/bad or preference pairs, "
                     f"this row is {record.format!r}.")


def to_sft(records: Iterable[Record], cot_template: str = COT_TEMPLATE,
           system_prompt: str | None = None) -> "Dataset":
    """SFT rows; KTO rows labelled bad are left out (they are not answers to imitate)."""
    from datasets import Dataset

    rows = [sft_row(r, cot_template, system_prompt) for r in records if not (r.format == "kto" and not r.label)]
    return Dataset.from_list(rows)


def to_dpo(records: Iterable[Record]) -> "Dataset":
    from datasets import Dataset

    return Dataset.from_list([dpo_row(r) for r in records])


def to_kto(records: Iterable[Record]) -> "Dataset":
    from datasets import Dataset

    return Dataset.from_list([row for r in records for row in kto_rows(r)])


def to_trainer(records: Iterable[Record], trainer: str, **kwargs) -> "Dataset":
    """The dataset for a TRL trainer by name: sft, dpo or kto."""
    shapes = {"sft": to_sft, "dpo": to_dpo, "kto": to_kto}
    if trainer not in shapes:
        raise FtlabError(f"unknown trainer {trainer!r}; choose one of {', '.join(shapes)}.")
    return shapes[trainer](records, **kwargs)
