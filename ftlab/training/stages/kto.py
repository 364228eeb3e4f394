"""Kahneman-Tversky optimisation through TRL's ``KTOTrainer``.

KTO learns from answers labelled good or bad one at a time (thumbs up /
down), not from pairs, so it fits feedback logs; preference pairs give one
good and one bad row each.  Like DPO it is held to a reference, the adapter
turned off for PEFT methods.
"""

from __future__ import annotations

from ftlab.training.stages import Stage, TrainerInputs
from ftlab.training.stages._preference import PLOTS, diagnose, measure


def build_trainer(inputs: TrainerInputs):
    from trl import KTOConfig, KTOTrainer

    config = inputs.config
    args = KTOConfig(**inputs.arguments, max_length=config.data.max_length, beta=config.stage.beta)
    return KTOTrainer(model=inputs.model, args=args, train_dataset=inputs.train_rows, eval_dataset=inputs.eval_rows,
                      processing_class=inputs.tokenizer, optimizers=(inputs.optimizer, None),
                      callbacks=inputs.callbacks)


ENTRY = Stage("kto", "Kahneman-Tversky optimisation: learn from single answers labelled good or bad.", rows="kto",
              build_trainer=build_trainer, reads=("beta",), measure=measure, compared=("preference_accuracy",),
              plots=PLOTS, diagnose=diagnose, reference=True, order=3)
