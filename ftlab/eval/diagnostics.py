"""What a classifier gets wrong and how far to trust it: the views behind the single-number metrics.

Plain functions over labels, class probabilities and confidences, each
returning JSON-able dicts and lists (``None`` where a value is undefined), so
an eval panel, a notebook and ``eval.json`` read the same thing; plotting is
the widgets' job.  scikit-learn computes everything it has a function for;
the reliability bins and the coverage curve are a few lines of numpy (see
their docstrings for why).

``label_set`` fixes the order of the classes: rows and columns of the
confusion matrix, columns of ``probabilities``.  For two classes the
positive one is ``label_set[1]``.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ftlab.errors import FtlabError


def _plain(values) -> list:
    """numpy numbers as Python floats; inf and NaN (no such threshold, undefined rate) as None."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=float)]


def class_order(labels: Sequence[str], predicted_labels: Sequence[str], label_set: Sequence[str] | None) -> list[str]:
    """``label_set`` if given, checked to hold every label; else the labels seen, sorted."""
    if label_set is None:
        return sorted(set(labels) | set(predicted_labels))
    outside = sorted((set(labels) | set(predicted_labels)) - set(label_set))
    if outside:
        raise FtlabError(f"label {outside[0]!r} is not in the label set {list(label_set)}; add it to the label set "
                         "or correct the label.")
    return list(label_set)


def confusion(labels: Sequence[str], predicted_labels: Sequence[str],
              label_set: Sequence[str] | None = None) -> dict:
    """``{"labels": order, "matrix": counts}``: row = true class, column = predicted class, both in ``order``."""
    from sklearn.metrics import confusion_matrix

    order = class_order(labels, predicted_labels, label_set)
    matrix = confusion_matrix(labels, predicted_labels, labels=order)
    return {"labels": order, "matrix": matrix.tolist()}


def per_class(labels: Sequence[str], predicted_labels: Sequence[str],
              label_set: Sequence[str] | None = None) -> list[dict]:
    """Precision, recall, F1 and support (true examples) of each class, 0 where undefined."""
    from sklearn.metrics import precision_recall_fscore_support

    order = class_order(labels, predicted_labels, label_set)
    precision, recall, f1, support = precision_recall_fscore_support(labels, predicted_labels, labels=order,
                                                                     zero_division=0)
    return [{"label": label, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(order, precision, recall, f1, support)]


def one_vs_rest(labels: Sequence[str], label_set: Sequence[str],
                probabilities: Sequence[Sequence[float]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Positive class -> (is that class, its probability) per example.

    Two classes give one entry, the positive class ``label_set[1]``; more
    give one per class, each against all the others.
    """
    scores = np.asarray(probabilities, dtype=float)
    if len(label_set) < 2 or scores.shape != (len(labels), len(label_set)):
        raise FtlabError(f"probabilities must have one row per example ({len(labels)}) and one column per class of "
                         f"the label set {list(label_set)} (at least two); got shape {scores.shape}.")
    class_order(labels, [], label_set)  # every true label is one of the columns
    truth = np.asarray(labels, dtype=object)
    positives = label_set[1:] if len(label_set) == 2 else label_set
    return {c: (truth == c, scores[:, list(label_set).index(c)]) for c in positives}


def roc_points(labels: Sequence[str], label_set: Sequence[str],
               probabilities: Sequence[Sequence[float]]) -> dict[str, dict]:
    """ROC curve per positive class: false- and true-positive rates at each probability threshold."""
    from sklearn.metrics import roc_curve

    out = {}
    for positive, (truth, score) in one_vs_rest(labels, label_set, probabilities).items():
        fpr, tpr, thresholds = roc_curve(truth, score)
        out[positive] = {"fpr": _plain(fpr), "tpr": _plain(tpr), "thresholds": _plain(thresholds)}
    return out


def pr_points(labels: Sequence[str], label_set: Sequence[str],
              probabilities: Sequence[Sequence[float]]) -> dict[str, dict]:
    """Precision-recall curve per positive class (one more precision/recall point than thresholds)."""
    from sklearn.metrics import precision_recall_curve

    out = {}
    for positive, (truth, score) in one_vs_rest(labels, label_set, probabilities).items():
        precision, recall, thresholds = precision_recall_curve(truth, score)
        out[positive] = {"precision": _plain(precision), "recall": _plain(recall), "thresholds": _plain(thresholds)}
    return out


def _confidences(confidences: Sequence[float], correct: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    conf = np.asarray(confidences, dtype=float)
    right = np.asarray(correct, dtype=float)
    if conf.shape != right.shape or conf.ndim != 1:
        raise FtlabError(f"confidences and correct need one value per example each; got {conf.size} and "
                         f"{right.size}.")
    outside = conf[(conf < 0) | (conf > 1)]
    if outside.size:
        raise FtlabError(f"confidences are probabilities between 0 and 1; found {outside[0]}.")
    return conf, right


def confidence_bins(confidences: np.ndarray, n_bins: int) -> np.ndarray:
    """Each confidence's equal-width bin: an edge value belongs to the bin below it, 0 to the first."""
    return np.searchsorted(np.linspace(0.0, 1.0, n_bins + 1)[1:-1], confidences)


def reliability(confidences: Sequence[float], correct: Sequence[bool], n_bins: int = 10) -> list[dict]:
    """The reliability diagram: per equal-width confidence bin, its examples, mean confidence and accuracy.

    A calibrated model's answers given with 80% confidence are right 80% of
    the time: accuracy equals confidence in every bin.  The bins are
    scikit-learn's ``calibration_curve(strategy="uniform")`` bins (an edge
    value belongs to the bin below it; the first bin includes 0), but that
    function returns neither the bin counts nor its empty bins, both of which
    a diagram and the expected calibration error need; so the binning is
    done here the same way, and a test checks it against scikit-learn.
    Empty bins have ``None`` confidence and accuracy.
    """
    conf, right = _confidences(confidences, correct)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = confidence_bins(conf, n_bins)
    count = np.bincount(bins, minlength=n_bins)
    conf_sum = np.bincount(bins, weights=conf, minlength=n_bins)
    right_sum = np.bincount(bins, weights=right, minlength=n_bins)
    return [{"lower": float(edges[i]), "upper": float(edges[i + 1]), "count": int(count[i]),
             "confidence": float(conf_sum[i] / count[i]) if count[i] else None,
             "accuracy": float(right_sum[i] / count[i]) if count[i] else None} for i in range(n_bins)]


def coverage_accuracy(confidences: Sequence[float], correct: Sequence[bool], steps: int = 10) -> list[dict]:
    """Accuracy when the model answers only its most confident share of examples (selective prediction).

    At coverage 0.3 the model abstains on all but its most confident 30% of
    examples (rounded up; equal confidences keep their input order); a
    useful confidence makes accuracy fall as coverage grows.  scikit-learn
    has no risk-coverage curve, and it is a sort and a running mean.
    """
    conf, right = _confidences(confidences, correct)
    hits = np.cumsum(right[np.argsort(-conf, kind="stable")])
    out = []
    for step in range(1, steps + 1):
        k = -(-step * conf.size // steps)  # ceil without float error: 0.3 * 10 is 3.0000000000000004
        out.append({"coverage": step / steps, "examples": int(k), "accuracy": float(hits[k - 1] / k) if k else None})
    return out
