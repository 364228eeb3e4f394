"""chrF (Popović 2015): character n-gram F-score, from sacrebleu, on a 0-1 scale.

Partial credit: a model that gets most characters right scores above one
that gets none, so a curve moves before exact match does.  Characters need
no word segmentation, so it reads Chinese as well as English.
"""

from ftlab.eval.metrics import Metric
from ftlab.eval.metrics._text import normalise


def compute(predictions: list[str], references: list[str]) -> float:
    from sacrebleu.metrics import CHRF

    if not references:
        return 0.0
    return CHRF().corpus_score([normalise(p) for p in predictions], [[normalise(r) for r in references]]).score / 100


def statistics(predictions: list[str], references: list[str]) -> list[list[int]]:
    """Per answer: character and word n-gram match counts, which sum over a corpus (sacrebleu's own)."""
    from sacrebleu.metrics import CHRF

    return CHRF()._extract_corpus_statistics([normalise(p) for p in predictions],
                                             [[normalise(r) for r in references]])


def from_statistics(summed) -> float:
    from sacrebleu.metrics import CHRF

    return CHRF()._compute_score_from_stats(list(summed)).score / 100


def per_example(prediction: str, reference: str) -> float:
    from sacrebleu.metrics import CHRF

    return CHRF().sentence_score(normalise(prediction), [normalise(reference)]).score / 100


ENTRY = Metric("chrf", "Character n-gram F-score (partial credit), 0-1.", compute, per_example=per_example,
               statistics=statistics, from_statistics=from_statistics, order=1)
