"""Rows -> records: detect a source's format (and say why), map its columns to roles, convert every row.

Detection tries the registered formats from the most specific to the least
(``DataFormat.priority``) and picks the first whose required roles all have
a column and whose values fit; an explicit ``columns={"prompt": "Frage"}``
mapping wins over the synonyms when fields are renamed.  A row that cannot
be read is listed with its place and reason, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ftlab.data.formats import FORMATS, DataFormat, RowProblem
from ftlab.data.readers import Rows, read_rows
from ftlab.data.records import Record
from ftlab.errors import FtlabError


@dataclass
class Detection:
    """What a set of rows is, which column plays which role, and why ftlab thinks so."""

    format: str
    columns: dict[str, str]
    reason: str
    fields: list[str] = field(default_factory=list)


@dataclass
class Parsed:
    records: list[Record]
    detection: Detection
    problems: list[dict]  # rows that could not be converted: {"where", "problem"}
    rows: Rows


def field_names(rows: list[dict], sample: int = 200) -> list[str]:
    """Columns in first-seen order over a sample of rows (messy files do not all share one schema)."""
    seen: dict[str, None] = {}
    for row in rows[:sample]:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def _match(fmt: DataFormat, names: list[str], columns: dict[str, str] | None) -> dict[str, str]:
    """role -> column for every role of ``fmt`` that has one (an explicit mapping first, then synonyms)."""
    columns = columns or {}
    lower = {n.lower(): n for n in names}
    out: dict[str, str] = {}
    for role in fmt.roles:
        if role in columns:
            if columns[role] in names:
                out[role] = columns[role]
            continue
        for candidate in fmt.synonyms.get(role, ()):
            name = lower.get(candidate.lower())
            if name is not None and name not in out.values():
                out[role] = name
                break
    return out


def resolve(fmt: str, names: list[str], columns: dict[str, str] | None = None,
            rows: list[dict] | None = None) -> dict[str, str] | None:
    """role -> column for ``fmt``, or None when a required role has no column or the values do not fit."""
    spec = FORMATS[fmt]
    out = _match(spec, names, columns)
    if any(r not in out for r in spec.required):
        return None
    if rows is not None and spec.fits is not None and not spec.fits(rows, out):
        return None
    return out


def formats_that_fit(names: list[str], rows: list[dict] | None = None) -> list[str]:
    return [f for f in FORMATS if resolve(f, names, None, rows) is not None]


def detect(rows: list[dict] | Rows, fmt: str | None = None, columns: dict[str, str] | None = None) -> Detection:
    """The format of ``rows`` (or check the given one) and the column for each role, with the reason."""
    rows = rows.rows if isinstance(rows, Rows) else rows
    if not rows:
        raise FtlabError("no rows to read: the source is empty.")
    names = field_names(rows)
    if fmt is not None:
        if fmt not in FORMATS:
            raise FtlabError(FORMATS.unknown(fmt))
        cols = resolve(fmt, names, columns, rows)
        if cols is None:
            spec = FORMATS[fmt]
            missing = [r for r in spec.required if r not in _match(spec, names, columns)] or list(spec.required)
            fits = formats_that_fit(names, rows)
            hint = f"Formats that fit these fields: {', '.join(fits)}." if fits else \
                "No format fits these fields as named."
            raise FtlabError(f"format {fmt!r} needs {_describe(spec, spec.required)}; missing {', '.join(missing)}. "
                             f"Fields found: {', '.join(names)}. {hint} Or map your columns, "
                             f"e.g. columns={{{missing[0]!r}: 'your_column'}}.")
        return Detection(fmt, cols, f"format {fmt!r} given; {_explain(cols)}", names)
    for candidate in FORMATS:
        cols = resolve(candidate, names, columns, rows)
        if cols is not None:
            return Detection(candidate, cols, f"fields {_explain(cols)} matched {candidate!r}", names)
    needs = "; ".join(f"{f.name}: {_describe(f, f.required)}" for f in FORMATS.values())
    raise FtlabError(f"could not tell the data format: no format fits the fields {', '.join(names)}. "
                     f"The formats and what they need: {needs}. Pass format=... and columns={{role: field}} "
                     "to say which field is which.")


def _describe(fmt: DataFormat, roles: tuple[str, ...]) -> str:
    return " + ".join(f"{r} ({'/'.join(fmt.synonyms.get(r, (r,))[:3])})" for r in roles)


def _explain(cols: dict[str, str]) -> str:
    return ", ".join(f"{role}={col!r}" if role != col else repr(col) for role, col in cols.items())


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
    parse = FORMATS[detection.format].parse
    records, problems = [], []
    for row, where in zip(rows.rows, rows.where):
        try:
            record = parse(row, detection.columns)
        except RowProblem as exc:
            problems.append({"where": where, "problem": str(exc)})
            continue
        record.meta["where"] = where
        if row.get("id") is not None:
            record.meta["id"] = str(row["id"])
        records.append(record)
    return records, problems
