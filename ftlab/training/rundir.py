"""The run directory: the whole record of one training run.

    config.yaml      the config as trained (after overrides)
    data.json        where the data came from and its content hash (data version)
    metrics.jsonl    one line per log/eval event: step, loss, lr, grad norm, tokens/s...
    system.jsonl     memory and CPU/GPU samples
    checkpoints/     the trainer's checkpoints (kept when a run fails)
    final/           the trained adapter or model at the last step, with its tokenizer
    best/            the weights of the checkpoint with the best validation figure
    logs/            experiment-tracker files (tensorboard), when train.report_to asks for them
    results.json     status ("running", "completed", "failed", "interrupted"), why training
                     stopped, and final figures

Files are appended or replaced atomically, so a run that dies leaves a
readable record up to its last step.  Under a multi-process launch every
process agrees on the same directory and only the main process writes it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ftlab.config import Config


def _process_rank() -> tuple[int, int]:
    """(rank, world size) of this process as a launcher (accelerate, torchrun) set them."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


class RunDir:
    def __init__(self, path: str | Path, writer: bool = True):
        self.path = Path(path)
        self.writer = writer  # False on the other processes of a multi-process launch

    @classmethod
    def create(cls, config: "Config") -> "RunDir":
        name = config.train.run_name or "{}-{}-{}".format(
            time.strftime("%Y%m%d-%H%M%S"), config.data.task if not config.data.train_file
            else Path(config.data.train_file).stem, config.method.name)
        rank, world = _process_rank()
        if world > 1 and not config.train.run_name:
            import torch
            from accelerate import PartialState
            from accelerate.utils import broadcast_object_list

            # Joins the process group the trainer will use (gloo on CPUs, as the trainer's use_cpu asks).
            PartialState(cpu=not torch.cuda.is_available())
            name = broadcast_object_list([name])[0]  # the timestamps of the processes may differ
        path = Path(config.train.output_dir) / name
        run = cls(path, writer=rank == 0)
        if run.writer:
            if (path / "results.json").exists():
                raise FileExistsError(path)
            path.mkdir(parents=True, exist_ok=True)
            config.save(path / "config.yaml")
            run.write_json("results.json", {"status": "running", "started": time.time(), "processes": world})
        return run

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def final_dir(self) -> Path:
        return self.path / "final"

    def append(self, stream: str, row: dict) -> None:
        if not self.writer:
            return
        with open(self.path / f"{stream}.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")

    def read(self, stream: str) -> list[dict]:
        file = self.path / f"{stream}.jsonl"
        if not file.exists():
            return []
        return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]

    def truncate(self, stream: str, after_step: int) -> None:
        """Drop the rows logged after ``after_step`` (a resumed run logs them again)."""
        if not self.writer:
            return
        kept = [row for row in self.read(stream) if row.get("step", 0) <= after_step]
        tmp = self.path / f".{stream}.jsonl.tmp"
        tmp.write_text("".join(json.dumps(row) + "\n" for row in kept), encoding="utf-8")
        os.replace(tmp, self.path / f"{stream}.jsonl")

    def write_json(self, name: str, data: dict) -> None:
        if not self.writer:
            return
        tmp = self.path / f".{name}.tmp"
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, self.path / name)

    def read_json(self, name: str) -> dict:
        file = self.path / name
        return json.loads(file.read_text(encoding="utf-8")) if file.exists() else {}

    def update_results(self, **values) -> dict:
        results = {**self.read_json("results.json"), **values}
        if not self.writer:
            return results
        self.write_json("results.json", results)
        return results

    def config(self) -> "Config":
        from ftlab.config import Config

        return Config.load(self.path / "config.yaml")

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"
