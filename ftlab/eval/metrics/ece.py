"""Expected calibration error: how far the model's confidence is from how often it is right.

The answers are put in 10 equal-width confidence bins; ECE is the gap
between mean confidence and accuracy in each bin, weighted by the bin's
share of examples (Naeini et al. 2015, Guo et al. 2017).  0 is perfectly
calibrated; a model that is right 60% of the time while claiming 95% scores
0.35.  scikit-learn's ``calibration_curve`` gives the per-bin confidence and
accuracy but no ECE and no bin sizes, so the sum is taken here over the bins
of :func:`ftlab.eval.diagnostics.reliability`, which uses the same binning.
"""

from ftlab.eval.diagnostics import confidence_bins, reliability
from ftlab.eval.metrics import Metric

N_BINS = 10


def statistics(confidences: list[float], correct: list[bool]):
    """Per example, in its bin: [1, confidence, right] -- the bins' counts and sums, which add over a corpus."""
    import numpy as np

    conf, right = np.asarray(confidences, dtype=float), np.asarray(correct, dtype=float)
    bins = confidence_bins(conf, N_BINS)
    rows = np.zeros((len(conf), 3 * N_BINS))
    at = np.arange(len(conf))
    rows[at, bins], rows[at, N_BINS + bins], rows[at, 2 * N_BINS + bins] = 1, conf, right
    return rows


def from_statistics(summed) -> float:
    count, conf, right = summed[:N_BINS], summed[N_BINS:2 * N_BINS], summed[2 * N_BINS:]
    total = count.sum()
    return float(sum(abs(r - c) for n, c, r in zip(count, conf, right) if n) / total) if total else 0.0


def compute(confidences: list[float], correct: list[bool]) -> float:
    bins = [b for b in reliability(confidences, correct, N_BINS) if b["count"]]
    total = sum(b["count"] for b in bins)
    return sum(b["count"] / total * abs(b["accuracy"] - b["confidence"]) for b in bins) if total else 0.0


ENTRY = Metric("ece", "Expected calibration error over 10 confidence bins, 0-1 (lower is better).", compute,
               needs=("confidences", "correct"), higher_is_better=False, kind="uncertainty",
               statistics=statistics, from_statistics=from_statistics)
