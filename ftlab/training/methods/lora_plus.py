"""LoRA+ (Hayou et al. 2024, arXiv:2402.12354): B learns ``loraplus_lr_ratio`` times faster than A.

The paper recommends a ratio of 2^4 = 16 (section 4).  ``train.learning_rate``
is A's rate; with B stepping 16 times further, half of LoRA's rate is a safe
start, and it is what the built-in model was measured to need.
"""

from __future__ import annotations

from typing import Any

from ftlab.training.methods import Method
from ftlab.training.methods._lora import LORA_SETTINGS, check_targets, lora_config, lora_count
from ftlab.training.methods.lora import LORA_LR


def optimizer(model: Any, settings: Any, train: Any):
    import torch
    from peft.optimizers import create_loraplus_optimizer

    return create_loraplus_optimizer(model, torch.optim.AdamW, lr=train.learning_rate,
                                     loraplus_lr_ratio=settings.loraplus_lr_ratio, weight_decay=train.weight_decay)


ENTRY = Method(
    "lora_plus", "low-rank", "LoRA with a higher learning rate for B than for A (ratio method.loraplus_lr_ratio), "
    "which trains faster at the same cost.",
    activation_share=0.9,
    lr=LORA_LR / 2, builtin_lr=1e-3, count=lora_count, reads=LORA_SETTINGS + ("loraplus_lr_ratio",),
    peft_config=lambda settings, steps: lora_config(settings), optimizer=optimizer, check=check_targets, order=2)
