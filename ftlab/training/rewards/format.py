"""Partial credit for an answer of the right shape: one line, the reference's length, the reference's alphabet.

A format reward gives a signal before any answer is exactly right, which is
what a weak starting policy needs (all-zero groups teach GRPO nothing); it is
capped well below the correctness reward so that shape alone never pays as
much as being right.
"""

from ftlab.training.rewards import Reward


def _shape(answer: str, reference: str) -> float:
    answer, reference = answer.strip(), reference.strip()
    if not answer or "\n" in answer:
        return 0.0
    length = max(0.0, 1.0 - abs(len(answer) - len(reference)) / max(len(reference), 1))
    alphabet = sum(c.isalpha() == r.isalpha() and c.isupper() == r.isupper()
                   for c, r in zip(answer, reference)) / max(len(reference), 1)
    return 0.25 * length + 0.25 * alphabet


def score(answers, references):
    return [_shape(a, r) for a, r in zip(answers, references)]


ENTRY = Reward("format", "Up to 0.5 for a one-line answer with the reference's length and kind of characters.",
               score, high=0.5)
