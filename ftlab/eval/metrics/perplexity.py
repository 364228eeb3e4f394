"""Perplexity of the reference answers: exp of the mean negative log-likelihood per answer token.

How surprised the model is by the right answer, whatever it would have
generated: it falls as a model learns a task, before its answers become
exactly right, and it rises on skills a fine-tune made it forget.  The
log-likelihoods come from teacher forcing (:mod:`ftlab.models.likelihood`).
"""

import math

from ftlab.eval.metrics import Metric


def compute(logprob_sums: list[float], token_counts: list[int]) -> float:
    tokens = sum(token_counts)
    return math.exp(-sum(logprob_sums) / tokens) if tokens else float("nan")


ENTRY = Metric("perplexity", "Perplexity of the reference answers (lower is better).", compute,
               needs=("logprob_sums", "token_counts"), higher_is_better=False, order=20)
