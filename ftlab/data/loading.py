"""Training data as train/validation/test splits of (prompt, completion) rows.

From a built-in task or from files.  The data-preparation stage widens the
formats; here a file needs ``prompt`` and ``completion`` columns.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ftlab.errors import FtlabError

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict

    from ftlab.config import DataConfig

REQUIRED = ("prompt", "completion")
_READERS = {".json": "json", ".jsonl": "json", ".csv": "csv", ".tsv": "csv"}


def load_splits(cfg: "DataConfig") -> "DatasetDict":
    from datasets import DatasetDict

    from ftlab.data.tasks import build_splits

    if not cfg.train_file:
        return build_splits(cfg.task, cfg.seed, cfg.n_train, cfg.n_validation, cfg.n_test)
    train = read_file(cfg.train_file)
    held_out = {name: read_file(path) for name, path in
                (("validation", cfg.validation_file), ("test", cfg.test_file)) if path}
    missing = [name for name in ("validation", "test") if name not in held_out]
    if missing:
        # Carve the missing held-out splits out of the training file, seeded.
        share = 0.1 * len(missing)
        parts = train.train_test_split(test_size=share, seed=cfg.seed)
        train, rest = parts["train"], parts["test"]
        if len(missing) == 2:
            halves = rest.train_test_split(test_size=0.5, seed=cfg.seed)
            held_out.update(validation=halves["train"], test=halves["test"])
        else:
            held_out[missing[0]] = rest
    return DatasetDict(train=train, validation=held_out["validation"], test=held_out["test"])


def read_file(path: str | Path) -> "Dataset":
    from datasets import load_dataset

    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise FtlabError(f"{path}: unsupported file type {path.suffix!r}; use one of {', '.join(_READERS)}.")
    if not path.is_file():
        raise FtlabError(f"{path}: file not found (looked in {Path.cwd()}).")
    if reader == "json":
        _check_json_lines(path)
    kwargs = {"delimiter": "\t"} if path.suffix.lower() == ".tsv" else {}
    try:
        data = load_dataset(reader, data_files=str(path), split="train", **kwargs)
    except Exception as exc:
        raise FtlabError(f"{path}: could not be read as {reader.upper()}: {exc}") from None
    missing = [c for c in REQUIRED if c not in data.column_names]
    if missing:
        raise FtlabError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(data.column_names)}. "
                         "Each row needs a 'prompt' and a 'completion'.")
    if len(data) == 0:
        raise FtlabError(f"{path}: no rows.")
    return data.select_columns(list(REQUIRED))


def _check_json_lines(path: Path) -> None:
    """Name the first bad line of a JSONL file before a library buries it in a traceback."""
    text = path.read_bytes()
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FtlabError(f"{path}: not UTF-8 (byte {exc.start}); re-save it as UTF-8, e.g. "
                         f"`iconv -f latin1 -t utf-8 {path.name}`.") from None
    if decoded.lstrip().startswith("["):
        return
    for number, line in enumerate(decoded.splitlines(), start=1):
        if line.strip():
            try:
                json.loads(line)
            except json.JSONDecodeError as exc:
                raise FtlabError(f"{path}, line {number}: not valid JSON ({exc.msg}, column {exc.colno}).") from None


def to_chat(data: "Dataset", system_prompt: str | None = None) -> "Dataset":
    """Put (prompt, completion) rows in TRL's conversational prompt-completion form."""
    head = [{"role": "system", "content": system_prompt}] if system_prompt else []

    def convert(row):
        return {"prompt": head + [{"role": "user", "content": row["prompt"]}],
                "completion": [{"role": "assistant", "content": row["completion"]}]}

    return data.map(convert, remove_columns=data.column_names)


def data_version(splits: "DatasetDict") -> str:
    """A content hash of the splits: the same rows give the same id."""
    digest = hashlib.sha256()
    for name in sorted(splits):
        digest.update(name.encode())
        for row in splits[name]:
            digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]
