"""Training curves as plotly figures, from a run directory or from live rows.

The live dashboard and the static end-of-run figure share this layout, so
what a person watched is what the notebook keeps.
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

PANELS = ["loss", "learning rate", "grad norm", "tokens / s", "memory (MB)", "utilisation (%)"]

# (trace name, panel index, source stream, x key, y key)
TRACES = [
    ("train loss", 0, "metrics", "step", "loss"),
    ("eval loss", 0, "metrics", "step", "eval_loss"),
    ("learning rate", 1, "metrics", "step", "learning_rate"),
    ("grad norm", 2, "metrics", "step", "grad_norm"),
    ("tokens/s", 3, "metrics", "step", "tokens_per_s"),
    ("process RSS", 4, "system", "step", "rss_mb"),
    ("GPU memory", 4, "system", "step", "gpu_mem_mb"),
    ("CPU %", 5, "system", "step", "cpu_percent"),
    ("GPU util %", 5, "system", "step", "gpu_util_percent"),
]


def series(metrics: list[dict], system: list[dict]) -> dict[str, tuple[list, list]]:
    """x/y lists per trace; a trace with no points (GPU rows on a CPU) is empty."""
    rows = {"metrics": metrics, "system": system}
    out = {}
    for name, _, stream, x, y in TRACES:
        points = [(r[x], r[y]) for r in rows[stream] if r.get(y) is not None]
        out[name] = ([p[0] for p in points], [p[1] for p in points])
    return out


def curves_figure(metrics: list[dict] = (), system: list[dict] = (), title: str = "",
                  widget: bool = False) -> go.Figure:
    fig = make_subplots(rows=2, cols=3, subplot_titles=PANELS, horizontal_spacing=0.07, vertical_spacing=0.16)
    data = series(list(metrics), list(system))
    for name, panel, _, _, _ in TRACES:
        xs, ys = data[name]
        fig.add_trace(go.Scatter(x=xs, y=ys, name=name, mode="lines+markers" if "eval" in name else "lines",
                                 visible=True if ys or not widget else "legendonly"),
                      row=panel // 3 + 1, col=panel % 3 + 1)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_xaxes(title_text="step", row=2)
    fig.update_layout(height=520, title=title or None, margin=dict(l=40, r=20, t=60 if title else 40, b=40),
                      legend=dict(orientation="h", y=-0.15), template="plotly_white")
    return go.FigureWidget(fig) if widget else fig


def run_figure(run_dir: str | Path, title: str | None = None) -> go.Figure:
    """The curves of a finished (or failed) run, read from its directory."""
    from ftlab.training.rundir import RunDir

    run = RunDir(run_dir)
    return curves_figure(run.read("metrics"), run.read("system"), title or run.path.name)


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
    return go.FigureWidget(fig) if widget else fig


def stage_series(plots: tuple[tuple[str, tuple[str, ...]], ...], metrics: list[dict]) -> list[tuple[list, list]]:
    """x/y lists in the order of :func:`stage_figure`'s traces."""
    out = []
    for _, keys in plots:
        for key in keys:
            points = [(m["step"], m[key]) for m in metrics if m.get(key) is not None]
            out.append(([p[0] for p in points], [p[1] for p in points]))
    return out
