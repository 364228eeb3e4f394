"""Seeded train/validation/test splits, stratified by label for classification."""

from __future__ import annotations

from ftlab.data.records import Record
from ftlab.errors import FtlabError
from ftlab.files import content_hash

SPLITS = ("train", "validation", "test")


def split_records(records: list[Record], validation: float = 0.1, test: float = 0.1, seed: int = 0,
                  stratify: bool | None = None) -> dict[str, list[Record]]:
    """Order rows by a seeded hash of their content and cut; with ``stratify`` every label keeps its share.

    Ranking by content hash instead of shuffling positions means a row's split
    depends on the row, not on what else is in the file: removing a few rows
    moves only rows at the cut points, so diffs between versions stay small.
    ``stratify=None`` stratifies when every row has a label (classification, kto).
    Rows keep their input order inside each split.
    """
    for name, share in (("validation", validation), ("test", test)):
        if not 0 <= share < 1:
            raise FtlabError(f"{name} share must be in [0, 1), got {share}.")
    if validation + test >= 1:
        raise FtlabError(f"validation ({validation}) + test ({test}) leaves no training rows; keep the sum below 1.")
    if stratify is None:
        stratify = all(r.label is not None for r in records)
    groups: dict = {}
    for i, record in enumerate(records):
        groups.setdefault(record.label if stratify else None, []).append(i)
    rank = {i: content_hash(str(seed), r.key()) for i, r in enumerate(records)}
    assign: dict[int, str] = {}
    for key in sorted(groups, key=str):
        idx = sorted(groups[key], key=lambda i: (rank[i], i))
        n_val, n_test = round(len(idx) * validation), round(len(idx) * test)
        for j, i in enumerate(idx):
            assign[i] = "validation" if j < n_val else "test" if j < n_val + n_test else "train"
    out = {name: [] for name in SPLITS}
    for i, record in enumerate(records):
        out[assign[i]].append(record)
    if not out["train"]:
        raise FtlabError(f"only {len(records)} rows: nothing left for training after the held-out splits.")
    return out


def remove_leakage(splits: dict[str, list[Record]], threshold: float | None = 0.8, report=None
                   ) -> dict[str, list[Record]]:
    """Drop validation/test rows that repeat (exactly, or nearly with a threshold) a training row.

    A held-out row that is also in training measures memory, not skill.
    """
    from ftlab.data.dedup import NearDuplicateIndex

    train = splits["train"]
    exact = {r.key(): r.where for r in train}
    index = None
    if threshold is not None:
        index = NearDuplicateIndex(threshold)
        for i, record in enumerate(train):
            index.add(i, record.joined())
    out = {"train": train}
    for name in ("validation", "test"):
        kept = []
        for record in splits[name]:
            hit = exact.get(record.key())
            reason = f"{name} row is an exact copy of train row {hit}" if hit else None
            if reason is None and index is not None:
                near = index.match(record.joined())
                if near is not None:
                    reason = f"{name} row nearly repeats train row {train[near[0]].where} (similarity {near[1]:.2f})"
            if reason is None:
                kept.append(record)
            elif report is not None:
                report.drop(record, reason)
        out[name] = kept
    return out
