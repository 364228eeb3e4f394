"""``ftlab metrics FILE.jsonl`` gives what sacrebleu, rouge-score and scikit-learn give on the same rows."""

import json
import subprocess
import sys

import numpy as np
import pytest
from rouge_score.rouge_scorer import RougeScorer
from sacrebleu.metrics import BLEU, CHRF
from sklearn import metrics as skm

from ftlab.cli import main
from ftlab.eval.metrics import METRICS


def write(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
                    encoding="utf-8")
    return str(path)


def run(capsys, *argv):
    code = main(["metrics", *argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def fails(capsys, *argv) -> str:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("ftlab: error: ")
    return err[len("ftlab: error: "):].rstrip("\n")


GENERATION = [("The cat sat on the mat.", "the cat is on the mat"),
              ("Paris is the capital of France", "The capital of France is Paris."),
              ("42", "42")]


def test_generation_rows_get_every_generation_metric_as_the_libraries_compute_them(tmp_path, capsys):
    path = write(tmp_path / "answers.jsonl", [{"prediction": p, "reference": r} for p, r in GENERATION])
    code, out, _ = run(capsys, path)
    assert code == 0
    predictions, references = [p for p, _ in GENERATION], [r for _, r in GENERATION]
    rouge = RougeScorer(["rouge1", "rouge2", "rougeL"])
    per_row = [rouge.score(r, p) for p, r in GENERATION]
    expected = {
        "rows": 3, "exact_match": round(1 / 3, 4),
        "chrf": round(CHRF().corpus_score(predictions, [references]).score / 100, 4),
        # SQuAD token F1: {cat, sat, on, mat} vs {cat, is, on, mat} = 3/4; 5 of 5 words; 42 = 42
        "f1": round((0.75 + 1 + 1) / 3, 4),
        "bleu": round(BLEU(tokenize="13a").corpus_score(predictions, [references]).score / 100, 4),
        **{k: round(float(np.mean([s[k].fmeasure for s in per_row])), 4) for k in ("rouge1", "rouge2", "rougeL")}}
    assert out == expected


def test_chinese_rows_use_the_zh_tokenizer_and_chosen_metrics_only(tmp_path, capsys):
    rows = [("今天天气很好，我们去公园吧", "今天天气不错，我们去公园散步吧"), ("北京是中国的首都", "中国的首都是北京")]
    path = write(tmp_path / "zh.jsonl", [{"prediction": p, "reference": r} for p, r in rows])
    code, out, _ = run(capsys, path, "--metrics", "bleu, rouge1")
    assert code == 0
    bleu = BLEU(tokenize="zh").corpus_score([p for p, _ in rows], [[r for _, r in rows]]).score / 100
    assert out == {"rows": 2, "bleu": round(bleu, 4), "rouge1": out["rouge1"]}
    assert 0 < out["bleu"] < 1 and 0.5 < out["rouge1"] < 1


BINARY = [("pos", "pos", 0.9), ("neg", "pos", 0.6), ("neg", "neg", 0.2), ("pos", "neg", 0.4), ("pos", "pos", 0.8),
          ("neg", "neg", 0.1)]


def test_binary_rows_with_the_positive_class_probability(tmp_path, capsys):
    path = write(tmp_path / "binary.jsonl", [{"label": t, "predicted_label": p, "score": s} for t, p, s in BINARY])
    code, out, _ = run(capsys, path, "--label-set", "neg,pos")
    assert code == 0
    labels, predicted, positive = zip(*BINARY)
    truth = [t == "pos" for t in labels]
    confidence = [s if p == "pos" else 1 - s for _, p, s in BINARY]  # the probability of the predicted label
    correct = [t == p for t, p, _ in BINARY]
    assert out == {
        "rows": 6,
        "accuracy": round(skm.accuracy_score(labels, predicted), 4),
        "precision_macro": round(skm.precision_score(labels, predicted, average="macro", zero_division=0), 4),
        "recall_macro": round(skm.recall_score(labels, predicted, average="macro", zero_division=0), 4),
        "f1_macro": round(skm.f1_score(labels, predicted, average="macro", zero_division=0), 4),
        "roc_auc": round(skm.roc_auc_score(truth, positive), 4),
        "pr_auc": round(skm.average_precision_score(truth, positive), 4),
        "ece": round(METRICS["ece"].compute(confidence, correct), 4)}
    # ECE by hand: confidences .9 .6 .8 .6 .8 .9 (right, wrong, right, wrong, right, right); an edge is in
    # the bin below it: (0.8, 0.9]: .9 .9 right -> 2/6 * .1; (0.7, 0.8]: .8 .8 right -> 2/6 * .2;
    # (0.5, 0.6]: .6 .6 wrong -> 2/6 * .6
    assert out["ece"] == round(2 / 6 * 0.1 + 2 / 6 * 0.2 + 2 / 6 * 0.6, 4) == 0.3


THREE = ["bird", "cat", "dog"]
ROWS_3 = [("cat", "cat", [.1, .7, .2]), ("dog", "dog", [.1, .2, .7]), ("bird", "cat", [.3, .5, .2]),
          ("cat", "cat", [.2, .6, .2]), ("dog", "cat", [.1, .5, .4]), ("cat", "dog", [.2, .3, .5]),
          ("bird", "bird", [.6, .3, .1]), ("dog", "dog", [.2, .2, .6])]


def test_three_classes_with_scores_as_an_object_or_a_list(tmp_path, capsys):
    objects = write(tmp_path / "objects.jsonl", [{"label": t, "predicted_label": p, "scores": dict(zip(THREE, s))}
                                                 for t, p, s in ROWS_3])
    code, out, _ = run(capsys, objects)  # the classes are the first row's keys
    assert code == 0
    labels, predicted, probabilities = zip(*ROWS_3)
    scores = np.array(probabilities)
    assert out["roc_auc"] == round(skm.roc_auc_score(labels, scores, multi_class="ovr", labels=THREE), 4)
    assert out["pr_auc"] == round(float(np.mean([skm.average_precision_score(np.array(labels) == c, scores[:, i])
                                                 for i, c in enumerate(THREE)])), 4)
    assert out["f1_macro"] == round(skm.f1_score(labels, predicted, average="macro", zero_division=0), 4)
    assert out["accuracy"] == 0.625 and out["rows"] == 8
    lists = write(tmp_path / "lists.jsonl", [{"label": t, "predicted_label": p, "scores": s} for t, p, s in ROWS_3])
    assert run(capsys, lists, "--label-set", "bird,cat,dog")[1] == out
    reordered = write(tmp_path / "reordered.jsonl", [{"label": t, "predicted_label": p, "scores": s[::-1]}
                                                     for t, p, s in ROWS_3])
    assert run(capsys, reordered, "--label-set", "dog,cat,bird")[1] == out


def test_labels_without_probabilities_get_the_label_metrics(tmp_path, capsys):
    path = write(tmp_path / "labels.jsonl", [{"label": t, "predicted_label": p} for t, p, _ in ROWS_3])
    code, out, _ = run(capsys, path)
    assert code == 0 and list(out) == ["rows", "accuracy", "precision_macro", "recall_macro", "f1_macro"]


def test_an_auc_with_a_class_missing_prints_null_and_says_why(tmp_path, capsys):
    path = write(tmp_path / "one_class.jsonl", [{"label": "pos", "predicted_label": "pos", "score": s}
                                                for s in (0.9, 0.7)])
    code, out, err = run(capsys, path, "--label-set", "neg,pos", "--metrics", "roc_auc,accuracy")
    assert code == 0 and out == {"rows": 2, "roc_auc": None, "accuracy": 1.0}
    assert err == ("ftlab: note: roc_auc undefined on these rows, printed as null: an AUC ranks each class against "
                   "the others, so every class of the label set needs at least one row.\n")


# ---- bad input: one paragraph naming the file and row, exit status 2 ----

def test_a_row_without_a_reference(tmp_path, capsys):
    path = write(tmp_path / "answers.jsonl", [{"prediction": "a", "reference": "a"}, {"prediction": "b"}])
    assert fails(capsys, path) == ("answers.jsonl, line 2: no 'reference'; every generated-text row needs prediction "
                                   "and reference.")


def test_a_label_not_in_the_label_set(tmp_path, capsys):
    path = write(tmp_path / "pets.jsonl", [{"label": t, "predicted_label": p, "scores": s} for t, p, s in ROWS_3[:2]]
                 + [{"label": "fish", "predicted_label": "cat", "scores": [.2, .6, .2]}])
    assert fails(capsys, path, "--label-set", "bird,cat,dog") == (
        "pets.jsonl, line 3: label 'fish' is not in the label set bird, cat, dog (from --label-set).")
    path = write(tmp_path / "pets2.jsonl", [{"label": "cat", "predicted_label": "cow", "scores": {"cat": 1, "dog": 0}}])
    assert fails(capsys, path) == ("pets2.jsonl, line 1: predicted_label 'cow' is not in the label set cat, dog (from "
                                   "the first row's scores).")


def test_an_empty_file(tmp_path, capsys):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n")
    assert fails(capsys, str(path)) == (f'{path}: no rows; write one JSON object a line, e.g. {{"prediction": '
                                        f'"Paris", "reference": "Paris"}} or {{"label": "pos", "predicted_label": '
                                        f'"neg"}}.')


def test_invalid_json_names_the_line(tmp_path, capsys):
    path = write(tmp_path / "broken.jsonl", [{"prediction": "a", "reference": "a"}, '{"prediction": "b" "reference"}'])
    assert fails(capsys, path) == f"{path}, line 2: not valid JSON (Expecting ',' delimiter, column 20)."


def test_an_unknown_metric_gets_the_closest_name(tmp_path, capsys):
    path = write(tmp_path / "answers.jsonl", [{"prediction": "a", "reference": "a"}])
    assert fails(capsys, path, "--metrics", "exact_match,blue") == (
        f"unknown metric 'blue' (did you mean bleu?); choose one of {', '.join(METRICS)}.")


@pytest.mark.parametrize("rows, argv, message", [
    ([{"label": "yes", "predicted_label": "no", "score": 0.3}], [],
     ("{path}: 'score' is the probability of the positive class, the second of two; name both in order with "
      "--label-set NEGATIVE,POSITIVE (for example --label-set no,yes).")),
    ([{"label": "a", "predicted_label": "a", "scores": [0.5, 0.5]}], ["--label-set", "a,b,c"],
     "rows.jsonl, line 1: scores has 2 probabilities but --label-set names 3 classes."),
    ([{"label": "a", "predicted_label": "a", "scores": {"a": 0.5, "b": 0.4}}], [],
     "rows.jsonl, line 1: the scores sum to 0.9, not 1; give probabilities (a softmax over the classes)."),
    ([{"label": "a", "predicted_label": "b", "score": 0.2}, {"label": "b", "predicted_label": "b"}],
     ["--label-set", "a,b"],
     "rows.jsonl, line 2: no 'score'; the first row has one, and the AUCs and calibration need it in every row."),
    ([{"label": "a", "predicted_label": "b"}], ["--metrics", "roc_auc"],
     "{path}: metric 'roc_auc' needs a 'score' or 'scores' in every row, which these rows do not have."),
    ([{"question": "2+2?", "answer": "4"}], [],
     ("rows.jsonl, line 1: a row needs prediction and reference (generated text) or label and predicted_label "
      "(a classifier); this one has question, answer.")),
    ([{"prediction": "a", "reference": "a"}], ["--label-set", "a,b"],
     "{path}: --label-set is for classifier rows, but these rows hold generated text (prediction, reference)."),
    ([{"label": "a", "predicted_label": "b"}], ["--label-set", "a"],
     "--label-set 'a' must name two or more distinct classes."),
    ([{"label": "a", "predicted_label": "a", "score": 1.2}], ["--label-set", "a,b"],
     "rows.jsonl, line 1: 1.2 is not a probability between 0 and 1."),
    ([{"label": "a", "predicted_label": "a", "scores": {"a": 0.5, "b": 0.5}},
      {"label": "a", "predicted_label": "a", "scores": {"a": 0.5, "c": 0.5}}], [],
     "rows.jsonl, line 2: scores has the classes a, c but the first row's scores names a, b."),
], ids=["score-without-label-set", "list-length", "sum", "missing-score", "metric-needs", "unknown-kind",
        "label-set-on-text", "one-class", "not-a-probability", "other-classes"])
def test_other_bad_input(tmp_path, capsys, rows, argv, message):
    path = write(tmp_path / "rows.jsonl", rows)
    assert fails(capsys, path, *argv) == message.format(path=path)


def test_the_command_exits_with_status_2_and_one_line(tmp_path):
    path = write(tmp_path / "answers.jsonl", [{"prediction": "a"}])
    done = subprocess.run([sys.executable, "-m", "ftlab.cli", "metrics", path], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("ftlab: error: answers.jsonl, line 1: no 'reference'; every generated-text row needs "
                           "prediction and reference.\n")
