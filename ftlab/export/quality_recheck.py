"""The quality re-check: the run's held-out examples answered by an artifact in its own runtime, item by item.

The figure that matters after quantising is not the artifact's score alone
but how it differs from the unquantised model's on the *same* items: the
difference of the task metric with a paired bootstrap interval (the same
resampled items for both, :func:`ftlab.eval.bootstrap.paired_interval`), and
the items where the artifact now does worse, largest drop first.  Answers
are generated one prompt at a time through the runtime, as a server answers,
which also gives the latency and throughput figures of ``export.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ftlab.config import Config
from ftlab.data.rows import Example
from ftlab.eval import bootstrap
from ftlab.eval.metrics import METRICS
from ftlab.eval.paired import char_diff

DEFAULT_METRIC = "exact_match"  # what the built-in tasks are judged by
REGRESSIONS = 5  # the worst per-sample drops listed per artifact


@dataclass
class Answers:
    texts: list[str] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def timing(self) -> dict:
        """Per-prompt latency p50 / p95 (seconds) and generated tokens per second."""
        seconds = np.asarray(self.seconds, dtype=float)
        total = float(seconds.sum())
        return {"latency_p50_s": round(float(np.percentile(seconds, 50)), 4),
                "latency_p95_s": round(float(np.percentile(seconds, 95)), 4),
                "tokens_per_second": round(sum(self.tokens) / total, 2) if total > 0 else 0.0}


def answer_all(runtime: Any, examples: list[Example], max_new_tokens: int) -> Answers:
    """One greedy answer per example through ``runtime``, timed one prompt at a time.

    One untimed answer first: a runtime's first call pays one-time costs (kernel selection, weight repacking,
    caches) that a server pays once at start, not per request; ``load_seconds`` and this are apart."""
    out = Answers()
    if examples:
        runtime.generate(examples[0].prompt, max_new_tokens)
    for example in examples:
        generation = runtime.generate(example.prompt, max_new_tokens)
        out.texts.append(generation.text)
        out.tokens.append(generation.new_tokens)
        out.seconds.append(generation.seconds)
    return out


def task_metric(config: Config) -> str:
    """The run's own per-item metric: the first of ``eval.metrics`` that scores each answer against its
    reference, else exact match (the built-in tasks' figure)."""
    for name in config.eval.metrics:
        metric = METRICS[name]
        if metric.per_example is not None and metric.needs == ("predictions", "references"):
            return name
    return DEFAULT_METRIC


def recheck(metric_name: str, examples: list[Example], answers: list[str], reference_answers: list[str],
            resamples: int = bootstrap.RESAMPLES, seed: int = 0) -> dict:
    """The artifact's figure, the reference model's, their difference with a paired interval, and the worst
    per-sample regressions."""
    metric = METRICS[metric_name]
    references = [e.reference for e in examples]
    ours = [float(metric.per_example(a, r)) for a, r in zip(answers, references)]
    theirs = [float(metric.per_example(a, r)) for a, r in zip(reference_answers, references)]
    value = float(metric.compute(predictions=answers, references=references))
    reference_value = float(metric.compute(predictions=reference_answers, references=references))
    stat_ours = metric.on_resamples({"predictions": answers, "references": references}, ours)
    stat_theirs = metric.on_resamples({"predictions": reference_answers, "references": references}, theirs)
    lo, hi = bootstrap.paired_interval(stat_ours, stat_theirs, len(examples), resamples, seed)
    drops = sorted((i for i in range(len(examples)) if ours[i] < theirs[i]), key=lambda i: (ours[i] - theirs[i], i))
    regressions = [{"index": i, "question": examples[i].question, "reference": references[i],
                    "reference_model_answer": reference_answers[i], "answer": answers[i],
                    "score_drop": round(theirs[i] - ours[i], 4),
                    "diff": char_diff(reference_answers[i], answers[i])} for i in drops[:REGRESSIONS]]
    return {"metric": metric_name, "value": round(value, 4), "reference_value": round(reference_value, 4),
            "difference": round(value - reference_value, 4), "interval": [round(lo, 4), round(hi, 4)],
            "n": len(examples), "regressions_total": len(drops), "regressions": regressions}
