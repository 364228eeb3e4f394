"""Turn a failed run into what to try next.

Two failures are common enough to deserve more than a traceback: running out
of memory, and a loss that becomes NaN or infinite.  Each gets advice built
from the run's own settings, in the order most likely to help.
"""

from __future__ import annotations

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


def memory_advice(config: "Config") -> list[str]:
    t, m = config.train, config.method
    tips = []
    if t.batch_size > 1:
        half = t.batch_size // 2
        tips.append(f"set train.batch_size={half} and train.grad_accum={t.grad_accum * 2} (same effective batch "
                    f"of {t.batch_size * t.grad_accum}, about half the activation memory)")
    if not t.gradient_checkpointing:
        tips.append("set train.gradient_checkpointing=true (activations recomputed in backward, ~30% slower)")
    if m.name in ("full", "freeze", "bitfit"):
        tips.append("use method.name=lora (no gradients or optimizer state for the base weights)")
    if m.name != "qlora" and m.name not in ("prompt_tuning", "prefix_tuning", "p_tuning"):
        tips.append("use method.name=qlora (4-bit base: about a quarter of the weight memory)")
    if t.optimizer == "adamw_torch" and m.name in ("full", "freeze"):
        tips.append("set train.optimizer=adamw_bnb_8bit (8-bit optimizer state)")
    if config.data.max_length > 256:
        tips.append(f"lower data.max_length from {config.data.max_length} if your examples allow it")
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
