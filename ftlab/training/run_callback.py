"""The training callback behind the run record and the live dashboard.

One ``TrainerCallback`` writes metrics and system samples into the run
directory and forwards the same rows to listeners (the dashboard widget, the
console printer).  It does nothing per step but compare two floats, unless a
system sample is due, so it costs nothing measurable; listeners throttle their
own redraws.

It is also where a person steers a run: between two steps it takes the
listeners' requests (the dashboard's Stop, Pause, learning rate, Evaluate and
Save buttons; :mod:`ftlab.training.live_control`), applies them and records
each in ``events.jsonl``.  A stop ends training after the current step with a
checkpoint saved; a pause holds the run between two steps until Continue (or
Stop).  A loss that turns NaN or infinite ends the run at once.
"""

from __future__ import annotations

import math
import time
from typing import Protocol

from transformers import TrainerCallback

from ftlab.monitor.sampling import SystemSampler
from ftlab.training.live_control import Request, Step, apply
from ftlab.training.rundir import RunDir

# the kinds kept as <kind>.jsonl in the run directory
RECORDED = ("metrics", "system", "generations", "groups", "events")
PAUSE_POLL_S = 0.1  # how often a paused run asks its listeners whether to go on


class Listener(Protocol):
    """Receives ``kind`` in begin / progress / metrics / system / generations / groups / events / end with a row.

    ``groups`` rows come from the RL stages: one sampled group of answers to a
    prompt with the reward of each (:class:`ftlab.training.stages._rl.GroupShow`);
    ``events`` rows say what a person did to the run (stop, pause, a new learning rate...).

    Optional, each looked up with getattr:

    - ``requests() -> list[Request]``: what was asked since the last call (it is called between
      steps, and every 0.1 s while the run is paused);
    - ``stop_requested() -> str | None``: the short form for code, a non-empty reason stops the run at
      the end of the current step, with a checkpoint;
    - ``log(line)``: a listener that keeps a log takes the run's warnings and library messages instead
      of the cell's output (:mod:`ftlab.training.run_log`).
    """

    def update(self, kind: str, row: dict) -> None: ...


class RunMonitor(TrainerCallback):
    def __init__(self, run: RunDir | None = None, listeners: list[Listener] | tuple = (),
                 sample_every_s: float = 1.0, progress_every_s: float = 0.25, stage: str | None = None):
        self.run = run
        self.stage = stage  # the run's training stage, for the listeners' panels (None: not known)
        self.listeners = list(listeners)
        self.sample_every_s = sample_every_s
        self.progress_every_s = progress_every_s
        self.sampler = SystemSampler()
        self._start = self._last_sample = self._last_progress = 0.0
        self._last_tokens = (0.0, 0.0)  # (num_tokens, time) at the previous training log
        self.stop_reason: str | None = None  # "stopped: ..." or "nan_loss" once the run was ended early
        self.nan_step: int | None = None
        self.paused_s = 0.0  # time spent paused, left out of elapsed and throughput
        self._can_evaluate = False

    def log_sink(self):
        """The first listener's ``log`` (library output then goes there, not to the cell), or None."""
        return next((listener.log for listener in self.listeners if hasattr(listener, "log")), None)

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
        self._can_evaluate = args.eval_strategy != "no"
        self.emit("begin", {"max_steps": state.max_steps, "step": state.global_step, "time": self._start,
                            "stage": self.stage, "can_evaluate": self._can_evaluate,
                            "learning_rate": args.learning_rate})
        if state.global_step > 0:
            self.emit("events", {"event": "resumed", "step": state.global_step, "applied": round(self._start, 3)})
        self._sample(state.global_step)

    def on_step_end(self, args, state, control, **kwargs):
        now = time.time()
        if now - self._last_progress >= self.progress_every_s:
            self._last_progress = now
            self.emit("progress", {"step": state.global_step, "max_steps": state.max_steps,
                                    "elapsed": now - self._start})
        if now - self._last_sample >= self.sample_every_s:
            self._sample(state.global_step)
        self._steer(self._step(args, state, control, kwargs))

    def _step(self, args, state, control, hook_kwargs: dict) -> Step:
        """What a request acts on, from a trainer hook's arguments."""
        return Step(args, state, control, hook_kwargs.get("optimizer"), hook_kwargs.get("lr_scheduler"),
                    self._can_evaluate)

    def _requests(self) -> list[Request]:
        out = []
        for listener in self.listeners:
            if hasattr(listener, "requests"):
                out.extend(listener.requests())
            elif self.stop_reason is None and (reason := getattr(listener, "stop_requested", lambda: None)()):
                out.append(Request("stop", reason))
        return out

    def _steer(self, step: Step) -> None:
        """Apply what the listeners ask.  Runs before the trainer's log/evaluate/save decision for the step, so a
        stop, a save or an evaluation lands on this step."""
        for request in self._requests():
            self._apply(step, request)
            if request.action == "pause":
                self._wait(step)

    def _apply(self, step: Step, request: Request, **extra) -> None:
        if request.action == "stop" and self.stop_reason is not None:
            return  # asked twice (a second click while stopping)
        row = apply(step, request)
        if request.action == "stop" and "error" not in row:
            self.stop_reason = f"stopped: {row['reason']}"
        self.emit("events", {**row, **extra})

    def _wait(self, step: Step) -> None:
        """Hold the run between two steps until Continue or Stop; other requests are applied meanwhile."""
        start = time.time()
        while True:
            time.sleep(PAUSE_POLL_S)
            for request in self._requests():
                if request.action == "pause":
                    continue
                paused = time.time() - start
                self._apply(step, request, **({"paused_s": round(paused, 3)} if request.action == "continue" else {}))
                if request.action in ("continue", "stop"):
                    self.paused_s += paused
                    self._start += paused
                    self._last_tokens = (self._last_tokens[0], self._last_tokens[1] + paused)
                    return

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
        # again after the row: a listener may ask on seeing it, and the stop or save then lands on this step
        self._steer(self._step(args, state, control, kwargs))
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
