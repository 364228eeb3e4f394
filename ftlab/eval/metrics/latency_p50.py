"""Median generation latency per answer, in seconds: each answer's share of its batch's wall time."""

import statistics

from ftlab.eval.metrics import Metric

ENTRY = Metric("latency_p50", "Median seconds per generated answer (batched).",
               lambda seconds: statistics.median(seconds) if seconds else float("nan"), needs=("seconds",),
               higher_is_better=False, kind="cost")
