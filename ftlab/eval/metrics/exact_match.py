"""Exact match: the share of answers equal to the reference (after whitespace normalisation).

A task's pass/fail figure: one wrong character fails the answer.
"""

from ftlab.eval.metrics import Metric
from ftlab.eval.metrics._text import normalise


def per_example(prediction: str, reference: str) -> float:
    return float(normalise(prediction) == normalise(reference))


def compute(predictions: list[str], references: list[str]) -> float:
    if not references:
        return 0.0
    return sum(per_example(p, r) for p, r in zip(predictions, references)) / len(references)


ENTRY = Metric("exact_match", "Share of answers identical to the reference.", compute, per_example=per_example)
