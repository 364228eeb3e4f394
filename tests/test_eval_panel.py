"""The evaluation panel over real evaluation output: figures, tabs, best/worst samples, the drill-down, static HTML.

One module-scoped evaluation serves every test: the built-in model on the
cipher task against a copy of itself with perturbed weights (so the paired
differences, wins and changed items are real and not all ties), with both
probe suites and a few people's ratings; and the built-in model on the
``letter_group`` classification task, which brings a confusion matrix and
ROC / PR curves.  No training: the whole module runs in seconds.
"""

import json

import pytest

import ftlab
from ftlab.config import Config
from ftlab.errors import FtlabError
from ftlab.eval.ratings import RatingLog
from ftlab.files import read_jsonl
from ftlab.models.tiny import BUILTIN_MODEL

NOISY = "noisy-tiny-chat"
NOISE = 0.3  # relative to each weight tensor's spread: enough to change answers and perplexity surely


def _noisy_copy(folder):
    """The built-in model with Gaussian noise on every weight, saved as a model folder."""
    import torch

    from ftlab.models.loader import load_model, load_tokenizer

    model, tokenizer = load_model(BUILTIN_MODEL), load_tokenizer(BUILTIN_MODEL)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator) * NOISE * parameter.std().nan_to_num(0))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval_panel")
    other = str(_noisy_copy(root / NOISY))
    config = Config().override(["data.n_train=64", "data.n_validation=16", "data.n_test=24", "eval.resamples=100"])
    ftlab.evaluate(BUILTIN_MODEL, n=16, against=[other], suites=["general_skills", "safety"], config=config,
                   out=root / "generation")
    log = RatingLog(root / "generation", [{"id": i, "prompt": f"q{i}", "a": "x", "b": "y"} for i in range(4)],
                    ("tiny", "noisy"))
    for i, choice in enumerate(["a", "a", "tie", "b"]):
        log.record(i, choice, score_a=4, score_b=3)
    classes = Config().override(["data.task=letter_group", "data.n_train=64", "data.n_validation=16",
                                 "data.n_test=32", "eval.resamples=100"])
    ftlab.evaluate(BUILTIN_MODEL, n=24, config=classes, out=root / "classification")
    return {"generation": root / "generation", "classification": root / "classification", "other": other}


@pytest.fixture(scope="module")
def panel(evaluated):
    from ftlab.widgets import EvalPanel

    return EvalPanel(evaluated["generation"])


def test_the_metric_table_holds_the_figures_of_eval_json(evaluated, panel):
    from ftlab.widgets.eval_panel import metric_rows

    record = json.loads((evaluated["generation"] / "eval.json").read_text())
    rows = metric_rows(record)
    assert [r["metric"] for r in rows] == list(record["metrics"])
    for row in rows:
        assert row["value"] == record["metrics"][row["metric"]]
        assert [row["low"], row["high"]] == record["intervals"].get(row["metric"], [None, None])
        assert row["arrow"] == ("↑" if record["higher_is_better"][row["metric"]] else "↓")
    assert next(r for r in rows if r["metric"] == "perplexity")["arrow"] == "↓"
    assert next(r for r in rows if r["metric"] == "latency_p50")["low"] is None  # a cost figure has no interval


def test_differences_are_marked_significant_exactly_when_the_interval_excludes_zero(panel):
    from ftlab.widgets.eval_panel import difference_rows, verdict, win_summary

    other = next(iter(panel.record["against"]))
    rows = difference_rows(panel.record, other)
    with_interval = [r for r in rows if r["low"] is not None]
    assert with_interval and all(r["significant"] == (r["low"] > 0 or r["high"] < 0) for r in with_interval)
    assert any(r["significant"] for r in rows)  # the noisy copy is surely worse somewhere (perplexity, at least)
    wins = win_summary(panel.record, other)
    assert wins["wins"] + wins["ties"] + wins["losses"] == panel.record["n"]
    assert wins["low"] <= wins["win_rate"] <= wins["high"]
    assert verdict(0.1, [0.02, 0.2], True) == "better" and verdict(0.1, [0.02, 0.2], False) == "worse"
    assert verdict(-0.1, [-0.2, 0.05], True) == "no clear difference" and verdict(1.0, None) == ""
    assert list(panel.figures["wins"].data[0].x) == [wins["wins"]]


def test_tabs_are_those_with_data(panel, evaluated):
    from ftlab.widgets import EvalPanel

    assert panel.titles == ["Figures", "Calibration", "Samples", "Suites", "Ratings"]  # no classification
    assert [panel.tab.get_title(i) for i in range(len(panel.tab.children))] == panel.titles
    classifier = EvalPanel(evaluated["classification"])
    assert classifier.titles == ["Figures", "Classification", "Calibration", "Samples"]  # no suites, no ratings
    record = classifier.record
    heatmap = classifier.figures["confusion"].data[0]
    assert [list(row) for row in heatmap.z] == record["diagnostics"]["confusion"]["matrix"]
    assert list(heatmap.x) == record["labels"]
    roc_names = [trace.name for trace in classifier.figures["roc"].data if trace.name != "chance"]
    assert len(roc_names) == len(record["labels"]) and all("AUC" in name for name in roc_names)
    assert all("AP" in trace.name for trace in classifier.figures["pr"].data)


