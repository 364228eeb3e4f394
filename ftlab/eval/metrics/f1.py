"""Token F1 as SQuAD scores it, with Chinese read character by character as CMRC and DuReader do.

Partial credit for answers that share words with the reference, in any
order: the harmonic mean of the shares of predicted and reference tokens
that match.  Both texts are normalised the SQuAD v1.1 way first: lower-case,
punctuation and the English articles a/an/the removed, then split on
whitespace.  Punctuation here is every Unicode punctuation character as well
as SQuAD's ASCII list, so Chinese ``，。？`` go too.

Chinese has no spaces between words, so a whitespace split would make a
Chinese sentence one token and score any paraphrase 0.  The Chinese reading
comprehension evaluations (CMRC 2018's ``mixed_segmentation``, DuReader)
therefore make each Chinese character a token and keep runs of other
characters (English words, numbers) whole; a word segmenter such as jieba
would make the score depend on its dictionary.  Text without CJK characters
tokenizes exactly as in SQuAD.

No library among ftlab's dependencies computes this (SQuAD's is a script,
``evaluate``'s copy would pull in a second metric framework), so it is the
few lines of the official evaluation script.  The corpus figure is the mean
over examples, as SQuAD reports it.
"""

import re
import string
import unicodedata
from collections import Counter

from ftlab.eval.metrics import Metric
from ftlab.eval.metrics._text import CJK

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_TOKEN = re.compile(f"[{CJK}]|[^\\s{CJK}]+")  # one CJK character, or a run of anything else but whitespace


def _is_punctuation(char: str) -> bool:
    return char in string.punctuation or unicodedata.category(char).startswith("P")


def tokens(text: str) -> list[str]:
    """SQuAD's normalisation, then single CJK characters and whitespace-separated words."""
    text = "".join(c for c in text.lower() if not _is_punctuation(c))
    return _TOKEN.findall(_ARTICLES.sub(" ", text))


def per_example(prediction: str, reference: str) -> float:
    predicted, expected = tokens(prediction), tokens(reference)
    if not predicted or not expected:  # SQuAD v2: an empty answer is right only against an empty reference
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def compute(predictions: list[str], references: list[str]) -> float:
    if not references:
        return 0.0
    return sum(per_example(p, r) for p, r in zip(predictions, references)) / len(references)


ENTRY = Metric("f1", "Token F1 as in SQuAD (Chinese by character), mean over examples, 0-1.", compute,
               per_example=per_example, order=2)
