"""Tutorials readable without a kernel: static forms of widgets and plotly figures (ftlab/widgets/static_notebook.py).

GitHub and a docs page draw ``text/html`` and ``image/png`` but neither widgets nor plotly's JSON; the pass
that scripts/run_notebooks.py runs after executing a notebook adds those forms.  These tests draw a widget
tree made here, draw real figures with kaleido, check that every stored notebook carries the static forms
(a notebook executed without the pass fails here), and read the static page of the quickstart.
"""

import base64
import html
import importlib.util
import json
import re
import struct
from pathlib import Path

import ipywidgets as w
import nbformat
import numpy as np
import plotly.graph_objects as go
import pytest

from ftlab.quickstart import REAL
from ftlab.widgets.figure_images import FigureImages
from ftlab.widgets.static_notebook import (
    PLOTLY,
    WIDGET_STATE,
    WIDGET_VIEW,
    add_static_outputs,
    checks_output,
    has_static_form,
    snapshot_figure_widgets,
)
from ftlab.widgets.static_widgets import WidgetHtml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists() or importlib.util.find_spec("kaleido") is None,
                                    reason="kaleido and Debian's chromium draw the figures")


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def saved_state(*roots: w.Widget) -> dict:
    """The state of these widgets and all they hold as a notebook saves it (binary buffers base64-encoded)."""
    every = w.Widget.get_manager_state(drop_defaults=False)["state"]
    found, todo = {}, [root.model_id for root in roots]
    while todo:
        model_id = todo.pop()
        if model_id not in found:
            found[model_id] = every[model_id]
            todo += re.findall(r"IPY_MODEL_(\w+)", json.dumps(every[model_id]["state"]))
    return found


class Recorder:
    """Stands in for kaleido where the test is about the walk, not the drawing: keeps what it was asked to draw."""

    def __init__(self):
        self.figures = []

    def __call__(self, figure: dict) -> bytes:
        self.figures.append(figure)
        return b"\x89PNG\r\n\x1a\nfigure-%d" % len(self.figures)


def test_a_widget_tree_reads_as_html_with_titles_values_and_figures():
    figure = go.FigureWidget(go.Scatter(x=np.arange(3, dtype="float32"), y=np.array([2.5, 1, 0.5], dtype="float32")),
                             layout={"title": "loss"})
    progress = w.IntProgress(value=30, max=120, description="step", bar_style="success")
    hidden = w.HTML("<b>not shown</b>", layout=w.Layout(display="none"))
    tabs = w.Tab([w.VBox([w.HTML("<b>exact match</b> 0.93"), figure]),
                  w.VBox([w.Dropdown(options=["chrf", "bleu"], value="bleu", description="score"),
                          w.Checkbox(value=True, description="only changes"), hidden])],
                  titles=["Figures", "Samples"])
    top = w.VBox([w.HBox([progress, w.Button(description="Stop", button_style="warning")]), tabs,
                  w.Accordion([w.Label("a < b")], titles=["details"])])
    drawn = Recorder()

    page = WidgetHtml(saved_state(top), drawn).render(top.model_id)

    assert "<b>exact match</b> 0.93" in page  # HTML as it was
    assert page.index(">Figures<") < page.index("exact match") < page.index(">Samples<") < page.index("bleu")
    assert "step:" in page and "title='30/120'" in page and "width:25.0%" in page  # a quarter of the bar
    assert ">Stop<" in page and "#ff9800" in page  # the warning colour
    assert "score:" in page and "chrf" not in page  # the chosen option, not the list
    assert "☑ only changes" in page
    assert "<summary><b>details</b></summary>" in page and "a &lt; b" in page
    assert "not shown" not in page  # display: none
    # The figure arrives with its numpy arrays (sent as binary buffers) back as numbers, and shows as an image.
    assert [trace["y"] for trace in drawn.figures[0]["data"]] == [[2.5, 1.0, 0.5]]
    assert drawn.figures[0]["layout"]["title"] == {"text": "loss"}
    assert page.count('<img src="data:image/png;base64,') == 1 and 'alt="figure: loss"' in page


