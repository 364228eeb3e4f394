"""Reward modelling through TRL's ``RewardTrainer``: a score head learns to rank the chosen answer above the rejected.

The model is the base with a one-score head (``sequence_classification``);
each preference row is read as two whole dialogues, prompt + chosen and
prompt + rejected, and the loss is -log sigmoid(score(chosen) - score(rejected))
(Bradley-Terry, as in Ouyang et al. 2022).  The held-out figure is the share of
validation pairs ranked the right way round.  A finished run is a reward for
the RL stages (``stage.reward_model``, :mod:`ftlab.training.reward_model`).
"""

from __future__ import annotations

from ftlab.training.stages import MeasureInputs, Stage, TrainerInputs

MEASURE_PAIRS = 1000  # held-out pairs ranked by the measure (at most; 200 pairs leave a standard error of 0.02)


def build_trainer(inputs: TrainerInputs):
    from trl import RewardConfig, RewardTrainer

    args = RewardConfig(**inputs.arguments, max_length=inputs.config.data.max_length)
    return RewardTrainer(model=inputs.model, args=args, train_dataset=inputs.train_rows, eval_dataset=inputs.eval_rows,
                         processing_class=inputs.tokenizer, optimizers=(inputs.optimizer, None),
                         callbacks=inputs.callbacks)


def measure(inputs: MeasureInputs) -> dict:
    from ftlab.data.rows import training_rows
    from ftlab.training.reward_model import score

    pairs = training_rows(inputs.data[inputs.split], "preference", inputs.config.data.system_prompt)[:MEASURE_PAIRS]
    if not pairs:
        return {}
    batch = inputs.config.eval.batch_size
    chosen = score(inputs.model, inputs.tokenizer, [p["prompt"] + p["chosen"] for p in pairs], batch)
    rejected = score(inputs.model, inputs.tokenizer, [p["prompt"] + p["rejected"] for p in pairs], batch)
    margins = [c - r for c, r in zip(chosen, rejected)]
    return {"pair_accuracy": sum(m > 0 for m in margins) / len(margins),
            "margin": sum(margins) / len(margins), "pairs": len(margins)}


ENTRY = Stage("rm", "Reward model: learn a score that ranks the chosen answer above the rejected one.",
              rows="preference", build_trainer=build_trainer, head="sequence_classification", generates=False,
              measure=measure, compared=("pair_accuracy",), order=2)
