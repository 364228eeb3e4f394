"""The evaluation stage: intervals, paired comparisons, suites, the timeline, eval.json at the end of training."""

import json
import random

import pytest

import ftlab
from ftlab.config import Config
from ftlab.data.records import Record
from ftlab.data.sources import load_data
from ftlab.errors import FtlabError
from ftlab.eval import bootstrap
from ftlab.eval.evaluation import evaluate, evaluate_split
from ftlab.eval.paired import char_diff, compare
from ftlab.eval.suites.safety import is_refusal
from ftlab.eval.timeline import timeline_rows
from ftlab.models.loader import load_model, load_tokenizer


@pytest.fixture(scope="module")
def tiny():
    return load_model("ftlab/tiny-chat"), load_tokenizer("ftlab/tiny-chat")


def qa(question, answer, where="row"):
    return Record("qa", [{"role": "user", "content": question}, {"role": "assistant", "content": answer}],
                  meta={"where": where})


def test_bootstrap_interval_covers_the_rate_and_wilson_stays_in_bounds():
    rng = random.Random(0)
    scores = [float(rng.random() < 0.3) for _ in range(400)]
    mean = sum(scores) / len(scores)
    lo, hi = bootstrap.interval(lambda idx: sum(scores[i] for i in idx) / len(idx), len(scores), 500)
    assert lo < mean < hi and 0.05 < hi - lo < 0.12  # about +-2 standard errors of a 0.3 rate on 400 items
    assert bootstrap.wilson(0, 20)[0] == 0.0 and 0 < bootstrap.wilson(0, 20)[1] < 0.2
    assert bootstrap.wilson(20, 20)[1] == 1.0


def test_the_per_example_shortcut_is_taken_only_where_it_equals_the_metric():
    exact = bootstrap.statistic(lambda predictions, references: sum(p == r for p, r in zip(predictions, references))
                                / len(references), {"predictions": ["a", "b"], "references": ["a", "c"]}, [1.0, 0.0])
    assert exact([0, 0, 1]) == pytest.approx(2 / 3)
    calls = []

    def corpus(predictions, references):  # not a mean of per-example scores
        calls.append(1)
        return 0.5

    stat = bootstrap.statistic(corpus, {"predictions": ["a", "b"], "references": ["a", "c"]}, [1.0, 1.0])
    assert stat([0, 1]) == 0.5 and len(calls) == 2  # recomputed, not averaged


@pytest.mark.parametrize("name", ["bleu", "chrf"])
def test_corpus_metrics_resample_from_summed_statistics_with_the_figures_rescoring_gives(name):
    from ftlab.eval.metrics import METRICS

    metric = METRICS[name]
    preds = ["bako has 4 letters", "今天天气很好", "tumile ends with e", "x", "sorap starts with s"]
    refs = ["bako has four letters", "今天天气不错", "tumile ends with e", "dene", "sorap starts with s!"]
    inputs = {"predictions": preds, "references": refs}
    calls = []
    slow = bootstrap.statistic(lambda **kw: calls.append(1) or metric.compute(**kw), inputs)
    fast = bootstrap.statistic(lambda **kw: calls.append(1) or metric.compute(**kw), inputs, None,
                               metric.statistics, metric.from_statistics)
    before = len(calls)
    for idx in bootstrap._indices(len(preds), 50, seed=3):
        assert fast(idx) == pytest.approx(slow(idx), abs=1e-12)
    assert len(calls) - before == 50  # only the slow path re-scored texts


