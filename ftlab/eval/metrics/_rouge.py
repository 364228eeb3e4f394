"""ROUGE-1, ROUGE-2 and ROUGE-L from rouge-score, with a tokenizer that keeps Chinese.

rouge-score's default tokenizer lower-cases, turns every character outside
``a-z0-9`` into a space and splits: English works, but Chinese (and any
other non-ASCII text) disappears, so a Chinese answer scores 0 against
anything.  ``RougeScorer(tokenizer=...)`` takes any object with a
``tokenize(text) -> list[str]`` method; ours makes each CJK character a
token (the reading Chinese ROUGE evaluations use, with no segmenter whose
dictionary would move the score) and hands the text between CJK characters
to rouge-score's own tokenizer, so English scores exactly as by default.

Scores are F-measures; the corpus figure is their mean over examples, as
rouge-score's summarisation evaluations report it.
"""

import re

from ftlab.eval.metrics import Metric
from ftlab.eval.metrics._text import CJK

_CJK_OR_OTHER = re.compile(f"([{CJK}])|([^{CJK}]+)")


class CJKTokenizer:
    """rouge-score's default tokenization outside CJK characters; each CJK character a token."""

    def tokenize(self, text: str) -> list[str]:
        from rouge_score.tokenize import tokenize

        out = []
        for cjk, other in _CJK_OR_OTHER.findall(text):
            out.extend([cjk] if cjk else tokenize(other, None))
        return out


def rouge_metric(rouge_type: str, summary: str, order: int) -> Metric:
    """A registry entry for one rouge-score type (``rouge1``, ``rouge2``, ``rougeL``)."""

    def scorer():
        from rouge_score.rouge_scorer import RougeScorer

        return RougeScorer([rouge_type], tokenizer=CJKTokenizer())

    def per_example(prediction: str, reference: str) -> float:
        return scorer().score(reference, prediction)[rouge_type].fmeasure

    def compute(predictions: list[str], references: list[str]) -> float:
        if not references:
            return 0.0
        rouge = scorer()
        return sum(rouge.score(r, p)[rouge_type].fmeasure for p, r in zip(predictions, references)) / len(references)

    return Metric(rouge_type, summary, compute, per_example=per_example, order=order)
