"""``ftlab.train(config)``: supervised fine-tuning through TRL's SFTTrainer.

ftlab's part is around the trainer, not inside it: load the data and the model
the way the method says, hand TRL prompt-completion chat rows (so the loss
falls on the completion only), and record everything in a run directory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ftlab.config import Config
from ftlab.errors import ConfigError
from ftlab.training.monitor import Listener, RunMonitor
from ftlab.training.rundir import RunDir

if TYPE_CHECKING:
    from trl import SFTTrainer


@dataclass
class TrainResult:
    run: RunDir
    model: Any
    tokenizer: Any
    results: dict


def count_parameters(model) -> tuple[int, int]:
    """(trainable, total), counting a 4-bit packed weight as the parameters it stands for."""
    trainable = total = 0
    for param in model.parameters():
        n = param.numel()
        if hasattr(param, "quant_state"):  # bitsandbytes Params4bit packs two weights per byte
            n = param.quant_state.shape.numel()
        total += n
        if param.requires_grad:
            trainable += n
    return trainable, total


def precision_flags(precision: str) -> dict:
    """Trainer flags for a precision; both always given, since TRL defaults bf16 to on."""
    import torch

    cuda = torch.cuda.is_available()
    if precision == "auto":
        precision = "fp32" if not cuda else "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision == "fp16" and not cuda:
        raise ConfigError("train.precision", "fp16 mixed precision needs a CUDA GPU; on a CPU use bf16 or fp32.")
    if precision == "bf16" and cuda and not torch.cuda.is_bf16_supported():
        raise ConfigError("train.precision", "this GPU has no bf16 support (it needs Ampere or newer); "
                          "use fp16 or fp32.")
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}


def sft_args(config: Config, run: RunDir):
    import torch
    from trl import SFTConfig

    t = config.train
    evaluate = t.eval_steps > 0
    return SFTConfig(
        output_dir=str(run.checkpoints_dir),
        max_steps=t.max_steps if t.max_steps > 0 else -1,
        num_train_epochs=t.num_epochs,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.batch_size * 2,
        gradient_accumulation_steps=t.grad_accum,
        learning_rate=t.learning_rate,
        lr_scheduler_type=t.lr_scheduler,
        warmup_steps=t.warmup_ratio,
        weight_decay=t.weight_decay,
        max_grad_norm=t.max_grad_norm,
        seed=t.seed,
        data_seed=t.seed,
        logging_steps=t.logging_steps,
        eval_strategy="steps" if evaluate else "no",
        eval_steps=t.eval_steps if evaluate else None,
        save_strategy="steps" if t.save_steps > 0 else "no",
        save_steps=t.save_steps or None,
        save_total_limit=t.save_total_limit,
        gradient_checkpointing=t.gradient_checkpointing,
        report_to=t.report_to or "none",
        max_length=config.data.max_length,
        completion_only_loss=True,
        packing=False,
        disable_tqdm=True,
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        **precision_flags(t.precision),
    )


def build_trainer(config: Config, run: RunDir, callbacks: list) -> "SFTTrainer":
    """Load data and model as the method says and wrap them in TRL's SFTTrainer.

    Records the data version in the run directory on the way.
    """
    from transformers import PrinterCallback
    from trl import SFTTrainer

    from ftlab.data.loading import load_splits, recorded_version, to_chat
    from ftlab.models.loading import check_target_modules, load_model, load_tokenizer
    from ftlab.training.methods import METHODS

    method = METHODS[config.method.name]
    splits = load_splits(config.data)
    run.write_json("data.json", {
        "version": recorded_version(config.data, splits),
        "task": None if config.data.train_file else config.data.task,
        "files": {k: config.get(f"data.{k}") for k in ("train_file", "validation_file", "test_file")},
        "rows": {name: len(split) for name, split in splits.items()}})
    tokenizer = load_tokenizer(config.model.name, config.model.trust_remote_code)
    model = load_model(config.model.name, config.model.dtype,
                       method.quantization(config.method) if method.quantization else None,
                       config.model.trust_remote_code)
    if method.peft_config:
        check_target_modules(model, config.method.target_modules)
    system = config.data.system_prompt
    trainer = SFTTrainer(
        model=model,
        args=sft_args(config, run),
        train_dataset=to_chat(splits["train"], system),
        eval_dataset=to_chat(splits["validation"], system) if config.train.eval_steps > 0 else None,
        processing_class=tokenizer,
        peft_config=method.peft_config(config.method) if method.peft_config else None,
        callbacks=callbacks,
    )
    trainer.remove_callback(PrinterCallback)  # ftlab's monitor reports instead of raw dict prints
    return trainer


def train(config: Config, listeners: list[Listener] | tuple = ()) -> TrainResult:
    """Fine-tune as ``config`` says and return the trained model with its run record.

    The run directory is written even when training fails or is interrupted:
    results.json then says so, and checkpoints and metrics stay.
    """
    from ftlab.monitor.system import peak_rss_mb

    config.validate()
    run = RunDir.create(config)
    try:
        precision_flags(config.train.precision)
        trainer = build_trainer(config, run, [RunMonitor(run, listeners)])
        trainable, total = count_parameters(trainer.model)
        run.update_results(trainable_params=trainable, total_params=total)
        start = time.time()
        trainer.train()
        seconds = time.time() - start
        trainer.save_model(str(run.final_dir))
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        run.update_results(status=status, error=f"{type(exc).__name__}: {exc}", peak_rss_mb=round(peak_rss_mb(), 1))
        raise
    metrics = run.read("metrics")
    losses = [m["loss"] for m in metrics if "loss" in m]
    eval_losses = [m["eval_loss"] for m in metrics if "eval_loss" in m]
    results = run.update_results(
        status="completed", train_seconds=round(seconds, 2), steps=trainer.state.global_step,
        first_loss=losses[0] if losses else None, final_loss=losses[-1] if losses else None,
        final_eval_loss=eval_losses[-1] if eval_losses else None, peak_rss_mb=round(peak_rss_mb(), 1))
    return TrainResult(run, trainer.model, trainer.processing_class, results)
