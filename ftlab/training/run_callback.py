"""The training callback behind the run record and the live dashboard.

One ``TrainerCallback`` writes metrics and system samples into the run
directory and forwards the same rows to listeners (the dashboard widget, the
console printer).  It does nothing per step but compare two floats, unless a
system sample is due, so it costs nothing measurable; listeners throttle their
own redraws.

It is also where a run is stopped on purpose: a listener that asks for a stop
(the dashboard's Stop button) ends training after the current step with a
checkpoint saved, and a loss that turns NaN or infinite ends it at once.
"""

from __future__ import annotations

import math
import time
from typing import Protocol

from transformers import TrainerCallback

from ftlab.monitor.sampling import SystemSampler
from ftlab.training.rundir import RunDir


RECORDED = ("metrics", "system", "generations", "groups")  # the kinds kept as <kind>.jsonl in the run directory


class Listener(Protocol):
    """Receives ``kind`` in begin / progress / metrics / system / generations / groups / end with a row.

    ``groups`` rows come from the RL stages: one sampled group of answers to a
    prompt with the reward of each (:class:`ftlab.training.stages._rl.GroupShow`).

    A listener may also define ``stop_requested() -> str | None``: a non-empty
    reason stops the run at the end of the current step, with a checkpoint.
    """

    def update(self, kind: str, row: dict) -> None: ...


class RunMonitor(TrainerCallback):
    def __init__(self, run: RunDir | None = None, listeners: list[Listener] | tuple = (),
                 sample_every_s: float = 1.0, progress_every_s: float = 0.25):
        self.run = run
        self.listeners = list(listeners)
        self.sample_every_s = sample_every_s
        self.progress_every_s = progress_every_s
        self.sampler = SystemSampler()
        self._start = self._last_sample = self._last_progress = 0.0
        self._last_tokens = (0.0, 0.0)  # (num_tokens, time) at the previous training log
        self.stop_reason: str | None = None  # "stopped: ..." or "nan_loss" once the run was ended early
        self.nan_step: int | None = None

    def emit(self, kind: str, row: dict) -> None:
        """Record a row (metrics, system samples, generations) in the run directory and pass it to listeners."""
        if self.run is not None and not self.run.writer:
            return  # another process of a multi-process launch: the main one reports
        if self.run is not None and kind in RECORDED:
            self.run.append(kind, row)
        for listener in self.listeners:
            listener.update(kind, row)

    def _sample(self, step: int) -> None:
        row = self.sampler.sample()
        row["step"] = step
        row["elapsed"] = round(row["time"] - self._start, 3)
        self._last_sample = row["time"]
        self.emit("system", row)

    def on_train_begin(self, args, state, control, **kwargs):
        self._start = time.time()
        self._last_tokens = (0.0, self._start)
        stage = self.run.config().train.stage if self.run is not None and (self.run.path / "config.yaml").exists() \
            else None
        self.emit("begin", {"max_steps": state.max_steps, "step": state.global_step, "time": self._start,
                            "stage": stage})
        self._sample(state.global_step)

    def on_step_end(self, args, state, control, **kwargs):
        now = time.time()
        if now - self._last_progress >= self.progress_every_s:
            self._last_progress = now
            self.emit("progress", {"step": state.global_step, "max_steps": state.max_steps,
                                    "elapsed": now - self._start})
        if now - self._last_sample >= self.sample_every_s:
            self._sample(state.global_step)
        self._check_stop(control)

    def _check_stop(self, control) -> None:
        """Runs before the trainer's save/stop decision for the step, so the stop lands on this step."""
        for listener in self.listeners:
            reason = getattr(listener, "stop_requested", lambda: None)()
            if reason and self.stop_reason is None:
                self.stop_reason = f"stopped: {reason}"
                control.should_save = True
                control.should_training_stop = True

    def on_log(self, args, state, control, logs=None, **kwargs):
        now = time.time()
        row = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4),
               "elapsed": round(now - self._start, 3)}
        row.update({k: v for k, v in (logs or {}).items() if isinstance(v, (int, float))})
        tokens = row.get("num_tokens")
        if tokens is not None and "loss" in row:
            if now > self._last_tokens[1]:
                row["tokens_per_s"] = round((tokens - self._last_tokens[0]) / (now - self._last_tokens[1]), 1)
            self._last_tokens = (tokens, now)
        self.emit("metrics", row)
        self._check_stop(control)
        loss = row.get("loss")
        if loss is not None and not math.isfinite(loss):
            self.stop_reason, self.nan_step = "nan_loss", state.global_step
            control.should_training_stop = True
            control.should_save = False  # the weights are already broken; the last good checkpoint stays

    def on_train_end(self, args, state, control, **kwargs):
        self._sample(state.global_step)
        self.emit("end", {"step": state.global_step, "max_steps": state.max_steps,
                           "elapsed": time.time() - self._start})


class ConsolePrinter:
    """Prints one line per logged step: the listener for scripts and the CLI."""

    def __init__(self, stream=None):
        import sys

        self.stream = stream or sys.stderr
        self.max_steps = 0

    def update(self, kind: str, row: dict) -> None:
        if kind == "begin":
            self.max_steps = row["max_steps"]
        elif kind == "metrics":
            shown = [f"step {row['step']}/{self.max_steps}"]
            for key in ("loss", "eval_loss", "learning_rate", "grad_norm", "tokens_per_s"):
                if key in row:
                    shown.append(f"{key} {row[key]:.4g}")
            print("  ".join(shown), file=self.stream, flush=True)
