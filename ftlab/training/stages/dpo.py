"""Direct preference optimisation through TRL's ``DPOTrainer``.

DPO raises the log-probability of the chosen answer relative to the rejected
one, measured against a frozen reference (the starting model), without a
reward model.  With LoRA or QLoRA the reference is the same base with the
adapter turned off, so no second copy of the model is held (TRL does this
when the policy is a PEFT model and no reference is given).
"""

from __future__ import annotations

from ftlab.training.stages import Stage, TrainerInputs
from ftlab.training.stages._preference import PLOTS, diagnose, measure


def build_trainer(inputs: TrainerInputs):
    from trl import DPOConfig, DPOTrainer

    config = inputs.config
    losses, weights = [config.stage.loss_type], [1.0]
    if config.stage.sft_weight > 0:
        losses, weights = losses + ["sft"], weights + [config.stage.sft_weight]
    args = DPOConfig(**inputs.arguments, max_length=config.data.max_length, beta=config.stage.beta,
                     loss_type=losses, loss_weights=weights)
    return DPOTrainer(model=inputs.model, args=args, train_dataset=inputs.train_rows, eval_dataset=inputs.eval_rows,
                      processing_class=inputs.tokenizer, optimizers=(inputs.optimizer, None),
                      callbacks=inputs.callbacks)


ENTRY = Stage("dpo", "Direct preference optimisation: prefer the chosen answer over the rejected one, held to the "
              "starting model.", rows="preference", build_trainer=build_trainer,
              reads=("beta", "loss_type", "sft_weight"), measure=measure, compared=("preference_accuracy",),
              plots=PLOTS, diagnose=diagnose, reference=True, order=3)
