"""Reading cells and dialogue turns, shared by the formats.

``SYNONYMS`` lists, for every role, the column names people commonly use for
it, most usual first; a format takes the roles it needs from here (or brings
its own names, as the Chinese instruction format does).
"""

from __future__ import annotations

import json
from typing import Any

from ftlab.data.formats import RowProblem

SYNONYMS: dict[str, tuple[str, ...]] = {
    "prompt": ("prompt", "question", "query", "input", "instruction", "context", "problem", "source", "问题", "提问",
               "用户问题"),
    "completion": ("completion", "answer", "response", "output", "target", "reply", "solution", "答案", "回答",
                   "回复"),
    "system": ("system", "system_prompt", "系统提示", "系统"),
    "instruction": ("instruction",),
    "input": ("input",),
    "output": ("output",),
    "history": ("history",),
    "conversations": ("conversations", "conversation"),
    "messages": ("messages", "conversations", "dialogue", "chat", "对话"),
    "rationale": ("rationale", "reasoning", "chain_of_thought", "cot", "thought", "thoughts", "thinking",
                  "explanation", "steps", "推理", "思考过程", "解析"),
    "chosen": ("chosen", "preferred", "accepted", "better", "response_chosen", "好回答", "优选"),
    "rejected": ("rejected", "dispreferred", "worse", "response_rejected", "差回答", "劣选"),
    "label": ("label", "labels", "class", "category", "feedback", "sentiment", "target", "标签", "类别"),
    "text": ("text", "content", "document", "sentence", "body", "review", "passage", "文本", "内容", "正文"),
}
# Chinese column names sit after the English ones: an export with both (question + 问题) reads the English.

CHAT_ROLES = {"system", "user", "assistant", "tool"}
GOOD = {"true", "1", "yes", "good", "positive", "pos", "thumbs_up", "up", "+", "desirable", "accept", "accepted"}
BAD = {"false", "0", "no", "bad", "negative", "neg", "thumbs_down", "down", "-", "undesirable", "reject", "rejected"}


def synonyms(*roles: str) -> dict[str, tuple[str, ...]]:
    return {role: SYNONYMS[role] for role in roles}


def maybe_json(value: Any) -> Any:
    """CSV and Excel cells hold message lists as JSON text; parse those."""
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def text(row: dict, cols: dict[str, str], role: str, required: bool = True) -> str | None:
    column = cols.get(role)
    value = row.get(column) if column else None
    if value is None or (isinstance(value, float) and value != value):  # NaN from pandas/Parquet
        if required:
            raise RowProblem(f"field {column!r} ({role}) is missing or empty")
        return None
    return value if isinstance(value, str) else str(value)


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    word = str(value).strip().lower()
    return True if word in GOOD else False if word in BAD else None


def system_turn(row: dict, cols: dict[str, str]) -> list[dict]:
    system = text(row, cols, "system", required=False)
    return [{"role": "system", "content": system}] if system else []


def turns(value: Any, role_key: str, content_key: str, roles: dict[str, str] | None, what: str) -> list[dict]:
    """A list of {role, content} turns from a list of dicts; ``roles`` maps source role names to chat roles."""
    value = maybe_json(value)
    if isinstance(value, str):
        return [{"role": "assistant", "content": value}]
    if not isinstance(value, list) or not value:
        raise RowProblem(f"{what} should be a non-empty list of turns, got {type(value).__name__}")
    out = []
    for n, turn in enumerate(value, start=1):
        if not isinstance(turn, dict) or role_key not in turn or content_key not in turn:
            keys = ", ".join(turn) if isinstance(turn, dict) else type(turn).__name__
            raise RowProblem(f"turn {n} of {what} needs '{role_key}' and '{content_key}' (found {keys})")
        role = str(turn[role_key]).strip().lower()
        role = roles.get(role) if roles is not None else (role if role in CHAT_ROLES else None)
        if role is None:
            allowed = ", ".join(sorted(roles or CHAT_ROLES))
            raise RowProblem(f"turn {n} of {what} has role {turn[role_key]!r}; expected one of {allowed}")
        content = turn[content_key]
        out.append({"role": role, "content": "" if content is None else str(content)})
    return out


def history_turns(row: dict, cols: dict[str, str]) -> list[dict]:
    """Earlier [question, answer] pairs (Alpaca-style ``history``) as alternating user/assistant turns."""
    out = []
    for n, pair in enumerate(maybe_json(row.get(cols.get("history", ""), None)) or [], start=1):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise RowProblem(f"history item {n} should be a [question, answer] pair")
        out += [{"role": "user", "content": str(pair[0])}, {"role": "assistant", "content": str(pair[1])}]
    return out


def dialogue(messages: list[dict]) -> list[dict]:
    if not any(m["role"] == "assistant" for m in messages):
        raise RowProblem("the dialogue has no assistant turn to learn from")
    return messages


def sft_from_dialogue(record) -> list[dict]:
    """The last assistant turn is the completion; every turn before it (system, history) is the prompt."""
    last = max(i for i, m in enumerate(record.messages) if m["role"] == "assistant")
    return [{"prompt": list(record.messages[:last]), "completion": [record.messages[last]]}]


def turns_fit(rows: list[dict], column: str, role_key: str) -> bool:
    """Most turns in the column's lists are dicts with ``role_key`` (tells ShareGPT from OpenAI messages)."""
    values = [maybe_json(r.get(column)) for r in rows[:200] if r.get(column) is not None]
    found = [t for v in values if isinstance(v, list) for t in v if isinstance(t, dict)]
    return bool(found) and sum(role_key in t for t in found) >= len(found) / 2