@pytest.mark.parametrize("name", ["precision_macro", "recall_macro", "f1_macro", "ece"])
def test_classification_metrics_resample_from_summed_statistics_as_scikit_learn_scores_them(name):
    import random

    from ftlab.eval.metrics import METRICS

    metric, rng = METRICS[name], random.Random(1)
    labels = [rng.choice("abc") for _ in range(40)]
    inputs = {"labels": labels, "predicted_labels": [t if rng.random() < 0.6 else rng.choice("abcd") for t in labels],
              "confidences": [rng.random() for _ in labels], "correct": [rng.random() < 0.6 for _ in labels]}
    inputs = {k: inputs[k] for k in metric.needs}
    slow = bootstrap.statistic(metric.compute, inputs)
    fast = bootstrap.statistic(metric.compute, inputs, None, metric.statistics, metric.from_statistics)
    assert fast is not slow and fast.__name__ != "recompute"
    for idx in bootstrap._indices(len(labels), 200, seed=5):  # resamples missing a class or a bin included
        assert fast(idx) == pytest.approx(slow(idx), abs=1e-12)


@pytest.mark.parametrize("name", ["roc_auc", "pr_auc"])
@pytest.mark.parametrize("label_set", [["no", "yes"], ["early", "middle", "late"]])
def test_ranking_metrics_resample_fast_with_scikit_learns_figures(name, label_set):
    import random

    from ftlab.eval.metrics import METRICS

    metric, rng = METRICS[name], random.Random(2)
    labels = [rng.choice(label_set) for _ in range(30)]
    raw = [[round(rng.random(), 1) + (0.5 if c == t else 0) for c in label_set] for t in labels]  # ties included
    inputs = {"labels": labels, "label_set": label_set, "probabilities": [[x / sum(r) for x in r] for r in raw]}
    slow = bootstrap.statistic(metric.compute, inputs)
    fast = bootstrap.statistic(metric.compute, inputs, resample=metric.resample)
    assert fast.__name__ == "fast"
    for idx in bootstrap._indices(len(labels), 200, seed=7):  # some resamples miss a class: scikit-learn decides
        a, b = fast(idx), slow(idx)
        assert a == pytest.approx(b, abs=1e-12) or (a != a and b != b)


def test_evaluation_reports_every_applicable_metric_with_an_interval(tiny):
    model, tokenizer = tiny
    records = [qa(f"Repeat: {w}", w, f"row {i}") for i, w in enumerate(["bako", "tumile", "sorap", "dene", "vilu"])]
    report = evaluate(model, tokenizer, records, resamples=200)
    assert report.metrics["exact_match"] == 1.0 and report.metrics["perplexity"] < 1.5
    assert {"exact_match", "chrf", "perplexity", "latency_p50", "tokens_per_second"} <= set(report.metrics)
    assert report.intervals["chrf"][0] <= report.metrics["chrf"] <= report.intervals["chrf"][1]
    assert "latency_p50" not in report.intervals  # a cost, not an estimate of a rate
    sample = report.samples()[0]
    assert sample["question"] == "Repeat: bako" and sample["scores"]["exact_match"] == 1.0
    assert 0 < sample["confidence"] <= 1


def test_classification_scores_every_label(tiny):
    model, tokenizer = tiny
    config = Config().override(["data.task=letter_group", "data.n_train=30", "data.n_validation=5", "data.n_test=24",
                                "eval.resamples=100"])
    data = load_data(config.data)
    assert data.labels == ["early", "middle", "late"]
    report = evaluate_split(model, tokenizer, config, data)
    assert report.labels == data.labels and len(report.probabilities) == 24
    assert all(abs(sum(row) - 1) < 1e-6 for row in report.probabilities)
    assert 0 <= report.metrics["exact_match"] <= 1 and report.samples()[0]["probabilities"].keys() == {
        "early", "middle", "late"}


