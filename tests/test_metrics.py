"""Every metric against the library that defines it, computed here on the same rows; Chinese text; diagnostics."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from rouge_score.rouge_scorer import RougeScorer
from sacrebleu.metrics import BLEU
from sklearn import metrics as skm

from ftlab.errors import FtlabError
from ftlab.eval import diagnostics
from ftlab.eval.metrics import METRICS, score

ENGLISH = (["The cat sat on the mat.", "A quick brown fox jumps over the dog", "It is raining today",
            "Paris is the capital of France"],
           ["the cat is on the mat", "The quick brown fox jumped over the lazy dog.", "Today it rains",
            "The capital of France is Paris."])
CHINESE = (["今天天气很好，我们去公园吧", "他喜欢读书", "北京是中国的首都"],
           ["今天天气不错，我们去公园散步吧", "他爱看书", "中国的首都是北京"])
MIXED = (["我喜欢 Python 编程", "请打开 settings 页面"], ["我喜欢Python。", "请打开设置页面"])


def by_char(text):
    """Independent tokenizer for text made only of Chinese characters: one token each."""
    return list(text)


# ---- generation ----

@pytest.mark.parametrize("rows", [ENGLISH, CHINESE, MIXED], ids=["english", "chinese", "mixed"])
def test_bleu_is_sacrebleu_corpus_bleu_with_13a_or_zh(rows):
    predictions, references = rows
    tokenize = "13a" if rows is ENGLISH else "zh"
    expected = BLEU(tokenize=tokenize).corpus_score(predictions, [references]).score / 100
    assert METRICS["bleu"].compute(predictions, references) == expected
    sentence = BLEU(tokenize=tokenize, effective_order=True).sentence_score(predictions[0], [references[0]])
    assert METRICS["bleu"].per_example(predictions[0], references[0]) == sentence.score / 100


@pytest.mark.parametrize("kind", ["rouge1", "rouge2", "rougeL"])
def test_rouge_on_english_is_rouge_score_with_its_default_tokenizer(kind):
    scorer = RougeScorer([kind])
    per_row = [scorer.score(r, p)[kind].fmeasure for p, r in zip(*ENGLISH)]
    assert METRICS[kind].compute(*ENGLISH) == pytest.approx(np.mean(per_row), abs=1e-12)
    assert [METRICS[kind].per_example(p, r) for p, r in zip(*ENGLISH)] == per_row


@pytest.mark.parametrize("kind", ["rouge1", "rouge2", "rougeL"])
def test_rouge_on_chinese_counts_characters_as_rouge_score_does_with_a_character_tokenizer(kind):
    predictions, references = ["今天天气很好", "他喜欢读书"], ["今天天气不错", "他爱看书"]
    scorer = RougeScorer([kind], tokenizer=SimpleNamespace(tokenize=by_char))
    expected = np.mean([scorer.score(r, p)[kind].fmeasure for p, r in zip(predictions, references)])
    assert METRICS[kind].compute(predictions, references) == pytest.approx(expected, abs=1e-12)
    assert RougeScorer([kind]).score("今天天气不错", "今天天气很好")[kind].fmeasure == 0  # why ftlab passes a tokenizer


def test_rouge_scores_a_chinese_paraphrase_by_hand():
    # 今 天 天 气 很 好 / 今 天 天 气 不 错: 4 of 6 characters, 3 of 5 pairs, common subsequence 今天天气
    found = score(["rouge1", "rouge2", "rougeL"], predictions=["今天天气很好"], references=["今天天气不错"])
    assert found == {"rouge1": 0.6667, "rouge2": 0.6, "rougeL": 0.6667}
    # mixed text: English words through rouge-score's own rules (lower-cased, punctuation dropped)
    assert METRICS["rouge1"].per_example("我喜欢 Python!", "我喜欢python") == 1.0


def test_f1_follows_squad_normalisation():
    f1 = METRICS["f1"].per_example
    assert f1("the Eiffel Tower!", "Eiffel tower") == 1.0  # case, punctuation and articles do not count
    assert f1("in Paris, France", "Paris") == 0.5  # precision 1/3, recall 1
    assert f1("London", "Paris") == 0.0
    assert f1("", "") == 1.0 and f1("", "Paris") == 0.0 and f1("the", "Paris") == 0.0
    assert METRICS["f1"].compute(["in Paris, France", "London"], ["Paris", "Paris"]) == 0.25


def test_f1_reads_chinese_by_character_and_english_by_word():
    f1 = METRICS["f1"].per_example
    assert f1("今天天气很好", "今天天气不错") == pytest.approx(4 / 6)  # 今 天 天 气 shared
    assert f1("今天天气很好。", "今天天气很好") == 1.0  # Chinese punctuation goes too
    # 我 喜 欢 python 编 程 against 我 喜 欢 python: precision 4/6, recall 1
    assert f1("我喜欢 Python 编程", "我喜欢Python。") == pytest.approx(0.8)


@pytest.mark.parametrize("name", ["f1", "bleu", "rouge1", "rouge2", "rougeL"])
def test_chinese_paraphrase_scores_between_0_and_1_and_identical_text_1(name):
    metric = METRICS[name]
    paraphrase = metric.compute(*CHINESE)
    assert 0 < paraphrase < 1
    assert 0 < metric.per_example(CHINESE[0][0], CHINESE[1][0]) < 1
    assert metric.compute(CHINESE[1], CHINESE[1]) == pytest.approx(1.0)
    assert 0 < metric.compute(*MIXED) < 1 and metric.compute(MIXED[1], MIXED[1]) == pytest.approx(1.0)


# ---- classification ----

LABELS = ["cat", "dog", "bird", "cat", "dog", "cat", "bird", "dog"]
PREDICTED = ["cat", "dog", "cat", "cat", "cat", "dog", "bird", "dog"]
LABEL_SET = ["bird", "cat", "dog"]
PROBABILITIES = [[.1, .7, .2], [.1, .2, .7], [.3, .5, .2], [.2, .6, .2], [.1, .5, .4], [.2, .3, .5], [.6, .3, .1],
                 [.2, .2, .6]]
BINARY = (["pos", "neg", "pos", "neg", "neg", "pos"], ["pos", "neg", "neg", "pos", "neg", "pos"],
          [.9, .2, .4, .6, .1, .7])


def test_label_metrics_are_scikit_learns_with_zero_division_0():
    found = score(labels=LABELS, predicted_labels=PREDICTED, digits=12)
    assert found == {
        "accuracy": round(skm.accuracy_score(LABELS, PREDICTED), 12),
        "precision_macro": round(skm.precision_score(LABELS, PREDICTED, average="macro", zero_division=0), 12),
        "recall_macro": round(skm.recall_score(LABELS, PREDICTED, average="macro", zero_division=0), 12),
        "f1_macro": round(skm.f1_score(LABELS, PREDICTED, average="macro", zero_division=0), 12)}
    assert found["accuracy"] == 0.625


def test_a_class_never_predicted_counts_as_precision_0():
    # "b" is never predicted: precision a = 2/3, b = 0 -> 1/3; recall a = 1, b = 0 -> 1/2
    found = score(["precision_macro", "recall_macro"], labels=["a", "a", "b"], predicted_labels=["a", "a", "a"])
    assert found == {"precision_macro": 0.3333, "recall_macro": 0.5}


def test_binary_aucs_score_the_positive_class_label_set_1():
    labels, _, positive = BINARY
    probabilities = [[1 - p, p] for p in positive]
    truth = [label == "pos" for label in labels]
    found = score(["roc_auc", "pr_auc"], labels=labels, label_set=["neg", "pos"], probabilities=probabilities,
                  digits=12)
    assert found == {"roc_auc": round(skm.roc_auc_score(truth, positive), 12),
                     "pr_auc": round(skm.average_precision_score(truth, positive), 12)}
    assert found["roc_auc"] == pytest.approx(8 / 9)  # one of 9 (pos, neg) pairs misordered: 0.4 < 0.6
    flipped = score(["roc_auc"], labels=labels, label_set=["pos", "neg"], probabilities=probabilities)
    assert flipped["roc_auc"] == pytest.approx(1 / 9, abs=1e-4)  # the column of label_set[1] is the score


def test_multiclass_aucs_are_one_vs_rest_macro_averages():
    found = score(["roc_auc", "pr_auc"], labels=LABELS, label_set=LABEL_SET, probabilities=PROBABILITIES, digits=12)
    roc = skm.roc_auc_score(LABELS, PROBABILITIES, multi_class="ovr", labels=LABEL_SET)
    scores = np.array(PROBABILITIES)
    per_class_ap = [skm.average_precision_score(np.array(LABELS) == c, scores[:, i]) for i, c in enumerate(LABEL_SET)]
    assert found == {"roc_auc": round(roc, 12), "pr_auc": round(float(np.mean(per_class_ap)), 12)}
    # scikit-learn takes only sorted classes for ROC AUC; any order of the label set gives the same averages
    reversed_columns = [row[::-1] for row in PROBABILITIES]
    assert score(["roc_auc", "pr_auc"], labels=LABELS, label_set=LABEL_SET[::-1], probabilities=reversed_columns,
                 digits=12) == found


def test_auc_inputs_must_match_the_label_set():
    with pytest.raises(FtlabError, match=r"^label 'fish' is not in the label set \['bird', 'cat', 'dog'\]; add it"):
        METRICS["roc_auc"].compute(["fish"], LABEL_SET, [[.2, .3, .5]])
    with pytest.raises(FtlabError, match=r"one column per class of the label set \['bird', 'cat', 'dog'\] \(at least "
                                         r"two\); got shape \(1, 2\)"):
        METRICS["pr_auc"].compute(["cat"], LABEL_SET, [[.2, .8]])


# ---- uncertainty ----

CONFIDENCES = [0.95, 0.95, 0.85, 0.65, 0.7, 0.25]
CORRECT = [True, False, True, True, False, False]


def test_ece_by_hand():
    # bins (0.9, 1]: 2 answers, confidence .95, accuracy .5 -> 2/6 * .45 = .15
    #      (0.8, .9]: 1, .85, 1 -> 1/6 * .15 = .025
    #      (0.6, .7]: 2 (0.7 is the bin's upper edge), .675, .5 -> 2/6 * .175 = .058333
    #      (0.2, .3]: 1, .25, 0 -> 1/6 * .25 = .041667
    assert METRICS["ece"].compute(CONFIDENCES, CORRECT) == pytest.approx(0.275)
    assert METRICS["ece"].compute([0.8] * 5, [True] * 4 + [False]) == pytest.approx(0.0)  # right 4 times in 5 at 0.8
    assert METRICS["ece"].higher_is_better is False and METRICS["ece"].kind == "uncertainty"


def test_reliability_bins_are_scikit_learns_calibration_curve_bins_with_counts():
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(0)
    confidences = np.concatenate([rng.uniform(0, 1, 200), np.linspace(0, 1, 11)])  # edges included
    correct = rng.uniform(0, 1, confidences.size) < confidences
    bins = diagnostics.reliability(confidences, correct)
    accuracy, confidence = calibration_curve(correct, confidences, n_bins=10, strategy="uniform")
    filled = [b for b in bins if b["count"]]
    assert [b["accuracy"] for b in filled] == pytest.approx(list(accuracy), abs=1e-12)
    assert [b["confidence"] for b in filled] == pytest.approx(list(confidence), abs=1e-12)
    assert sum(b["count"] for b in bins) == confidences.size


def test_reliability_lists_every_bin_with_none_where_empty():
    bins = diagnostics.reliability(CONFIDENCES, CORRECT)
    assert [b["count"] for b in bins] == [0, 0, 1, 0, 0, 0, 2, 0, 1, 2]
    assert bins[6] == {"lower": 0.6000000000000001, "upper": 0.7000000000000001, "count": 2, "confidence": 0.675,
                       "accuracy": 0.5}
    assert bins[0]["confidence"] is None and bins[0]["accuracy"] is None
    with pytest.raises(FtlabError, match=r"^confidences are probabilities between 0 and 1; found 1.5\.$"):
        diagnostics.reliability([0.5, 1.5], [True, False])


def test_accuracy_against_coverage_keeps_the_most_confident_answers():
    curve = diagnostics.coverage_accuracy(CONFIDENCES, CORRECT)
    assert [c["coverage"] for c in curve] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    # by confidence: .95 right, .95 wrong, .85 right, .7 wrong, .65 right, .25 wrong; k = ceil(coverage * 6)
    assert [c["examples"] for c in curve] == [1, 2, 2, 3, 3, 4, 5, 5, 6, 6]
    assert [c["accuracy"] for c in curve] == pytest.approx([1, .5, .5, 2 / 3, 2 / 3, .5, .6, .6, .5, .5])


# ---- classification diagnostics ----

def test_confusion_matrix_in_the_stated_order():
    assert diagnostics.confusion(LABELS, PREDICTED, LABEL_SET) == {
        "labels": ["bird", "cat", "dog"], "matrix": [[1, 1, 0], [0, 2, 1], [0, 1, 2]]}
    reordered = diagnostics.confusion(LABELS, PREDICTED, ["dog", "cat", "bird"])
    assert reordered["matrix"] == skm.confusion_matrix(LABELS, PREDICTED, labels=["dog", "cat", "bird"]).tolist()
    assert diagnostics.confusion(["b", "a"], ["a", "a"])["labels"] == ["a", "b"]  # no label set: sorted
    with pytest.raises(FtlabError, match=r"^label 'fish' is not in the label set \['bird', 'cat', 'dog'\]; add it to "
                                         r"the label set or correct the label\.$"):
        diagnostics.confusion(LABELS, PREDICTED[:-1] + ["fish"], LABEL_SET)


def test_per_class_figures_are_scikit_learns_classification_report():
    report = skm.classification_report(LABELS, PREDICTED, labels=LABEL_SET, output_dict=True, zero_division=0)
    rows = diagnostics.per_class(LABELS, PREDICTED, LABEL_SET)
    assert [r["label"] for r in rows] == LABEL_SET
    for row in rows:
        expected = report[row["label"]]
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == (
            expected["precision"], expected["recall"], expected["f1-score"], expected["support"])
    assert rows[0] == {"label": "bird", "precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}


def test_roc_and_pr_points_are_scikit_learns_curves_as_plain_lists():
    labels, _, positive = BINARY
    probabilities = [[1 - p, p] for p in positive]
    truth = [label == "pos" for label in labels]
    roc = diagnostics.roc_points(labels, ["neg", "pos"], probabilities)
    fpr, tpr, thresholds = skm.roc_curve(truth, positive)
    assert list(roc) == ["pos"]
    assert roc["pos"]["fpr"] == list(fpr) and roc["pos"]["tpr"] == list(tpr)
    assert roc["pos"]["thresholds"] == [None] + list(thresholds[1:])  # scikit-learn's first threshold is inf
    assert math.isinf(thresholds[0])
    pr = diagnostics.pr_points(labels, ["neg", "pos"], probabilities)
    precision, recall, pr_thresholds = skm.precision_recall_curve(truth, positive)
    assert pr["pos"] == {"precision": list(precision), "recall": list(recall), "thresholds": list(pr_thresholds)}
    multi = diagnostics.roc_points(LABELS, LABEL_SET, PROBABILITIES)
    assert list(multi) == LABEL_SET  # one curve per class against the rest
    fpr, tpr, _ = skm.roc_curve(np.array(LABELS) == "dog", np.array(PROBABILITIES)[:, 2])
    assert multi["dog"]["fpr"] == list(fpr) and multi["dog"]["tpr"] == list(tpr)
