"""PPO with a value model (the RLHF path: SFT -> reward model -> PPO), through ftlab's subclass of TRL's GRPOTrainer.

TRL removed its ``PPOTrainer`` in 1.13; :mod:`ftlab.training.stages._ppo_trainer`
says why the subclass and what it changes.  Rows, rewards, reward model and
held-out measure are the RL stages' own (:mod:`ftlab.training.stages._rl`):
``stage.reward_model`` names a run of stage ``rm`` and ``stage.rewards`` adds
verifiable rewards, if any.  ``stage.beta`` is the KL coefficient, taken into
the reward per token as PPO does.  With a PEFT method the reference is the
starting model with the adapter disabled; the value model is a second,
fully trained model (the estimator counts it).
"""

from __future__ import annotations

from ftlab.training.stages import Stage, TrainerInputs
from ftlab.training.stages._rl import RL_SETTINGS, build, check, diagnose, measure

PLOTS = (("reward (mean and spread)", ("reward", "reward_std")),
         ("KL to the reference (nats per token)", ("kl",)),
         ("value loss", ("value_loss",)),
         ("answer length (tokens)", ("completions/mean_length", "completions/clipped_ratio")))

PPO_EPOCHS = 2  # updates on each batch of sampled answers; the clip keeps the later ones near the sampling policy


def value_model(config):
    """A copy of the reward model when there is one, else the starting model with a fresh one-output head."""
    from ftlab.models.loader import load_model

    if config.stage.reward_model:
        from ftlab.training.saved import load_trained

        model, _ = load_trained(config.stage.reward_model)
        return model.merge_and_unload() if hasattr(model, "merge_and_unload") else model
    return load_model(config.model.name, config.model.dtype, None, config.model.trust_remote_code,
                      "sequence_classification")


def build_trainer(inputs: TrainerInputs):
    from trl import GRPOConfig

    from ftlab.training.stages._ppo_trainer import PPOTrainer

    # bnpo: the policy loss is the mean over all answer tokens of the batch, PPO's usual token-level mean
    return build(inputs, GRPOConfig, PPOTrainer, {"loss_type": "bnpo", "num_iterations": PPO_EPOCHS},
                 value_model=value_model(inputs.config))


ENTRY = Stage("ppo", "PPO: sample answers, reward them, and learn per-token advantages from a value model.",
              rows="prompt", build_trainer=build_trainer, reads=RL_SETTINGS, measure=measure, compared=("reward",),
              check=check, plots=PLOTS, diagnose=diagnose, reference=True, value_model=True,
              order=7)
