"""Near-duplicate detection: MinHash signatures over character shingles, LSH bands to find candidates.

Shingles are short runs of text, not words: a Q/A pair of ten words has too
few word n-grams to compare, and Chinese has no spaces to find words by.

- Outside Chinese, Japanese and Korean (CJK) characters: windows of 5 bytes
  of the UTF-8, about a word of English.  Text without CJK characters gets
  exactly the shingles, similarities and so near-duplicates it always had.
- CJK characters: each character (code point), and each pair of neighbouring
  characters of which one at least is CJK.  Five bytes span less than two
  Chinese characters, and five characters two or three words (a Chinese word
  is one or two characters): one changed character in a 20-character row
  would break a quarter of its shingles and leave it near similarity 0.5.
  With single characters and pairs one changed character in 20, or two in
  40, stays above 0.8, while different rows about the same things (退款,
  发票, 快递...) stay far below: at most 0.24 over the 15,576 pairs of rows in
  tests/data/pii_mixed.jsonl.  Pairs across the edge of a CJK run keep
  numbers and short words beside Chinese in view (3到5 is not 3到7).

Each piece of text is shingled by its own script, so a mixed row has no
single size to choose and no threshold to flip over when one character is
added.  Every shingle is packed exactly into one uint64, not hashed: a
window of bytes into the low 40 bits, a character into 21 bits and a pair
into 42 (offset by one so that no pair equals a character), the two CJK kinds
tagged by the top bit.  Distinct shingles never collide, so the shingle sets
give the exact Jaccard similarity that confirms every LSH candidate.
Signatures use seeded multiply-shift hash functions, so the same rows give the
same duplicates in every run, which reproducible data versions need.
Everything per row is a handful of numpy operations: 100k rows take seconds,
where hashing shingles one by one in Python (as datasketch does) took minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

_SPACE = re.compile(r"\s+")
_MIX = np.uint64(0x9E3779B97F4A7C15)
_CJK_TAG = np.uint64(1 << 63)
# [start, end) code point ranges of scripts written without spaces between words: CJK radicals, punctuation, kana
# and ideographs; Hangul syllables; compatibility ideographs; full-width forms; the supplementary ideographs.
_CJK_RANGES = np.array([0x2E80, 0xA000, 0xAC00, 0xD7B0, 0xF900, 0xFB00, 0xFF00, 0xFFF0, 0x20000, 0x32000],
                       dtype=np.uint64)


def canonical(text: str) -> str:
    return _SPACE.sub(" ", text.lower()).strip()


def _windows(data: np.ndarray, n: int) -> np.ndarray:
    """Every run of ``n`` bytes packed into one integer (short text padded with zero bytes)."""
    if len(data) < n:
        data = np.concatenate([data, np.zeros(n - len(data), dtype=np.uint64)])
    width = len(data) - n + 1
    packed = np.zeros(width, dtype=np.uint64)
    for k in range(n):
        packed |= data[k:k + width] << np.uint64(8 * k)
    return packed


def shingles(text: str, n: int = 5) -> np.ndarray:
    """The sorted, unique shingles of the canonical text, each packed into one uint64 (n <= 7).

    Windows of ``n`` bytes outside CJK characters; each CJK character, and
    each pair of neighbours with a CJK character in it.
    """
    text = canonical(text)
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.uint64)
    if text.isascii():
        return np.unique(_windows(data, n))
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    cjk = np.searchsorted(_CJK_RANGES, points, side="right") % 2 == 1
    if not cjk.any():
        return np.unique(_windows(data, n))
    near = cjk[:-1] | cjk[1:]
    pairs = (points[:-1][near] + np.uint64(1)) << np.uint64(21) | points[1:][near]
    parts = [points[cjk] | _CJK_TAG, pairs | _CJK_TAG]
    if len(data) >= n:  # the byte windows that touch no CJK character
        in_cjk = np.repeat(cjk, 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000))
        seen = np.concatenate([[0], np.cumsum(in_cjk)])
        parts.append(_windows(data, n)[seen[n:] == seen[:-n]])
    return np.unique(np.concatenate(parts))


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
