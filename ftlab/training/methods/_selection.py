"""Helpers of the selective methods, which train a subset of the base weights and add none."""

from __future__ import annotations


def layer_index(name: str) -> int | None:
    """The transformer block a parameter belongs to (``model.layers.3.mlp...`` -> 3), if any."""
    parts = name.split(".")
    for before, part in zip(parts, parts[1:]):
        if before in ("layers", "h", "layer", "blocks") and part.isdigit():
            return int(part)
    return None
