"""People's ratings of two systems' answers, saved as they are made, and what they add up to.

Each rating is one line of ``<run_dir>/ratings.jsonl``::

    {"item": "q1", "system_a": "base", "system_b": "tuned", "left": "b", "choice": "a",
     "score_a": 4, "score_b": null, "time": 1767225600.0}

``choice`` is in system terms (``"a"``, ``"b"`` or ``"tie"``) whatever side
each answer was shown on; ``left`` says which system's answer was shown on
the left, so position effects can be checked later.  Scores are optional
whole numbers 1-5.  A line is appended the moment a choice is made: a
session that dies loses at most the rating being written, and reading skips
that torn line.  When an item was rated more than once, the latest rating
counts.

Rates come with 95% Wilson score intervals rather than bootstrap ones: a
person rates tens of items, not thousands; at that size a bootstrap
interval is too narrow and collapses to a point when every rating agrees
(10 of 10 wins gives [1, 1]), while Wilson's stays inside [0, 1], keeps
honest width at the extremes ([0.72, 1] for 10 of 10), and is exact
arithmetic with no resampling seed.
"""

from __future__ import annotations

import math
import random
import time
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

from ftlab.errors import FtlabError
from ftlab.eval.bootstrap import wilson
from ftlab.eval.judge import check_items
from ftlab.training.rundir import RunDir

RATINGS_STREAM = "ratings"  # <run_dir>/ratings.jsonl
CHOICES = ("a", "tie", "b")


def shown_left(item_id: Any, seed: int) -> str:
    """Which system's answer goes on the left for this item: random, but the same for the same seed and id."""
    return random.Random(f"{seed}:{item_id}").choice("ab")


def _run_path(run_dir: Any) -> Path:
    path = Path(getattr(run_dir, "path", run_dir))
    if not path.is_dir():
        raise FtlabError(f"run_dir: {path} does not exist or is not a folder; ratings are saved as "
                         f"{RATINGS_STREAM}.jsonl inside an existing run directory (or any folder), so create it "
                         "first or pass another.")
    return path


def _close_torn_line(path: Path) -> None:
    """End a torn last line of a killed writer, so the next rating starts a line of its own instead of joining it."""
    if path.exists() and path.stat().st_size:
        with open(path, "rb") as fh:
            fh.seek(-1, 2)
            torn = fh.read(1) != b"\n"
        if torn:
            with open(path, "ab") as fh:
                fh.write(b"\n")


def _check_score(name: str, score: Any) -> None:
    if score is not None and (not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5):
        raise FtlabError(f"{name}: {score!r} is not a score; a score is a whole number from 1 to 5, or None.")


class RatingLog:
    """The ratings of one pair of systems on a fixed list of items, in ``<run_dir>/ratings.jsonl``.

    ``items`` have the judge's shape (:func:`ftlab.eval.judge.check_items`),
    ``systems`` names system A and system B.  The file is the record; this
    object only checks a rating before appending it and reads the file back.
    """

    def __init__(self, run_dir: Any, items: Sequence[dict], systems: Sequence[str] = ("A", "B")):
        self.run = RunDir(_run_path(run_dir))
        self.items = {item["id"]: item for item in check_items(items)}
        systems = list(systems)
        if len(systems) != 2 or not all(isinstance(s, str) and s for s in systems) or systems[0] == systems[1]:
            raise FtlabError(f"systems: expected the names of system A and system B, two different strings, got "
                             f"{systems!r}.")
        self.systems = tuple(systems)
        self.path = self.run.path / f"{RATINGS_STREAM}.jsonl"

    def record(self, item_id: Any, choice: str, left: str = "a", score_a: int | None = None,
               score_b: int | None = None) -> dict:
        """Check one rating, append it to the file, and return the line written."""
        if item_id not in self.items:
            ids = list(self.items)
            shown = ", ".join(map(repr, ids[:5])) + (", ..." if len(ids) > 5 else "")
            raise FtlabError(f"item_id: {item_id!r} is not one of the {len(ids)} items being rated ({shown}).")
        if choice not in CHOICES:
            raise FtlabError(f"choice: {choice!r} is not a choice; a choice is 'a', 'b' or 'tie', in system terms.")
        if left not in ("a", "b"):
            raise FtlabError(f"left: {left!r} is not a system; left is 'a' or 'b', the system shown on the left.")
        _check_score("score_a", score_a)
        _check_score("score_b", score_b)
        row = {"item": item_id, "system_a": self.systems[0], "system_b": self.systems[1], "left": left,
               "choice": choice, "score_a": score_a, "score_b": score_b, "time": time.time()}
        _close_torn_line(self.path)
        self.run.append(RATINGS_STREAM, row)
        return row

    def read(self) -> list[dict]:
        """Every saved rating of these two systems on these items, oldest first."""
        return [r for r in read_ratings(self.run.path, self.systems) if r.get("item") in self.items]


