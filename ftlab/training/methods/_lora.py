"""What the low-rank methods share: their PEFT config, the settings they read, their checks and their size."""

from __future__ import annotations

from typing import Any, Iterable

# The settings every LoRA variant reads; a variant adds its own.
LORA_SETTINGS = ("lora_r", "lora_alpha", "lora_dropout", "target_modules")


def target_modules(settings: Any) -> list[str] | str:
    """PEFT's spelling: the string 'all-linear', or the list of module names."""
    return "all-linear" if list(settings.target_modules) == ["all-linear"] else list(settings.target_modules)


def lora_config(settings: Any, **extra):
    from peft import LoraConfig

    return LoraConfig(r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
                      target_modules=target_modules(settings), task_type="CAUSAL_LM", **extra)


def check_targets(settings: Any) -> Iterable[tuple[str, str]]:
    if not settings.target_modules:
        yield "method.target_modules", ("is empty; list the linear layers to adapt (e.g. q_proj, v_proj) or use "
                                        "all-linear.")


def lora_count(shape: Any, settings: Any) -> int:
    """Rank-r factors A (r x in) and B (out x r) beside every adapted linear layer."""
    return shape.lora_params(target_modules(settings), settings.lora_r)
