"""Pick runs from a folder and compare them: overlaid curves, config differences, final figures."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as W
import plotly.graph_objects as go

from ftlab.training.compare import compare_runs, list_runs
from ftlab.training.rundir import RunDir
from ftlab.widgets.html_table import HIGHLIGHT, number, table
from ftlab.widgets.figure_widget import FigureWidget

CURVES = {"train loss": "loss", "eval loss": "eval_loss", "learning rate": "learning_rate",
          "grad norm": "grad_norm", "tokens/s": "tokens_per_s", "token accuracy": "mean_token_accuracy"}


class RunComparison:
    def __init__(self, root: str | Path = "runs", curve: str = "train loss"):
        self.root = Path(root)
        self.select = W.SelectMultiple(description="runs", rows=8, layout=W.Layout(width="520px"))
        self.refresh_button = W.Button(description="Refresh", icon="refresh")
        self.curve = W.Dropdown(options=list(CURVES), value=curve, description="curve")
        self.only_differences = W.Checkbox(value=True, description="only settings that differ")
        self.figure = FigureWidget(layout=go.Layout(height=380, template="plotly_white",
                                                       xaxis_title="step", margin=dict(l=50, r=20, t=30, b=40)))
        self.config_table = W.HTML()
        self.results_table = W.HTML()
        self.refresh_button.on_click(lambda _: self.refresh())
        for control in (self.select, self.curve, self.only_differences):
            control.observe(lambda _: self.show(), names="value")
        self.widget = W.VBox([W.HBox([self.select, W.VBox([self.refresh_button, self.curve,
                                                            self.only_differences])]),
                              self.figure, W.HTML("<b>Final figures</b>"), self.results_table,
                              W.HTML("<b>Settings</b> (differences highlighted)"), self.config_table])
        self.refresh()

    def refresh(self) -> None:
        runs = list_runs(self.root)
        self.select.options = [(run.path.name, str(run.path)) for run in runs]

    def choose(self, names: list[str]) -> None:
        by_name = {label: value for label, value in self.select.options}
        self.select.value = tuple(by_name[n] for n in names)

    def show(self) -> None:
        chosen = list(self.select.value)
        comparison = compare_runs(chosen)
        key = CURVES[self.curve.value]
        with self.figure.batch_update():
            self.figure.data = []
            for path, name in zip(chosen, comparison.names):
                rows = [r for r in RunDir(path).read("metrics") if r.get(key) is not None]
                self.figure.add_scatter(x=[r["step"] for r in rows], y=[r[key] for r in rows], name=name,
                                        mode="lines+markers" if key == "eval_loss" else "lines")
            self.figure.layout.yaxis.title = self.curve.value
            self.figure.layout.yaxis.type = "log" if key in ("loss", "eval_loss") else "linear"
        results = comparison.results_table()
        self.results_table.value = table(list(results[0]) if results else [],
                                         [[number(v) for v in r.values()] for r in results])
        differing = set(comparison.differing)
        keys = sorted(differing) if self.only_differences.value else sorted(set().union(*comparison.configs or [{}]))
        rows = [[number(k)] + [number(c.get(k)) for c in comparison.configs] for k in keys]
        shades = [HIGHLIGHT if k in differing else "transparent" for k in keys]
        self.config_table.value = table(["setting"] + comparison.names, rows, shades)
        self.comparison = comparison

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
