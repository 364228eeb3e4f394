"""Rank-stabilised LoRA (Kalajdzievski 2023, arXiv:2312.03732): scale the update by alpha/sqrt(r), not alpha/r.

With alpha/r, a larger rank shrinks the update and high ranks stop learning;
alpha/sqrt(r) keeps them learning.  At the default r=16, alpha=32 the update is
scaled by 8 instead of 2, so the same learning rate takes steps four times as
large: on the built-in model LoRA's 3e-3 stalls on the plateau (exact match
0.00 after 400 steps), 1e-3 reaches 0.24, 7.5e-4 0.74 and 5e-4 0.89
(benchmarks/method_learning_rates.py).
"""

from ftlab.training.methods import Method
from ftlab.training.methods._lora import LORA_SETTINGS, check_targets, lora_config, lora_count
from ftlab.training.methods.lora import LORA_LR

ENTRY = Method(
    "rslora", "low-rank", "Rank-stabilised LoRA: scale by alpha/sqrt(r), so large ranks keep learning.",
    activation_share=0.9,
    lr=LORA_LR, builtin_lr=5e-4, count=lora_count, reads=LORA_SETTINGS,
    peft_config=lambda settings, steps: lora_config(settings, use_rslora=True), check=check_targets, order=3)
