"""Give every interactive output of an executed notebook a static form: a tutorial that reads without a kernel.

GitHub, nbviewer and a docs page draw ``text/html``, ``image/png`` and ``text/plain``; they cannot draw a
widget (``application/vnd.jupyter.widget-view+json``: JavaScript and a kernel) or a plotly figure
(``application/vnd.plotly.v1+json``).  This pass adds, to each output bundle
that has one of those and no static form, ``image/png`` for a plotly figure and ``text/html`` for a widget
(drawn from the widget state saved in the notebook), without running the notebook again.

A front end that can draw the interactive form still does: JupyterLab ranks the widget view (-10) and
plotly (2) above HTML (50) and PNG (90) (checked in Chromium: a saved notebook opens on the widgets), and
nbconvert's HTML export prefers the widget view whenever its state is saved.  Cells that nbval compares
with the stored notebook (tag ``nbval-check-output`` or the comment ``# NBVAL_CHECK_OUTPUT``) get images
only: nbval skips ``image/png`` but compares ``text/html``, which the smoke run's widget outputs do not carry.

``scripts/run_notebooks.py`` runs it after executing each notebook; on stored notebooks::

    python -m ftlab.widgets.static_notebook notebooks/*.ipynb
"""

from __future__ import annotations

import argparse
import base64
import copy
import time
from dataclasses import dataclass, field
from pathlib import Path

from ftlab.widgets.figure_images import FigureImages
from ftlab.widgets.static_widgets import WidgetHtml

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
PLOTLY = "application/vnd.plotly.v1+json"
INTERACTIVE = (WIDGET_VIEW, PLOTLY)
STATIC = ("text/html", "image/png", "image/jpeg", "image/svg+xml", "text/markdown")
BUNDLE_LIMIT = 1_000_000  # characters of a model's own front-end code (``_esm``) that it may keep in the state


@dataclass
class StaticReport:
    """What one pass over a notebook found and did."""

    notebook: str
    interactive: int = 0  # outputs with widget or plotly data
    static: int = 0  # of those, the ones with a static form after the pass
    added: int = 0  # static forms this pass wrote
    left: list[str] = field(default_factory=list)  # why each of the others has none
    replaced: int = 0  # widget models with a bundled front end, replaced by HTML models (replace_bundled_models)

    def line(self) -> str:
        reasons = sorted(set(self.left))
        replaced = f"; {self.replaced} bundled widget models replaced by their images" if self.replaced else ""
        return (f"{self.notebook}: {self.static}/{self.interactive} interactive outputs with a static form "
                f"({self.added} added){replaced}" + (f"; left as they are: {'; '.join(reasons)}" if reasons else ""))


def is_interactive(output: dict) -> bool:
    return any(kind in output.get("data", {}) for kind in INTERACTIVE)


def has_static_form(output: dict) -> bool:
    return any(kind in output.get("data", {}) for kind in STATIC)


def checks_output(cell: dict) -> bool:
    """Whether nbval (``--nbval-lax``) compares this cell's outputs with the stored ones."""
    tags = cell.get("metadata", {}).get("tags", [])
    source = "".join(cell.get("source", ""))
    return "nbval-check-output" in tags or any(line.strip().replace(" ", "") == "#NBVAL_CHECK_OUTPUT"
                                               for line in source.splitlines())


def widget_models(notebook: dict) -> dict[str, dict]:
    """The widget state saved in the notebook's metadata, by model id ({} when none was saved)."""
    return notebook.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def add_static_outputs(notebook: dict, images: FigureImages, name: str = "notebook",
                       refresh: bool = False) -> StaticReport:
    """Add the static forms in place.  ``refresh`` first drops the HTML and PNG forms of widget and plotly outputs
    (an earlier pass's) and draws them again, e.g. after a change to how widgets are drawn."""
    report = StaticReport(name)
    widgets = WidgetHtml(widget_models(notebook), images.png)
    for cell in notebook.get("cells", []):
        compared = checks_output(cell)
        for output in cell.get("outputs", []):
            if not is_interactive(output):
                continue
            report.interactive += 1
            data = output["data"]
            if refresh:
                for kind in ("text/html", "image/png"):
                    data.pop(kind, None)
            if not has_static_form(output):
                _add(data, widgets, images, compared, report)
            report.static += has_static_form(output)
    report.replaced = replace_bundled_models(widgets)
    return report


