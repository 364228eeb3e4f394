"""The export trade-off panel: what ``export.json`` says about each artifact, as a table, a scatter and a drill-down.

``ExportPanel(folder)`` reads the folder ``ftlab export`` wrote (or the
``export.json`` itself) and shows one table row per artifact (size, load time,
latency, tokens/s, the quality re-check's difference with its interval, the
sanity gate) and a scatter of size on disk against latency or against the
quality difference.  A click on an artifact's button or on its point opens its
worst regressions (question, reference, the reference model's answer, the
artifact's) and its gate checks with their fixes.  Artifacts that failed or
were skipped keep their row, with the reason and no figures.

:func:`export_html` is the table and every artifact's drill-down as one
self-contained HTML string, and :func:`tradeoff_figure` (``widget=False``) a
plain plotly figure: what a saved or papermill-run notebook keeps without a
kernel (a FigureWidget's state is left out of saved notebooks).
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as W
import plotly.graph_objects as go

from ftlab.errors import FtlabError
from ftlab.eval.metrics import METRICS
from ftlab.files import read_json
from ftlab.widgets.eval_panel import verdict
from ftlab.widgets.figure_widget import FigureWidget
from ftlab.widgets.html_table import number, table
from ftlab.widgets.timeline_view import diff_html

EXPORT_FILE = "export.json"
AXES = {"latency": "latency p50 (ms)", "quality": "quality difference"}
_TEXT = "font-family:monospace;white-space:pre-wrap"
_PASS, _FAIL, _SKIPPED = "#dcfce7", "#fee2e2", "#f3f4f6"
_LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 40, "b": 50}, "height": 380}


# ---- reading ---------------------------------------------------------------------------------------------------

@dataclass
class ExportRecord:
    """``export.json`` and the folder its artifact paths are relative to."""

    folder: Path
    record: dict

    @property
    def artifacts(self) -> list[dict]:
        return self.record["artifacts"]


def read_export(path: str | Path) -> ExportRecord:
    """An export folder or its ``export.json``; a missing file or artifact field is an error that names it."""
    path = Path(path)
    file = path if path.suffix == ".json" else path / EXPORT_FILE
    if not file.is_file():
        raise FtlabError(f"{file} does not exist; export first (ftlab export RUN_DIR --format FORMAT --out DIR) "
                         "and give the --out folder or its export.json.")
    record = read_json(file)
    if not isinstance(record.get("artifacts"), list):
        raise FtlabError(f"{file} has no 'artifacts' list; it was not written by ftlab export (export again).")
    for i, artifact in enumerate(record["artifacts"]):
        missing = [key for key in ("format", "path", "status") if key not in artifact]
        if missing:
            raise FtlabError(f"{file}: artifacts[{i}] has no {', '.join(map(repr, missing))}; the file is "
                             "incomplete (an interrupted export?): export again.")
    return ExportRecord(file.parent, record)


# ---- data shaping (pure) -----------------------------------------------------------------------------------------

def labels(artifacts: list[dict]) -> list[str]:
    """A name per artifact: its format, with its folder where two artifacts share a format (unless the folder is
    named after it)."""
    counts = Counter(a["format"] for a in artifacts)
    return [a["format"] if counts[a["format"]] == 1 or a["path"] == a["format"] else f"{a['format']} · {a['path']}"
            for a in artifacts]


def has_figures(artifact: dict) -> bool:
    """Whether the artifact was built and measured (failed and skipped ones carry only their reason)."""
    return artifact["status"] == "ok" and artifact.get("size_bytes") is not None


def failing_checks(artifact: dict) -> list[dict]:
    return [c for c in (artifact.get("gate") or {}).get("checks", []) if not c["passed"]]


def worst_regressions(artifact: dict, k: int = 5) -> list[dict]:
    """The ``k`` regressions with the largest score drop (ties keep the file's order)."""
    rows = (artifact.get("quality") or {}).get("regressions", [])
    return sorted(rows, key=lambda r: -r["score_drop"])[:k]


def _scaled(value, factor: float):
    return None if value is None else value * factor


def artifact_rows(record: dict) -> list[dict]:
    """One row per artifact in file order: the figures in display units (MB, ms), None where not measured."""
    higher_is_better = getattr(METRICS.get(record.get("metric", "")), "higher_is_better", True)
    rows = []
    for label, a in zip(labels(record["artifacts"]), record["artifacts"]):
        quality, gate = a.get("quality") or {}, a.get("gate")
        interval = quality.get("interval")
        rows.append({
            "label": label, "format": a["format"], "path": a["path"], "status": a["status"], "reason": a.get("reason"),
            "size_mb": _scaled(a.get("size_bytes"), 1e-6), "load_s": a.get("load_seconds"),
            "p50_ms": _scaled(a.get("latency_p50_s"), 1e3), "p95_ms": _scaled(a.get("latency_p95_s"), 1e3),
            "tokens_per_s": a.get("tokens_per_second"), "metric": quality.get("metric", record.get("metric")),
            "quality": quality.get("value"), "reference_quality": quality.get("reference_value"),
            "difference": quality.get("difference"), "low": interval[0] if interval else None,
            "high": interval[1] if interval else None, "n": quality.get("n"),
            "verdict": verdict(quality["difference"], interval, higher_is_better) if quality else "",
            "gate": None if gate is None else gate["passed"],
            "failing": [c["name"] for c in failing_checks(a)]})
    return rows


# ---- HTML pieces (shared by the widget and the static view) -----------------------------------------------------

def _span(inner: str) -> str:
    return f"<span style='{_TEXT}'>{inner}</span>"


def _difference_cell(row: dict) -> str:
    if row["difference"] is None:
        return "–"
    text = f"{row['difference']:+.3g} [{number(row['low'])}, {number(row['high'])}]"
    return f"<b>{text}</b> {row['verdict']}" if row["verdict"] in ("better", "worse") else text


def _gate_cell(row: dict) -> str:
    if row["gate"] is None:
        return "–"
    return "pass" if row["gate"] else "<b>fail</b>: " + html.escape(", ".join(row["failing"]))


def _status_cell(row: dict) -> str:
    if row["status"] == "ok":
        return "ok"
    return f"<b>{html.escape(row['status'])}</b>: {html.escape(row['reason'] or 'no reason given')}"


def _shade(row: dict) -> str:
    if row["status"] == "skipped":
        return _SKIPPED
    if row["status"] != "ok" or row["gate"] is False:
        return _FAIL
    return "transparent"


def tradeoff_html(record: dict) -> str:
    """The trade-off table: one row per artifact, failed gates and failed exports in red, skipped ones in grey."""
    rows = artifact_rows(record)
    metric = html.escape(str(record.get("metric", "quality")))
    cells = [[html.escape(r["label"]), _status_cell(r), number(r["size_mb"]), number(r["load_s"]),
              number(r["p50_ms"]), number(r["p95_ms"]), number(r["tokens_per_s"]), number(r["quality"]),
              _difference_cell(r), _gate_cell(r)] for r in rows]
    header = ["artifact", "status", "size MB", "load s", "latency p50 ms", "p95 ms", "tokens/s", metric,
              f"difference vs {record.get('reference', 'reference')} [95% interval]", "gate"]
    return table(header, cells, [_shade(r) for r in rows])


def checks_html(artifact: dict) -> str:
    """The sanity gate's checks, failing ones first with what differs and how to fix it."""
    checks = (artifact.get("gate") or {}).get("checks", [])
    if not checks:
        return "<i>no sanity gate ran on this artifact</i>"
    ordered = sorted(checks, key=lambda c: c["passed"])
    return table(["check", "", "what was found", "how to fix it"],
                 [[html.escape(c["name"]), "✓" if c["passed"] else "<b>✗</b>", html.escape(c.get("detail") or ""),
                   html.escape(c.get("fix") or "")] for c in ordered],
                 [_FAIL if not c["passed"] else "transparent" for c in ordered])


def regressions_html(artifact: dict, k: int = 5) -> str:
    """The worst per-sample regressions; the artifact's answer is diffed against the reference model's."""
    rows = worst_regressions(artifact, k)
    if not rows:
        quality = artifact.get("quality")
        return ("<i>no regressions: no sample scores lower than with the reference model</i>" if quality
                else "<i>no quality re-check for this artifact</i>")
    return table(["#", "score drop", "question", "reference", "reference model's answer",
                  "artifact's answer (diff: red missing, green extra)"],
                 [[str(r["index"]), number(r["score_drop"]), _span(html.escape(r["question"])),
                   _span(html.escape(r["reference"])), _span(html.escape(r["reference_model_answer"])),
                   _span(diff_html(r["reference_model_answer"], r["answer"]) or "<i>(empty)</i>")] for r in rows])


def artifact_html(artifact: dict, label: str | None = None, k: int = 5) -> str:
    """One artifact in full: where it is, its status, its gate checks and its worst regressions."""
    head = (f"<div style='margin:6px 0 2px'><b>{html.escape(label or artifact['format'])}</b> "
            f"({html.escape(artifact['path'])})</div>")
    if artifact["status"] != "ok":
        return head + (f"<div><b>{html.escape(artifact['status'])}</b>: "
                       f"{html.escape(artifact.get('reason') or 'no reason given')}</div>")
    quality = artifact.get("quality") or {}
    # export.json keeps the worst few regressions and counts them all
    total = quality.get("regressions_total", len(quality.get("regressions", [])))
    return (head + "<div>sanity gate</div>" + checks_html(artifact)
            + f"<div>worst regressions ({len(worst_regressions(artifact, k))} of {total})</div>"
            + regressions_html(artifact, k))


def export_html(path: str | Path | ExportRecord, k: int = 5) -> str:
    """The table and every artifact's drill-down as one self-contained HTML string (no plotly)."""
    data = path if isinstance(path, ExportRecord) else read_export(path)
    record = data.record
    parts = [f"<div class='ftlab-export'><h3>Export of {html.escape(Path(record.get('run_dir', '')).name)}</h3>",
             (f"<div>quality: {html.escape(str(record.get('metric', '')))} against "
              f"{html.escape(str(record.get('reference', '')))}; {len(data.artifacts)} artifacts</div>"),
             tradeoff_html(record)]
    parts += [artifact_html(a, label, k) for label, a in zip(labels(data.artifacts), data.artifacts)]
    return "".join(parts) + "</div>"


# ---- figure ------------------------------------------------------------------------------------------------------

def tradeoff_figure(record: dict, y: str = "latency", widget: bool = False) -> go.Figure:
    """Size on disk against latency p50 (error bar up to p95) or against the quality difference (error bars: its
    95% interval), one labelled point per measured artifact, green where the gate passed and red where it failed."""
    if y not in AXES:
        raise FtlabError(f"y={y!r}: the trade-off figure plots size against {' or '.join(map(repr, AXES))}.")
    rows = [r for r, a in zip(artifact_rows(record), record["artifacts"]) if has_figures(a)]
    if y == "latency":
        ys = [r["p50_ms"] for r in rows]
        error = {"type": "data", "symmetric": False, "array": [r["p95_ms"] - r["p50_ms"] for r in rows],
                 "arrayminus": [0] * len(rows)}
    else:
        ys = [r["difference"] for r in rows]
        error = {"type": "data", "symmetric": False, "array": [r["high"] - r["difference"] for r in rows],
                 "arrayminus": [r["difference"] - r["low"] for r in rows]}
    hover = [f"<b>{html.escape(r['label'])}</b><br>size {number(r['size_mb'])} MB, load {number(r['load_s'])} s<br>"
             f"latency p50 {number(r['p50_ms'])} ms, p95 {number(r['p95_ms'])} ms, {number(r['tokens_per_s'])} "
             "tokens/s<br>"
             f"{html.escape(str(r['metric']))} {number(r['quality'])} ({_difference_cell(r)})<br>"
             f"gate {_gate_cell(r)}" for r in rows]
    fig = go.Figure(go.Scatter(
        x=[r["size_mb"] for r in rows], y=ys, mode="markers+text", text=[r["label"] for r in rows],
        textposition=["top center" if i % 2 == 0 else "bottom center" for i in range(len(rows))],  # apart where
        # two artifacts have one size (a merged model and a re-templated copy of it)
        hovertext=hover, hoverinfo="text",
        marker={"size": 12, "color": ["#16a34a" if r["gate"] is not False else "#dc2626" for r in rows]},
        error_y=error, showlegend=False))
    fig.update_layout(title=f"{AXES[y]} against size on disk (green: gate passed, red: failed)",
                      xaxis_title="size on disk (MB)", yaxis_title=AXES[y], hovermode="closest", **_LAYOUT)
    fig.update_xaxes(range=[0, 1.3 * max((r["size_mb"] for r in rows), default=1)])  # room for the labels
    if y == "quality":
        fig.add_hline(y=0, line_dash="dot", line_color="#999")
    return FigureWidget(fig) if widget else fig


# ---- the widget --------------------------------------------------------------------------------------------------

class ExportPanel:
    """The trade-off table and scatter over one export; ``.widget`` is the ipywidgets view, :meth:`html` the static
    one.  :meth:`show` (what a button or a point click calls) opens one artifact's regressions and gate checks."""

    def __init__(self, path: str | Path, y: str = "latency", k: int = 5):
        self.data = read_export(path)
        self.record = self.data.record
        self.k = k
        self.labels = labels(self.data.artifacts)
        self.plotted = [label for label, a in zip(self.labels, self.data.artifacts) if has_figures(a)]
        self.axis = W.Dropdown(options=[(title, key) for key, title in AXES.items()], value=y, description="y axis")
        self.figure = tradeoff_figure(self.record, y, widget=True)
        self.figure.data[0].on_click(self._on_point)
        self.axis.observe(lambda _: self.plot(), names="value")
        self.buttons = [W.Button(description=label, tooltip=f"regressions and gate checks of {label}",
                                 button_style=_button_style(a), layout=W.Layout(width="auto"))
                        for label, a in zip(self.labels, self.data.artifacts)]
        for button, label in zip(self.buttons, self.labels):
            button.on_click(lambda _, label=label: self.show(label))
        self.shown: str | None = None
        self.detail = W.HTML("<i>click an artifact (a button or a point) for its worst regressions and gate "
                             "checks</i>")
        self.widget = W.VBox([
            W.HTML(f"<b>Export of {html.escape(Path(self.record.get('run_dir', '')).name)}</b>: "
                   f"{html.escape(str(self.record.get('metric', '')))} against "
                   f"{html.escape(str(self.record.get('reference', '')))}, {len(self.labels)} artifacts"),
            W.HTML(tradeoff_html(self.record)), self.axis, self.figure,
            W.HBox([W.Label("open:"), *self.buttons], layout=W.Layout(flex_flow="row wrap")), self.detail])

    def plot(self) -> None:
        """Redraw the scatter against the chosen y axis (same points, same order)."""
        fresh = tradeoff_figure(self.record, self.axis.value)
        with self.figure.batch_update():
            self.figure.data[0].y = fresh.data[0].y
            self.figure.data[0].error_y = fresh.data[0].error_y
            self.figure.layout.yaxis.title = fresh.layout.yaxis.title
            self.figure.layout.title = fresh.layout.title
            self.figure.layout.shapes = fresh.layout.shapes

    def _on_point(self, trace, points, state) -> None:
        if points.point_inds:
            self.show(self.plotted[points.point_inds[0]])

    def show(self, label: str) -> None:
        """Open one artifact (by its label in the table): its gate checks and worst regressions."""
        if label not in self.labels:
            raise FtlabError(f"no artifact {label!r} in {self.data.folder / EXPORT_FILE}; "
                             f"choose one of {', '.join(self.labels)}.")
        artifact = self.data.artifacts[self.labels.index(label)]
        self.shown = label
        self.detail.value = artifact_html(artifact, label, self.k)

    def html(self) -> str:
        return export_html(self.data, self.k)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def _button_style(artifact: dict) -> str:
    if artifact["status"] == "skipped":
        return ""
    return "danger" if artifact["status"] != "ok" or failing_checks(artifact) else "success"
