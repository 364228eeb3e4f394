"""The nine data formats: detect one (and say why), map columns, convert rows to ``Record``.

Each format has *roles* (prompt, completion, chosen, ...) and for each role
the column names people commonly use for it.  Detection tries the formats
from the most specific to the least and picks the first whose required roles
all have a column; an explicit ``columns={"prompt": "Frage"}`` mapping wins
over the synonyms when fields are renamed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ftlab.data.readers import Rows, read_rows
from ftlab.data.records import FORMATS, Record
from ftlab.errors import FtlabError

# role -> accepted column names, most usual first
SYNONYMS: dict[str, tuple[str, ...]] = {
    "prompt": ("prompt", "question", "query", "input", "instruction", "context", "problem", "source"),
    "completion": ("completion", "answer", "response", "output", "target", "reply", "solution"),
    "system": ("system", "system_prompt"),
    "instruction": ("instruction",),
    "input": ("input",),
    "output": ("output",),
    "history": ("history",),
    "conversations": ("conversations", "conversation"),
    "messages": ("messages", "conversations", "dialogue", "chat"),
    "rationale": ("rationale", "reasoning", "chain_of_thought", "cot", "thought", "thoughts", "thinking",
                  "explanation", "steps"),
    "chosen": ("chosen", "preferred", "accepted", "better", "response_chosen"),
    "rejected": ("rejected", "dispreferred", "worse", "response_rejected"),
    "label": ("label", "labels", "class", "category", "feedback", "sentiment", "target"),
    "text": ("text", "content", "document", "sentence", "body", "review", "passage"),
}

# format -> (required roles, optional roles), in detection order
ROLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "preference": (("chosen", "rejected"), ("prompt", "system")),
    "sharegpt": (("conversations",), ("system",)),
    "messages": (("messages",), ()),
    "kto": (("prompt", "completion", "label"), ("system",)),
    "alpaca": (("instruction", "output"), ("input", "system", "history")),
    "cot": (("prompt", "rationale", "completion"), ("system",)),
    "qa": (("prompt", "completion"), ("system",)),
    "classification": (("text", "label"), ()),
    "text": (("text",), ()),
}
DETECTION_ORDER = tuple(ROLES)
assert set(DETECTION_ORDER) == set(FORMATS)

GOOD = {"true", "1", "yes", "good", "positive", "pos", "thumbs_up", "up", "+", "desirable", "accept", "accepted"}
BAD = {"false", "0", "no", "bad", "negative", "neg", "thumbs_down", "down", "-", "undesirable", "reject", "rejected"}
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "bot": "assistant", "chatgpt": "assistant", "model": "assistant", "system": "system",
                  "function_call": "assistant", "observation": "tool", "tool": "tool", "function": "tool"}
CHAT_ROLES = {"system", "user", "assistant", "tool"}


@dataclass
class Detection:
    """What a set of rows is, which column plays which role, and why ftlab thinks so."""

    format: str
    columns: dict[str, str]
    reason: str
    fields: list[str] = field(default_factory=list)


def field_names(rows: list[dict], sample: int = 200) -> list[str]:
    """Columns in first-seen order over a sample of rows (messy files do not all share one schema)."""
    seen: dict[str, None] = {}
    for row in rows[:sample]:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def resolve(fmt: str, names: list[str], columns: dict[str, str] | None = None,
            rows: list[dict] | None = None) -> dict[str, str] | None:
    """role -> column for ``fmt``, or None when a required role has no column."""
    columns = columns or {}
    lower = {n.lower(): n for n in names}
    required, optional = ROLES[fmt]
    out: dict[str, str] = {}
    for role in required + optional:
        if role in columns:
            if columns[role] in names:
                out[role] = columns[role]
            continue
        for candidate in SYNONYMS[role]:
            name = lower.get(candidate)
            if name is not None and name not in out.values():
                out[role] = name
                break
    if any(r not in out for r in required):
        return None
    if rows is not None and not _shape_fits(fmt, out, rows):
        return None
    return out


def _shape_fits(fmt: str, cols: dict[str, str], rows: list[dict]) -> bool:
    """Check values, not only names: a label column with good/bad is KTO, with classes it is classification."""
    values = [r.get(cols[next(iter(ROLES[fmt][0]))]) for r in rows[:200]]
    values = [_maybe_json(v) for v in values if v is not None]
    if fmt == "kto":
        labels = [r.get(cols["label"]) for r in rows[:200] if r.get(cols["label"]) is not None]
        return bool(labels) and all(_as_bool(v) is not None for v in labels)
    if fmt in ("sharegpt", "messages"):
        turns = [t for v in values if isinstance(v, list) for t in v if isinstance(t, dict)]
        if not turns:
            return False
        key = "from" if fmt == "sharegpt" else "role"
        return sum(key in t for t in turns) >= len(turns) / 2
    return True


def detect(rows: list[dict] | Rows, fmt: str | None = None, columns: dict[str, str] | None = None) -> Detection:
    """The format of ``rows`` (or check the given one) and the column for each role, with the reason."""
    rows = rows.rows if isinstance(rows, Rows) else rows
    names = field_names(rows)
    if not rows:
        raise FtlabError("no rows to read: the source is empty.")
    if fmt is not None:
        if fmt not in FORMATS:
            raise FtlabError(f"unknown format {fmt!r}; the formats are {', '.join(FORMATS)}.")
        cols = resolve(fmt, names, columns, rows)
        if cols is None:
            required = ROLES[fmt][0]
            missing = [r for r in required if r not in (resolve_partial(fmt, names, columns))]
            raise FtlabError(f"format {fmt!r} needs {_describe_roles(required)}; missing {', '.join(missing)}. "
                             f"Fields found: {', '.join(names)}. {_fits_hint(names, rows)} Or map your columns, "
                             f"e.g. columns={{{missing[0]!r}: 'your_column'}}.")
        return Detection(fmt, cols, f"format {fmt!r} given; {_explain(cols)}", names)
    for candidate in DETECTION_ORDER:
        cols = resolve(candidate, names, columns, rows)
        if cols is not None:
            return Detection(candidate, cols, f"fields {_explain(cols)} matched {candidate!r}", names)
    raise FtlabError(f"could not tell the data format: no format fits the fields {', '.join(names)}. "
                     f"The formats and what they need: {_all_needs()}. Pass format=... and columns={{role: field}} "
                     "to say which field is which.")


def resolve_partial(fmt: str, names: list[str], columns: dict[str, str] | None) -> dict[str, str]:
    lower = {n.lower(): n for n in names}
    out = {}
    for role in ROLES[fmt][0] + ROLES[fmt][1]:
        if columns and role in columns and columns[role] in names:
            out[role] = columns[role]
        elif any(c in lower for c in SYNONYMS[role]):
            out[role] = next(lower[c] for c in SYNONYMS[role] if c in lower)
    return out


def formats_that_fit(names: list[str], rows: list[dict] | None = None) -> list[str]:
    return [f for f in DETECTION_ORDER if resolve(f, names, None, rows) is not None]


def _fits_hint(names: list[str], rows: list[dict]) -> str:
    fits = formats_that_fit(names, rows)
    return f"Formats that fit these fields: {', '.join(fits)}." if fits else "No format fits these fields as named."


def _describe_roles(roles: tuple[str, ...]) -> str:
    return " + ".join(f"{r} ({'/'.join(SYNONYMS[r][:3])})" for r in roles)


def _all_needs() -> str:
    return "; ".join(f"{f}: {_describe_roles(ROLES[f][0])}" for f in DETECTION_ORDER)


def _explain(cols: dict[str, str]) -> str:
    return ", ".join(f"{role}={col!r}" if role != col else repr(col) for role, col in cols.items())


# --- rows -> records -----------------------------------------------------------

@dataclass
class Parsed:
    records: list[Record]
    detection: Detection
    problems: list[dict]   # rows that could not be converted: {"where", "problem"}
    rows: Rows


def load(source: Any, fmt: str | None = None, columns: dict[str, str] | None = None,
         encoding: str = "utf-8", sheet: str | None = None) -> Parsed:
    """Read ``source`` and convert every row to a ``Record``; unreadable rows are listed, not fatal."""
    rows = read_rows(source, encoding=encoding, sheet=sheet)
    if not rows.rows:
        raise FtlabError(f"{rows.label}: no rows.")
    try:
        detection = detect(rows.rows, fmt, columns)
    except FtlabError as exc:
        raise FtlabError(f"{rows.label}: {exc}") from None
    records, problems = to_records(rows, detection)
    if not records:
        first = problems[0]
        raise FtlabError(f"{rows.label}: no row could be read as {detection.format!r}; "
                         f"first problem at {first['where']}: {first['problem']}.")
    return Parsed(records, detection, problems, rows)


def to_records(rows: Rows, detection: Detection) -> tuple[list[Record], list[dict]]:
    convert = _CONVERTERS[detection.format]
    records, problems = [], []
    for row, where in zip(rows.rows, rows.where):
        try:
            record = convert(row, detection.columns)
        except _RowProblem as exc:
            problems.append({"where": where, "problem": str(exc)})
            continue
        record.meta["where"] = where
        if row.get("id") is not None:
            record.meta["id"] = str(row["id"])
        records.append(record)
    return records, problems


class _RowProblem(Exception):
    pass


def _maybe_json(value: Any) -> Any:
    """CSV and Excel cells hold message lists as JSON text; parse those."""
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _text(row: dict, cols: dict[str, str], role: str, required: bool = True) -> str | None:
    column = cols.get(role)
    value = row.get(column) if column else None
    if value is None or (isinstance(value, float) and value != value):  # NaN from pandas/Parquet
        if required:
            raise _RowProblem(f"field {column!r} ({role}) is missing or empty")
        return None
    return value if isinstance(value, str) else str(value)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    return True if text in GOOD else False if text in BAD else None


def _head(row: dict, cols: dict[str, str]) -> list[dict]:
    system = _text(row, cols, "system", required=False)
    return [{"role": "system", "content": system}] if system else []


def _turns(value: Any, role_key: str, content_key: str, roles: dict[str, str] | None, what: str) -> list[dict]:
    value = _maybe_json(value)
    if isinstance(value, str):
        return [{"role": "assistant", "content": value}]
    if not isinstance(value, list) or not value:
        raise _RowProblem(f"{what} should be a non-empty list of turns, got {type(value).__name__}")
    out = []
    for n, turn in enumerate(value, start=1):
        if not isinstance(turn, dict) or role_key not in turn or content_key not in turn:
            keys = ", ".join(turn) if isinstance(turn, dict) else type(turn).__name__
            raise _RowProblem(f"turn {n} of {what} needs '{role_key}' and '{content_key}' (found {keys})")
        role = str(turn[role_key]).strip().lower()
        role = roles.get(role) if roles is not None else (role if role in CHAT_ROLES else None)
        if role is None:
            allowed = ", ".join(sorted(roles or CHAT_ROLES))
            raise _RowProblem(f"turn {n} of {what} has role {turn[role_key]!r}; expected one of {allowed}")
        content = turn[content_key]
        out.append({"role": role, "content": "" if content is None else str(content)})
    return out


def _check_dialogue(messages: list[dict]) -> list[dict]:
    if not any(m["role"] == "assistant" for m in messages):
        raise _RowProblem("the dialogue has no assistant turn to learn from")
    return messages


def _qa(row, cols):
    return Record("qa", _head(row, cols) + [{"role": "user", "content": _text(row, cols, "prompt")},
                                            {"role": "assistant", "content": _text(row, cols, "completion")}])


def _alpaca(row, cols):
    instruction = _text(row, cols, "instruction")
    extra = _text(row, cols, "input", required=False)
    prompt = f"{instruction}\n\n{extra}" if extra and extra.strip() else instruction
    history = []
    for n, pair in enumerate(_maybe_json(row.get(cols.get("history", ""), None)) or [], start=1):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise _RowProblem(f"history item {n} should be a [question, answer] pair")
        history += [{"role": "user", "content": str(pair[0])}, {"role": "assistant", "content": str(pair[1])}]
    return Record("alpaca", _head(row, cols) + history + [
        {"role": "user", "content": prompt}, {"role": "assistant", "content": _text(row, cols, "output")}])


def _sharegpt(row, cols):
    turns = _turns(row.get(cols["conversations"]), "from", "value", SHAREGPT_ROLES, repr(cols["conversations"]))
    head = _head(row, cols) if not turns or turns[0]["role"] != "system" else []
    return Record("sharegpt", _check_dialogue(head + turns))


def _messages(row, cols):
    return Record("messages", _check_dialogue(_turns(row.get(cols["messages"]), "role", "content", None,
                                                     repr(cols["messages"]))))


def _cot(row, cols):
    return Record("cot", _head(row, cols) + [{"role": "user", "content": _text(row, cols, "prompt")},
                                             {"role": "assistant", "content": _text(row, cols, "completion")}],
                  rationale=_text(row, cols, "rationale"))


def _kto(row, cols):
    label = _as_bool(row.get(cols["label"]))
    if label is None:
        raise _RowProblem(f"label {row.get(cols['label'])!r} is neither good nor bad (use true/false, good/bad, 1/0)")
    return Record("kto", _head(row, cols) + [{"role": "user", "content": _text(row, cols, "prompt")}],
                  completion=_text(row, cols, "completion"), label=label)


def _classification(row, cols):
    label = row.get(cols["label"])
    if label is None or str(label).strip() == "":
        raise _RowProblem(f"field {cols['label']!r} (label) is missing or empty")
    return Record("classification", text=_text(row, cols, "text"), label=str(label).strip())


def _text_row(row, cols):
    return Record("text", text=_text(row, cols, "text"))


def _preference(row, cols):
    chosen, rejected = _maybe_json(row.get(cols["chosen"])), _maybe_json(row.get(cols["rejected"]))
    if chosen is None or rejected is None:
        raise _RowProblem("both 'chosen' and 'rejected' are needed")
    prompt = _maybe_json(row.get(cols["prompt"])) if "prompt" in cols else None
    head = _head(row, cols)
    if isinstance(prompt, list):
        head += _turns(prompt, "role", "content", None, "the prompt")
    elif prompt is not None and str(prompt).strip():
        head.append({"role": "user", "content": str(prompt)})
    if isinstance(chosen, list) and isinstance(rejected, list):
        chosen = _turns(chosen, "role", "content", None, "'chosen'")
        rejected = _turns(rejected, "role", "content", None, "'rejected'")
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


def split_shared_text(chosen: str, rejected: str) -> tuple[list[dict], str, str]:
    """Full-text pairs ("Human: ... Assistant: ...") share a dialogue prefix; split it off as turns.

    The split falls after the last speaker marker both texts share, so a reply
    that starts with the same words as the other is not cut mid-answer.
    """
    import re

    marker = re.compile(r"(?:^|\n)\s*(Human|User|Assistant):\s?", re.IGNORECASE)
    n = 0
    limit = min(len(chosen), len(rejected))
    while n < limit and chosen[n] == rejected[n]:
        n += 1
    cut = max((m.end() for m in marker.finditer(chosen[:n]) if m.end() <= n), default=0)
    if cut == 0:
        return [], chosen, rejected
    matches = list(marker.finditer(chosen[:cut]))
    turns = [{"role": _SPEAKERS[m.group(1).lower()], "content": chosen[m.end(): nxt.start() if nxt else cut].strip()}
             for m, nxt in zip(matches, matches[1:] + [None])]
    return [t for t in turns if t["content"]], chosen[cut:].strip(), rejected[cut:].strip()


_CONVERTERS = {"qa": _qa, "alpaca": _alpaca, "sharegpt": _sharegpt, "messages": _messages, "cot": _cot,
               "kto": _kto, "classification": _classification, "text": _text_row, "preference": _preference}
