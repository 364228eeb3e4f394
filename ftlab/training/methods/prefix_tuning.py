"""Prefix tuning (Li and Liang 2021, arXiv:2101.00190): N learned keys and values for every layer's attention.

Trained directly (without the paper's reparameterising MLP), so, like prompt
tuning, at a large rate: 1e-2.
"""

from __future__ import annotations

from typing import Any

from ftlab.training.methods import Method
from ftlab.training.methods._prompt import PROMPT_SETTINGS, virtual_tokens


def peft_config(settings: Any, total_steps: int):
    from peft import PrefixTuningConfig

    return PrefixTuningConfig(num_virtual_tokens=settings.num_virtual_tokens, task_type="CAUSAL_LM")


def count(shape: Any, settings: Any) -> int:
    """A key and a value of the model's key/value width per virtual token and layer."""
    return settings.num_virtual_tokens * shape.layers * 2 * shape.kv_dim


ENTRY = Method(
    "prefix_tuning", "prompt", "Learn N virtual keys and values for every layer's attention.",
    activation_share=0.41,
    lr=1e-2, builtin_lr=1e-2, count=count, reads=PROMPT_SETTINGS, extra_tokens=virtual_tokens,
    peft_config=peft_config, order=1)
