"""The evaluation panel in a real JupyterLab: plotly figures draw, and choosing in the panel reaches the kernel.

The headless tests set the widgets' values from Python; this one picks a score
in the dropdown and a sample in the list the way a person does, and checks
what the browser then shows.  Screenshots go to $FTLAB_SCREENSHOTS/eval_panel (/tmp/ftlab-screenshots), with
the evaluation record the panel showed.
"""

import json

import pytest
from browser import jupyterlab, notebook, open_and_run, screenshot_folder

import ftlab
from ftlab.config import Config
from ftlab.widgets.eval_panel import best_worst

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """The built-in model on 12 letter_group questions: generation scores, label probabilities, a confusion matrix."""
    folder = tmp_path_factory.mktemp("eval")
    config = Config().override(["data.task=letter_group", "data.n_train=30", "data.n_validation=5",
                                "data.n_test=12", "eval.resamples=50"])
    ftlab.evaluate("ftlab/tiny-chat", config=config, out=folder)
    return folder


def test_a_person_reads_the_classification_plots_and_opens_the_best_sample(evaluated, tmp_path):
    import nbformat
    from playwright.sync_api import expect

    samples = [json.loads(line) for line in (evaluated / "eval_samples.jsonl").read_text().splitlines()]
    record = json.loads((evaluated / "eval.json").read_text())
    shots = screenshot_folder("eval_panel")
    (shots / "eval.json").write_text(json.dumps(record, indent=1))
    with jupyterlab(tmp_path) as (base, folder):
        nbformat.write(notebook(f"from ftlab.widgets import EvalPanel\n\nEvalPanel({str(evaluated)!r})"),
                       folder / "panel.ipynb")
        with open_and_run(base, "panel.ipynb") as page:
            output = page.locator(".jp-OutputArea-output").last
            expect(output).to_contain_text("12 examples")
            output.get_by_role("tab", name="Classification").click()
            # plotly's FigureWidget draws in the browser: on this tab the heatmap and the ROC and PR plots
            shown = output.locator(".js-plotly-plot:visible")
            try:
                expect(shown).to_have_count(3)
                # found by its title, not its place: the matrix is drawn as a heatmap with a number in each cell
                confusion = shown.filter(has_text="confusion matrix")
                expect(confusion.locator(".heatmaplayer")).to_have_count(1)
                labels = record["diagnostics"]["confusion"]["labels"]
                expect(confusion.locator(".heatmaplayer text")).to_have_count(len(labels) ** 2)
            finally:
                output.screenshot(path=shots / "1_classification.png")

            output.get_by_role("tab", name="Samples").click()
            score = output.locator(".widget-dropdown select")
            choice = "chrf" if "chrf" in [o.strip() for o in score.locator("option").all_inner_texts()] else None
            assert choice, score.locator("option").all_inner_texts()
            score.select_option(label=choice)
            best = output.locator(".widget-select select").first
            top, _ = best_worst(samples, choice, 5, record["higher_is_better"][choice])
            expect(best.locator("option").first).to_contain_text(f"#{top[0]['index']}")
            best.select_option(index=0)  # what a click on the first line does: the kernel fills the detail view
            expect(output).to_contain_text(top[0]["reference"])
            expect(output.get_by_text(top[0]["question"]).first).to_be_visible()
            output.screenshot(path=shots / "2_best_sample_opened.png")
