"""Metrics over (prediction, reference) strings.

Exact match is the task's pass/fail; chrF (character n-gram F-score, from
sacrebleu) gives partial credit, so a model that gets most letters right
scores above one that gets none, and a curve can move before exact match does.
"""

from __future__ import annotations


def normalise(text: str) -> str:
    return " ".join(text.strip().split())


def exact_match(predictions: list[str], references: list[str]) -> float:
    if not references:
        return 0.0
    return sum(normalise(p) == normalise(r) for p, r in zip(predictions, references)) / len(references)


def chrf(predictions: list[str], references: list[str]) -> float:
    """Corpus chrF on a 0-1 scale."""
    from sacrebleu.metrics import CHRF

    if not references:
        return 0.0
    return CHRF().corpus_score([normalise(p) for p in predictions], [[normalise(r) for r in references]]).score / 100


METRICS = {"exact_match": exact_match, "chrf": chrf}


def score(predictions: list[str], references: list[str]) -> dict[str, float]:
    return {name: round(fn(predictions, references), 4) for name, fn in METRICS.items()}
