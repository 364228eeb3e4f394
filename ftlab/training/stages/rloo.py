"""RLOO (Ahmadian et al. 2024, arXiv:2402.14740) through TRL's ``RLOOTrainer``: REINFORCE where each sampled
answer's baseline is the mean reward of the other answers to the same prompt.

Same rows, reward, settings and held-out measure as GRPO
(:mod:`ftlab.training.stages._rl`); the two differ in how an answer's
advantage is formed (leave-one-out mean vs group mean and spread) and in
where the KL term goes (RLOO folds it into the reward).
"""

from __future__ import annotations

from ftlab.training.stages import Stage, TrainerInputs
from ftlab.training.stages._rl import PLOTS, RL_SETTINGS, build, check, diagnose, measure


def build_trainer(inputs: TrainerInputs):
    from trl import RLOOConfig, RLOOTrainer

    return build(inputs, RLOOConfig, RLOOTrainer)


ENTRY = Stage("rloo", "RLOO: REINFORCE with the other answers to the same prompt as each answer's baseline.",
              rows="prompt", build_trainer=build_trainer, reads=RL_SETTINGS, measure=measure, compared=("reward",),
              check=check, plots=PLOTS, diagnose=diagnose, reference=True, order=6)
