"""Bootstrap resamples the fast way against re-scoring each resample with the library.

Prints, for 100 generated-looking answers (about 50 characters, English and
Chinese), the seconds 1000 resamples of corpus BLEU and chrF take from summed
sufficient statistics and by re-scoring with sacrebleu; and for 150 examples of
three classes, ROC AUC and average precision in numpy against scikit-learn,
and macro F1 from summed confusion cells against scikit-learn.  Each line ends
with the largest difference between the two sets of figures (they must agree).

    python benchmarks/bootstrap_speed.py
"""

from __future__ import annotations

import random
import time

from ftlab.eval import bootstrap
from ftlab.eval.metrics import METRICS


def answers(n: int, chinese: bool, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    words = ["天气", "很好", "我们", "学习", "模型", "数据"] if chinese else \
        ["bako", "has", "four", "letters", "starts", "with", "ends", "tumile"]
    join = "" if chinese else " "
    refs = [join.join(rng.choice(words) for _ in range(10)) for _ in range(n)]
    preds = [join.join(w if rng.random() < 0.7 else rng.choice(words) for w in (r if chinese else r.split())[:10])
             for r in refs]
    return preds, refs


def race(label: str, metric, inputs: dict, idx, fast_name: str, slow_name: str) -> None:
    """Time the metric's fast resampling path against re-scoring with its library on the same resamples."""
    fast = metric.on_resamples(inputs)
    slow = bootstrap.statistic(metric.compute, inputs)
    t0 = time.perf_counter()
    a = [fast(i) for i in idx]
    t1 = time.perf_counter()
    b = [slow(i) for i in idx]
    t2 = time.perf_counter()
    print(f"{label}: {fast_name} {t1 - t0:6.2f} s, {slow_name} {t2 - t1:6.2f} s; "
          f"largest difference {max(abs(x - y) for x, y in zip(a, b)):.2e}")


def main(n: int = 100, resamples: int = 1000) -> None:
    for chinese in (False, True):
        preds, refs = answers(n, chinese)
        inputs = {"predictions": preds, "references": refs}
        for name in ("bleu", "chrf"):
            race(f"{name:5s} {'zh' if chinese else 'en'}: {resamples} resamples of {n} answers", METRICS[name], inputs,
                 bootstrap._indices(n, resamples, 0), "sufficient statistics", "re-scoring")


def classification(n: int = 150, resamples: int = 1000) -> None:
    rng = random.Random(0)
    label_set = ["early", "middle", "late"]
    labels = [rng.choice(label_set) for _ in range(n)]
    raw = [[rng.random() + (1.0 if c == t else 0) for c in label_set] for t in labels]
    probabilities = [[x / sum(r) for x in r] for r in raw]
    predicted = [label_set[max(range(3), key=r.__getitem__)] for r in probabilities]
    everything = {"labels": labels, "label_set": label_set, "probabilities": probabilities,
                  "predicted_labels": predicted}
    idx = bootstrap._indices(n, resamples, 0)
    for name in ("roc_auc", "pr_auc", "f1_macro"):
        metric = METRICS[name]
        race(f"{name:8s}: {resamples} resamples of {n} examples, 3 classes", metric,
             {k: everything[k] for k in metric.needs}, idx, "fast", "scikit-learn")


if __name__ == "__main__":
    main()
    classification()
