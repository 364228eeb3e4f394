"""Made-up words: the raw material of the built-in tasks, so none can be solved by memorised English."""

from __future__ import annotations

import random

_CONSONANTS = "bcdfghjklmnprstvwz"
_VOWELS = "aeiou"


def pseudo_word(rng: random.Random, min_len: int = 3, max_len: int = 7) -> str:
    """A pronounceable made-up word, so no task can be solved by memorised English."""
    n = rng.randint(min_len, max_len)
    letters = []
    for i in range(n):
        pool = _CONSONANTS if (i % 2 == 0) != (rng.random() < 0.25) else _VOWELS
        letters.append(rng.choice(pool))
    return "".join(letters)
