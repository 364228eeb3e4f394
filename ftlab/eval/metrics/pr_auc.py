"""PR AUC as average precision (scikit-learn): precision averaged over the recall levels of the ranking.

The ranking figure for a rare positive class: ROC AUC stays high when many
negatives are ranked above a few positives, average precision does not.
Its chance level is the share of positives, not 0.5.  Average precision
(the step-wise sum) rather than a trapezoid under the PR curve, which is
optimistic.  Two classes: the positive class is ``label_set[1]``.  More
classes: each class against the rest, macro-averaged.
"""

from ftlab.eval.diagnostics import one_vs_rest
from ftlab.eval.metrics import Metric
from ftlab.eval.metrics._ranking import average_precision


def compute(labels: list[str], label_set: list[str], probabilities: list[list[float]]) -> float:
    from sklearn.metrics import average_precision_score
    from sklearn.preprocessing import label_binarize

    columns = one_vs_rest(labels, label_set, probabilities)
    if len(label_set) == 2:
        return average_precision_score(*columns[label_set[1]])
    return average_precision_score(label_binarize(labels, classes=list(label_set)), probabilities, average="macro")


ENTRY = Metric("pr_auc", "Average precision (area under the PR curve; one-vs-rest macro), 0-1.", compute,
               needs=("labels", "label_set", "probabilities"), resample=average_precision, kind="classification", order=5)
