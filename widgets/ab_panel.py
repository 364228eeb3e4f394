"""The A/B panel: two versions' outcomes from a request log, the difference with its interval, and the gate.

``ABPanel(log, control, candidate)`` reads a request log (a path or the
records) and shows each version's win rate or mean score with its interval,
the difference with the analysis's verdict and the users still needed, and
how the estimate narrowed as users arrived.  Changing the metric, the level
or the smallest effect worth finding re-runs the analysis; with a registry
and a model name, the gate button promotes or rolls back ``NAME@ALIAS`` as
:func:`ftlab.ops.ab_test.decide` says and shows what changed.

:func:`ab_html` and :func:`ab_figure` (``widget=False``) are what a saved or
papermill-run notebook keeps without a kernel.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import ipywidgets as W
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ftlab.errors import FtlabError
from ftlab.ops.ab_test import (
    LEVEL,
    ABAnalysis,
    GateDecision,
    analyse,
    apply_gate,
    decide,
)
from ftlab.ops.request_log import RequestRecord, read_requests
from ftlab.widgets.figure_widget import FigureWidget
from ftlab.widgets.html_table import number, table

if TYPE_CHECKING:
    from ftlab.ops.model_registry import ModelRegistry

_BETTER, _WORSE = "#dcfce7", "#fee2e2"
_LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 50}, "height": 360}
TRACE_POINTS = 8  # analyses along the way, for the narrowing interval
TRACE_RESAMPLES = 400


def _records(log: str | Path | Sequence[RequestRecord]) -> list[RequestRecord]:
    return read_requests(log) if isinstance(log, (str, Path)) else list(log)


def _scale(analysis: ABAnalysis) -> tuple[float, str]:
    return (100.0, "win rate (%)") if analysis.metric == "win" else (1.0, "mean score")


def running_analyses(records: list[RequestRecord], control: str, candidate: str, metric: str, level: float,
                     points: int = TRACE_POINTS) -> list[tuple[int, ABAnalysis]]:
    """(users so far, analysis) at ``points`` moments in time order: how the interval narrowed."""
    ordered = sorted(records, key=lambda r: r.time)
    first_seen: dict[str, int] = {}
    for i, record in enumerate(ordered):
        first_seen.setdefault(record.user, i)
    out = []
    for k in range(1, points + 1):
        cut = ordered[:max(1, len(ordered) * k // points)]
        try:
            analysis = analyse(cut, control, candidate, metric, level, resamples=TRACE_RESAMPLES)
        except FtlabError:  # too few users on a side this early: no point yet
            continue
        out.append((sum(1 for i in first_seen.values() if i < len(cut)), analysis))
    return out


def ab_figure(analysis: ABAnalysis, running: list[tuple[int, ABAnalysis]] | None = None,
              widget: bool = False) -> go.Figure:
    """Left: each version's outcome with its interval.  Right: the difference and its interval as users came."""
    scale, title = _scale(analysis)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.4, 0.6], subplot_titles=(
        title, f"difference ({analysis.candidate} - {analysis.control}) as users arrived"))
    arms = [analysis.control_arm, analysis.candidate_arm]
    fig.add_trace(go.Bar(
        x=[f"version {a.version}" for a in arms], y=[a.mean * scale for a in arms],
        error_y={"type": "data", "symmetric": False, "array": [(a.interval[1] - a.mean) * scale for a in arms],
                 "arrayminus": [(a.mean - a.interval[0]) * scale for a in arms]},
        marker_color=["#94a3b8", "#2563eb"], text=[f"{a.users} users" for a in arms], showlegend=False), 1, 1)
    if running:
        users = [u for u, _ in running]
        fig.add_trace(go.Scatter(x=users + users[::-1], fill="toself", fillcolor="rgba(37,99,235,0.15)",
                                 y=[a.interval[1] * scale for _, a in running] + [a.interval[0] * scale
                                                                                  for _, a in running][::-1],
                                 line={"width": 0}, name=f"{analysis.level:.0%} interval", hoverinfo="skip"), 1, 2)
        fig.add_trace(go.Scatter(x=users, y=[a.difference * scale for _, a in running], mode="lines+markers",
                                 name="difference", line={"color": "#2563eb"}), 1, 2)
        fig.add_hline(y=0, line_dash="dot", line_color="#999", row=1, col=2)
        fig.update_xaxes(title_text="users", row=1, col=2)
    fig.update_layout(title=f"{analysis.verdict}: {analysis.candidate} vs {analysis.control} "
                      f"({analysis.difference * scale:+.3g}, p = {analysis.p_value:.3g})", **_LAYOUT)
    return FigureWidget(fig) if widget else fig


