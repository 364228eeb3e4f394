"""Drift: logged traffic summarised against the data the model was trained on, with alerts in plain words.

The reference is the run's own training split (:func:`reference_from_run`
loads it as the run's ``data.json`` recorded it): its prompts, and its
answers as the model was taught to give them.  Logged requests are compared
with it on

- prompt length in characters and in tokens, and answer length: the
  population stability index (PSI) over the reference's deciles;
- vocabulary or topic: the Jensen-Shannon divergence (bits, 0 to 1) between
  the frequencies of text units in the prompts.  A unit is one CJK character
  (Chinese has no spaces, and a character carries a word's weight) or a
  character trigram of a word in other scripts (digits folded to ``0``), so
  made-up words, numbers and mixed Chinese/English text compare by their
  shape rather than by exact words never seen twice;
- the refusal rate of the answers (:func:`ftlab.eval.suites.safety.is_refusal`)
  against that of the training answers;
- latency, against a budget for the 95th percentile (training data has no
  latency to compare with).

A divergence measured on a sample is never zero, even when nothing changed:
the fewer the requests, the larger it reads.  So each distribution check also
measures its *noise*: the same statistic between same-size samples of the
training data and the rest of it (the mean of several draws).  An alert needs
the excess over that noise to pass the threshold, which keeps a quiet hour
with 40 requests from alerting as often as a busy one with 4,000.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ftlab.errors import FtlabError
from ftlab.eval.bootstrap import wilson
from ftlab.eval.suites.safety import is_refusal
from ftlab.ops.request_log import RequestRecord

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_UNITS = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")
NOISE_DRAWS = 10
REFERENCE_LIMIT = 2000  # training rows kept as the reference (a seeded sample of larger sets)


@dataclass
class Thresholds:
    """When a check alerts.  ``psi`` and ``js`` are excesses over the measured noise (see the module docstring)."""

    psi: float = 0.25  # the usual "major shift" level of the population stability index
    js: float = 0.1  # bits of Jensen-Shannon divergence between unit frequencies
    refusal_rate: float = 0.05  # refusal share above the training answers'
    latency_p95_s: float = 5.0
    min_requests: int = 30  # fewer requests than this: figures shown, no alerts


@dataclass
class Reference:
    """What the model was trained on: prompts and answers with their token counts."""

    prompts: list[str]
    answers: list[str]
    prompt_tokens: list[int]
    answer_tokens: list[int]
    source: str  # e.g. "run cipher-lora, train split, data version 0123abcd"
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_texts(cls, prompts: Sequence[str], answers: Sequence[str], count_tokens: Callable[[str], int],
                   source: str = "given texts") -> Reference:
        if not prompts:
            raise FtlabError(f"{source}: no prompts to compare traffic with.")
        return cls(list(prompts), list(answers), [count_tokens(p) for p in prompts],
                   [count_tokens(a) for a in answers], source)

    @cached_property
    def prompt_units(self) -> list[Counter]:
        """Each prompt's text units, counted once however many reports read them."""
        return [Counter(text_units(p)) for p in self.prompts]

    @cached_property
    def unit_totals(self) -> Counter:
        return sum(self.prompt_units, Counter())


