"""The training-stage registry: one file per stage in this package.

A stage is one kind of training: supervised fine-tuning (``sft``) today;
continued pretraining, reward modelling and preference alignment (``cpt``,
``rm``, ``dpo``, ``kto``, ``orpo``, ``grpo``, ``ppo``) are stages to come.
What differs between stages is the shape of the rows their trainer reads
(see :mod:`ftlab.data.rows`) and the TRL trainer that reads them; the model
preparation (the method), the run directory, the monitoring and the controls
are shared, so every method composes with every stage that supports it.

This module imports nothing from ftlab but the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ftlab.registry import Registry

ROW_KINDS = ("sft", "preference", "kto", "text")


@dataclass
class TrainerInputs:
    """What the runner hands a stage's trainer builder; ``arguments`` are the TrainingArguments every stage shares."""

    config: Any
    model: Any
    tokenizer: Any
    train_rows: Any  # a datasets.Dataset of the stage's row kind
    eval_rows: Any | None
    arguments: dict
    callbacks: list = field(default_factory=list)
    optimizer: Any | None = None


@dataclass(frozen=True)
class Stage:
    name: str
    summary: str
    rows: str  # the row kind its trainer reads: one of ROW_KINDS
    build_trainer: Callable[[TrainerInputs], Any]
    order: int = 0


STAGES: Registry[Stage] = Registry("training stage", __name__, sort_key=lambda s: (s.order, s.name))
