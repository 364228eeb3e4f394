"""A/B tests: a sticky traffic split, the analysis of the logged outcomes, and the gate that acts on it.

The split (:func:`choose_version`) hashes the user id with the experiment's
name onto [0, 1) and cuts that line by the weights, in the order given: the
same user always gets the same version (in every process, unlike Python's
``hash``), a new experiment name reshuffles users, and raising the last
version's weight only moves users into it, never out of it.

The analysis (:func:`analyse`) compares the mean outcome per request (the
win rate, or the mean score) of a candidate against a control with a
bootstrap that resamples *users*, within each arm.  Why not a paired test: a
sticky split shows each user one version, so no request has an answer from
both to pair (a paired bootstrap or a sign test needs both versions on the
same items, as ``ftlab eval --against`` has).  Why users and not requests:
the user is what was randomised, and one user's requests are alike (an easy
user wins often with any version); resampling requests as if independent
makes intervals too narrow and declares equal versions different too often.
The candidate is declared better or worse when the interval of the
difference at ``level`` leaves out zero.  The bootstrap's spread also gives
the users still needed: the standard error shrinks as one over the square
root of the users, so the users at which a difference of ``min_effect``
would be found with probability ``power`` follow from it (the usual normal
approximation, checked by simulation in tests/test_ab_test.py).

The gate (:func:`decide`, :func:`apply_gate`) promotes the candidate to a
registry alias when it is better, rolls the alias back (or keeps the
control) when it is worse or when enough users showed no gain, and
otherwise says how many more users it needs.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from ftlab.errors import FtlabError
from ftlab.ops.request_log import RequestRecord

if TYPE_CHECKING:
    from ftlab.ops.model_registry import ModelRegistry

METRICS = ("win", "score")
LEVEL = 0.95
RESAMPLES = 2000
MIN_USERS = 30  # per arm, before the gate decides anything


# ---- the split -----------------------------------------------------------------------------------------------

def user_point(user_id: str, salt: str = "") -> float:
    """Where a user falls on [0, 1): a hash of the experiment's name (``salt``) and the user id."""
    digest = hashlib.sha256(f"{salt}\x00{user_id}".encode()).hexdigest()
    return int(digest[:15], 16) / 16 ** 15


def check_weights(weights: Mapping[str, float]) -> None:
    if not weights:
        raise FtlabError("weights: give at least one version with a weight, e.g. {'1': 0.9, '2': 0.1}.")
    bad = [f"{version}={weight!r}" for version, weight in weights.items()
           if not isinstance(weight, (int, float)) or not weight >= 0]  # NaN is not >= 0
    if bad:
        raise FtlabError(f"weights: {', '.join(bad)}: a weight is a number >= 0 (a share of the traffic).")
    if sum(weights.values()) <= 0:
        raise FtlabError("weights: they add up to 0; give at least one version a positive share of the traffic.")


def choose_version(user_id: str, weights: Mapping[str, float], salt: str = "") -> str:
    """The version that answers ``user_id``: sticky per user, shares in proportion to ``weights``."""
    check_weights(weights)
    point = user_point(str(user_id), salt) * sum(weights.values())
    edge = 0.0
    for version, weight in weights.items():
        edge += weight
        if point < edge:
            return version
    return next(v for v, w in reversed(weights.items()) if w > 0)  # rounding at the top edge


# ---- the analysis --------------------------------------------------------------------------------------------

@dataclass
class Arm:
    """One version's side of the test."""

    version: str
    users: int
    requests: int  # with a known outcome
    mean: float  # outcome per request: the win rate, or the mean score
    interval: tuple[float, float]


