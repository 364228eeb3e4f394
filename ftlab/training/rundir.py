"""The run directory: the whole record of one training run.

    config.yaml      the config as trained (after overrides)
    data.json        where the data came from and its content hash (data version)
    metrics.jsonl    one line per log/eval event: step, loss, lr, grad norm, tokens/s...
    system.jsonl     memory and CPU/GPU samples
    generations.jsonl  validation answers at every evaluation (the generation timeline)
    groups.jsonl     RL stages: one sampled group of answers with their rewards every logging interval
    events.jsonl     what a person did while it trained: stop, pause, continue, a new learning rate,
                     evaluate now, save now (and where a resumed run picked up)
    log.txt          warnings and library messages of the run, with its preparation steps
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

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ftlab.files import append_jsonl, atomic_write_json, read_json, read_jsonl, write_jsonl

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

    @classmethod
    def reopen(cls, path: str | Path) -> "RunDir":
        """An existing run directory, to continue it; in a multi-process launch only the first process writes."""
        return cls(path, writer=_process_rank()[0] == 0)

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def final_dir(self) -> Path:
        return self.path / "final"

    def append(self, stream: str, row: dict) -> None:
        if self.writer:
            append_jsonl(self.path / f"{stream}.jsonl", row)

    def read(self, stream: str) -> list[dict]:
        return read_jsonl(self.path / f"{stream}.jsonl")

    def truncate(self, stream: str, after_step: int) -> None:
        """Drop the rows logged after ``after_step`` (a resumed run logs them again)."""
        if self.writer:
            write_jsonl(self.path / f"{stream}.jsonl",
                        [row for row in self.read(stream) if row.get("step", 0) <= after_step])

    def write_json(self, name: str, data: dict) -> None:
        if self.writer:
            atomic_write_json(self.path / name, data)

    def read_json(self, name: str) -> dict:
        return read_json(self.path / name)

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
