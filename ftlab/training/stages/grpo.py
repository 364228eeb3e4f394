"""GRPO (Shao et al. 2024, arXiv:2402.03300) through TRL's ``GRPOTrainer``: sample a group of answers per prompt,
score them with the reward, and push up the answers that beat their group's mean.

Rows are prompts with their reference answer (the ``prompt`` row kind); the
reward is the sum of ``stage.rewards`` and, if set, a reward model's score
(:mod:`ftlab.training.stages._rl`).  With ``stage.beta`` > 0 a KL term holds
the policy near the reference model; for a PEFT model TRL's reference is the
same model with its adapter disabled, i.e. the model the run started from, so
no second copy is loaded.
"""

from __future__ import annotations

from ftlab.training.stages import Stage, TrainerInputs
from ftlab.training.stages._rl import PLOTS, RL_SETTINGS, build, check, diagnose, measure


def build_trainer(inputs: TrainerInputs):
    from trl import GRPOConfig, GRPOTrainer

    return build(inputs, GRPOConfig, GRPOTrainer)


ENTRY = Stage("grpo", "GRPO: sample groups of answers, reward them, and favour the ones above their group's mean.",
              rows="prompt", build_trainer=build_trainer, reads=RL_SETTINGS, measure=measure, compared=("reward",),
              check=check, plots=PLOTS, diagnose=diagnose, reference=True, order=5)
