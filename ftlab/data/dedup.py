"""Exact and near-duplicate detection: MinHash signatures over character shingles, LSH to find candidates.

Character 5-grams of the lower-cased, whitespace-collapsed text suit short
rows (a Q/A pair of ten words has too few word n-grams to compare).
Signatures use datasketch's seeded permutations and SHA-1 hashing, so the
same rows give the same duplicates in every run: a prerequisite for
reproducible data versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPACE = re.compile(r"\s+")


def canonical(text: str) -> str:
    return _SPACE.sub(" ", text.lower()).strip()


def shingles(text: str, n: int = 5) -> set[bytes]:
    text = canonical(text)
    if len(text) <= n:
        return {text.encode()}
    return {text[i:i + n].encode() for i in range(len(text) - n + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


@dataclass
class NearDuplicateIndex:
    """An LSH index of texts; ``match`` returns the most similar indexed text above the threshold."""

    threshold: float = 0.8
    num_perm: int = 128
    shingle: int = 5
    seed: int = 1

    def __post_init__(self):
        from datasketch import MinHashLSH

        # LSH finds candidates at a lower similarity than asked (fewer misses near the
        # threshold); the exact Jaccard check in _best then decides.
        self._lsh = MinHashLSH(threshold=max(0.05, self.threshold - 0.15), num_perm=self.num_perm)
        self._shingles: dict[int, set[bytes]] = {}
        self._perm = None

    def signature(self, grams: set[bytes]):
        from datasketch import MinHash

        if self._perm is None:
            first = MinHash(num_perm=self.num_perm, seed=self.seed, scheme="affine32")
            self._perm = first.permutations
        sig = MinHash(num_perm=self.num_perm, seed=self.seed, permutations=self._perm, scheme="affine32")
        sig.update_batch(list(grams))
        return sig

    def match(self, text: str) -> tuple[int, float] | None:
        """(key, Jaccard similarity) of the closest indexed text at or above the threshold, else None."""
        grams = shingles(text, self.shingle)
        return self._best(grams, self.signature(grams))

    def add(self, key: int, text: str) -> None:
        grams = shingles(text, self.shingle)
        self._insert(key, grams, self.signature(grams))

    def match_or_add(self, key: int, text: str) -> tuple[int, float] | None:
        """Match against what is indexed; index the text only when it is new (keeps the first of a cluster)."""
        grams = shingles(text, self.shingle)
        sig = self.signature(grams)
        best = self._best(grams, sig)
        if best is None:
            self._insert(key, grams, sig)
        return best

    def _insert(self, key: int, grams: set[bytes], sig) -> None:
        self._shingles[key] = grams
        self._lsh.insert(key, sig)

    def _best(self, grams: set[bytes], sig) -> tuple[int, float] | None:
        """LSH candidates confirmed by the exact Jaccard of the shingle sets: a false positive never drops a row."""
        best = None
        for other in self._lsh.query(sig):
            score = jaccard(grams, self._shingles[other])
            if score >= self.threshold and (best is None or (score, -other) > (best[1], -best[0])):
                best = (other, score)
        return best
