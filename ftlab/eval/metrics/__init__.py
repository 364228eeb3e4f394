"""The metric registry: one file per metric in this package.

A metric says what it needs (generated ``predictions`` and ``references``,
class ``labels``, model ``scores``...), whether higher is better, and how to
compute it: a corpus figure, and where the metric has one, a per-example
score (for paired comparisons and for finding the worst examples).  The
implementations use the libraries made for them (sacrebleu, rouge-score,
scikit-learn), not hand-written versions.

This module imports nothing from ftlab but the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ftlab.errors import FtlabError
from ftlab.eval import bootstrap
from ftlab.registry import Registry

KINDS = ("generation", "classification", "uncertainty", "cost")


@dataclass(frozen=True)
class Metric:
    name: str
    summary: str
    compute: Callable[..., float]  # keyword arguments named in ``needs`` -> one corpus figure
    needs: tuple[str, ...] = ("predictions", "references")
    per_example: Callable[[str, str], float] | None = None  # (prediction, reference) -> score
    # A corpus figure that is not a mean (BLEU, chrF): per-example sufficient statistics from the ``needs``
    # inputs, and the figure from their column sums -- what lets the bootstrap resample without re-scoring.
    statistics: Callable[..., Any] | None = None
    from_statistics: Callable[[Any], float] | None = None
    # The same figure as ``compute`` without its library's per-call input checks, for bootstrap resamples;
    # None where it defers to ``compute``.  Used only once it matches ``compute`` on the full data.
    resample: Callable[..., float | None] | None = None
    higher_is_better: bool = True
    kind: str = "generation"
    order: int = 0

    def on_resamples(self, inputs: dict, per_example: list[float] | None = None) -> Callable[[list[int]], float]:
        """This metric on a bootstrap resample of the items, by the fastest path that gives its figure."""
        return bootstrap.statistic(self.compute, inputs, per_example, self.statistics, self.from_statistics,
                                   self.resample)


METRICS: Registry[Metric] = Registry("metric", __name__, sort_key=lambda m: (KINDS.index(m.kind), m.order, m.name))


def score(names: Sequence[str] | None = None, digits: int = 4, **inputs) -> dict[str, float]:
    """Every metric in ``names`` (default: every metric whose needs ``inputs`` meet), rounded."""
    chosen = [METRICS[n] for n in names] if names is not None else \
        [m for m in METRICS.values() if all(k in inputs for k in m.needs)]
    out = {}
    for metric in chosen:
        missing = [k for k in metric.needs if k not in inputs]
        if missing:
            raise FtlabError(f"metric {metric.name!r} needs {', '.join(missing)}, which this evaluation does not "
                             "produce.")
        out[metric.name] = round(float(metric.compute(**{k: inputs[k] for k in metric.needs})), digits)
    return out