def test_output_widgets_unknown_and_missing_models_draw_what_they_hold():
    state = {}
    out = {"model_name": "OutputModel", "state": {"outputs": [
        {"output_type": "stream", "name": "stdout", "text": "loss 0.5 <done>\n"},
        {"output_type": "display_data", "data": {PLOTLY: {"data": [{"type": "bar", "y": [1]}]}, "text/plain": "F"}},
    ], "children": []}}
    state.update(out=out, odd={"model_name": "SomethingNewModel", "state": {"value": 1}},
                 box={"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_out", "IPY_MODEL_odd",
                                                                        "IPY_MODEL_gone"]}})
    drawn = Recorder()

    page = WidgetHtml(state, drawn).render("box")

    assert "<pre>loss 0.5 &lt;done&gt;\n</pre>" in page and page.count("<img") == 1
    assert drawn.figures == [{"data": [{"type": "bar", "y": [1]}]}]
    assert WidgetHtml(state, drawn).render("odd") == "" and WidgetHtml(state, drawn).render("gone") == ""


def notebook_with(outputs: list, state: dict, tags=()) -> dict:
    cell = nbformat.v4.new_code_cell("x", outputs=outputs)
    cell.metadata["tags"] = list(tags)
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["widgets"] = {WIDGET_STATE: {"state": state, "version_major": 2, "version_minor": 0}}
    return notebook


def widget_output(model_id: str) -> dict:
    return nbformat.v4.new_output("display_data", {WIDGET_VIEW: {"model_id": model_id, "version_major": 2,
                                                                 "version_minor": 0}, "text/plain": "HBox()"})


@needs_chromium
def test_plotly_outputs_get_a_png_drawn_by_kaleido_and_widgets_html():
    label = w.HTML("<b>600/600 steps</b>")
    figure = go.Figure(go.Scatter(y=[3, 1, 2]), layout={"height": 300}).to_plotly_json()
    broken = {"data": "not a list of traces"}
    notebook = notebook_with([widget_output(label.model_id), nbformat.v4.new_output("display_data", {PLOTLY: figure}),
                              nbformat.v4.new_output("display_data", {PLOTLY: broken})], saved_state(label))

    with FigureImages() as images:
        report = add_static_outputs(notebook, images, "tiny")
        again = add_static_outputs(notebook, images, "tiny")

    widget, plot, left = notebook.cells[0].outputs
    assert "<b>600/600 steps</b>" in widget.data["text/html"] and WIDGET_VIEW in widget.data
    assert png_size(base64.b64decode(plot.data["image/png"])) == (900, 300)  # default width, the figure's height
    assert sorted(left.data) == [PLOTLY]  # plotly.js refused it: left as it was, the pass goes on
    assert (report.interactive, report.static, report.added) == (3, 2, 2)
    assert (again.added, images.drawn) == (0, 1)  # a second pass leaves the drawn forms alone
    assert report.line() == ("tiny: 2/3 interactive outputs with a static form (2 added); left as they are: plotly "
                             "figure: kaleido could not draw it (KaleidoError('invalid or malformed request syntax "
                             "(non-array figure data)'))")


def test_cells_nbval_compares_get_no_html_and_figures_without_a_browser_stay_as_they_are(monkeypatch):
    label = w.HTML("checked")
    notebook = notebook_with([widget_output(label.model_id), nbformat.v4.new_output("display_data", {PLOTLY: {}})],
                             saved_state(label), tags=["nbval-check-output"])
    monkeypatch.setenv("BROWSER_PATH", "/nowhere/chromium")

    with FigureImages() as images:
        report = add_static_outputs(notebook, images, "checked")

    assert [sorted(o.data) for o in notebook.cells[0].outputs] == [[WIDGET_VIEW, "text/plain"], [PLOTLY]]
    assert report.line() == (
        "checked: 0/2 interactive outputs with a static form (0 added); left as they are: plotly figure: no browser "
        "at BROWSER_PATH=/nowhere/chromium; plotly figures keep only their interactive form; widget in a cell "
        "nbval compares (its text/html would differ from the smoke run's)")


