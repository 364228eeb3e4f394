"""Macro recall: of each class's examples, the share predicted as that class, averaged over classes.

Also called balanced accuracy when every class occurs.  The classes are those
in the true or the predicted labels (scikit-learn's default); a class that
never occurs counts as recall 0 (``zero_division=0``).
"""

from ftlab.eval.metrics import Metric
from ftlab.eval.metrics._confusion import per_class, statistics


def compute(labels: list[str], predicted_labels: list[str]) -> float:
    from sklearn.metrics import recall_score

    return recall_score(labels, predicted_labels, average="macro", zero_division=0)


def from_statistics(summed) -> float:
    return float(per_class(summed)[1].mean())


ENTRY = Metric("recall_macro", "Recall averaged over classes (each class weighs the same), 0-1.", compute,
               needs=("labels", "predicted_labels"), statistics=statistics,
               from_statistics=from_statistics, kind="classification", order=2)
