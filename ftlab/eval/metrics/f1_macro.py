"""Macro F1: each class's F1 (harmonic mean of its precision and recall), averaged over classes.

The single figure for imbalanced classes: it falls when any class, however
small, is poorly served.  The classes are those in the true or the predicted
labels (scikit-learn's default); undefined per-class values count as 0
(``zero_division=0``).
"""

from ftlab.eval.metrics import Metric
from ftlab.eval.metrics._confusion import per_class, statistics


def compute(labels: list[str], predicted_labels: list[str]) -> float:
    from sklearn.metrics import f1_score

    return f1_score(labels, predicted_labels, average="macro", zero_division=0)


def from_statistics(summed) -> float:
    return float(per_class(summed)[2].mean())


ENTRY = Metric("f1_macro", "F1 averaged over classes (each class weighs the same), 0-1.", compute,
               needs=("labels", "predicted_labels"), statistics=statistics,
               from_statistics=from_statistics, kind="classification", order=3)
