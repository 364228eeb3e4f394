"""Freeze tuning: only the last N transformer blocks (or named modules) train.

Learning rate: between full tuning's and LoRA's; LLaMA-Factory's freeze
examples use 1e-4 (examples/train_full vs. the freeze recipes in its README,
"Freeze-tuning"), as the earlier layers that would suffer from a large step
do not move.  Measured on the built-in model: 1e-3.
"""

from __future__ import annotations

from typing import Any

from ftlab.errors import ConfigError
from ftlab.training.methods import Method
from ftlab.training.methods._selection import layer_index


def select(model: Any, settings: Any) -> list[str]:
    """The last ``freeze_layers`` transformer blocks, or the modules named in ``trainable_modules``."""
    names = [n for n, _ in model.named_parameters()]
    if settings.trainable_modules:
        chosen = [n for n in names if any(part in n.split(".") or n.startswith(part)
                                          for part in settings.trainable_modules)]
        if not chosen:
            blocks = sorted({".".join(n.split(".")[:-1]) for n in names})
            raise ConfigError("method.trainable_modules", f"none of {', '.join(settings.trainable_modules)} "
                              f"matches a module of the model; its modules include {', '.join(blocks[:8])} ...")
        return chosen
    layers = sorted({i for n in names if (i := layer_index(n)) is not None})
    if not layers:
        raise ConfigError("method.freeze_layers", "the model has no numbered transformer layers; name the modules "
                          "to train in method.trainable_modules instead.")
    if not 0 < settings.freeze_layers <= len(layers):
        raise ConfigError("method.freeze_layers", f"must be between 1 and the model's {len(layers)} layers, "
                          f"got {settings.freeze_layers}.")
    keep = set(layers[-settings.freeze_layers:])
    return [n for n in names if layer_index(n) in keep]


def count(shape: Any, settings: Any) -> int:
    return int(shape.params_per_layer * min(settings.freeze_layers, shape.layers))


ENTRY = Method(
    "freeze", "selective", "Train only the last N transformer layers (or named modules); the rest stay frozen. "
    "Cheap, and keeps early-layer knowledge intact.",
    lr=1e-4, builtin_lr=1e-3, count=count, reads=("freeze_layers", "trainable_modules"), new_parameters=False,
    activations="top_layers", select=select, order=1)
