"""BLEU (Papineni et al. 2002) from sacrebleu, on a 0-1 scale.

The n-gram overlap figure machine translation reports, computed over the
whole corpus (n-gram counts summed over examples, one brevity penalty), so
it is not the mean of per-example scores.  sacrebleu fixes the tokenization
so figures compare across papers: ``13a`` (the WMT standard) for English and
other spaced text, ``zh`` when the references hold Chinese characters -- it
splits every Chinese character off and runs 13a on the rest, which is how
WMT scores Chinese, since ``13a`` would keep a whole unspaced Chinese sentence
as one token.

The per-example score is sentence BLEU with ``effective_order`` (n-gram
orders the sentence is too short to have are left out, as sacrebleu
recommends): fine for ranking examples and paired comparisons, but its mean
is not corpus BLEU.
"""

from ftlab.eval.metrics import Metric
from ftlab.eval.metrics._text import has_cjk


def tokenizer_for(references: list[str]) -> str:
    return "zh" if any(has_cjk(r) for r in references) else "13a"


def compute(predictions: list[str], references: list[str]) -> float:
    from sacrebleu.metrics import BLEU

    if not references:
        return 0.0
    return BLEU(tokenize=tokenizer_for(references)).corpus_score(predictions, [references]).score / 100


def statistics(predictions: list[str], references: list[str]) -> list[list[int]]:
    """Per answer: lengths and n-gram match counts, which sum over a corpus (sacrebleu's own)."""
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize=tokenizer_for(references))._extract_corpus_statistics(predictions, [references])


def from_statistics(summed) -> float:
    from sacrebleu.metrics import BLEU

    return BLEU()._compute_score_from_stats(list(summed)).score / 100


def per_example(prediction: str, reference: str) -> float:
    from sacrebleu.metrics import BLEU

    bleu = BLEU(tokenize=tokenizer_for([reference]), effective_order=True)
    return bleu.sentence_score(prediction, [reference]).score / 100


ENTRY = Metric("bleu", "Corpus BLEU (sacrebleu; 13a, or zh for Chinese references), 0-1.", compute,
               per_example=per_example, statistics=statistics, from_statistics=from_statistics, order=3)
