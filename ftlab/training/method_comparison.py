"""Every method on one task, the same way: the table notebook 06 shows and ``benchmarks`` can rerun.

Each method trains the same data with the same steps and seed at its own
starting rate (measured on the built-in model, published for others, from
the method registry), then is scored on the same held-out split; the row
holds what a person choosing between methods needs: trainable parameters,
memory held in tensors, seconds per step, first and final loss, metrics.
"""

from __future__ import annotations

import copy
from typing import Iterable

from ftlab.config import Config
from ftlab.data.sources import load_data
from ftlab.eval.evaluation import evaluate_split
from ftlab.models.tiny import BUILTIN_MODEL
from ftlab.training.methods import METHODS
from ftlab.training.runner import train


def starting_rate(config: Config) -> float:
    method = METHODS[config.method.name]
    return method.builtin_lr if config.model.name == BUILTIN_MODEL else method.lr


def compare_methods(base: Config, methods: Iterable[str] | None = None, on_row=None) -> list[dict]:
    """Train ``base`` once per method (run names = method names) and return one row per method."""
    data = load_data(base.data)
    rows = []
    for name in methods or METHODS.names():
        config = copy.deepcopy(base)
        config.method.name = name
        config.train.learning_rate = starting_rate(config)
        config.train.run_name = name
        result = train(config)
        scores = evaluate_split(result.model, result.tokenizer, config, data).metrics
        r = result.results
        rows.append({"method": name, "family": METHODS[name].family, "learning rate": config.train.learning_rate,
                     "trainable": r["trainable_params"], "trainable %": 100 * r["trainable_params"] / r["total_params"],
                     "weights MB": r["weights_mb"], "gradients MB": r["gradients_mb"],
                     "optimizer MB": r["optimizer_mb"], "state MB": r["state_mb"], "s/step": r["seconds_per_step"],
                     "first loss": r["first_loss"], "final loss": r["final_loss"], **scores})
        if on_row is not None:
            on_row(rows[-1])
    return rows