def test_per_class_areas_average_to_the_macro_aucs_of_eval_json(evaluated):
    from ftlab.widgets.eval_panel import curve_area

    record = json.loads((evaluated["classification"] / "eval.json").read_text())
    roc, pr = record["diagnostics"]["roc"], record["diagnostics"]["pr"]
    assert list(roc) == list(pr) == record["labels"]  # three classes: one curve each, one against the rest
    roc_areas = [curve_area(roc[c]["fpr"], roc[c]["tpr"]) for c in roc]
    pr_areas = [curve_area(pr[c]["recall"], pr[c]["precision"], steps=True) for c in pr]
    # scikit-learn's one-vs-rest macro averages, which eval.json holds rounded to 4 places
    assert sum(roc_areas) / len(roc_areas) == pytest.approx(record["metrics"]["roc_auc"], abs=1e-4)
    assert sum(pr_areas) / len(pr_areas) == pytest.approx(record["metrics"]["pr_auc"], abs=1e-4)


def test_calibration_draws_the_diagonal_and_the_filled_bins(panel):
    figure = panel.figures["reliability"]
    assert f"ECE {panel.record['metrics']['ece']:.3f}" in figure.layout.title.text
    diagonal, model = figure.data
    assert list(diagonal.x) == list(diagonal.y) == [0, 1]
    filled = [b for b in panel.record["diagnostics"]["reliability"] if b["count"]]
    assert list(model.x) == [b["confidence"] for b in filled] and list(model.y) == [b["accuracy"] for b in filled]
    coverage = panel.figures["coverage"].data[0]
    assert list(coverage.x) == [c["coverage"] for c in panel.record["diagnostics"]["coverage"]]


def test_the_score_dropdown_reorders_best_and_worst(panel):
    assert panel.score.options[0] == "chrf"  # the finest-grained per-item score comes first
    for score in panel.score.options:
        panel.score.value = score
        values = [s["scores"][score] for s in panel.data.samples]
        best = [panel.by_index[i]["scores"][score] for _, i in panel.best.options]
        worst = [panel.by_index[i]["scores"][score] for _, i in panel.worst.options]
        assert best[0] == max(values) and worst[0] == min(values)
        assert best == sorted(best, reverse=True) and worst == sorted(worst)
        assert len(best) == min(panel.k, len(values))


def test_best_worst_follows_the_direction_and_keeps_file_order_on_ties():
    from ftlab.widgets.eval_panel import best_worst

    samples = [{"index": i, "scores": {"s": v}} for i, v in enumerate([0.5, 0.9, 0.1, 0.9])]
    best, worst = best_worst(samples, "s", k=2)
    assert [s["index"] for s in best] == [1, 3] and [s["index"] for s in worst] == [2, 0]
    best, _ = best_worst(samples, "s", k=1, higher_is_better=False)
    assert best[0]["index"] == 2


def test_selecting_a_sample_shows_it_in_full(panel, evaluated):
    panel.score.value = "chrf"
    index = panel.worst.options[0][1]
    panel.worst.value = index
    sample = panel.by_index[index]
    theirs = read_jsonl(next(evaluated["generation"].glob("eval_against_*_samples.jsonl")))[index]
    shown = panel.detail.value
    for text in (sample["question"], sample["reference"], sample["prediction"], theirs["prediction"],
                 evaluated["other"]):
        assert _escaped(text) in shown
    assert "chrf" in shown and ("<del" in shown or "<ins" in shown)
    change = panel.changes[evaluated["other"]]
    assert change.options  # the noisy copy changed some answers
    change.value = change.options[-1][1]
    assert _escaped(panel.by_index[change.value]["prediction"]) in panel.detail.value


def test_suites_and_ratings(panel):
    from ftlab.widgets.eval_panel import suite_rows

    rows = suite_rows(panel.record)
    assert {(r["suite"], r["group"]) for r in rows} >= {("safety", "refused_harmful"), ("safety", "refused_benign")}
    other = next(iter(panel.record["against"]))
    for row in rows:
        paired = panel.record["against"][other]["suites"][row["suite"]][row["group"]]
        assert row["rate"] == panel.record["suites"][row["suite"]]["figures"][row["group"]]
        assert row["against"][other]["difference"] == paired["difference"]
    ratings = panel.tab.children[panel.titles.index("Ratings")].value
    assert "tiny vs noisy" in ratings and "over 4 rated items" in ratings


def test_the_static_html_has_every_metric_and_the_diffs(panel, evaluated):
    from ftlab.widgets import eval_html

    page = panel.html()
    assert page == eval_html(evaluated["generation"], score=panel.score.value)
    for name in panel.record["metrics"]:
        assert f">{name}<" in page
    assert "<del style=" in page and "<ins style=" in page
    assert "plotly" not in page.lower() and "<script" not in page
    for heading in ("Figures", "Calibration", "Samples", "Suites", "Ratings"):
        assert f"<h4>{heading}</h4>" in page
    assert "<h4>Classification</h4>" not in page
    assert "true \\ predicted" in eval_html(evaluated["classification"])


def test_a_folder_without_an_evaluation_says_so(tmp_path):
    from ftlab.widgets import EvalPanel

    with pytest.raises(FtlabError, match="has no eval.json; evaluate first"):
        EvalPanel(tmp_path)


def _escaped(text: str) -> str:
    import html

    return html.escape(text)
