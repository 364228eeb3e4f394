"""Training curves as plotly figures, from a run directory or from live rows.

The live dashboard and the static end-of-run figure share this layout, so
what a person watched is what the notebook keeps.
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ftlab.widgets.figure_widget import FigureWidget

PANELS = ["loss (log scale)", "learning rate", "grad norm", "tokens / s", "memory (MB, from 0)",
          "utilisation (% of the machine)"]

# (trace name, panel index, source stream, x key, y key)
TRACES = [
    ("train loss", 0, "metrics", "step", "loss"),
    ("eval loss", 0, "metrics", "step", "eval_loss"),
    ("learning rate", 1, "metrics", "step", "learning_rate"),
    ("grad norm", 2, "metrics", "step", "grad_norm"),
    ("tokens/s", 3, "metrics", "step", "tokens_per_s"),
    ("process RSS", 4, "system", "step", "rss_mb"),
    ("GPU memory", 4, "system", "step", "gpu_mem_mb"),
    ("CPU (all cores = 100%)", 5, "system", "step", "cpu_share"),
    ("GPU util %", 5, "system", "step", "gpu_util_percent"),
]

# How an event of events.jsonl is marked: a dotted line across every panel, in its colour, labelled on the loss panel.
EVENT_STYLE = {"stop": ("stop", "#d62728"), "pause": ("pause", "#ff7f0e"), "continue": ("continue", "#2ca02c"),
               "lr": ("lr", "#9467bd"), "evaluate": ("eval", "#17becf"), "save": ("save", "#8c564b"),
               "resumed": ("resumed", "#1f77b4")}


def event_label(row: dict) -> str:
    """A short label for the marker (the hover says more)."""
    label = EVENT_STYLE.get(row["event"], (row["event"], ""))[0]
    if row["event"] == "lr" and "to" in row:
        label = f"lr {row['to']:.2g}"
    return label


def event_marks(events: list[dict], panels: int = len(PANELS)) -> tuple[list[dict], dict]:
    """Plotly shapes (one dotted line per event in each panel) and the x/text/hover/colour of the labelled markers
    over the loss panel.  A pause and its continue at the same step are one mark ("paused 12 s")."""
    marks: list[dict] = []
    for row in events:
        if row.get("error"):
            continue  # asked but not done (evaluate without a validation split): nothing happened to mark
        if row["event"] == "continue" and marks and marks[-1]["event"] == "pause" and marks[-1]["step"] == row["step"]:
            marks[-1] = {**marks[-1], "label": f"paused {row.get('paused_s', 0):.0f} s"}
            continue
        marks.append({**row, "label": event_label(row)})
    shapes = []
    for mark in marks:
        colour = EVENT_STYLE.get(mark["event"], ("", "#555"))[1]
        for panel in range(1, panels + 1):
            suffix = "" if panel == 1 else str(panel)
            shapes.append(dict(type="line", xref=f"x{suffix}", yref=f"y{suffix} domain", x0=mark["step"],
                               x1=mark["step"], y0=0, y1=1, line=dict(color=colour, width=1, dash="dot")))
    hover = [f"{m['label']} at step {m['step']}" + (f" (lr {m['from']:.3g} → {m['to']:.3g})" if "to" in m else "")
             + (f": {m['reason']}" if m.get("reason") else "") for m in marks]
    return shapes, {"x": [m["step"] for m in marks], "text": [m["label"] for m in marks], "hover": hover,
                    "color": [EVENT_STYLE.get(m["event"], ("", "#555"))[1] for m in marks]}


def series(metrics: list[dict], system: list[dict]) -> dict[str, tuple[list, list]]:
    """x/y lists per trace; a trace with no points (GPU rows on a CPU) is empty."""
    rows = {"metrics": metrics, "system": system}
    out = {}
    for name, _, stream, x, y in TRACES:
        points = [(r[x], r[y]) for r in rows[stream] if r.get(y) is not None]
        out[name] = ([p[0] for p in points], [p[1] for p in points])
    return out


def curves_figure(metrics: list[dict] = (), system: list[dict] = (), title: str = "",
                  widget: bool = False, events: list[dict] = ()) -> go.Figure:
    """Six panels; the last trace ("events") holds the labelled markers of :func:`event_marks`."""
    fig = make_subplots(rows=2, cols=3, subplot_titles=PANELS, horizontal_spacing=0.07, vertical_spacing=0.16)
    data = series(list(metrics), list(system))
    for name, panel, _, _, y in TRACES:
        xs, ys = data[name]
        value = "%{y:.3s}" if y in ("tokens_per_s",) else "%{y:.1f}" if panel >= 4 else "%{y:.4g}"
        fig.add_trace(go.Scatter(x=xs, y=ys, name=name, mode="lines+markers" if "eval" in name else "lines",
                                 visible=True if ys or not widget else "legendonly",
                                 hovertemplate=f"step %{{x}}<br>{name} {value}<extra></extra>"),
                      row=panel // 3 + 1, col=panel % 3 + 1)
    shapes, marks = event_marks(list(events))
    fig.add_trace(go.Scatter(x=marks["x"], y=[1.0] * len(marks["x"]), yaxis="y7", name="events",
                             mode="markers+text", text=marks["text"], textposition="top center",
                             marker=dict(symbol="triangle-down", size=9, color=marks["color"]),
                             textfont=dict(size=10), hovertext=marks["hover"], hoverinfo="text", showlegend=False,
                             xaxis="x", cliponaxis=False))  # a label at the panel's edge is not cut
    # The markers' own y axis over the loss panel, 0..1, so they stay at its top whatever the loss does.
    fig.update_layout(yaxis7=dict(overlaying="y", range=[0, 1.15], visible=False, fixedrange=True),
                      shapes=shapes)
    # One labelled tick per decade (1, 0.1, 0.01), not 1-2-5 minor labels that read "10 5 2 1 5 2 0.1".
    fig.update_yaxes(type="log", dtick=1, minor=dict(dtick="D1", showgrid=True), row=1, col=1)
    fig.update_yaxes(rangemode="tozero", row=2, col=2)  # memory from 0: a few MB of noise stays small
    fig.update_yaxes(range=[0, 105], ticksuffix="%", row=2, col=3)
    fig.update_xaxes(title_text="step", row=2)
    fig.update_layout(height=540, title=title or None, margin=dict(l=40, r=20, t=60 if title else 40, b=40),
                      legend=dict(orientation="h", y=-0.15), template="plotly_white", hovermode="closest")
    return FigureWidget(fig) if widget else fig


def run_figure(run_dir: str | Path, title: str | None = None) -> go.Figure:
    """The curves of a finished (or failed) run, read from its directory."""
    from ftlab.training.rundir import RunDir

    run = RunDir(run_dir)
    return curves_figure(run.read("metrics"), run.read("system"), title or run.path.name, events=run.read("events"))


def stage_figure(plots: tuple[tuple[str, tuple[str, ...]], ...], metrics: list[dict] = (),
                 widget: bool = False) -> go.Figure:
    """A stage's own curves (DPO rewards and margins, GRPO reward and KL...) as its registry entry names them."""
    fig = make_subplots(rows=1, cols=len(plots), subplot_titles=[title for title, _ in plots],
                        horizontal_spacing=0.08)
    data = iter(stage_series(plots, list(metrics)))
    for col, (_, keys) in enumerate(plots, 1):
        for key in keys:
            xs, ys = next(data)
            fig.add_trace(go.Scatter(x=xs, y=ys, name=key, mode="lines"), row=1, col=col)
    fig.update_xaxes(title_text="step")
    fig.update_layout(height=300, margin=dict(l=40, r=20, t=40, b=40), legend=dict(orientation="h", y=-0.3),
                      template="plotly_white")
    return FigureWidget(fig) if widget else fig


def stage_series(plots: tuple[tuple[str, tuple[str, ...]], ...], metrics: list[dict]) -> list[tuple[list, list]]:
    """x/y lists in the order of :func:`stage_figure`'s traces."""
    out = []
    for _, keys in plots:
        for key in keys:
            points = [(m["step"], m[key]) for m in metrics if m.get(key) is not None]
            out.append(([p[0] for p in points], [p[1] for p in points]))
    return out