def ab_html(analysis: ABAnalysis, decision: GateDecision | None = None) -> str:
    """The two arms, the difference and the verdict (and the gate's decision) as one HTML string."""
    scale, title = _scale(analysis)
    def fmt(value: float) -> str:
        return number(value * scale)
    rows = [[f"version {html.escape(a.version)}", role, str(a.users), str(a.requests), fmt(a.mean),
             f"[{fmt(a.interval[0])}, {fmt(a.interval[1])}]"]
            for a, role in ((analysis.control_arm, "control"), (analysis.candidate_arm, "candidate"))]
    shade = {"better": _BETTER, "worse": _WORSE}.get(analysis.verdict, "transparent")
    parts = ["<div class='ftlab-ab'>",
             f"<h3>A/B test: version {html.escape(analysis.candidate)} against {html.escape(analysis.control)}</h3>",
             table(["version", "role", "users", "requests", title, f"{analysis.level:.0%} interval"], rows),
             table(["difference", f"{analysis.level:.0%} interval", "p", "verdict", "users still needed"],
                   [[fmt(analysis.difference), f"[{fmt(analysis.interval[0])}, {fmt(analysis.interval[1])}]",
                     number(analysis.p_value), f"<b>{html.escape(analysis.verdict)}</b>",
                     # once decided, more users are not needed for this effect (the count is for an undecided test)
                     "none (decided)" if analysis.verdict in ("better", "worse") else str(analysis.users_needed)]],
                   [shade]),
             f"<p>{html.escape(analysis.summary())}</p>",
             f"<p style='color:#666'>method: {html.escape(analysis.method)}</p>"]
    if decision is not None:
        parts.append(f"<p><b>gate: {html.escape(decision.action)}</b> — {html.escape(decision.reason)}"
                     + (f"<br>registry: {html.escape(decision.applied)}" if decision.applied else "") + "</p>")
    return "".join(parts) + "</div>"


class ABPanel:
    """``.widget`` is the ipywidgets view, :meth:`html` the static one; :meth:`gate` is the button's action."""

    def __init__(self, log: str | Path | Sequence[RequestRecord], control: str, candidate: str, metric: str = "win",
                 registry: ModelRegistry | None = None, name: str | None = None, alias: str = "production"):
        self.records = _records(log)
        self.control, self.candidate = str(control), str(candidate)
        self.registry, self.name, self.alias = registry, name, alias
        self.decision: GateDecision | None = None
        self.error: str | None = None
        self.metric = W.Dropdown(options=[("win rate", "win"), ("mean score", "score")], value=metric,
                                 description="metric")
        self.level = W.Dropdown(options=[("90%", 0.9), ("95%", 0.95), ("99%", 0.99)], value=LEVEL,
                                description="level")
        self.min_effect = W.BoundedFloatText(value=0.05, min=0.001, max=1e6, step=0.01, description="min effect",
                                             tooltip="smallest difference worth finding (for the users still needed)")
        self.gate_button = W.Button(description="apply gate", button_style="warning",
                                    disabled=registry is None or name is None,
                                    tooltip=f"promote or roll back {name}@{alias} as the analysis says")
        self.gate_button.on_click(lambda _: self.gate())
        self.analysis = self._analyse()
        self.figure = ab_figure(self.analysis, self._running(), widget=True)
        self.table = W.HTML(ab_html(self.analysis))
        for setting in (self.metric, self.level, self.min_effect):
            setting.observe(lambda _: self.refresh(), names="value")
        self.widget = W.VBox([W.HBox([self.metric, self.level, self.min_effect, self.gate_button]), self.table,
                              self.figure])

    def _analyse(self) -> ABAnalysis:
        return analyse(self.records, self.control, self.candidate, self.metric.value, self.level.value,
                       self.min_effect.value)

    def _running(self) -> list[tuple[int, ABAnalysis]]:
        return running_analyses(self.records, self.control, self.candidate, self.metric.value, self.level.value)

    def refresh(self) -> None:
        """Re-run the analysis with the controls' values and redraw; a setting the log cannot answer (a metric
        it has no outcomes for) shows why in place of the table and keeps the last figure."""
        try:
            self.analysis = self._analyse()
        except FtlabError as exc:
            self.error = str(exc)
            self.table.value = f"<p style='color:#b91c1c'><b>cannot analyse:</b> {html.escape(self.error)}</p>"
            self.gate_button.disabled = True
            return
        self.error = None
        self.gate_button.disabled = self.registry is None or self.name is None
        self.decision = None
        self.table.value = ab_html(self.analysis)
        fresh = ab_figure(self.analysis, self._running())
        with self.figure.batch_update():
            self.figure.data = []
            for trace in fresh.data:
                self.figure.add_trace(trace)
            self.figure.layout = fresh.layout

    def gate(self) -> GateDecision:
        """Decide, and carry the decision out on the registry when the panel has one."""
        decision = decide(self.analysis)
        if self.registry is not None and self.name:
            apply_gate(decision, self.registry, self.name, self.alias)
        self.decision = decision
        self.table.value = ab_html(self.analysis, decision)
        return decision

    def html(self) -> str:
        return ab_html(self.analysis, self.decision)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
