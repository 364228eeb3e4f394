"""Confidence intervals by resampling the evaluated examples (the percentile bootstrap).

A figure from 200 test examples is an estimate; the interval says how far it
could move with another 200.  Examples are resampled with replacement and the
metric recomputed on each resample.  Where a metric's corpus figure is the
mean of its per-example scores (exact match, F1, ROUGE...) the per-example
scores are resampled directly, which is the same computation and hundreds of
times faster; that shortcut is verified on the full data before it is taken.
Paired intervals resample the same example indices for both systems, so the
difference's interval reflects only how the systems differ on the same items.
"""

from __future__ import annotations

import random
from typing import Any, Callable

RESAMPLES = 1000
LEVEL = 0.95


def _indices(n: int, resamples: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randrange(n) for _ in range(n)] for _ in range(resamples)]


def _percentiles(values: list[float], level: float = LEVEL) -> tuple[float, float]:
    values = sorted(v for v in values if v == v)  # NaN (an undefined resample) is left out
    if not values:
        return float("nan"), float("nan")
    lo = values[int((1 - level) / 2 * (len(values) - 1))]
    hi = values[int((1 + level) / 2 * (len(values) - 1))]
    return lo, hi


def _take(inputs: dict[str, Any], idx: list[int]) -> dict[str, Any]:
    return {k: ([v[i] for i in idx] if isinstance(v, list) and k != "label_set" else v) for k, v in inputs.items()}


def statistic(compute: Callable[..., float], inputs: dict[str, Any],
              per_example: list[float] | None = None) -> Callable[[list[int]], float]:
    """The metric on a resample of the examples: by per-example means where that equals the metric."""
    if per_example is not None and per_example and \
            abs(sum(per_example) / len(per_example) - compute(**inputs)) < 1e-9:
        return lambda idx: sum(per_example[i] for i in idx) / len(idx)

    def recompute(idx: list[int]) -> float:
        try:
            return float(compute(**_take(inputs, idx)))
        except ValueError:  # e.g. ROC-AUC on a resample holding one class only
            return float("nan")

    return recompute


def interval(stat: Callable[[list[int]], float], n: int, resamples: int = RESAMPLES, seed: int = 0,
             level: float = LEVEL) -> tuple[float, float]:
    if n == 0 or resamples == 0:
        return float("nan"), float("nan")
    return _percentiles([stat(idx) for idx in _indices(n, resamples, seed)], level)


def paired_interval(stat_a: Callable[[list[int]], float], stat_b: Callable[[list[int]], float], n: int,
                    resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL) -> tuple[float, float]:
    """Interval of ``a - b`` over the same resampled items."""
    if n == 0 or resamples == 0:
        return float("nan"), float("nan")
    return _percentiles([stat_a(idx) - stat_b(idx) for idx in _indices(n, resamples, seed)], level)


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a rate: unlike the normal approximation it stays inside [0, 1] at 0 or n."""
    if n == 0:
        return float("nan"), float("nan")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
