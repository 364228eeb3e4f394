"""LoRA-FA (Zhang et al. 2023, arXiv:2308.03303): A stays at its random init; only B trains.

With A frozen, the input of each adapter need not be kept for A's gradient,
which saves activation memory; PEFT's LoRA-FA optimizer also projects B's
update so it follows full fine-tuning's gradient.  Starts at LoRA's rate.
"""

from __future__ import annotations

from typing import Any

from ftlab.training.methods import Method
from ftlab.training.methods._lora import LORA_SETTINGS, check_targets, lora_config, lora_count, target_modules
from ftlab.training.methods.lora import LORA_BUILTIN_LR, LORA_LR


def optimizer(model: Any, settings: Any, train: Any):
    from peft.optimizers import create_lorafa_optimizer

    return create_lorafa_optimizer(model, r=settings.lora_r, lora_alpha=settings.lora_alpha, lr=train.learning_rate,
                                   weight_decay=train.weight_decay)


def select(model: Any, settings: Any) -> list[str]:
    """The B factors; A keeps its random init."""
    return [name for name, param in model.named_parameters() if param.requires_grad and ".lora_B." in name]


def count(shape: Any, settings: Any) -> int:
    return sum(n * settings.lora_r * out for n, _, out in shape.linear_layers(target_modules(settings)))


ENTRY = Method(
    "lora_fa", "low-rank", "LoRA with A frozen at its random init: only B trains, halving the adapter's "
    "gradients and optimizer state.",
    activation_share=0.54,
    lr=LORA_LR, builtin_lr=LORA_BUILTIN_LR, count=count, added=lora_count, reads=LORA_SETTINGS,
    peft_config=lambda settings, steps: lora_config(settings), select=select, optimizer=optimizer, check=check_targets,
    order=7)
