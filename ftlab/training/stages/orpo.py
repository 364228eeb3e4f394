"""Odds-ratio preference optimisation through TRL's ``ORPOTrainer`` (``trl.experimental`` in TRL 1.x).

ORPO adds an odds-ratio penalty on the rejected answer to the SFT loss on the
chosen one, so it needs no reference model and no SFT stage before it: one
stage, one model in memory.  ``stage.beta`` weights the odds-ratio term
(ORPO's lambda).
"""

from __future__ import annotations

import warnings

from ftlab.training.stages import Stage, TrainerInputs
from ftlab.training.stages._preference import PLOTS, diagnose, measure


def build_trainer(inputs: TrainerInputs):
    with warnings.catch_warnings():  # TRL warns that the experimental API may change; ftlab pins its use here
        warnings.simplefilter("ignore")
        from trl.experimental.orpo import ORPOConfig, ORPOTrainer

    config = inputs.config
    args = ORPOConfig(**inputs.arguments, max_length=config.data.max_length, beta=config.stage.beta)
    return ORPOTrainer(model=inputs.model, args=args, train_dataset=inputs.train_rows, eval_dataset=inputs.eval_rows,
                       processing_class=inputs.tokenizer, optimizers=(inputs.optimizer, None),
                       callbacks=inputs.callbacks)


ENTRY = Stage("orpo", "Odds-ratio preference optimisation: SFT on the chosen answer and a penalty on the rejected "
              "one, no reference model.", rows="preference", build_trainer=build_trainer, reads=("beta",),
              measure=measure, compared=("preference_accuracy",), plots=PLOTS, diagnose=diagnose, order=3)
