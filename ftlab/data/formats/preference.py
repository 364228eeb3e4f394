"""Preference pairs: a prompt with a chosen and a rejected answer.

Pairs come in three shapes and all become one record: explicit
prompt/chosen/rejected columns; full dialogues that differ only at the end
(the shared turns are the prompt); and full-text pairs ("Human: ...
Assistant: ...", as in Anthropic's HH data) whose shared dialogue prefix is
split off into prompt turns.
"""

from __future__ import annotations

import re

from ftlab.data.formats import DataFormat, RowProblem
from ftlab.data.formats._fields import maybe_json, synonyms, system_turn, turns
from ftlab.data.records import Record


def parse(row: dict, cols: dict[str, str]) -> Record:
    chosen, rejected = maybe_json(row.get(cols["chosen"])), maybe_json(row.get(cols["rejected"]))
    if chosen is None or rejected is None:
        raise RowProblem("both 'chosen' and 'rejected' are needed")
    prompt = maybe_json(row.get(cols["prompt"])) if "prompt" in cols else None
    head = system_turn(row, cols)
    if isinstance(prompt, list):
        head += turns(prompt, "role", "content", None, "the prompt")
    elif prompt is not None and str(prompt).strip():
        head.append({"role": "user", "content": str(prompt)})
    if isinstance(chosen, list) and isinstance(rejected, list):
        chosen = turns(chosen, "role", "content", None, "'chosen'")
        rejected = turns(rejected, "role", "content", None, "'rejected'")
        if prompt is None:
            shared, chosen, rejected = split_shared_turns(chosen, rejected)
            head += shared
    else:
        chosen, rejected = str(chosen), str(rejected)
        if prompt is None:
            shared, chosen, rejected = split_shared_text(chosen, rejected)
            head += shared
        chosen, rejected = [{"role": "assistant", "content": chosen}], [{"role": "assistant", "content": rejected}]
    return Record("preference", head, chosen=chosen, rejected=rejected)


def split_shared_turns(chosen: list[dict], rejected: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """Full dialogues that differ only at the end: the common turns are the prompt."""
    n = 0
    while n < min(len(chosen), len(rejected)) - 1 and chosen[n] == rejected[n]:
        n += 1
    return chosen[:n], chosen[n:], rejected[n:]


_SPEAKERS = {"human": "user", "user": "user", "assistant": "assistant"}
_MARKER = re.compile(r"(?:^|\n)\s*(Human|User|Assistant):\s?", re.IGNORECASE)


def split_shared_text(chosen: str, rejected: str) -> tuple[list[dict], str, str]:
    """Full-text pairs ("Human: ... Assistant: ...") share a dialogue prefix; split it off as turns.

    The split falls after the last speaker marker both texts share, so a reply
    that starts with the same words as the other is not cut mid-answer.
    """
    n = 0
    limit = min(len(chosen), len(rejected))
    while n < limit and chosen[n] == rejected[n]:
        n += 1
    cut = max((m.end() for m in _MARKER.finditer(chosen[:n]) if m.end() <= n), default=0)
    if cut == 0:
        return [], chosen, rejected
    matches = list(_MARKER.finditer(chosen[:cut]))
    said = [{"role": _SPEAKERS[m.group(1).lower()], "content": chosen[m.end(): nxt.start() if nxt else cut].strip()}
            for m, nxt in zip(matches, matches[1:] + [None])]
    return [t for t in said if t["content"]], chosen[cut:].strip(), rejected[cut:].strip()


def sft(record: Record) -> list[dict]:
    """Imitate the chosen answer (earlier turns of a multi-turn chosen side belong to the prompt)."""
    return [{"prompt": list(record.messages) + record.chosen[:-1], "completion": record.chosen[-1:]}]


ENTRY = DataFormat(
    "preference", "Preference pairs: a prompt with a chosen and a rejected answer.",
    required=("chosen", "rejected"), optional=("prompt", "system"),
    synonyms=synonyms("chosen", "rejected", "prompt", "system"), parse=parse,
    rows={"preference": lambda r: [{"prompt": list(r.messages), "chosen": r.chosen, "rejected": r.rejected}],
          "kto": lambda r: [{"prompt": list(r.messages), "completion": r.chosen, "label": True},
                            {"prompt": list(r.messages), "completion": r.rejected, "label": False}],
          "sft": sft},
    view="pair", priority=10)
