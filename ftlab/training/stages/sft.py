"""Supervised fine-tuning through TRL's ``SFTTrainer``.

Rows are conversational prompt-completion pairs, so the chat template wraps
them and the loss falls on the completion only (``completion_only_loss``),
with the whole prompt dialogue (system prompt, earlier turns) as context.
On a CPU only the answer's positions go through the language-model head
(:mod:`ftlab.training.answer_head`): the same loss and logged figures as TRL's,
for a tenth of the head's work on short answers.  Batches are padded by
:class:`ftlab.training.padded_batch.PaddedBatch`, TRL's collator with a cheaper
path for rows padded to the longest.
"""

from __future__ import annotations

from ftlab.training.stages import Stage, TrainerInputs


def build_trainer(inputs: TrainerInputs):
    from peft import PeftModel
    from trl import SFTConfig, SFTTrainer

    from ftlab.training.answer_head import score_labelled_only
    from ftlab.training.padded_batch import padded_batches

    config = inputs.config
    args = SFTConfig(**inputs.arguments, max_length=config.data.max_length,
                     completion_only_loss=config.train.completion_only_loss, packing=config.train.packing)
    trainer = SFTTrainer(model=inputs.model, args=args, train_dataset=inputs.train_rows,
                         eval_dataset=inputs.eval_rows, processing_class=inputs.tokenizer,
                         optimizers=(inputs.optimizer, None), callbacks=inputs.callbacks)
    padded_batches(trainer)
    model = trainer.model
    score_labelled_only(model.get_base_model() if isinstance(model, PeftModel) else model)
    return trainer


ENTRY = Stage("sft", "Supervised fine-tuning: learn to answer prompts as the training completions do.", rows="sft",
              build_trainer=build_trainer)