def reference_from_run(run_dir: str | Path, split: str = "train", limit: int = REFERENCE_LIMIT) -> Reference:
    """The run's ``split`` as it trained on it (its config's data section), token counts by its tokenizer."""
    from ftlab.data.rows import training_rows
    from ftlab.data.sources import load_data
    from ftlab.files import read_json
    from ftlab.models.loader import load_tokenizer
    from ftlab.training.rundir import RunDir

    run = RunDir(run_dir)
    if not (run.path / "config.yaml").is_file():
        raise FtlabError(f"{run.path} is not a run directory (no config.yaml); drift compares traffic with a run's "
                         "training data: give the folder `ftlab train` wrote.")
    config = run.config()
    data = load_data(config.data)
    rows = training_rows(data[split], "prompt")
    if not rows:
        raise FtlabError(f"{run.path}: its {split} split has no prompts (a plain-text run?); drift needs prompts "
                         "and answers to compare traffic with.")
    if len(rows) > limit:
        keep = np.random.default_rng(0).choice(len(rows), limit, replace=False)
        rows = [rows[i] for i in sorted(keep)]
    tokenizer = load_tokenizer(config.model.name, config.model.trust_remote_code)
    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])
    prompts = [next(t["content"] for t in reversed(row["prompt"]) if t["role"] == "user") for row in rows]
    reference = Reference.from_texts(prompts, [row["reference"] for row in rows], count,
                                     f"run {run.path.name}, {split} split, data version {data.version}")
    # a server counts a prompt as the model reads it (usage.prompt_tokens, the request log's prompt_tokens): the
    # dialogue in the chat template, the assistant's turn opened
    reference.prompt_tokens = [count(tokenizer.apply_chat_template(row["prompt"], tokenize=False,
                                                                   add_generation_prompt=True)) for row in rows]
    recorded = read_json(run.path / "data.json").get("version")
    if recorded and recorded != data.version:
        reference.notes.append(f"the run trained on data version {recorded}, but its data now loads as version "
                               f"{data.version} (a data file changed?): the reference is today's data.")
    return reference


# ---- statistics ------------------------------------------------------------------------------------------------

def text_units(text: str) -> list[str]:
    """CJK characters one by one; other words as character trigrams of `` word `` with digits folded to 0."""
    units = []
    for match in _UNITS.finditer(text.lower()):
        piece = match.group()
        if re.match(f"[{_CJK}]", piece):
            units.append(piece)
            continue
        word = f" {re.sub(r'[0-9]', '0', piece)} "
        units += [word[i:i + 3] for i in range(len(word) - 2)]
    return units


def unit_counts(texts: Sequence[str]) -> Counter:
    counts: Counter = Counter()
    for text in texts:
        counts.update(text_units(text))
    return counts


def jensen_shannon(p: Counter, q: Counter) -> float:
    """Jensen-Shannon divergence in bits (0: the same frequencies, 1: nothing in common)."""
    keys = list(set(p) | set(q))
    a = np.array([p.get(k, 0) for k in keys], dtype=float)
    b = np.array([q.get(k, 0) for k in keys], dtype=float)
    if a.sum() == 0 or b.sum() == 0:
        return 0.0 if a.sum() == b.sum() else 1.0
    a, b = a / a.sum(), b / b.sum()
    m = (a + b) / 2

    def kl(x: np.ndarray) -> float:
        mask = x > 0
        return float(np.sum(x[mask] * np.log2(x[mask] / m[mask])))

    return max(0.0, (kl(a) + kl(b)) / 2)


def psi(reference: Sequence[float], live: Sequence[float], bins: int = 10) -> float:
    """Population stability index of ``live`` against ``reference`` over the reference's quantile bins."""
    edges = np.unique(np.quantile(np.asarray(reference, dtype=float), np.linspace(0, 1, bins + 1)[1:-1]))

    def shares(values: Sequence[float]) -> np.ndarray:
        counts = np.bincount(np.searchsorted(edges, np.asarray(values, dtype=float), side="right"),
                             minlength=len(edges) + 1)
        return (counts + 0.5) / (counts.sum() + 0.5 * len(counts))  # no empty bin: log(0) has no value

    r, q = shares(reference), shares(live)
    return float(np.sum((q - r) * np.log(q / r)))


