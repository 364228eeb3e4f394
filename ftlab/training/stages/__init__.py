"""The training-stage registry: one file per stage in this package.

A stage is one kind of training: supervised fine-tuning (``sft``), continued
pretraining (``cpt``), reward modelling (``rm``), preference optimisation
(``dpo``, ``kto``, ``orpo``) and reinforcement learning with a reward
(``grpo``, ``rloo``, ``ppo``).  What differs between stages is the shape of the
rows their trainer reads (see :mod:`ftlab.data.rows`), the TRL trainer that
reads them, the ``stage.*`` settings it uses, and the held-out figures that
show its effect (``measure``, taken before and after training); the model
preparation (the method), the run directory, the monitoring and the controls
are shared, so every method composes with every stage that supports it.

This module imports nothing from ftlab but the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ftlab.registry import Registry

# sft: prompt/completion; preference: prompt/chosen/rejected; kto: prompt/completion/label;
# text: raw text; prompt: a prompt and the reference answer a reward function may check against.
ROW_KINDS = ("sft", "preference", "kto", "text", "prompt")
HEADS = ("causal_lm", "sequence_classification")


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
    emit: Callable[[str, dict], None] | None = None  # the run monitor's: a stage may show what it does (RL groups)


@dataclass
class MeasureInputs:
    """What a stage's ``measure`` reads: the model as it is now and the run's held-out data."""

    config: Any
    model: Any
    tokenizer: Any
    data: Any  # ftlab.data.sources.RunData, records of the stage's row kind
    split: str = "validation"


@dataclass(frozen=True)
class Stage:
    """One kind of training.

    ``measure`` returns the stage's headline figures on held-out data (e.g.
    ``preference_accuracy``, ``reward``, ``domain_ppl``); the runner takes them
    before and after training.  ``compared`` names the figures whose before and
    after values are both headline figures (``reward_before``, ``reward_after``);
    for the others only the value after training is.
    """

    name: str
    summary: str
    rows: str  # the row kind its trainer reads: one of ROW_KINDS
    build_trainer: Callable[[TrainerInputs], Any]
    reads: tuple[str, ...] = ()  # the stage.* settings it uses
    head: str = "causal_lm"  # what sits on the base model: a language-model head, or a scalar score (rm)
    generates: bool = True  # its model answers prompts, so the task evaluation applies at the end
    needs_chat_template: bool = True  # rows are dialogues, so the base model must have a chat template
    reference: bool = False  # held to a frozen reference model (the estimator counts it; PEFT: adapter off)
    value_model: bool = False  # trains a value model beside the policy (ppo; the estimator counts it)
    measure: Callable[[MeasureInputs], dict] | None = None
    compared: tuple[str, ...] = ()
    check: Callable[[Any], Iterable[tuple[str, str]]] | None = None  # config -> (field, problem) pairs
    # The live panel: (title, metric keys as the trainer logs them) per plot, and notes on the logged
    # rows so far (a falling chosen reward, reward hacking...) that the dashboard shows under it.
    plots: tuple[tuple[str, tuple[str, ...]], ...] = ()
    diagnose: Callable[[list[dict]], list[str]] | None = None
    order: int = 0


STAGES: Registry[Stage] = Registry("training stage", __name__, sort_key=lambda s: (s.order, s.name))
