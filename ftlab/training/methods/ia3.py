"""IA3 (Liu et al. 2022, arXiv:2205.05638): learn one scaling vector each for keys, values and the MLP.

The fewest parameters of the adapter methods.  The T-Few recipe trained them
at 3e-3 (section 3.3).  Left to PEFT's per-architecture defaults (keys,
values and the MLP's down projection on Llama).
"""

from __future__ import annotations

from typing import Any

from ftlab.training.methods import Method


def peft_config(settings: Any, total_steps: int):
    from peft import IA3Config

    return IA3Config(task_type="CAUSAL_LM")


def count(shape: Any, settings: Any) -> int:
    """One vector per targeted layer: its output width, or its input width for a feed-forward layer.

    The targets are PEFT's defaults for the architecture; by name only, Llama's
    (keys, values and the down projection).
    """
    if shape.info is None:
        return shape.layers * (2 * shape.kv_dim + shape.intermediate_size)
    from peft.utils.constants import (TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING as FEEDFORWARD,
                                      TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING as TARGETS)

    targets, feedforward = TARGETS[shape.info.model_type], FEEDFORWARD[shape.info.model_type]

    def matches(name: str, wanted: list[str]) -> bool:
        return any(name == w or name.endswith("." + w) or w.endswith("." + name) for w in wanted)

    return sum(g.count * (g.in_features if matches(g.name, feedforward) else g.out_features)
               for g in shape.info.linears if matches(g.name, targets))


ENTRY = Method(
    "ia3", "scaling", "Learn one scaling vector each for keys, values and the MLP: the fewest parameters of the "
    "adapter methods.",
    activation_share=0.8,
    lr=3e-3, builtin_lr=3e-2, count=count, peft_config=peft_config)
