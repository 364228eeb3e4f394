"""Training data as train/validation/test splits of (prompt, completion) rows.

From a built-in task, from a data file in any format ftlab reads (see
``ftlab.data.formats``), or from a data version made by ``ftlab data prepare``.
Rows carry the last user turn as ``prompt`` and the answer as ``completion``;
multi-turn rows and rows with their own system prompt also carry the whole
prompt dialogue as ``context``.
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
    from ftlab.data.records import Record


def load_splits(cfg: "DataConfig") -> "DatasetDict":
    from datasets import DatasetDict

    from ftlab.data.tasks import build_splits
    from ftlab.data.versions import is_version, load_version

    if not cfg.train_file:
        return build_splits(cfg.task, cfg.seed, cfg.n_train, cfg.n_validation, cfg.n_test)
    if is_version(cfg.train_file):
        version = load_version(cfg.train_file)
        train = records_to_rows(version.splits["train"], str(version.path))
        held_out = {name: records_to_rows(version.splits[name], str(version.path))
                    for name in ("validation", "test") if version.splits[name]}
    else:
        train = read_file(cfg.train_file)
        held_out = {}
    held_out.update({name: read_file(path) for name, path in
                     (("validation", cfg.validation_file), ("test", cfg.test_file)) if path})
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


def read_file(path: str | Path, fmt: str | None = None) -> "Dataset":
    """A data file of any SFT-able format as (prompt, completion[, context]) rows."""
    from ftlab.data.formats import load

    path = Path(path)
    if not path.exists():
        raise FtlabError(f"{path}: file not found (looked in {Path.cwd()}).")
    return records_to_rows(load(path, fmt).records, str(path))


def records_to_rows(records: list["Record"], source: str) -> "Dataset":
    from datasets import Dataset

    from ftlab.data.convert import sft_row

    if not records:
        raise FtlabError(f"{source}: no rows.")
    if records[0].format == "text":
        raise FtlabError(f"{source}: raw text (format 'text') is for continued pretraining; supervised "
                         "fine-tuning needs prompts with answers (qa, alpaca, sharegpt, messages, cot, "
                         "preference, kto or classification).")
    rows = []
    for record in records:
        if record.format == "kto" and not record.label:
            continue  # a bad answer is not one to imitate
        row = sft_row(record)
        turns = row["prompt"]
        user = turns[-1]["content"] if turns and turns[-1]["role"] == "user" else ""
        rows.append({"prompt": user, "completion": row["completion"][0]["content"],
                     "context": turns if (len(turns) > 1 or not user) else []})
    data = Dataset.from_list(rows)
    if not any(r["context"] for r in rows):
        data = data.remove_columns("context")
    return data


def recorded_version(cfg: "DataConfig", splits: "DatasetDict") -> str:
    """The id a run records for its data: a prepared version's own id, else a hash of the splits."""
    from ftlab.data.versions import is_version, load_version

    if cfg.train_file and is_version(cfg.train_file) and not (cfg.validation_file or cfg.test_file):
        return load_version(cfg.train_file).id
    return data_version(splits)


def to_chat(data: "Dataset", system_prompt: str | None = None) -> "Dataset":
    """Put (prompt, completion) rows in TRL's conversational prompt-completion form.

    A row's own ``context`` (multi-turn or with a system turn) is its whole prompt.
    """
    head = [{"role": "system", "content": system_prompt}] if system_prompt else []

    def convert(row):
        context = row.get("context") or []
        if context:
            extra = head if context[0]["role"] != "system" else []
            return {"prompt": extra + context, "completion": [{"role": "assistant", "content": row["completion"]}]}
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
