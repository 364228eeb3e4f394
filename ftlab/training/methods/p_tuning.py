"""P-tuning (Liu et al. 2021, arXiv:2103.10385): virtual tokens produced by a small trained encoder (an MLP).

The encoder makes the virtual tokens depend on each other, which trains more
stably than learning them one by one; at prefix tuning's rate.
"""

from __future__ import annotations

from typing import Any

from ftlab.training.methods import Method
from ftlab.training.methods._prompt import PROMPT_SETTINGS, virtual_tokens


def peft_config(settings: Any, total_steps: int):
    from peft import PromptEncoderConfig

    return PromptEncoderConfig(num_virtual_tokens=settings.num_virtual_tokens,
                               encoder_hidden_size=settings.encoder_hidden_size, task_type="CAUSAL_LM")


def count(shape: Any, settings: Any) -> int:
    """The virtual token table plus PEFT's three-layer MLP encoder (with biases)."""
    h, e = shape.hidden_size, settings.encoder_hidden_size
    return settings.num_virtual_tokens * h + (h * e + e) + (e * e + e) + (e * h + h)


ENTRY = Method(
    "p_tuning", "prompt", "Virtual tokens produced by a small trained encoder (an MLP) rather than learned "
    "directly.",
    activation_share=0.54,
    lr=1e-2, builtin_lr=1e-2, count=count, reads=PROMPT_SETTINGS + ("encoder_hidden_size",),
    extra_tokens=virtual_tokens, peft_config=peft_config, order=2)
