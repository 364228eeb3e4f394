"""Notebook 00 as a person runs it: opened in JupyterLab in headless Chromium, Run All (smoke settings), and the
training cell's dashboard found drawn -- its curves have points, the status says done, and the libraries' progress
bars and warnings are in the dashboard's Log panel, not between the cells.

Screenshot: $FTLAB_SCREENSHOTS/quickstart/dashboard.png (/tmp/ftlab-screenshots).
"""

import shutil

import pytest
from browser import ROOT, jupyterlab, open_and_run, screenshot_folder

from ftlab.quickstart import SMOKE

pytestmark = pytest.mark.browser


def test_notebook_00_draws_its_dashboard_in_the_browser(tmp_path, monkeypatch):
    from playwright.sync_api import expect

    monkeypatch.setenv("FTLAB_SMOKE", "1")  # the lab's kernel inherits it: the notebook's smoke settings
    monkeypatch.setenv("FTLAB_OUTPUT_DIR", str(tmp_path / "summaries"))
    shots = screenshot_folder("quickstart")
    with jupyterlab(tmp_path) as (base, folder):
        shutil.copy(ROOT / "notebooks" / "00_quickstart.ipynb", folder / "00_quickstart.ipynb")
        with open_and_run(base, "00_quickstart.ipynb") as page:
            expect(page.get_by_text("exact match 0.00 ->")).to_be_visible(timeout=600_000)  # the last cell ran
            training = page.locator(".jp-CodeCell", has_text="ftlab.train(config, listeners=[dashboard])")
            expect(training).to_have_count(1)
            steps = SMOKE["train.max_steps"]
            expect(training).to_contain_text(f"{steps}/{steps} steps")
            expect(training).to_contain_text("done")
            curves = training.locator(".js-plotly-plot").first
            drawn = curves.evaluate(
                "plot => plot.data.filter(t => t.visible === true && (t.x || []).length > 1).map(t => t.name)")
            assert {"train loss", "eval loss", "learning rate", "grad norm", "tokens/s", "process RSS",
                    "CPU (all cores = 100%)"} <= set(drawn)
            expect(curves.locator(".scatterlayer .trace path.js-line").first).to_be_visible()
            # tidy: no library progress bar or warning between the cells, and the Log panel has them
            outputs = training.locator(".jp-OutputArea-output")
            text = outputs.all_inner_texts()
            assert not any(word in "".join(text) for word in ("Tokenizing", "Map:", "FutureWarning", "it/s"))
            expect(training.get_by_text("Log (")).to_be_visible()
            training.get_by_text("Log (").click()
            expect(training.locator("pre", has_text=f"trained to step {steps}")).to_be_visible()
            page.set_viewport_size({"width": 1280, "height": 1500})
            training.scroll_into_view_if_needed()
            training.screenshot(path=str(shots / "dashboard.png"))
