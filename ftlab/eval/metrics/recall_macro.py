"""Macro recall: of each class's examples, the share predicted as that class, averaged over classes.

Also called balanced accuracy when every class occurs.  The classes are those
in the true or the predicted labels (scikit-learn's default); a class that
never occurs counts as recall 0 (``zero_division=0``).
"""

from ftlab.eval.metrics import Metric


def compute(labels: list[str], predicted_labels: list[str]) -> float:
    from sklearn.metrics import recall_score

    return recall_score(labels, predicted_labels, average="macro", zero_division=0)


ENTRY = Metric("recall_macro", "Recall averaged over classes (each class weighs the same), 0-1.", compute,
               needs=("labels", "predicted_labels"), kind="classification", order=2)
