"""The drift panel: logged traffic against the training data, each check with its alert, and when it began.

``DriftPanel(log, reference)`` shows the drift report's checks (alerts in
red, each in a plain sentence), the distribution of one length (prompt
characters or tokens, answer characters) in training and in traffic, and
the vocabulary divergence and prompt-length PSI per window of requests, so a
shift shows where it started.  Changing a threshold re-runs the checks.

:func:`drift_html`, :func:`length_figure` and :func:`timeline_figure`
(``widget=False``) are what a saved or papermill-run notebook keeps.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import ipywidgets as W
import plotly.graph_objects as go

from ftlab.ops.drift import (
    DriftReport,
    Reference,
    Thresholds,
    drift_over_time,
    show_unit,
    summarise,
)
from ftlab.ops.request_log import RequestRecord, read_requests
from ftlab.widgets.figure_widget import FigureWidget
from ftlab.widgets.html_table import number, table

_ALERT = "#fee2e2"
_LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 50}, "height": 340}
LENGTHS = {"prompt_chars": "prompt length (characters)", "prompt_tokens": "prompt length (tokens)",
           "answer_chars": "answer length (characters)"}


def lengths(which: str, reference: Reference, records: Sequence[RequestRecord]) -> tuple[list[int], list[int]]:
    """(training, traffic) values of one length measure."""
    if which == "prompt_chars":
        return [len(p) for p in reference.prompts], [len(r.prompt) for r in records]
    if which == "prompt_tokens":
        return reference.prompt_tokens, [r.prompt_tokens for r in records]
    return [len(a) for a in reference.answers], [len(r.answer) for r in records]


def length_figure(which: str, reference: Reference, records: Sequence[RequestRecord],
                  widget: bool = False) -> go.Figure:
    """Overlaid histograms (shares, not counts) of one length measure in training and in traffic."""
    train, live = lengths(which, reference, records)
    fig = go.Figure([go.Histogram(x=train, histnorm="probability", name="training data", opacity=0.6,
                                  marker_color="#94a3b8"),
                     go.Histogram(x=live, histnorm="probability", name="traffic", opacity=0.6,
                                  marker_color="#dc2626")])
    fig.update_layout(barmode="overlay", title=LENGTHS[which], xaxis_title=LENGTHS[which], yaxis_title="share",
                      **_LAYOUT)
    return FigureWidget(fig) if widget else fig


def timeline_figure(windows: list[dict], widget: bool = False) -> go.Figure:
    """Vocabulary divergence and prompt-length PSI per window of requests; crosses mark windows that alert."""
    x = list(range(1, len(windows) + 1))
    fig = go.Figure([
        go.Scatter(x=x, y=[w["vocabulary"] for w in windows], mode="lines+markers", name="vocabulary (JS bits)"),
        go.Scatter(x=x, y=[w["prompt_chars"] for w in windows], mode="lines+markers", name="prompt length PSI",
                   yaxis="y2"),
        go.Scatter(x=[x[i] for i, w in enumerate(windows) if w["alerts"]],
                   y=[w["vocabulary"] for w in windows if w["alerts"]], mode="markers", name="window with an alert",
                   marker={"color": "#dc2626", "size": 12, "symbol": "x"},
                   hovertext=[", ".join(w["alerts"]) for w in windows if w["alerts"]])])
    fig.update_layout(title=f"drift per window of {windows[0]['requests'] if windows else 0} requests",
                      xaxis_title="window", yaxis={"title": "Jensen-Shannon (bits)", "rangemode": "tozero"},
                      yaxis2={"title": "PSI", "overlaying": "y", "side": "right", "rangemode": "tozero"},
                      **_LAYOUT)
    return FigureWidget(fig) if widget else fig


def drift_html(report: DriftReport) -> str:
    """The checks as a table (alerts in red) with the report's sentence, as one HTML string."""
    rows = [[html.escape(c.name), number(c.value), number(c.noise) if c.noise else "–", number(c.threshold),
             "<b>alert</b>" if c.alert else "ok", html.escape(c.message)] for c in report.checks]
    units = ", ".join(html.escape(show_unit(u)) for u in report.new_units) or "–"
    notes = "".join(f"<p style='color:#92400e'>note: {html.escape(n)}</p>" for n in report.notes)
    return ("<div class='ftlab-drift'>"
            f"<h3>Drift: {report.requests} requests against {html.escape(report.reference)}</h3>"
            + table(["check", "value", "noise", "threshold", "", "what it means"], rows,
                    [_ALERT if c.alert else "transparent" for c in report.checks])
            + f"<p>most over-represented prompt units: {units}</p>"
            + f"<p><b>{html.escape(report.summary())}</b></p>" + notes + "</div>")


class DriftPanel:
    """``.widget`` is the ipywidgets view, :meth:`html` the static one; :attr:`report` the checks shown."""

    def __init__(self, log: str | Path | Sequence[RequestRecord], reference: Reference,
                 limits: Thresholds | None = None, window: int = 100):
        self.records = read_requests(log) if isinstance(log, (str, Path)) else list(log)
        self.reference = reference
        limits = limits or Thresholds()
        self.window = window
        self.psi = W.BoundedFloatText(value=limits.psi, min=0, max=100, step=0.05, description="PSI above")
        self.js = W.BoundedFloatText(value=limits.js, min=0, max=1, step=0.05, description="JS above")
        self.refusal = W.BoundedFloatText(value=limits.refusal_rate, min=0, max=1, step=0.01,
                                          description="refusals above")
        self.latency = W.BoundedFloatText(value=limits.latency_p95_s, min=0, max=1e6, step=0.5,
                                          description="p95 s above")
        self.measure = W.Dropdown(options=[(title, key) for key, title in LENGTHS.items()], value="prompt_chars",
                                  description="lengths")
        self.report = summarise(self.records, reference, self.limits())
        self.table = W.HTML(drift_html(self.report))
        self.lengths = length_figure(self.measure.value, reference, self.records, widget=True)
        self.timeline = timeline_figure(drift_over_time(self.records, reference, window, self.limits()),
                                        widget=True)
        for control in (self.psi, self.js, self.refusal, self.latency):
            control.observe(lambda _: self.refresh(), names="value")
        self.measure.observe(lambda _: self.plot_lengths(), names="value")
        self.widget = W.VBox([W.HBox([self.psi, self.js, self.refusal, self.latency],
                                     layout=W.Layout(flex_flow="row wrap")),
                              self.table, self.measure, self.lengths, self.timeline])

    def limits(self) -> Thresholds:
        return Thresholds(psi=self.psi.value, js=self.js.value, refusal_rate=self.refusal.value,
                          latency_p95_s=self.latency.value)

    def refresh(self) -> None:
        """Re-run the checks with the thresholds shown."""
        self.report = summarise(self.records, self.reference, self.limits())
        self.table.value = drift_html(self.report)
        fresh = timeline_figure(drift_over_time(self.records, self.reference, self.window, self.limits()))
        with self.timeline.batch_update():
            for trace, new in zip(self.timeline.data, fresh.data):
                trace.x, trace.y, trace.hovertext = new.x, new.y, new.hovertext

    def plot_lengths(self) -> None:
        train, live = lengths(self.measure.value, self.reference, self.records)
        with self.lengths.batch_update():
            self.lengths.data[0].x, self.lengths.data[1].x = train, live
            self.lengths.layout.title = LENGTHS[self.measure.value]
            self.lengths.layout.xaxis.title = LENGTHS[self.measure.value]

    def html(self) -> str:
        return drift_html(self.report)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
