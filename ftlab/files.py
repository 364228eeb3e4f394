"""Writing records that survive a crash, and naming content by its hash.

Every file ftlab writes for later reading (a config, ``results.json``, a data
version's splits, a launch file) is written to a temporary file beside it and
renamed into place: a reader sees the old file or the new one, never half of
one.  Content ids (data versions, split ranks, record digests) all come from
:func:`content_hash` over canonical JSON, so equal content gets an equal id
however it was built.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Replace ``path`` with ``text`` in one rename (the folder must exist)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def atomic_write_json(path: str | Path, data: Any) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> Path:
    return atomic_write_text(path, "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows))


def append_jsonl(path: str | Path, row: dict) -> None:
    """One line per call; a process killed mid-write leaves at most one torn last line, which readers skip."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def append_line(path: str | Path, line: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line.rstrip("\n") + "\n")


def read_jsonl(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the torn last line of a killed writer
    return rows


def read_json(path: str | Path) -> dict:
    path = Path(path)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def canonical_json(value: Any) -> str:
    """Sorted keys, no ASCII escaping: the same content always gives the same string."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def content_hash(*parts: Any, length: int = 16) -> str:
    """A hex id of ``parts`` (strings as they are, anything else as canonical JSON)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update((part if isinstance(part, str) else canonical_json(part)).encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:length]


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_summary(output_dir: str | Path, name: str, summary: dict) -> Path:
    """``output_dir/<name>_summary.json``: the figures a notebook measured, for batch runs and regression checks."""
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    return atomic_write_json(Path(output_dir) / f"{name}_summary.json", summary)