def test_snapshot_sends_the_figure_as_it_stands_to_the_widget_state():
    figure = go.FigureWidget()
    with figure.batch_update():  # how the dashboard adds points while training
        figure.add_scatter(x=[1, 2], y=[5.0, 4.0], name="loss")
        figure.layout.title = "after training"
    assert figure._widget_data == [] or figure._widget_data[0].get("y") != [5.0, 4.0]  # synced only at creation

    assert snapshot_figure_widgets() >= 1

    state = saved_state(figure)[figure.model_id]["state"]
    assert state["_widget_data"][0]["y"] == [5.0, 4.0] and state["_widget_layout"]["title"]["text"] == "after training"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_stored_widget_and_plotly_output_has_a_static_form(path):
    """A notebook executed without the static pass (scripts/run_notebooks.py runs it) fails here."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    missing = [(index, sorted(output["data"])) for index, cell in enumerate(notebook["cells"])
               if not checks_output(cell) for output in cell.get("outputs", [])
               if {WIDGET_VIEW, PLOTLY} & set(output.get("data", {})) and not has_static_form(output)]
    assert not missing, f"run python -m ftlab.widgets.static_notebook {path.relative_to(ROOT)}: {missing}"


def static_page(name: str) -> str:
    """The notebook as nbconvert's HTML without widget JavaScript: what a page without a kernel shows."""
    from nbconvert import HTMLExporter

    notebook = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    notebook.metadata.pop("widgets", None)
    return HTMLExporter(template_name="lab").from_notebook_node(notebook)[0]


def test_the_quickstart_reads_without_a_kernel_curves_tables_and_dashboard():
    page = static_page("00_quickstart")
    curves = page[page.index("6 · The curves, kept"):page.index("What this notebook showed")]
    image = re.search(r'<img [^>]*src="data:image/png;base64,([^"]+)"', curves)
    assert image and png_size(base64.b64decode(image.group(1)))[0] == 900  # the training curves, drawn
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert re.search(r"exact_match\s+0(\.0+)?(e\+00)?\s+1\.0", text)  # base vs tuned table
    steps = REAL["train.max_steps"]
    assert re.search(rf"{steps}/{steps} steps · elapsed \S+ · done", text)  # the dashboard's status line
    assert "Encrypt with the shift-3 cipher" in text  # the side-by-side table
    assert "VBox(children=" not in text  # no widget's text form instead of the widget


@pytest.mark.browser
def test_the_static_quickstart_shows_its_images_in_chromium(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian's chromium package)")
    sync_api = pytest.importorskip("playwright.sync_api")
    (tmp_path / "00_quickstart.html").write_text(static_page("00_quickstart"), encoding="utf-8")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:")
                   else route.continue_())  # nothing from the network, as offline as a reader's copy
        page.goto((tmp_path / "00_quickstart.html").as_uri())
        widths = page.eval_on_selector_all("img", "images => images.map(i => i.naturalWidth)")
        steps = REAL["train.max_steps"]
        bars = page.locator(".ftlab-static-widget", has_text=f"{steps}/{steps} steps")
        bars.screenshot(path=str(tmp_path / "dashboard.png"))
        page.locator("img").last.screenshot(path=str(tmp_path / "curves.png"))
        browser.close()
    assert widths == [900, 900]  # the dashboard's curves as the run left them, and the figure read back after
    assert png_size((tmp_path / "curves.png").read_bytes())[0] >= 900


@needs_chromium
def test_run_notebooks_stores_a_live_figure_as_it_ended_and_its_model_as_an_image(tmp_path):
    """The whole path the stored notebooks take: execute (kernel ``ftlab``), snapshot, static pass, save."""
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "scripts" / "run_notebooks.py")
    run_notebooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_notebooks)
    path = tmp_path / "live.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import plotly.graph_objects as go\nfigure = go.FigureWidget()\ndisplay(figure)"),
        nbformat.v4.new_code_cell("with figure.batch_update():\n    figure.add_scatter(y=[3, 1, 2])\n"
                                  "    figure.layout.title = 'as it ended'"),
    ], metadata={"kernelspec": {"name": "ftlab", "display_name": "ftlab", "language": "python"}}), path)

    with FigureImages() as images:
        run_notebooks.run(path, images)

    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert len(notebook["cells"]) == 2  # the snapshot cell ran and left
    data = notebook["cells"][0]["outputs"][0]["data"]
    assert 'alt="figure: as it ended"' in "".join(data["text/html"]) and WIDGET_VIEW in data  # after cell 2
    model = notebook["metadata"]["widgets"][WIDGET_STATE]["state"][data[WIDGET_VIEW]["model_id"]]
    assert model["model_name"] == "HTMLModel" and 'alt="figure: as it ended"' in model["state"]["value"]
    assert path.stat().st_size < 300_000  # plotly.js (5 MB) is not in the file