def _draws(size: int, n: int, seed: int = 0):
    """``NOISE_DRAWS`` random picks of ``n`` of ``size`` items (at most half of them), as index arrays."""
    rng = np.random.default_rng(seed)
    n = min(n, size // 2)
    return [rng.choice(size, n, replace=False) for _ in range(NOISE_DRAWS)] if n >= 1 else []


def _length_noise(reference: list[float], n: int) -> float:
    """The mean PSI of ``n`` reference values against the rest: what the PSI reads on ``n`` requests when
    nothing changed."""
    values = np.asarray(reference, dtype=float)
    draws = _draws(len(values), n)
    return float(np.mean([psi(np.delete(values, picked), values[picked]) for picked in draws])) if draws else 0.0


def _vocabulary_noise(reference: Reference, n: int) -> float:
    """The mean Jensen-Shannon divergence between ``n`` reference prompts and the rest (the same idea)."""
    values = []
    for picked in _draws(len(reference.prompts), n):
        sample: Counter = Counter()
        for i in picked:
            sample.update(reference.prompt_units[i])
        values.append(jensen_shannon(reference.unit_totals - sample, sample))
    return float(np.mean(values)) if values else 0.0


def over_represented(reference: Counter, live: Counter, k: int = 8) -> list[str]:
    """The ``k`` units whose share grew most from the reference to the traffic."""
    r_total, l_total = sum(reference.values()) or 1, sum(live.values()) or 1
    gain = {u: c / l_total - reference.get(u, 0) / r_total for u, c in live.items()}
    return [u for u, g in sorted(gain.items(), key=lambda item: -item[1])[:k] if g > 0]


def show_unit(unit: str) -> str:
    """A unit as a person reads it: quoted, a word's edges (the padding spaces) as ``_``."""
    return "'" + unit.replace(" ", "_") + "'"


# ---- the report ----------------------------------------------------------------------------------------------

@dataclass
class DriftCheck:
    name: str
    value: float | None  # None: could not be measured (no token counts logged)
    threshold: float
    alert: bool
    message: str
    noise: float = 0.0
    live: float | None = None  # a plain summary of the traffic (a median, a rate)
    reference: float | None = None  # the same summary of the training data

    def to_json(self) -> dict:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass
class DriftReport:
    requests: int
    reference: str
    checks: list[DriftCheck]
    enough: bool  # at least Thresholds.min_requests requests: alerts are on
    notes: list[str] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)  # the most over-represented prompt units

    @property
    def alerts(self) -> list[DriftCheck]:
        return [c for c in self.checks if c.alert]

    def check(self, name: str) -> DriftCheck:
        return next(c for c in self.checks if c.name == name)

    def summary(self) -> str:
        head = f"{self.requests} requests against {self.reference}: "
        if not self.enough:
            return head + "too few requests to raise alerts; " + "; ".join(c.message for c in self.checks) + "."
        if not self.alerts:
            return head + "no drift alert."
        return head + f"{len(self.alerts)} alert(s): " + "; ".join(c.message for c in self.alerts) + "."

    def to_json(self) -> dict:
        return {"requests": self.requests, "reference": self.reference, "enough": self.enough,
                "alerts": [c.name for c in self.alerts], "checks": [c.to_json() for c in self.checks],
                "new_units": self.new_units, "notes": self.notes, "summary": self.summary()}


def _length_check(name: str, what: str, unit: str, reference: list[float], live: list[float],
                  limits: Thresholds, enough: bool) -> DriftCheck:
    value = psi(reference, live)
    noise = _length_noise(reference, len(live))
    ref_median, live_median = float(np.median(reference)), float(np.median(live))
    alert = enough and value - noise > limits.psi
    direction = "longer" if live_median > ref_median else "shorter"
    if alert:
        message = (f"{what} are {direction} than in training: median {live_median:g} {unit} vs {ref_median:g} "
                   f"(PSI {value:.2f}, {noise:.2f} from sampling alone; alert above {limits.psi:g} more)")
    else:
        message = (f"{what}: median {live_median:g} {unit} vs {ref_median:g} in training (PSI {value:.2f}, "
                   f"noise {noise:.2f})")
    return DriftCheck(name, value, limits.psi, alert, message, noise, live_median, ref_median)


