"""The run directory: the whole record of one training run.

    config.yaml      the config as trained (after overrides)
    data.json        where the data came from and its content hash (data version)
    metrics.jsonl    one line per log/eval event: step, loss, lr, grad norm, tokens/s...
    system.jsonl     memory and CPU/GPU samples
    checkpoints/     the trainer's checkpoints (kept when a run fails)
    final/           the trained adapter or model, with its tokenizer
    results.json     status ("running", "completed", "failed") and final figures

Files are appended or replaced atomically, so a run that dies leaves a
readable record up to its last step.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ftlab.config import Config


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def create(cls, config: "Config") -> "RunDir":
        name = config.train.run_name or "{}-{}-{}".format(
            time.strftime("%Y%m%d-%H%M%S"), config.data.task if not config.data.train_file
            else Path(config.data.train_file).stem, config.method.name)
        path = Path(config.train.output_dir) / name
        if (path / "results.json").exists():
            raise FileExistsError(path)
        path.mkdir(parents=True, exist_ok=True)
        run = cls(path)
        config.save(path / "config.yaml")
        run.write_json("results.json", {"status": "running", "started": time.time()})
        return run

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def final_dir(self) -> Path:
        return self.path / "final"

    def append(self, stream: str, row: dict) -> None:
        with open(self.path / f"{stream}.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")

    def read(self, stream: str) -> list[dict]:
        file = self.path / f"{stream}.jsonl"
        if not file.exists():
            return []
        return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]

    def write_json(self, name: str, data: dict) -> None:
        tmp = self.path / f".{name}.tmp"
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, self.path / name)

    def read_json(self, name: str) -> dict:
        file = self.path / name
        return json.loads(file.read_text(encoding="utf-8")) if file.exists() else {}

    def update_results(self, **values) -> dict:
        results = {**self.read_json("results.json"), **values}
        self.write_json("results.json", results)
        return results

    def config(self) -> "Config":
        from ftlab.config import Config

        return Config.load(self.path / "config.yaml")

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"