def read_ratings(run_dir: Any, systems: Sequence[str] | None = None) -> list[dict]:
    """The ratings in ``<run_dir>/ratings.jsonl`` (of one pair of systems, when ``systems`` names it)."""
    rows = RunDir(_run_path(run_dir)).read(RATINGS_STREAM)
    if systems is not None:
        rows = [r for r in rows if (r.get("system_a"), r.get("system_b")) == tuple(systems)]
    return rows


def latest(ratings: Sequence[dict]) -> list[dict]:
    """The last rating of each item (a person may rate an item again), in the order items were first rated."""
    by_item: dict[Any, dict] = {}
    for row in ratings:
        by_item[row["item"]] = row
    return list(by_item.values())


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def summarize(ratings: Sequence[dict]) -> dict:
    """Win/tie/loss rates of system A with 95% Wilson intervals, and the mean 1-5 score of each system."""
    if not ratings:
        raise FtlabError("ratings: there are none to summarise yet; rate at least one item.")
    pairs = sorted({(r["system_a"], r["system_b"]) for r in ratings})
    if len(pairs) > 1:
        raise FtlabError(f"ratings: they compare {len(pairs)} pairs of systems ("
                         + ", ".join(f"{a} vs {b}" for a, b in pairs)
                         + "); summarise one pair at a time: read_ratings(run_dir, systems=(a, b)).")
    rows = latest(ratings)
    n = len(rows)
    out: dict[str, Any] = {"systems": list(pairs[0]), "n": n, "interval": "95% Wilson score"}
    for name, choice in (("win", "a"), ("tie", "tie"), ("loss", "b")):
        k = sum(r["choice"] == choice for r in rows)
        low, high = wilson(k, n)
        out[name] = {"rate": k / n, "low": low, "high": high}
    for side in ("a", "b"):
        scores = [r[f"score_{side}"] for r in rows if r.get(f"score_{side}") is not None]
        out[f"mean_score_{side}"] = _mean(scores)
        out[f"n_scored_{side}"] = len(scores)
    return out


def agreement(ratings: Sequence[dict], verdicts: Mapping[Any, str]) -> dict:
    """How often people and a judge chose the same on the items both rated: raw share and Cohen's kappa.

    ``verdicts`` maps item id to ``"a"``, ``"b"`` or ``"tie"`` (``JudgeResult.verdicts``).
    Kappa discounts the agreement two raters would reach by chance given how
    often each picks each choice; it is None when it is undefined (0/0: both
    gave one and the same choice throughout).
    """
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import cohen_kappa_score

    for item_id, verdict in verdicts.items():
        if verdict not in CHOICES:
            raise FtlabError(f"verdicts: item {item_id!r} has {verdict!r}; a verdict is 'a', 'b' or 'tie'.")
    both = [r for r in latest(ratings) if r["item"] in verdicts]
    if not both:
        raise FtlabError("verdicts: no rated item has a judge verdict; judge the items that were rated "
                         "(the ids must match).")
    people = [r["choice"] for r in both]
    judge = [verdicts[r["item"]] for r in both]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        kappa = float(cohen_kappa_score(people, judge, labels=list(CHOICES)))
    return {"n": len(both), "agreement": sum(p == j for p, j in zip(people, judge)) / len(both),
            "kappa": None if math.isnan(kappa) else kappa}
