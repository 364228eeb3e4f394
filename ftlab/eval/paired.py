"""Two models on the same items: differences with paired intervals, win / tie / loss, the largest changes.

Comparing two averages hides most of what happened: a tuned model can gain
ten points overall while getting some items newly wrong.  Here every item is
scored for both models, the difference of each metric gets a paired
bootstrap interval (the same resampled items for both), every item counts as
a win, tie or loss for the candidate on a per-item score, and the items are
listed by how much they changed, each with a character-level diff of both
answers against the reference for the drill-down.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ftlab.errors import FtlabError
from ftlab.eval import bootstrap
from ftlab.eval.evaluation import EvalReport
from ftlab.eval.metrics import METRICS
from ftlab.eval.suites import SUITES

# The per-item score that decides a win: the finest-grained one available.
ITEM_SCORES = ("chrf", "f1", "exact_match")


@dataclass
class Paired:
    candidate: str
    baseline: str
    item_score: str  # the per-item score behind wins, ties and losses
    differences: dict[str, dict] = field(default_factory=dict)
    wins: int = 0
    ties: int = 0
    losses: int = 0
    changes: list[dict] = field(default_factory=list, repr=False)
    suites: dict[str, dict] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.wins + self.ties + self.losses

    @property
    def win_rate(self) -> float:
        return self.wins / self.n if self.n else float("nan")

    def to_json(self, n_changes: int = 20) -> dict:
        return {"candidate": self.candidate, "baseline": self.baseline, "item_score": self.item_score,
                "differences": self.differences, "wins": self.wins, "ties": self.ties, "losses": self.losses,
                "win_rate": round(self.win_rate, 4), "win_interval": [round(x, 4) for x in
                                                                      bootstrap.wilson(self.wins, self.n)],
                "largest_gains": [c for c in self.changes if c["change"] > 0][:n_changes],
                "worst_regressions": sorted((c for c in self.changes if c["change"] < 0),
                                            key=lambda c: c["change"])[:n_changes],
                "suites": self.suites}


def char_diff(reference: str, answer: str) -> list[list[str]]:
    """[op, text] pieces turning the reference into the answer: equal, delete (missing), insert (extra)."""
    pieces = []
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(None, reference, answer, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(["equal", reference[a0:a1]])
        else:
            if a1 > a0:
                pieces.append(["delete", reference[a0:a1]])
            if b1 > b0:
                pieces.append(["insert", answer[b0:b1]])
    return pieces


def compare(candidate: EvalReport, baseline: EvalReport, resamples: int = bootstrap.RESAMPLES,
            seed: int = 0) -> Paired:
    """Pair two reports on the same examples (same split, same order)."""
    if candidate.references != baseline.references:
        raise FtlabError(f"{candidate.name} and {baseline.name} were not evaluated on the same examples "
                         f"({len(candidate.references)} vs {len(baseline.references)}); evaluate both on the same "
                         "split with the same n.")
    item_score = next((m for m in ITEM_SCORES if m in candidate.per_example and m in baseline.per_example), None)
    if item_score is None:
        raise FtlabError("no per-item score to pair on: evaluate with exact_match, f1 or chrf.")
    paired = Paired(candidate.name, baseline.name, item_score)
    n = len(candidate.references)
    for i, name in enumerate(m for m in candidate.metrics if m in baseline.metrics):
        metric = METRICS[name]
        entry = {"candidate": candidate.metrics[name], "baseline": baseline.metrics[name],
                 "difference": round(candidate.metrics[name] - baseline.metrics[name], 4)}
        if metric.kind != "cost":
            stat_c, stat_b = (metric.on_resamples({k: report.inputs[k] for k in metric.needs},
                                                  report.per_example.get(name)) for report in (candidate, baseline))
            entry["interval"] = [round(x, 4) for x in bootstrap.paired_interval(stat_c, stat_b, n, resamples,
                                                                                  seed + i)]
        paired.differences[name] = entry
    ours, theirs = candidate.per_example[item_score], baseline.per_example[item_score]
    for i, (a, b) in enumerate(zip(ours, theirs)):
        paired.wins += a > b
        paired.losses += a < b
        paired.ties += a == b
        example = candidate.examples[i]
        paired.changes.append({
            "index": i, "question": example.question, "reference": example.reference,
            "candidate": candidate.predictions[i], "baseline": baseline.predictions[i],
            "candidate_score": round(a, 4), "baseline_score": round(b, 4), "change": round(a - b, 4),
            "candidate_diff": char_diff(example.reference, candidate.predictions[i]),
            "baseline_diff": char_diff(example.reference, baseline.predictions[i])})
    paired.changes.sort(key=lambda c: -c["change"])
    return paired


def compare_suite(name: str, candidate: list[dict], baseline: list[dict], resamples: int = bootstrap.RESAMPLES,
                  seed: int = 0) -> dict:
    """Per group of a suite: both rates, the difference and its paired interval (the same probes)."""
    out = {}
    directions = SUITES[name].higher_is_better
    for group in dict.fromkeys(item["group"] for item in candidate):
        a = [item["score"] for item in candidate if item["group"] == group]
        b = [item["score"] for item in baseline if item["group"] == group]
        lo, hi = bootstrap.paired_interval(bootstrap.mean_of(a), bootstrap.mean_of(b), len(a), resamples, seed)
        out[group] = {"candidate": round(sum(a) / len(a), 4), "baseline": round(sum(b) / len(b), 4),
                      "difference": round((sum(a) - sum(b)) / len(a), 4), "interval": [round(lo, 4), round(hi, 4)],
                      "higher_is_better": directions.get(group, True)}
    return out
