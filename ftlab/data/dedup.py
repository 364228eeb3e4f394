"""Near-duplicate detection: MinHash signatures over character shingles, LSH bands to find candidates.

Character 5-grams of the lower-cased, whitespace-collapsed text suit short
rows (a Q/A pair of ten words has too few word n-grams to compare).  Each
5-byte shingle is packed exactly into an integer, so shingle sets (and the
Jaccard check that confirms every LSH candidate) are exact; signatures use
seeded multiply-shift hash functions, so the same rows give the same duplicates in every
run, which reproducible data versions need.  Everything per row is a handful
of numpy operations: 100k rows take seconds, where hashing shingles one by
one in Python (as datasketch does) took minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

_SPACE = re.compile(r"\s+")
_MIX = np.uint64(0x9E3779B97F4A7C15)


def canonical(text: str) -> str:
    return _SPACE.sub(" ", text.lower()).strip()


def shingles(text: str, n: int = 5) -> np.ndarray:
    """The sorted, unique n-byte shingles of the canonical text, each packed into one uint64 (n <= 8)."""
    data = np.frombuffer(canonical(text).encode("utf-8"), dtype=np.uint8).astype(np.uint64)
    if len(data) < n:
        data = np.concatenate([data, np.zeros(n - len(data), dtype=np.uint64)])
    width = len(data) - n + 1
    packed = np.zeros(width, dtype=np.uint64)
    for k in range(n):
        packed |= data[k:k + width] << np.uint64(8 * k)
    return np.unique(packed)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return inter / union if union else 1.0


def lsh_shape(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) whose S-curve rises a little below ``threshold``.

    Candidates are found at (1/bands)^(1/rows) similarity and above; aiming a
    little below the threshold misses few true pairs, and the exact check drops the rest.
    """
    target = max(0.05, threshold - 0.05)
    rows = min(range(1, num_perm + 1), key=lambda r: abs((1 / (num_perm // r)) ** (1 / r) - target))
    return num_perm // rows, rows


@dataclass
class NearDuplicateIndex:
    """Texts indexed for "is there an earlier text at least ``threshold`` similar to this one?"."""

    threshold: float = 0.8
    num_perm: int = 128
    shingle: int = 5
    seed: int = 1
    _buckets: list[dict] = field(init=False, repr=False)
    _shingles: dict = field(init=False, repr=False)

    def __post_init__(self):
        rng = np.random.default_rng(self.seed)
        self._a = rng.integers(0, 1 << 63, size=self.num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self._b = rng.integers(0, 1 << 63, size=self.num_perm, dtype=np.uint64)
        self.bands, self.rows = lsh_shape(self.threshold, self.num_perm)
        self._buckets = [{} for _ in range(self.bands)]
        self._shingles = {}
        self._sigs = np.zeros((1024, self.num_perm), dtype=np.uint64)
        self._row: dict[int, int] = {}  # key -> row in _sigs

    def signature(self, grams: np.ndarray) -> np.ndarray:
        """Per permutation, the least hash of any shingle: multiply-shift hashing, wrapping in 64 bits."""
        return ((np.outer(grams * _MIX, self._a) + self._b) >> np.uint64(32)).min(axis=0)

    def _keys(self, sig: np.ndarray) -> list[bytes]:
        return [sig[i * self.rows:(i + 1) * self.rows].tobytes() for i in range(self.bands)]

    def _best(self, grams: np.ndarray, sig: np.ndarray, keys: list[bytes]) -> tuple[int, float] | None:
        """The most similar indexed text among the LSH candidates, confirmed by exact Jaccard.

        Candidates whose signatures agree on clearly fewer positions than the
        threshold asks are skipped first, in one vectorised comparison.
        """
        candidates = set()
        for bucket, key in zip(self._buckets, keys):
            candidates.update(bucket.get(key, ()))
        if not candidates:
            return None
        ids = np.array(sorted(candidates))
        agree = (self._sigs[[self._row[i] for i in ids]] == sig).mean(axis=1)
        best = None
        for other in ids[agree >= self.threshold - 0.15].tolist():
            score = jaccard(grams, self._shingles[other])
            if score >= self.threshold and (best is None or score > best[1]):
                best = (other, score)
        return best

    def _insert(self, key: int, grams: np.ndarray, sig: np.ndarray, keys: list[bytes]) -> None:
        self._shingles[key] = grams
        n = len(self._row)
        if n == len(self._sigs):
            self._sigs = np.concatenate([self._sigs, np.zeros_like(self._sigs)])
        self._sigs[n] = sig
        self._row[key] = n
        for bucket, band in zip(self._buckets, keys):
            bucket.setdefault(band, []).append(key)

    def match(self, text: str) -> tuple[int, float] | None:
        """(key, Jaccard similarity) of the closest indexed text at or above the threshold, else None."""
        grams = shingles(text, self.shingle)
        sig = self.signature(grams)
        return self._best(grams, sig, self._keys(sig))

    def add(self, key: int, text: str) -> None:
        grams = shingles(text, self.shingle)
        sig = self.signature(grams)
        self._insert(key, grams, sig, self._keys(sig))

    def match_or_add(self, key: int, text: str) -> tuple[int, float] | None:
        """Match against what is indexed; index the text only when it is new (keeps the first of a cluster)."""
        grams = shingles(text, self.shingle)
        sig = self.signature(grams)
        keys = self._keys(sig)
        best = self._best(grams, sig, keys)
        if best is None:
            self._insert(key, grams, sig, keys)
        return best
