"""Accuracy: the share of examples whose predicted label is the true one (scikit-learn).

The headline figure for a classifier, and a misleading one when one class
dominates: read it next to ``f1_macro``.
"""

from ftlab.eval.metrics import Metric


def compute(labels: list[str], predicted_labels: list[str]) -> float:
    from sklearn.metrics import accuracy_score

    return accuracy_score(labels, predicted_labels)


ENTRY = Metric("accuracy", "Share of examples given their true label, 0-1.", compute,
               needs=("labels", "predicted_labels"), kind="classification", order=0)
