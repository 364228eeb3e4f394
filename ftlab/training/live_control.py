"""What a person asks of a run while it trains: stop, pause and continue, a new learning rate, evaluate now, save now.

A listener (the dashboard's buttons, a script's own rule) hands over
:class:`Request` objects from ``requests()``; the run monitor applies them
between two optimizer steps, in the trainer's own step-end hook, and records
each as a row of ``events.jsonl`` in the run directory (the curves mark them).

Every action is one function in :data:`ACTIONS`; it reads the request and the
trainer's state (``Step``) and says what it did.  The trainer then does the
rest at the same step: ``control.should_save`` writes a checkpoint,
``should_evaluate`` runs the validation pass, ``should_training_stop`` ends
the loop -- the same paths a scheduled save, evaluation or end take.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ftlab.errors import FtlabError


@dataclass
class Request:
    action: str  # a key of ACTIONS
    value: float | str | None = None  # the new learning rate; why a stop was asked
    asked: float = field(default_factory=time.time)  # when the person asked (the event records the delay)


@dataclass
class Step:
    """What an action may read and change at the end of one optimizer step."""

    args: Any  # TrainingArguments
    state: Any  # TrainerState
    control: Any  # TrainerControl
    optimizer: Any = None
    lr_scheduler: Any = None
    can_evaluate: bool = False


def _stop(step: Step, request: Request) -> dict:
    step.control.should_save = True
    step.control.should_training_stop = True
    return {"reason": request.value or "stop requested"}


def _save(step: Step, request: Request) -> dict:
    step.control.should_save = True
    return {}


def _evaluate(step: Step, request: Request) -> dict:
    if not step.can_evaluate:
        raise FtlabError("This run has no validation pass to run (train.eval_steps is 0); "
                         "set train.eval_steps > 0 before training to evaluate during it.")
    step.control.should_evaluate = True
    return {}


def _learning_rate(step: Step, request: Request) -> dict:
    """Scale the schedule so that it reads the new rate now and keeps its shape after (warm-up, decay).

    The scheduler sets every group's rate from its ``base_lrs`` at each step, so a rate written only into the
    optimizer would last one step; scaling ``base_lrs`` also lands in the checkpoint, so a resumed run keeps it.
    """
    try:
        new = float(request.value)
    except (TypeError, ValueError):
        raise FtlabError(f"learning rate {request.value!r} is not a number; type one such as 1e-4.") from None
    if not new > 0:
        raise FtlabError(f"learning rate {new:g} must be above 0 (pause the run to hold it instead).")
    groups = step.optimizer.param_groups
    old = groups[0]["lr"]
    if old <= 0:
        raise FtlabError("the schedule's rate is 0 at this step (warm-up start or its end); "
                         "change it a step later.")
    factor = new / old
    for group in groups:
        group["lr"] *= factor
    scheduler = step.lr_scheduler
    if scheduler is not None and hasattr(scheduler, "base_lrs"):
        scheduler.base_lrs = [base * factor for base in scheduler.base_lrs]
        # what get_last_lr() returns until the next scheduler step: the trainer logs the step's rate from it
        scheduler._last_lr = [group["lr"] for group in groups]
    return {"from": old, "to": new}


# pause and continue are handled by the monitor's wait loop; they are actions all the same (recorded, marked)
ACTIONS: dict[str, Callable[[Step, Request], dict] | None] = {
    "stop": _stop, "save": _save, "evaluate": _evaluate, "lr": _learning_rate, "pause": None, "continue": None}


def apply(step: Step, request: Request) -> dict:
    """Apply one request; the event row for ``events.jsonl`` (an ``error`` in it when it could not be done)."""
    row = {"event": request.action, "step": step.state.global_step, "asked": round(request.asked, 3),
           "applied": round(time.time(), 3)}
    action = ACTIONS.get(request.action)
    if request.action not in ACTIONS:
        return {**row, "error": f"unknown action {request.action!r}; one of {', '.join(ACTIONS)}"}
    try:
        return {**row, **(action(step, request) if action else {})}
    except FtlabError as exc:
        return {**row, "error": str(exc)}
