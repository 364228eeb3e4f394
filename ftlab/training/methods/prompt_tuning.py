"""Prompt tuning (Lester et al. 2021, arXiv:2104.08691): N learned token embeddings before every input.

The model is untouched.  Only a few thousand parameters train, so they take
large steps: the paper used 0.3 with Adafactor (section 3); with AdamW, 3e-2.
"""

from __future__ import annotations

from typing import Any

from ftlab.training.methods import Method
from ftlab.training.methods._prompt import PROMPT_SETTINGS, virtual_tokens


def peft_config(settings: Any, total_steps: int):
    from peft import PromptTuningConfig

    return PromptTuningConfig(num_virtual_tokens=settings.num_virtual_tokens, task_type="CAUSAL_LM")


ENTRY = Method(
    "prompt_tuning", "prompt", "Learn N virtual token embeddings put before every input; the model is untouched.",
    activation_share=0.54,
    lr=3e-2, builtin_lr=3e-2, count=lambda shape, settings: settings.num_virtual_tokens * shape.hidden_size,
    reads=PROMPT_SETTINGS, extra_tokens=virtual_tokens, peft_config=peft_config)
