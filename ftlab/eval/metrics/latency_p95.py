"""95th-percentile generation latency per answer, in seconds: the slow tail a user notices."""

import statistics

from ftlab.eval.metrics import Metric


def compute(seconds: list[float]) -> float:
    if len(seconds) < 2:
        return seconds[0] if seconds else float("nan")
    return statistics.quantiles(seconds, n=20, method="inclusive")[-1]


ENTRY = Metric("latency_p95", "95th-percentile seconds per generated answer (batched).", compute,
               needs=("seconds",), higher_is_better=False, kind="cost", order=1)
