"""The rating widget in a real JupyterLab, driven by headless Chromium as a person would: click, then type keys.

The headless tests call the widget's Python side; this one checks what they
cannot: that a key pressed in the browser reaches the kernel through the
anywidget strip, and that JupyterLab's own single-key shortcuts (``a`` and
``b`` insert cells) do not fire as well.
"""

import json

import pytest
from browser import jupyterlab, notebook, open_and_run

from ftlab.eval.ratings import shown_left

pytestmark = pytest.mark.browser

SEED = 3
SYSTEMS = ("base", "tuned")
ITEMS = [{"id": f"q{i}", "prompt": f"Reverse: word{i}", "reference": f"{i}drow", "a": f"{i}drow", "b": f"word{i}"}
         for i in range(3)]


def test_a_person_rates_three_items_with_the_keyboard_in_jupyterlab(tmp_path):
    import nbformat
    from playwright.sync_api import expect

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with jupyterlab(tmp_path) as (base, folder):
        nbformat.write(notebook(f"from ftlab.widgets import RatingWidget\n\n"
                                f"items = {ITEMS!r}\n"
                                f"RatingWidget(items, {str(run_dir)!r}, systems={SYSTEMS!r}, seed={SEED})"),
                       folder / "rate.ipynb")
        with open_and_run(base, "rate.ipynb") as page:
            strip = page.locator(".ftlab-rating-keys")
            progress = page.locator(".ftlab-rating").get_by_text("of 3 rated")
            expect(progress).to_have_text("0 of 3 rated")
            cells = page.locator(".jp-NotebookPanel .jp-Cell").count()
            strip.click()
            expect(strip).to_be_focused()
            page.keyboard.press("a")  # A is better: whichever system is on the left
            expect(progress).to_have_text("1 of 3 rated")
            for key in ("4", "2", "ArrowRight"):  # score left 4, right 2, then B (the right answer) is better
                page.keyboard.press(key)
            expect(progress).to_have_text("2 of 3 rated")
            page.keyboard.press("t")
            expect(progress).to_have_text("3 of 3 rated")
            expect(page.locator(".ftlab-rating-summary")).to_contain_text("base vs tuned")
            assert page.locator(".jp-NotebookPanel .jp-Cell").count() == cells  # JupyterLab's a/b did not fire
            page.locator(".ftlab-rating").screenshot(path=str(tmp_path / "rating.png"))

    rows = [json.loads(line) for line in (run_dir / "ratings.jsonl").read_text().splitlines()]
    lefts = [shown_left(item["id"], SEED) for item in ITEMS]
    right = {"a": "b", "b": "a"}
    assert [(r["item"], r["left"], r["choice"]) for r in rows] == [
        ("q0", lefts[0], lefts[0]), ("q1", lefts[1], right[lefts[1]]), ("q2", lefts[2], "tie")]
    assert (rows[1][f"score_{lefts[1]}"], rows[1][f"score_{right[lefts[1]]}"]) == (4, 2)
    assert rows[0]["score_a"] is None and rows[2]["score_b"] is None