def replace_bundled_models(widgets: WidgetHtml, limit: int = BUNDLE_LIMIT) -> int:
    """Replace in the saved widget state each model that carries a front-end bundle of its own by an HTML model
    showing what it drew; returns how many.

    plotly's FigureWidget is an anywidget whose state holds all of plotly.js (5 MB) once per figure: notebook
    09's panels made the file 56 MB.  Left out, its parent box fails as a whole ("model not found") in a front
    end that draws the saved widgets without a kernel (JupyterLab, a docs page); as an image it shows.
    """
    bundled = [key for key, model in widgets.models.items() if len(str(model.get("state", {}).get("_esm", ""))) > limit]
    for key in bundled:
        page = widgets.render(key)  # a figure's <img>, drawn while its data is still there
        widgets.models[key] = html_model(page, widgets.models[key]["state"].get("layout"))
    return len(bundled)


def html_model(value: str, layout: str | None) -> dict:
    """An ipywidgets HTML model (protocol 2.0) holding ``value``, in the layout the replaced model had."""
    controls = {"_model_module": "@jupyter-widgets/controls", "_model_module_version": "2.0.0",
                "_view_module": "@jupyter-widgets/controls", "_view_module_version": "2.0.0"}
    return {"model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0", "model_name": "HTMLModel",
            "state": {**controls, "_model_name": "HTMLModel", "_view_name": "HTMLView", "value": value,
                      **({"layout": layout} if layout else {})}}


def _add(data: dict, widgets: WidgetHtml, images: FigureImages, compared: bool, report: StaticReport) -> None:
    if PLOTLY in data:
        png = images.png(data[PLOTLY])
        if png is None:
            report.left.append(f"plotly figure: {images.unavailable or images.last_error}")
            return
        data["image/png"] = base64.b64encode(png).decode()
    elif compared:
        report.left.append("widget in a cell nbval compares (its text/html would differ from the smoke run's)")
        return
    else:
        page = widgets.render(data[WIDGET_VIEW]["model_id"])
        if not page:
            report.left.append("widget with nothing to draw (its state was not saved, or it shows nothing)")
            return
        data["text/html"] = f"<div class='ftlab-static-widget'>{page}</div>"
    report.added += 1


def snapshot_figure_widgets() -> int:
    """In a kernel, after the last cell: send each live FigureWidget's whole figure to the saved widget state.

    A FigureWidget syncs its figure (``_widget_data``, ``_widget_layout``) only when it is built or first
    displayed; later changes (a dashboard adding points) travel as one-off messages, so the state a notebook saves holds
    the empty figure of the start.  Assigning them again, as plotly itself does when it displays the widget,
    sends the figure as it stands.  Returns how many figures were sent.
    """
    from ipywidgets.widgets.widget import _instances  # every live widget, by model id
    from plotly.basewidget import BaseFigureWidget

    figures = [w for w in list(_instances.values()) if isinstance(w, BaseFigureWidget)]
    for figure in figures:
        figure._widget_layout = copy.deepcopy(figure._layout_obj._props)
        figure._widget_data = copy.deepcopy(figure._data)
    return len(figures)


def main(argv: list[str] | None = None) -> None:
    import nbformat

    parser = argparse.ArgumentParser(prog="python -m ftlab.widgets.static_notebook", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--refresh", action="store_true",
                        help="drop the static forms of widget and plotly outputs and draw them again")
    args = parser.parse_args(argv)
    start = time.time()
    with FigureImages() as images:
        for path in args.notebooks:
            notebook = nbformat.read(path, as_version=4)
            report = add_static_outputs(notebook, images, path.stem, refresh=args.refresh)
            nbformat.write(notebook, path)
            print(report.line(), flush=True)
    print(f"{len(args.notebooks)} notebooks in {time.time() - start:.1f} s, {images.drawn} figures drawn")


if __name__ == "__main__":
    main()