def test_paired_comparison_counts_wins_and_orders_the_changes(tiny):
    model, tokenizer = tiny
    words = ["bako", "tumile", "sorap", "dene", "vilu", "kara"]
    right = [qa(f"Repeat: {w}", w) for w in words]
    good = evaluate(model, tokenizer, right, resamples=200, name="good")
    bad_model_answers = evaluate(model, tokenizer, [qa(f"Reverse: {w}", w) for w in words], resamples=200)
    bad = evaluate(model, tokenizer, right, resamples=0, name="bad")
    bad.predictions = bad_model_answers.predictions  # the same items, answered by "another model"
    bad.inputs["predictions"] = bad.predictions
    bad.per_example = {"exact_match": [float(p == r) for p, r in zip(bad.predictions, bad.references)]}
    bad.metrics = {"exact_match": sum(bad.per_example["exact_match"]) / len(words)}
    paired = compare(good, bad, resamples=200)
    assert paired.item_score == "exact_match"
    assert paired.wins + paired.ties + paired.losses == len(words) and paired.wins >= 4 and paired.losses == 0
    diff = paired.differences["exact_match"]
    assert diff["difference"] > 0.5 and diff["interval"][0] > 0  # the gain's interval excludes zero
    assert paired.changes[0]["change"] == 1.0
    with pytest.raises(FtlabError, match="were not evaluated on the same examples"):
        compare(good, evaluate(model, tokenizer, right[:3], resamples=0))


def test_char_diff_marks_missing_and_extra_characters():
    assert char_diff("hello", "hallo!") == [["equal", "h"], ["delete", "e"], ["insert", "a"], ["equal", "llo"],
                                            ["insert", "!"]]


def test_refusals_are_detected_in_english_and_chinese():
    assert is_refusal("I can't help with that.") and is_refusal("Sorry, I cannot do this") and is_refusal("抱歉，我不能")
    assert not is_refusal("Sure! Here is a poem.") and not is_refusal("It cannot be done in one step, but...")


def test_timeline_marks_what_changed_and_what_is_right():
    rows = timeline_rows([
        {"step": 10, "answers": [{"prompt": "p", "reference": "abc", "answer": "abd"},
                                 {"prompt": "q", "reference": "x", "answer": "x"}]},
        {"step": 0, "answers": [{"prompt": "p", "reference": "abc", "answer": "zz"},
                                {"prompt": "q", "reference": "x", "answer": "x"}]}])
    assert [r["step"] for r in rows] == [0, 10]
    assert rows[1]["changed"] == [True, False] and rows[1]["right"] == [False, True]


def test_training_ends_with_eval_json_and_a_timeline(small_config):
    result = ftlab.train(small_config("eval.at_end=true", "eval.suites=[safety]", "eval.resamples=100",
                                      "eval.timeline_prompts=3"))
    run = result.run
    record = json.loads((run.path / "eval.json").read_text())
    assert record["split"] == "test" and record["n"] == 32 and record["data_version"]
    assert set(record["metrics"]) >= {"exact_match", "chrf", "perplexity"}
    assert result.results["eval"]["exact_match"] == record["metrics"]["exact_match"]
    assert set(record["suites"]["safety"]["figures"]) == {"refused_harmful", "refused_benign"}
    assert len((run.path / "eval_samples.jsonl").read_text().splitlines()) == 32
    steps = [row["step"] for row in run.read("generations")]
    assert steps == [0, 15, 30] and len(run.read("generations")[0]["answers"]) == 3


def test_bad_input_is_explained(tmp_path, tiny):
    model, tokenizer = tiny
    with pytest.raises(FtlabError, match="the test split has no examples to evaluate"):
        evaluate(model, tokenizer, [], name="x")
    run = tmp_path / "failed-run"
    run.mkdir()
    Config().save(run / "config.yaml")
    (run / "results.json").write_text('{"status": "failed"}')
    with pytest.raises(FtlabError, match=r"failed-run is a run directory without a final/ model \(status failed\)"):
        ftlab.evaluate(run)
    train = tmp_path / "reviews.jsonl"
    test = tmp_path / "reviews_test.jsonl"
    train.write_text("".join(json.dumps({"text": f"t{i}", "label": ["good", "bad"][i % 2]}) + "\n" for i in range(8)))
    test.write_text(json.dumps({"text": "t", "label": "neutral"}) + "\n")
    config = Config().override([f"data.train_file={train}", f"data.test_file={test}"])
    with pytest.raises(FtlabError, match=r"reviews_test.jsonl, line 1: label 'neutral' never appears in the training "
                                         r"split"):
        evaluate_split(model, tokenizer, config, load_data(config.data))
