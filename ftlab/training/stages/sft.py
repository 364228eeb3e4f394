"""Supervised fine-tuning through TRL's ``SFTTrainer``.

Rows are conversational prompt-completion pairs, so the chat template wraps
them and the loss falls on the completion only (``completion_only_loss``),
with the whole prompt dialogue (system prompt, earlier turns) as context.
"""

from __future__ import annotations

from ftlab.training.stages import Stage, TrainerInputs


def build_trainer(inputs: TrainerInputs):
    from trl import SFTConfig, SFTTrainer

    config = inputs.config
    args = SFTConfig(**inputs.arguments, max_length=config.data.max_length,
                     completion_only_loss=config.train.completion_only_loss, packing=config.train.packing)
    return SFTTrainer(model=inputs.model, args=args, train_dataset=inputs.train_rows, eval_dataset=inputs.eval_rows,
                      processing_class=inputs.tokenizer, optimizers=(inputs.optimizer, None),
                      callbacks=inputs.callbacks)


ENTRY = Stage("sft", "Supervised fine-tuning: learn to answer prompts as the training completions do.", rows="sft",
              build_trainer=build_trainer)
