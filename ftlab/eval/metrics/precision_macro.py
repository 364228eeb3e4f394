"""Macro precision: of the examples predicted as a class, the share that are, averaged over classes.

Every class weighs the same however rare it is, so a model that never
predicts the small class cannot hide behind the big one.  The classes are
those in the true or the predicted labels (scikit-learn's default); a class
never predicted counts as precision 0 (``zero_division=0``) instead of
raising a warning.
"""

from ftlab.eval.metrics import Metric


def compute(labels: list[str], predicted_labels: list[str]) -> float:
    from sklearn.metrics import precision_score

    return precision_score(labels, predicted_labels, average="macro", zero_division=0)


ENTRY = Metric("precision_macro", "Precision averaged over classes (each class weighs the same), 0-1.", compute,
               needs=("labels", "predicted_labels"), kind="classification", order=1)
