"""The chat playground and the export trade-off panel in a real JupyterLab, driven with the mouse and keyboard.

The headless tests call the widgets' methods; these type into the page and click, so the message goes through the
browser's widget state and the kernel's message loop, and the answers come back to the page while the kernel
streams them from a background thread.  One JupyterLab serves both tests (screenshots: /tmp/playground.png,
/tmp/export_panel.png).
"""

import html
import json
from pathlib import Path

import pytest
from browser import jupyterlab, notebook, open_and_run

from ftlab.export.opening import open_runtime
from ftlab.models.tiny import BUILTIN_MODEL

pytestmark = pytest.mark.browser

MESSAGE = "Repeat: palimpsest"  # both models answer it a letter at a time
MAX_NEW_TOKENS = 24
EXPORT = Path(__file__).parent / "data" / "export"

# Every text a pane showed while it streamed (the answer so far, the cursor dropped).  Each update replaces the
# pane's nodes with new ones, so the added nodes keep the text of their moment even when several updates reach
# one observer call.
WATCH = """([left, right]) => {
    window.ftlabSeen = {left: [], right: []};
    for (const [side, pane] of [["left", left], ["right", right]]) {
        new MutationObserver(records => {
            for (const record of records) {
                for (const node of record.addedNodes) {
                    if (node.nodeType === 1 && node.matches(".ftlab-streaming")) {
                        window.ftlabSeen[side].push(node.textContent.replace("▌", ""));
                    }
                }
            }
        }).observe(pane, {childList: true, subtree: true});
    }
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with jupyterlab(tmp_path_factory.mktemp("browser")) as served:
        yield served


def test_a_person_types_a_message_and_both_panes_stream_the_greedy_answers(lab, noisy_tiny_chat):
    import nbformat
    from playwright.sync_api import expect

    base, folder = lab
    sources = [BUILTIN_MODEL, str(noisy_tiny_chat)]
    nbformat.write(notebook(f"from ftlab.widgets import Playground\n\n"
                            f"Playground({sources!r}, max_new_tokens={MAX_NEW_TOKENS})"), folder / "playground.ipynb")
    dialogue = [{"role": "user", "content": MESSAGE}]
    greedy = [open_runtime(source).generate(dialogue, MAX_NEW_TOKENS) for source in sources]
    assert greedy[0].text != greedy[1].text
    with open_and_run(base, "playground.ipynb") as page:
        output = page.locator(".jp-OutputArea-output").last
        panes = [output.locator(".ftlab-playground-left"), output.locator(".ftlab-playground-right")]
        expect(panes[0]).to_contain_text("type a message below and press Send")
        page.evaluate(WATCH, [pane.element_handle() for pane in panes])

        output.locator("textarea").click()
        page.keyboard.type(MESSAGE)
        expect(output.locator("textarea")).to_have_value(MESSAGE)  # the keys reached the box, not the notebook
        output.get_by_role("button", name="Send").click()

        for pane, expected in zip(panes, greedy):
            expect(pane).to_contain_text(f"you {MESSAGE}")
            expect(pane.locator(".ftlab-answer-stats")).to_contain_text(" tokens · ")
            assert pane.locator(".ftlab-answer").inner_text() == expected.text
            expect(pane.locator(".ftlab-answer-stats")).to_contain_text(f"{expected.new_tokens} tokens · ")
        seen = page.evaluate("window.ftlabSeen")
        for side, expected in zip(("left", "right"), greedy):
            partial = [text for text in dict.fromkeys(seen[side]) if text]
            # the answer grew in the page a piece at a time: several distinct partial answers, each a longer
            # beginning of the final one
            assert len(partial) >= 2, (side, seen[side])
            assert all(expected.text.startswith(text) for text in partial), (side, partial, expected.text)
            assert [len(text) for text in partial] == sorted({len(text) for text in partial}), (side, partial)
        expect(output.locator("textarea")).to_have_value("")
        expect(output.get_by_role("button", name="Send")).to_be_enabled()
        output.screenshot(path="/tmp/playground.png")


def test_a_click_on_a_point_opens_the_artifacts_regressions_and_a_button_its_reason(lab):
    import nbformat
    from playwright.sync_api import expect

    base, folder = lab
    record = json.loads((EXPORT / "export.json").read_text())
    four_bit = next(a for a in record["artifacts"] if a["path"] == "bnb-4bit")
    nbformat.write(notebook(f"from ftlab.widgets import ExportPanel\n\nExportPanel({str(EXPORT)!r})"),
                   folder / "export.ipynb")
    with open_and_run(base, "export.ipynb") as page:
        output = page.locator(".jp-OutputArea-output").last
        expect(output).to_contain_text("7 artifacts")
        plot = output.locator(".js-plotly-plot")
        points = plot.locator(".scatterlayer .trace .points path")
        expect(points).to_have_count(4)  # the four measured artifacts; failed and skipped ones have no point
        expect(plot.locator(".textpoint", has_text="bnb-4bit")).to_have_count(1)
        points.nth(2).scroll_into_view_if_needed()
        box = points.nth(2).bounding_box()  # bnb-4bit, third in the file
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        expect(plot.locator(".hoverlayer")).to_contain_text("latency p50 951 ms, p95 1304 ms")
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        expect(output).to_contain_text("worst regressions (5 of 8)")
        for regression in four_bit["quality"]["regressions"][:5]:
            expect(output.get_by_text(regression["question"], exact=True)).to_be_visible()
        fix = next(c["fix"] for c in four_bit["gate"]["checks"] if not c["passed"])
        expect(output.get_by_text(fix, exact=True)).to_be_visible()

        output.get_by_role("button", name="gptq").click()
        expect(output).to_contain_text("skipped: needs a CUDA GPU; this machine has none")
        expect(output).not_to_contain_text("worst regressions (5 of 8)")
        assert html.escape(fix) not in output.inner_html()
        output.screenshot(path="/tmp/export_panel.png")
