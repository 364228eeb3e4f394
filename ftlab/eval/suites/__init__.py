"""The evaluation-suite registry: one file per suite in this package.

A suite is a fixed set of probes that asks a different question from the
test split: did the model keep the skills it had (``general_skills``), does
it refuse what it should and answer what it should (``safety``).  Each item
gets a 0/1 score under a named group; the suite's figures are the groups'
rates with Wilson intervals, and comparing two models on a suite pairs the
items (:mod:`ftlab.eval.paired`).  Suites are run by ``ftlab eval`` and by
``ftlab train`` when ``eval.suites`` names them.

This module imports nothing from ftlab but the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ftlab.registry import Registry


@dataclass
class SuiteResult:
    items: list[dict]  # {"group", "prompt", "answer", "score", ...} one per probe
    figures: dict[str, float] = field(default_factory=dict)  # group -> rate
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"figures": self.figures, "intervals": {k: list(v) for k, v in self.intervals.items()},
                "n": {g: sum(i["group"] == g for i in self.items) for g in self.figures}}


@dataclass(frozen=True)
class Suite:
    name: str
    summary: str
    run: Callable[[Any, Any, int], list[dict]]  # (model, tokenizer, batch_size) -> scored items
    higher_is_better: dict[str, bool] = field(default_factory=dict)  # group -> direction (default: higher)


SUITES: Registry[Suite] = Registry("evaluation suite", __name__, sort_key=lambda s: s.name)


def summarise(items: list[dict]) -> SuiteResult:
    from ftlab.eval.bootstrap import wilson

    result = SuiteResult(items)
    for group in dict.fromkeys(i["group"] for i in items):
        scores = [i["score"] for i in items if i["group"] == group]
        result.figures[group] = round(sum(scores) / len(scores), 4)
        result.intervals[group] = tuple(round(x, 4) for x in wilson(int(sum(scores)), len(scores)))
    return result
