"""A run's data: the ``data`` section of a config -> train/validation/test splits of records, and their version.

The rows come from a built-in task, from a data file in any format ftlab
reads, or from a data version made by ``ftlab data prepare``; separate
validation and test files override the held-out splits.  Held-out splits a
file lacks are cut from it by a seeded hash of each row's content
(:func:`ftlab.data.splits.split_records`), so a row's split depends on the row,
not on the rest of the file.  Whatever the source, the splits get one data
version id (:func:`ftlab.data.versions.version_id`), which the run records.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftlab.data.parsing import load
from ftlab.data.records import Record
from ftlab.data.splits import SPLITS, split_records
from ftlab.data.tasks import build_splits, get_task
from ftlab.data.versions import is_version, load_version, version_id
from ftlab.errors import FtlabError
from ftlab.files import file_sha256

HELD_OUT_SHARE = 0.1  # of a training file, for each held-out split it lacks


@dataclass
class RunData:
    splits: dict[str, list[Record]]
    version: str
    source: dict  # what data.json records: the task or files, and how the splits were made
    labels: list[str] | None = None  # the classes, when the data is a classification task

    def __getitem__(self, split: str) -> list[Record]:
        return self.splits[split]

    def sizes(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.splits.items()}


def _read(path: str, role: str) -> list[Record]:
    if not Path(path).exists():
        raise FtlabError(f"data.{role}: {path}: file not found (looked in {Path.cwd()}).")
    return load(path).records


def load_data(cfg: Any, rows: str = "sft") -> RunData:
    """The splits a run trains and evaluates on, from a ``DataConfig``.

    ``rows`` is the row kind of the stage that reads them: a built-in task gives
    the records that kind needs (preference pairs for ``preference``); a file
    gives what it holds, and converting it tells whether that fits.
    """
    if not cfg.train_file:
        splits = build_splits(cfg.task, cfg.seed, cfg.n_train, cfg.n_validation, cfg.n_test, rows)
        source = {"task": cfg.task, "seed": cfg.seed, "sizes": {k: len(v) for k, v in splits.items()}}
        if rows in ("preference", "kto"):
            source["pairs"] = "near_miss"
        labels = get_task(cfg.task).labels
        return RunData(splits, version_id(splits, source), source, list(labels) if labels else None)
    extra = {name: path for name, path in (("validation", cfg.validation_file), ("test", cfg.test_file)) if path}
    if is_version(cfg.train_file):
        version = load_version(cfg.train_file)
        splits = {name: list(rows) for name, rows in version.splits.items()}
        if not extra:
            return RunData(splits, version.id, {"version": version.id, "path": str(version.path)},
                           class_labels(splits))
        source = {"version": version.id}
    else:
        splits = {"train": _read(cfg.train_file, "train_file")}
        source = {"train_file": file_sha256(cfg.train_file)}
    for name, path in extra.items():
        splits[name] = _read(path, f"{name}_file")
        source[f"{name}_file"] = file_sha256(path)
    missing = [name for name in ("validation", "test") if not splits.get(name)]
    if missing:
        shares = {name: HELD_OUT_SHARE if name in missing else 0.0 for name in ("validation", "test")}
        cut = split_records(splits["train"], shares["validation"], shares["test"], cfg.seed, stratify=None)
        splits["train"] = cut["train"]
        for name in missing:
            splits[name] = cut[name]
        source["split"] = {"seed": cfg.seed, **{name: HELD_OUT_SHARE for name in missing}}
    splits = {name: splits.get(name, []) for name in SPLITS}
    return RunData(splits, version_id(splits, source), source, class_labels(splits))


def class_labels(splits: dict[str, list[Record]]) -> list[str] | None:
    """The sorted classes of classification data (every row has a class label), else None."""
    rows = [r for rows in splits.values() for r in rows]
    if not rows or any(r.format != "classification" for r in rows):
        return None
    return sorted({str(r.label) for r in rows})
