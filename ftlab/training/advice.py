"""Turn a failed run into what to try next.

Two failures are common enough to deserve more than a traceback: running out
of memory, and a loss that becomes NaN or infinite.  Each gets advice built
from the run's own settings, in the order most likely to help; memory advice
carries the estimator's figure for each change, so a person can see which one
is enough.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from ftlab.errors import FtlabError

if TYPE_CHECKING:
    from ftlab.config import Config

_OOM_MARKERS = ("out of memory", "can't allocate memory", "cannot allocate memory")


def is_out_of_memory(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    return isinstance(exc, RuntimeError) and any(m in str(exc).lower() for m in _OOM_MARKERS)


def estimate_for_config(config: "Config"):
    """The estimator's peak training memory for a run config on this machine's device, or None if unknown."""
    import torch

    from ftlab.models.estimate import Hardware, estimate_memory

    device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        return estimate_memory(config.model.name, config, Hardware(device=device))
    except (FtlabError, OSError, ValueError):
        return None


def memory_advice(config: "Config") -> list[str]:
    from ftlab.training.methods import METHODS

    t, m = config.train, config.method
    method = METHODS[m.name]
    changes = []  # (advice, settings that carry it out)
    if t.batch_size > 1:
        changes.append((f"set train.batch_size={t.batch_size // 2} and train.grad_accum={t.grad_accum * 2} (same "
                        f"effective batch of {t.batch_size * t.grad_accum}, about half the activation memory)",
                        {"train.batch_size": t.batch_size // 2, "train.grad_accum": t.grad_accum * 2}))
    if not t.gradient_checkpointing:
        changes.append(("set train.gradient_checkpointing=true (activations recomputed in backward, ~30% slower)",
                        {"train.gradient_checkpointing": True}))
    if not method.new_parameters:
        changes.append(("use method.name=lora (no gradients or optimizer state for the base weights)",
                        {"method.name": "lora"}))
    if not method.quantized and method.family != "prompt":
        changes.append(("use method.name=qlora (4-bit base: about a quarter of the weight memory)",
                        {"method.name": "qlora"}))
    if t.optimizer == "adamw_torch" and not method.new_parameters:
        changes.append(("set train.optimizer=adamw_bnb_8bit (8-bit optimizer state)",
                        {"train.optimizer": "adamw_bnb_8bit"}))
    if config.data.max_length > 256:
        changes.append((f"lower data.max_length from {config.data.max_length} if your examples allow it",
                        {"data.max_length": config.data.max_length // 2}))
    now = estimate_for_config(config)
    tips = []
    for advice, settings in changes:
        changed = copy.deepcopy(config)
        for path, value in settings.items():
            changed.set(path, value)
        after = estimate_for_config(changed) if now is not None else None
        tips.append(f"{advice} [estimated peak {now.total_gb:.3g} -> {after.total_gb:.3g} GB]" if after else advice)
    return tips


def explain_failure(config: "Config", failure: BaseException | str, step: int | None = None) -> FtlabError | None:
    """An FtlabError with advice for a known failure, the error itself if it already is one, else None."""
    if isinstance(failure, FtlabError):
        return failure
    if failure == "nan_loss":
        t = config.train
        tips = [f"lower train.learning_rate (now {t.learning_rate:g}; try {t.learning_rate / 10:g})"]
        if not t.max_grad_norm:
            tips.append("turn gradient clipping on with train.max_grad_norm=1.0")
        if t.warmup_ratio < 0.05:
            tips.append("warm up with train.warmup_ratio=0.05")
        if t.precision == "fp16":
            tips.append("use train.precision=bf16 or fp32 (fp16 overflows easily)")
        tips.append("check the data for empty or extremely long completions")
        return FtlabError(f"The training loss became NaN or infinite at step {step}, so training stopped; the "
                          "checkpoints before it are kept. Try: " + "; ".join(tips) + ".")
    if isinstance(failure, BaseException) and is_out_of_memory(failure):
        return FtlabError("Training ran out of memory. Try, in this order: " + "; ".join(memory_advice(config))
                          + ". The run directory keeps its checkpoints and log.")
    return None
