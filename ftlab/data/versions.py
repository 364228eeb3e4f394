"""Versioned datasets: a folder of splits plus a manifest, named by a content hash.

    STORE/
      current               the version id in use (what ``load_version(STORE)`` returns)
      <version id>/
        train.jsonl validation.jsonl test.jsonl   one ``Record`` per line
        manifest.json       sources and their hashes, steps and parameters, counts per step, seed, splits
        report.json         every step's per-row report (what was dropped/changed and why)

The version id hashes the rows of every split together with the source hashes,
the steps with their parameters and the seed, so preparing the same files the
same way gives the same id, and any change to data or recipe gives a new one.
A version is written to a temporary folder and renamed into place, so a
crash never leaves half a version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ftlab.data.records import Record
from ftlab.data.splits import SPLITS
from ftlab.errors import FtlabError
from ftlab.files import atomic_write_json, atomic_write_text, canonical_json, write_jsonl

MANIFEST = "manifest.json"
CURRENT = "current"


@dataclass
class DataVersion:
    path: Path
    manifest: dict
    splits: dict[str, list[Record]]

    @property
    def id(self) -> str:
        return self.manifest["version"]


def version_id(splits: dict[str, list[Record]], recipe: dict) -> str:
    """The data version id: a hash of the recipe (sources, steps, seed, split) and of every split's rows.

    It is the one id ftlab gives data, whether the rows come from ``ftlab data
    prepare``, a raw file split at training time, or a built-in task.
    """
    digest = hashlib.sha256(canonical_json(recipe).encode())
    for name in SPLITS:
        digest.update(f"\x00{name}\x00".encode())
        for record in splits.get(name, []):
            digest.update(record.key().encode())
            digest.update(b"\n")
    return digest.hexdigest()[:16]


def save_version(store: str | Path, splits: dict[str, list[Record]], recipe: dict, counts: list[dict],
                 reports: list[dict] | None = None) -> DataVersion:
    """Write the splits and manifest under ``store/<id>`` and make it the current version.

    ``recipe`` (sources with hashes, steps with parameters, seed, split shares)
    goes into the id; ``counts`` and ``reports`` describe what happened.
    """
    store = Path(store)
    store.mkdir(parents=True, exist_ok=True)
    vid = version_id(splits, recipe)
    created = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    manifest = {"version": vid, "created": created, **recipe,
                "counts": counts, "splits": {name: len(splits.get(name, [])) for name in SPLITS}}
    final = store / vid
    if not final.exists():
        tmp = store / f".tmp-{vid}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            for name in SPLITS:
                write_jsonl(tmp / f"{name}.jsonl", (record.to_dict() for record in splits.get(name, [])))
            atomic_write_json(tmp / "report.json", reports or [])
            atomic_write_json(tmp / MANIFEST, manifest)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    else:
        manifest = read_manifest(final)
    _set_current(store, vid)
    return DataVersion(final, manifest, splits)


def _set_current(store: Path, vid: str) -> None:
    atomic_write_text(store / CURRENT, vid + "\n")


def read_manifest(path: Path) -> dict:
    file = path / MANIFEST
    if not file.is_file():
        raise FtlabError(f"{path}: not a data version (no {MANIFEST}); prepare one with `ftlab data prepare`.")
    return json.loads(file.read_text(encoding="utf-8"))


def is_version(path: str | Path) -> bool:
    path = Path(path)
    return (path / MANIFEST).is_file() or (path / CURRENT).is_file()


def resolve(path: str | Path, version: str | None = None) -> Path:
    """The folder of a version: ``path`` itself, or ``version`` (or the current one) in the store at ``path``."""
    path = Path(path)
    if (path / MANIFEST).is_file() and version is None:
        return path
    if version is None:
        if not (path / CURRENT).is_file():
            raise FtlabError(f"{path}: no data versions here; prepare one with `ftlab data prepare FILE --out {path}`.")
        version = (path / CURRENT).read_text(encoding="utf-8").strip()
    matches = [p for p in path.iterdir() if p.is_dir() and p.name.startswith(version) and (p / MANIFEST).is_file()]
    if len(matches) != 1:
        known = ", ".join(m["version"] for m in list_versions(path)) or "none"
        raise FtlabError(f"{path}: {'no' if not matches else 'more than one'} version {version!r}; "
                         f"the versions are: {known}.")
    return matches[0]


def load_version(path: str | Path, version: str | None = None) -> DataVersion:
    folder = resolve(path, version)
    splits = {}
    for name in SPLITS:
        file = folder / f"{name}.jsonl"
        splits[name] = [Record.from_dict(json.loads(line)) for line in file.read_text(encoding="utf-8").splitlines()
                        if line.strip()] if file.is_file() else []
    return DataVersion(folder, read_manifest(folder), splits)


def list_versions(store: str | Path) -> list[dict]:
    """One line per version, oldest first: id, created, rows per split, and whether it is current."""
    store = Path(store)
    current = (store / CURRENT).read_text(encoding="utf-8").strip() if (store / CURRENT).is_file() else None
    out = []
    for folder in sorted(p for p in store.iterdir() if p.is_dir() and (p / MANIFEST).is_file()):
        m = read_manifest(folder)
        out.append({"version": m["version"], "created": m["created"], "splits": m["splits"],
                    "sources": [Path(s["path"]).name for s in m.get("sources", [])],
                    "current": m["version"] == current})
    return sorted(out, key=lambda v: (v["created"], v["version"]))


def rollback(store: str | Path, version: str | None = None) -> str:
    """Make an earlier version current again: ``version``, or the one before the current."""
    store = Path(store)
    versions = list_versions(store)
    if version is None:
        ids = [v["version"] for v in versions]
        current = next((i for i, v in enumerate(versions) if v["current"]), None)
        if current is None or current == 0:
            raise FtlabError(f"{store}: no earlier version to roll back to (versions: {', '.join(ids) or 'none'}).")
        version = ids[current - 1]
    vid = read_manifest(resolve(store, version))["version"]
    _set_current(store, vid)
    return vid


def diff(old: DataVersion, new: DataVersion) -> dict:
    """Rows added, removed, changed and moved to another split between two versions, matched by row id."""
    def by_id(version: DataVersion) -> dict[str, tuple[str, Record]]:
        return {r.row_id: (name, r) for name in SPLITS for r in version.splits.get(name, [])}

    before, after = by_id(old), by_id(new)
    out = {"from": old.id, "to": new.id,
           "added": [{"split": after[k][0], "row": k} for k in after if k not in before],
           "removed": [{"split": before[k][0], "row": k} for k in before if k not in after],
           "changed": [{"split": after[k][0], "row": k, "before": before[k][1].to_dict(with_meta=False),
                        "after": after[k][1].to_dict(with_meta=False)}
                       for k in after if k in before and before[k][1].key() != after[k][1].key()],
           "moved": [{"row": k, "from": before[k][0], "to": after[k][0]}
                     for k in after if k in before and before[k][0] != after[k][0]]}
    out["summary"] = {k: len(out[k]) for k in ("added", "removed", "changed", "moved")}
    return out
