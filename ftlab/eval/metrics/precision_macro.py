"""Macro precision: of the examples predicted as a class, the share that are, averaged over classes.

Every class weighs the same however rare it is, so a model that never
predicts the small class cannot hide behind the big one.  The classes are
those in the true or the predicted labels (scikit-learn's default); a class
never predicted counts as precision 0 (``zero_division=0``) instead of
raising a warning.
"""

from ftlab.eval.metrics import Metric
from ftlab.eval.metrics._confusion import per_class, statistics


def compute(labels: list[str], predicted_labels: list[str]) -> float:
    from sklearn.metrics import precision_score

    return precision_score(labels, predicted_labels, average="macro", zero_division=0)


def from_statistics(summed) -> float:
    return float(per_class(summed)[0].mean())


ENTRY = Metric("precision_macro", "Precision averaged over classes (each class weighs the same), 0-1.", compute,
               needs=("labels", "predicted_labels"), statistics=statistics,
               from_statistics=from_statistics, kind="classification", order=1)
