"""DoRA (Liu et al. 2024, arXiv:2402.09353): learn each weight's magnitude apart from its direction (LoRA'd).

A drop-in for LoRA at LoRA's rate; one magnitude vector per adapted layer on
top of the LoRA factors, and a little slower per step.  It keeps more
activations than full tuning (PEFT saves the base output, the adapter output
and the weight norm's terms for the magnitude's gradient): 2.0-4.1x full
tuning's saved tensors on five architectures, but not all alive at the peak;
a share of 1.9 puts the estimated peak within about 15% of the measured one.
"""

from __future__ import annotations

from typing import Any

from ftlab.training.methods import Method
from ftlab.training.methods._lora import LORA_SETTINGS, check_targets, lora_config, lora_count, target_modules
from ftlab.training.methods.lora import LORA_BUILTIN_LR, LORA_LR


def count(shape: Any, settings: Any) -> int:
    magnitudes = sum(n * out for n, _, out in shape.linear_layers(target_modules(settings)))
    return lora_count(shape, settings) + magnitudes


ENTRY = Method(
    "dora", "low-rank", "Weight-decomposed LoRA: learn each weight's magnitude apart from its direction; closer "
    "to full tuning, a bit slower.",
    activation_share=1.9,
    lr=LORA_LR, builtin_lr=LORA_BUILTIN_LR, count=count, reads=LORA_SETTINGS,
    peft_config=lambda settings, steps: lora_config(settings, use_dora=True), check=check_targets, order=4)
