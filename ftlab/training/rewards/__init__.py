"""The reward-function registry: one file per reward in this package.

A reward scores sampled answers for the RL stages (``grpo``, ``rloo``); the
stage adds up the rewards a config names (``stage.rewards``).  A reward is
verifiable: it reads the answer and the row's reference (the task's right
answer), never a model, so it cannot be talked into a high score; a reward
model (``stage.reward_model``) is the learned alternative.

Each function takes the answers as plain strings and the references, and
returns one float per answer.  A reward that raises or returns NaN stops the
run with the reward's name and the answer it failed on (see
:func:`ftlab.training.rewards.checked`).

This module imports nothing from ftlab but the registry and the errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from ftlab.errors import FtlabError
from ftlab.registry import Registry


@dataclass(frozen=True)
class Reward:
    name: str
    summary: str
    score: Callable[[Sequence[str], Sequence[str]], list[float]]  # (answers, references) -> rewards
    low: float = 0.0  # the range of one answer's reward, for plots and for the hacking checks
    high: float = 1.0


REWARDS: Registry[Reward] = Registry("reward function", __name__)


def checked(reward: Reward, answers: Sequence[str], references: Sequence[str]) -> list[float]:
    """``reward.score`` with its failures turned into a message naming the reward and the answer."""
    try:
        scores = [float(s) for s in reward.score(answers, references)]
    except Exception as exc:  # noqa: BLE001 - any failure in user code is reported the same way
        raise FtlabError(f"reward function {reward.name!r} raised {type(exc).__name__}: {exc} "
                         f"(first answer of the batch: {answers[0]!r}).") from exc
    if len(scores) != len(answers):
        raise FtlabError(f"reward function {reward.name!r} returned {len(scores)} scores for {len(answers)} "
                         "answers; it must return one per answer.")
    for answer, score in zip(answers, scores):
        if math.isnan(score) or math.isinf(score):
            raise FtlabError(f"reward function {reward.name!r} returned {score} for the answer {answer!r}; "
                             "a reward must be a finite number.")
    return scores
