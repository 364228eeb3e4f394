"""Partial credit by position: the share of the reference's characters the answer has in the same place.

Between "all wrong" and "exactly right" there are many answers a few letters
off (the cipher's near misses); this reward tells them apart, so a group of
answers none of which is exactly right still has a better and a worse one to
learn from.  Extra characters count against it as missing ones do.
"""

from ftlab.training.rewards import Reward


def _letters(answer: str, reference: str) -> float:
    answer, reference = answer.strip(), reference.strip()
    same = sum(a == r for a, r in zip(answer, reference))
    return same / max(len(answer), len(reference), 1)


def score(answers, references):
    return [_letters(a, r) for a, r in zip(answers, references)]


ENTRY = Reward("letters", "The share of the reference's characters the answer has in the same place.", score)