@dataclass
class ABAnalysis:
    control: str
    candidate: str
    metric: str
    level: float
    control_arm: Arm
    candidate_arm: Arm
    difference: float  # candidate - control
    interval: tuple[float, float]
    p_value: float  # two-sided, from the bootstrap
    prob_better: float  # share of resamples in which the candidate is ahead
    min_effect: float
    power: float
    users_needed: int  # more users (both arms, at the current split) to find min_effect with this power
    users_required: int  # all the users that takes (those seen included)
    standard_error: float
    method: str = "bootstrap over users within each arm"
    unlogged: int = 0  # requests of these versions whose outcome is not known yet
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """"better" or "worse" (the candidate, at ``level``), else "no difference found"."""
        if self.interval[0] > 0:
            return "better"
        if self.interval[1] < 0:
            return "worse"
        return "no difference found"

    @property
    def significant(self) -> bool:
        return self.verdict != "no difference found"

    def in_words(self, value: float, signed: bool = False) -> str:
        """A figure of this metric as the summary writes it: 62.5% or +4.0 points for a win rate."""
        if self.metric == "win":
            return f"{value * 100:+.1f} points" if signed else f"{value * 100:.1f}%"
        return f"{value:+.3g}" if signed else f"{value:.3g}"

    def summary(self) -> str:
        """One plain sentence or two: what was found, how sure, and what more data would do."""
        name = "win rate" if self.metric == "win" else "mean score"
        c, b = self.candidate_arm, self.control_arm
        lo, hi = self.interval
        text = (f"{name}: version {c.version} {self.in_words(c.mean)} ({c.users} users, {c.requests} requests) vs "
                f"version {b.version} {self.in_words(b.mean)} ({b.users} users, {b.requests} requests); difference "
                f"{self.in_words(self.difference, True)}, {self.level:.0%} interval [{self.in_words(lo, True)}, "
                f"{self.in_words(hi, True)}], p = {self.p_value:.3g}. ")
        if self.significant:
            return text + (f"Version {c.version} is {self.verdict} than version {b.version} at the "
                           f"{self.level:.0%} level.")
        if self.users_needed:
            return text + (f"No difference found yet: about {self.users_needed} more users would find a difference "
                           f"of {self.in_words(self.min_effect, True)} with {self.power:.0%} probability.")
        return text + (f"No difference found, and the test had {self.power:.0%} power for a difference of "
                       f"{self.in_words(self.min_effect, True)}: any difference is smaller than that.")

    def to_json(self) -> dict:
        def arm(a: Arm) -> dict:
            return {"version": a.version, "users": a.users, "requests": a.requests,
                    "mean": round(a.mean, 6), "interval": [round(x, 6) for x in a.interval]}
        return {"control": arm(self.control_arm), "candidate": arm(self.candidate_arm), "metric": self.metric,
                "level": self.level, "difference": round(self.difference, 6),
                "interval": [round(x, 6) for x in self.interval], "p_value": round(self.p_value, 6),
                "prob_better": round(self.prob_better, 6), "verdict": self.verdict, "min_effect": self.min_effect,
                "power": self.power, "users_needed": self.users_needed, "users_required": self.users_required,
                "standard_error": round(self.standard_error, 6), "method": self.method,
                "unlogged": self.unlogged, "summary": self.summary()}


