"""The dashboard's stage panel in a real JupyterLab: a notebook cell shows a TrainingDashboard and trains a short
DPO run with it, and the browser then draws DPO's own figure (plotly) with the rewards the run logged.

The headless tests check what the widgets hold; this one checks that it reaches the page while the cell that
trains is busy, and keeps a screenshot (/tmp/stage_panel.png) to look at.
"""

import pytest
from browser import jupyterlab, notebook, open_and_run

from ftlab.training.rundir import RunDir

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/stage_panel.png"
TRACES = ["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"]  # DPO's PLOTS

TRAIN = """\
import ftlab
from ftlab.config import Config
from ftlab.widgets import TrainingDashboard

dashboard = TrainingDashboard(title="dpo on cipher", refresh_s=0.5)
display(dashboard)
config = Config().override([
    "train.output_dir={runs}", "train.stage=dpo", "data.task=cipher", "data.n_train=160", "data.n_validation=32",
    "data.n_test=24", "train.max_steps=12", "train.logging_steps=2", "train.batch_size=8", "train.eval_steps=0",
    "train.save_steps=0", "train.learning_rate=2e-3", "stage.sft_weight=1.0", "eval.at_end=false",
    "eval.timeline_prompts=0"])
result = ftlab.train(config, listeners=[dashboard])
print("trained:", result.results["status"])
"""


def test_a_dpo_run_draws_its_stage_panel_in_the_browser(tmp_path):
    import nbformat
    from playwright.sync_api import expect

    with jupyterlab(tmp_path) as (base, folder):
        nbformat.write(notebook(TRAIN.format(runs=tmp_path / "runs")), folder / "stage.ipynb")
        with open_and_run(base, "stage.ipynb") as page:
            cell = page.locator(".jp-CodeCell").last
            expect(cell.locator(".jp-OutputArea")).to_contain_text("trained: completed")
            output = cell.locator(".jp-OutputArea-output").first
            expect(output).to_contain_text("12/12 steps")
            plots = output.locator(".js-plotly-plot")
            expect(plots).to_have_count(2)  # the common curves, then the stage's own
            stage = plots.nth(1)
            for title in ("rewards (chosen vs rejected)", "reward margin", "pair accuracy (train batches)", "step"):
                expect(stage.get_by_text(title, exact=True).first).to_be_visible()
            for name in TRACES:
                expect(stage.locator(".legendtext", has_text=name)).to_have_count(1)
            # what plotly drew from: DPO's traces with the points the run logged (steps 2, 4, ... 12)
            drawn = stage.evaluate("plot => plot.data.map(t => [t.name, Array.from(t.x || []), Array.from(t.y || [])])")
            logged = [m for m in RunDir(next((tmp_path / "runs").iterdir())).read("metrics") if "rewards/chosen" in m]
            assert [m["step"] for m in logged] == [2, 4, 6, 8, 10, 12]
            assert [name for name, _, _ in drawn] == TRACES
            for name, xs, ys in drawn:
                assert xs == [m["step"] for m in logged] and ys == pytest.approx([m[name] for m in logged]), name
            expect(stage.locator(".scatterlayer .trace path.js-line")).to_have_count(4)
            expect(output.locator(".ftlab-stage-notes")).to_have_count(1)
            expect(output.locator(".ftlab-stage-group")).to_have_count(1)
            page.set_viewport_size({"width": 1280, "height": 1500})  # the whole dashboard, clear of the toolbar
            output.screenshot(path=SCREENSHOT)
