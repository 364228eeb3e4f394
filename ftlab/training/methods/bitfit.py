"""BitFit: train only the bias terms (Ben Zaken et al. 2022, arXiv:2106.10199).

Bias-free architectures (Llama, Qwen, Mistral) have no biases, so the
normalisation scales play that role.  Learning rate: the paper swept 1e-4 to
1e-3 on BERT (section 3); a few thousand parameters tolerate the top of that
range.  Measured on the built-in model: 3e-2.
"""

from __future__ import annotations

from typing import Any

from ftlab.training.methods import Method


def select(model: Any, settings: Any) -> list[str]:
    names = [n for n, _ in model.named_parameters()]
    biases = [n for n in names if n.endswith(".bias")]
    if biases:
        return biases
    return [n for n, p in model.named_parameters() if p.dim() == 1 and "norm" in n.lower()]


def count(shape: Any, settings: Any) -> int:
    return shape.bias_params or shape.norm_params


ENTRY = Method(
    "bitfit", "selective", "Train only the bias vectors (normalisation scales on bias-free models): a tiny number "
    "of parameters, no new ones.",
    activation_share=0.62,
    lr=1e-3, builtin_lr=3e-2, count=count, new_parameters=False, select=select, order=2)