def _per_user(records: Iterable[RequestRecord], version: str, metric: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(outcome sum, request count) per user of ``version``, and how many of its requests have no outcome."""
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    unknown = 0
    for record in records:
        if record.version != version:
            continue
        value = record.outcome(metric)
        if value is None:
            unknown += 1
            continue
        sums[record.user] += value
        counts[record.user] += 1
    users = sorted(counts)
    return np.array([sums[u] for u in users]), np.array([counts[u] for u in users], dtype=float), unknown


def _resampled_means(sums: np.ndarray, counts: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    idx = rng.integers(0, len(sums), size=(resamples, len(sums)))
    return sums[idx].sum(1) / counts[idx].sum(1)


def _percentiles(values: np.ndarray, level: float) -> tuple[float, float]:
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def analyse(records: Iterable[RequestRecord], control: str, candidate: str, metric: str = "win",
            level: float = LEVEL, min_effect: float = 0.05, power: float = 0.8, resamples: int = RESAMPLES,
            seed: int = 0) -> ABAnalysis:
    """Compare ``candidate`` with ``control`` on the logged ``metric`` (see the module docstring)."""
    if metric not in METRICS:
        raise FtlabError(f"metric={metric!r}: an A/B test compares 'win' (the win rate) or 'score' (the mean score).")
    if not 0 < level < 1 or not 0 < power < 1:
        raise FtlabError(f"level={level}, power={power}: both are probabilities between 0 and 1, e.g. 0.95 and 0.8.")
    if min_effect <= 0:
        raise FtlabError(f"min_effect={min_effect}: the smallest difference worth finding is a positive number "
                         "(0.05 is five points of win rate).")
    control, candidate = str(control), str(candidate)
    records = list(records)
    sides = {}
    for version in (control, candidate):
        sums, counts, unknown = _per_user(records, version, metric)
        if len(sums) < 2:
            seen = sorted({r.version for r in records})
            raise FtlabError(f"version {version} has {len(sums)} user(s) with a known {metric} in the log (versions "
                             f"logged: {', '.join(seen) or 'none'}); an A/B test needs at least 2 users on each side "
                             "with outcomes.")
        sides[version] = (sums, counts, unknown)
    rng = np.random.default_rng(seed)
    means = {v: _resampled_means(s, c, resamples, rng) for v, (s, c, _) in sides.items()}
    arms = {v: Arm(v, len(s), int(c.sum()), float(s.sum() / c.sum()), _percentiles(means[v], level))
            for v, (s, c, _) in sides.items()}
    differences = means[candidate] - means[control]
    difference = arms[candidate].mean - arms[control].mean
    p_value = min(1.0, 2 * min(float(np.mean(differences <= 0)), float(np.mean(differences >= 0))))
    se = float(differences.std(ddof=1))
    z = NormalDist().inv_cdf((1 + level) / 2) + NormalDist().inv_cdf(power)
    users = arms[control].users + arms[candidate].users
    required = math.ceil(users * (se * z / min_effect) ** 2) if se > 0 else users
    return ABAnalysis(control, candidate, metric, level, arms[control], arms[candidate], difference,
                      _percentiles(differences, level), max(p_value, 1 / resamples), float(np.mean(differences > 0)),
                      min_effect, power, max(0, required - users), required, se,
                      unlogged=sides[control][2] + sides[candidate][2])


# ---- the gate ------------------------------------------------------------------------------------------------

@dataclass
class GateDecision:
    action: str  # "promote", "rollback" or "continue"
    reason: str
    analysis: ABAnalysis
    applied: str | None = None  # what changed in the registry, once applied

    def to_json(self) -> dict:
        return {"action": self.action, "reason": self.reason, "applied": self.applied,
                "analysis": self.analysis.to_json()}


def decide(analysis: ABAnalysis, min_users: int = MIN_USERS) -> GateDecision:
    """Promote a candidate found better, roll back one found worse or not better with enough users, else wait."""
    a = analysis
    short = [arm for arm in (a.control_arm, a.candidate_arm) if arm.users < min_users]
    if short:
        sides = ", ".join(f"version {arm.version} has {arm.users}" for arm in short)
        return GateDecision("continue", f"too few users to decide ({sides}; the gate waits for {min_users} on each "
                            "side).", a)
    if a.verdict == "better":
        return GateDecision("promote", f"version {a.candidate} is better: {a.summary()}", a)
    if a.verdict == "worse":
        return GateDecision("rollback", f"version {a.candidate} is worse: {a.summary()}", a)
    if a.users_needed == 0:
        return GateDecision("rollback", f"version {a.candidate} is not better by {a.in_words(a.min_effect, True)} "
                            f"or more: {a.summary()}", a)
    return GateDecision("continue", f"not decided yet: {a.summary()}", a)


def apply_gate(decision: GateDecision, registry: ModelRegistry, name: str, alias: str = "production") -> GateDecision:
    """Carry out the decision on ``name@alias``: versions are the registry's version numbers."""
    a = decision.analysis
    if not (a.control.isdigit() and a.candidate.isdigit()):
        raise FtlabError(f"the log names versions {a.control!r} and {a.candidate!r}; the gate moves {name}@{alias} "
                         "between registry versions, so the server must log their numbers (e.g. '1' and '2').")
    if decision.action == "promote":
        registry.promote(name, int(a.candidate), alias, reason=f"A/B gate: {decision.reason}")
        decision.applied = f"{name}@{alias} -> version {a.candidate}"
    elif decision.action == "rollback":
        current = registry.by_alias(name, alias).version
        if current == int(a.candidate):
            left, now = registry.rollback(name, alias, reason=f"A/B gate: {decision.reason}")
            decision.applied = f"{name}@{alias} rolled back from version {left} to version {now.version}"
        else:
            decision.applied = f"{name}@{alias} stays at version {current}; stop sending traffic to version " \
                               f"{a.candidate}"
    return decision