def summarise(records: Sequence[RequestRecord], reference: Reference, limits: Thresholds | None = None) -> DriftReport:
    """Every drift check of ``records`` against ``reference`` (see the module docstring)."""
    limits = limits or Thresholds()
    if not records:
        raise FtlabError("no requests to summarise: the request log is empty.")
    n = len(records)
    enough = n >= limits.min_requests
    checks = [_length_check("prompt_chars", "prompts", "characters", [len(p) for p in reference.prompts],
                            [len(r.prompt) for r in records], limits, enough)]
    if all(r.prompt_tokens > 0 for r in records):
        checks.append(_length_check("prompt_tokens", "prompts", "tokens", reference.prompt_tokens,
                                    [r.prompt_tokens for r in records], limits, enough))
    else:
        checks.append(DriftCheck("prompt_tokens", None, limits.psi, False,
                                 "prompt tokens: not logged (prompt_tokens is 0), not compared"))
    ref_units, live_units = reference.unit_totals, unit_counts([r.prompt for r in records])
    js = jensen_shannon(ref_units, live_units)
    js_noise = _vocabulary_noise(reference, n)
    new_units = over_represented(ref_units, live_units)
    js_alert = enough and js - js_noise > limits.js
    shown = ", ".join(show_unit(u) for u in new_units[:5])
    checks.append(DriftCheck(
        "vocabulary", js, limits.js, js_alert,
        (f"prompt vocabulary or topic has shifted: Jensen-Shannon {js:.2f} bits vs {js_noise:.2f} between samples "
         f"of the training prompts (alert above {limits.js:g} more); most over-represented: {shown}") if js_alert
        else f"prompt vocabulary: Jensen-Shannon {js:.2f} bits (noise {js_noise:.2f})", js_noise))
    checks.append(_length_check("answer_chars", "answers", "characters", [len(a) for a in reference.answers],
                                [len(r.answer) for r in records], limits, enough))
    ref_rate = float(np.mean([is_refusal(a) for a in reference.answers])) if reference.answers else 0.0
    refusals = sum(is_refusal(r.answer) for r in records)
    rate = refusals / n
    refusal_alert = enough and rate - ref_rate > limits.refusal_rate and wilson(refusals, n)[0] > ref_rate
    checks.append(DriftCheck(
        "refusal_rate", rate, limits.refusal_rate, refusal_alert,
        (f"the model refuses more: {rate:.0%} of answers ({refusals} of {n}) vs {ref_rate:.0%} of the training answers"
         if refusal_alert else f"refusals: {rate:.0%} of answers vs {ref_rate:.0%} in training"), live=rate,
        reference=ref_rate))
    latencies = [r.latency_s for r in records]
    p50, p95 = (float(x) for x in np.quantile(latencies, [0.5, 0.95]))
    latency_alert = enough and p95 > limits.latency_p95_s
    checks.append(DriftCheck(
        "latency_p95_s", p95, limits.latency_p95_s, latency_alert,
        (f"answers are slow: p95 latency {p95:.2f} s over the {limits.latency_p95_s:g} s budget (p50 {p50:.2f} s)"
         if latency_alert else f"latency: p50 {p50:.2f} s, p95 {p95:.2f} s (budget {limits.latency_p95_s:g} s)"),
        live=p50))
    return DriftReport(n, reference.source, checks, enough, list(reference.notes), new_units)


def drift_over_time(records: Sequence[RequestRecord], reference: Reference, window: int = 100,
                    limits: Thresholds | None = None) -> list[dict]:
    """The checks on consecutive windows of ``window`` requests (time order): when a shift began."""
    if window < 1:
        raise FtlabError(f"window={window}: give a number of requests per window, e.g. 100.")
    ordered = sorted(records, key=lambda r: r.time)
    out = []
    for start in range(0, len(ordered), window):
        chunk = ordered[start:start + window]
        if len(chunk) < max(2, math.ceil(window / 2)) and out:
            break  # a short last window reads noisier than the others: left out
        report = summarise(chunk, reference, limits)
        out.append({"start": chunk[0].time, "end": chunk[-1].time, "requests": len(chunk),
                    **{c.name: c.value for c in report.checks}, "alerts": [c.name for c in report.alerts]})
    return out
