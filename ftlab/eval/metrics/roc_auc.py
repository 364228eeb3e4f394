"""ROC AUC (scikit-learn): the chance that a random example of a class is ranked above one outside it.

Reads the probabilities, not the predicted labels, so it shows whether the
model orders examples well whatever the decision threshold: 0.5 is chance,
1 a perfect ranking.  Two classes: the positive class is ``label_set[1]``
and its probability column is the score.  More classes: each class against
the rest, macro-averaged (``multi_class="ovr"``), which needs every row of
``probabilities`` to sum to 1.  Undefined (NaN, with scikit-learn's warning)
when a class has no example.
"""

import numpy as np

from ftlab.eval.diagnostics import one_vs_rest
from ftlab.eval.metrics import Metric
from ftlab.eval.metrics._ranking import roc_auc


def compute(labels: list[str], label_set: list[str], probabilities: list[list[float]]) -> float:
    from sklearn.metrics import roc_auc_score

    columns = one_vs_rest(labels, label_set, probabilities)
    if len(label_set) == 2:
        return roc_auc_score(*columns[label_set[1]])
    # scikit-learn takes the classes sorted only; a macro average is the same in any order.
    order = sorted(range(len(label_set)), key=lambda i: label_set[i])
    return roc_auc_score(labels, np.asarray(probabilities)[:, order], multi_class="ovr", average="macro",
                         labels=[label_set[i] for i in order])


ENTRY = Metric("roc_auc", "Area under the ROC curve (binary; one-vs-rest macro for more classes), 0-1.", compute,
               needs=("labels", "label_set", "probabilities"), resample=roc_auc, kind="classification", order=4)
