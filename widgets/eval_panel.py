"""The evaluation panel: what ``eval.json`` and its sample files say, as tabs a person reads.

``EvalPanel(folder)`` reads a run directory (or an ``ftlab eval --out``
folder) and shows, each in a tab of its own and only when there is data for
it: the figures (every metric with its 95% interval and which way is better;
per compared model the paired differences, significant where the interval
excludes 0, and the win / tie / loss counts), the classification views
(confusion matrix, per-class table, ROC and PR curves), calibration
(reliability diagram, accuracy against coverage), samples (best and worst by
a chosen per-item score, largest gains and worst regressions against each
compared model, a drill-down into one example), the probe suites, and
people's ratings.

:func:`eval_html` is the same content as one self-contained HTML string
(tables and character diffs, no plotly), which a saved or papermill-run
notebook keeps without a kernel.  The data shaping lives in small functions
(:func:`metric_rows`, :func:`difference_rows`, :func:`best_worst`...) that
both views, and tests, call.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import ipywidgets as W
import plotly.graph_objects as go

from ftlab.errors import FtlabError
from ftlab.eval.paired import ITEM_SCORES
from ftlab.eval.ratings import read_ratings, summarize
from ftlab.eval.stage import against_samples_file
from ftlab.files import read_json, read_jsonl
from ftlab.widgets.figure_widget import FigureWidget
from ftlab.widgets.html_table import number, table
from ftlab.widgets.rating import summary_html
from ftlab.widgets.timeline_view import diff_html

TABS = ("Figures", "Classification", "Calibration", "Samples", "Suites", "Ratings")
_TEXT = "font-family:monospace;white-space:pre-wrap"
_VERDICT_COLOURS = {"better": "#dcfce7", "worse": "#fee2e2"}
_LAYOUT = {"template": "plotly_white", "margin": {"l": 50, "r": 20, "t": 40, "b": 40}}


# ---- reading ---------------------------------------------------------------------------------------------------

@dataclass
class EvalFolder:
    """Everything an evaluation wrote into one folder."""

    path: Path
    record: dict  # eval.json
    samples: list[dict]  # eval_samples.jsonl
    against_samples: dict[str, list[dict]] = field(default_factory=dict)  # compared model -> its answers
    suite_items: dict[str, list[dict]] = field(default_factory=dict)  # suite -> scored probes
    ratings: list[dict] = field(default_factory=list)  # ratings.jsonl


def read_eval(folder: str | Path) -> EvalFolder:
    """Read eval.json and the files written next to it; a folder without eval.json is an error that says why."""
    path = Path(folder)
    if not (path / "eval.json").is_file():
        raise FtlabError(f"{path} has no eval.json; evaluate first (ftlab eval RUN_DIR, or ftlab eval MODEL "
                         f"--out {path}), or give the folder an evaluation wrote into.")
    record = read_json(path / "eval.json")
    return EvalFolder(
        path, record, read_jsonl(path / "eval_samples.jsonl"),
        {name: read_jsonl(path / against_samples_file(name)) for name in record.get("against", {})},
        {name: read_jsonl(path / f"eval_suite_{name}.jsonl") for name in record.get("suites", {})},
        read_ratings(path) if (path / "ratings.jsonl").is_file() else [])


# ---- data shaping (pure) -----------------------------------------------------------------------------------------

def arrow(higher_is_better: bool | None) -> str:
    return {True: "↑", False: "↓"}.get(higher_is_better, "")


def verdict(difference: float, interval: list | None, higher_is_better: bool = True) -> str:
    """"better" or "worse" for the candidate when the paired interval excludes 0, "no clear difference" when it
    holds 0, "" when there is no interval (cost figures: latency, throughput)."""
    if not interval:
        return ""
    low, high = interval
    if low <= 0 <= high:
        return "no clear difference"
    return "better" if (difference > 0) == bool(higher_is_better) else "worse"


def metric_rows(record: dict) -> list[dict]:
    """One row per metric of eval.json: value, 95% interval (None for cost figures) and direction."""
    intervals, directions = record.get("intervals", {}), record.get("higher_is_better", {})
    return [{"metric": name, "value": value, "low": (intervals.get(name) or [None, None])[0],
             "high": (intervals.get(name) or [None, None])[1], "higher_is_better": directions.get(name),
             "arrow": arrow(directions.get(name))}
            for name, value in record.get("metrics", {}).items()]


def difference_rows(record: dict, other: str) -> list[dict]:
    """Per metric against one compared model: both values, the difference, its paired interval, the verdict."""
    directions = record.get("higher_is_better", {})
    rows = []
    for name, entry in record["against"][other]["differences"].items():
        interval = entry.get("interval")
        rows.append({"metric": name, "candidate": entry["candidate"], "baseline": entry["baseline"],
                     "difference": entry["difference"], "low": interval[0] if interval else None,
                     "high": interval[1] if interval else None, "arrow": arrow(directions.get(name)),
                     "significant": bool(interval) and not interval[0] <= 0 <= interval[1],
                     "verdict": verdict(entry["difference"], interval, directions.get(name, True))})
    return rows


def win_summary(record: dict, other: str) -> dict:
    """Wins, ties and losses of the candidate against ``other`` on the per-item score, the win rate and interval."""
    entry = record["against"][other]
    return {"other": other, "item_score": entry["item_score"], "wins": entry["wins"], "ties": entry["ties"],
            "losses": entry["losses"], "win_rate": entry["win_rate"], "low": entry["win_interval"][0],
            "high": entry["win_interval"][1]}


def score_names(samples: list[dict]) -> list[str]:
    """The per-item scores the samples carry, the finest-grained first (the one paired comparisons use)."""
    names = list(dict.fromkeys(k for s in samples for k in s.get("scores", {})))
    preferred = [n for n in ITEM_SCORES if n in names]
    return preferred + [n for n in names if n not in preferred]


def best_worst(samples: list[dict], score: str, k: int = 5,
               higher_is_better: bool = True) -> tuple[list[dict], list[dict]]:
    """The ``k`` best and ``k`` worst samples by ``score`` (best first, worst first; ties keep the file order)."""
    scored = [s for s in samples if s.get("scores", {}).get(score) is not None]
    sign = -1 if higher_is_better else 1
    best = sorted(scored, key=lambda s: sign * s["scores"][score])[:k]
    worst = sorted(scored, key=lambda s: -sign * s["scores"][score])[:k]
    return best, worst


def changed_items(record: dict, other: str, k: int = 5) -> tuple[list[dict], list[dict]]:
    """The ``k`` items that gained most and the ``k`` that lost most against ``other`` (unchanged ones left out)."""
    entry = record["against"][other]
    gains = [c for c in entry.get("largest_gains", []) if c["change"] > 0][:k]
    regressions = [c for c in entry.get("worst_regressions", []) if c["change"] < 0][:k]
    return gains, regressions


def suite_rows(record: dict) -> list[dict]:
    """Per suite and group: the rate with its interval and, per compared model, its rate and the paired difference."""
    rows = []
    for suite, summary in record.get("suites", {}).items():
        for group, rate in summary["figures"].items():
            row = {"suite": suite, "group": group, "n": summary.get("n", {}).get(group), "rate": rate,
                   "low": summary["intervals"][group][0], "high": summary["intervals"][group][1], "against": {}}
            for other, entry in record.get("against", {}).items():
                paired = entry.get("suites", {}).get(suite, {}).get(group)
                if paired:
                    row["against"][other] = {**paired, "verdict": verdict(paired["difference"], paired["interval"],
                                                                          paired.get("higher_is_better", True))}
            rows.append(row)
    return rows


def rating_summaries(ratings: list[dict]) -> list[dict]:
    """One summary per pair of rated systems (``summarize`` takes one pair at a time)."""
    pairs = dict.fromkeys((r["system_a"], r["system_b"]) for r in ratings)
    return [summarize([r for r in ratings if (r["system_a"], r["system_b"]) == pair]) for pair in pairs]


def curve_area(x: list, y: list, steps: bool = False) -> float:
    """Area under a curve given by points: trapezoids (ROC AUC), or steps at the left value (average precision,
    scikit-learn's ``average_precision_score`` from a precision-recall curve's points)."""
    points = [(a, b) for a, b in zip(x, y) if a is not None and b is not None]
    area = 0.0
    for (x0, y0), (x1, y1) in pairwise(points):
        area += (x1 - x0) * (y0 if steps else (y0 + y1) / 2)
    return abs(area)


def tab_titles(data: EvalFolder) -> list[str]:
    """The tabs that have something to show, in the order of :data:`TABS`."""
    diagnostics = data.record.get("diagnostics", {})
    has = {"Figures": bool(data.record.get("metrics")),
           "Classification": bool(diagnostics.get("confusion")),
           "Calibration": bool(diagnostics.get("reliability") or diagnostics.get("coverage")),
           "Samples": bool(data.samples or data.record.get("against")),
           "Suites": bool(data.record.get("suites")),
           "Ratings": bool(data.ratings)}
    return [t for t in TABS if has[t]]


# ---- HTML pieces (shared by the widget and the static view) -----------------------------------------------------

def _interval(low, high) -> str:
    return "–" if low is None else f"[{number(low)}, {number(high)}]"


def metrics_html(record: dict) -> str:
    rows = metric_rows(record)
    return table(["metric", "", "value", "95% interval"],
                  [[html.escape(r["metric"]), r["arrow"], number(r["value"]), _interval(r["low"], r["high"])]
                   for r in rows])


def _verdict_cell(text: str) -> str:
    return f"<b>{text}</b>" if text in _VERDICT_COLOURS else html.escape(text)


def comparison_html(record: dict, other: str) -> str:
    rows = difference_rows(record, other)
    wins = win_summary(record, other)
    title = (f"<b>{html.escape(record.get('name', 'candidate'))} vs {html.escape(other)}</b>: "
             f"{wins['wins']} wins · {wins['ties']} ties · {wins['losses']} losses on {html.escape(wins['item_score'])}"
             f"; win rate {wins['win_rate']:.0%} (95% interval {wins['low']:.0%}–{wins['high']:.0%})")
    body = table(["metric", "", "candidate", "baseline", "difference", "paired 95% interval", "verdict"],
                   [[html.escape(r["metric"]), r["arrow"], number(r["candidate"]), number(r["baseline"]),
                     number(r["difference"]), _interval(r["low"], r["high"]), _verdict_cell(r["verdict"])]
                    for r in rows],
                   [_VERDICT_COLOURS.get(r["verdict"], "transparent") for r in rows])
    note = ("<div style='font-size:0.8em;color:#555'>significant (green: better, red: worse) where the paired "
            "interval excludes 0; ↑/↓: which way is better</div>")
    return f"<div>{title}</div>{body}{note}"


def _span(inner: str) -> str:
    """Text already escaped (or a diff), shown as written: monospace, line breaks kept."""
    return f"<span style='{_TEXT}'>{inner}</span>"


def samples_html(samples: list[dict], score: str) -> str:
    """A table of samples with the score and a character diff of the prediction against the reference."""
    return table(["#", score, "question", "reference", "prediction (diff: red missing, green extra)"],
                  [[str(s["index"]), number(s["scores"].get(score)), _span(html.escape(s["question"])),
                    _span(html.escape(s["reference"])), _span(diff_html(s["reference"], s["prediction"]))]
                   for s in samples])


def changes_html(changes: list[dict], candidate: str, baseline: str) -> str:
    """Items that changed between two models, both answers diffed against the reference."""
    def answer(c: dict, who: str) -> str:
        return f"{_span(diff_html(c['reference'], c[who]))} ({number(c[f'{who}_score'])})"

    return table(["#", "change", "question", "reference", html.escape(candidate), html.escape(baseline)],
                  [[str(c["index"]), f"{c['change']:+.4g}", _span(html.escape(c["question"])),
                    _span(html.escape(c["reference"])), answer(c, "candidate"), answer(c, "baseline")]
                   for c in changes])


def _prompt_text(prompt) -> str:
    if isinstance(prompt, list):  # chat messages
        return "\n".join(f"[{m.get('role', '?')}] {m.get('content', '')}" for m in prompt)
    return str(prompt)


def sample_html(sample: dict, others: dict[str, dict] | None = None, name: str = "candidate") -> str:
    """One example in full: where it came from, the prompt, the reference, every model's answer and scores."""
    others = others or {}
    rows = [["where", html.escape(str(sample.get("where", "")))],
            ["prompt", _span(html.escape(_prompt_text(sample.get("prompt", ""))))],
            ["reference", _span(html.escape(sample["reference"]))]]
    for who, row in [(name, sample), *others.items()]:
        scores = ", ".join(f"{k} {number(v)}" for k, v in row.get("scores", {}).items())
        extra = ""
        if row.get("confidence") is not None:
            extra += f"; confidence {number(row['confidence'])}"
        if row.get("probabilities"):
            extra += "; " + ", ".join(f"P({k}) {number(v)}" for k, v in row["probabilities"].items())
        diff = diff_html(sample["reference"], row["prediction"])
        answer = (f"{_span(html.escape(row['prediction']))}<br>diff: {_span(diff)}"
                  f"<div style='font-size:0.85em;color:#555'>{html.escape(scores + extra)}</div>")
        rows.append([html.escape(who), answer])
    return table([f"example #{sample['index']}", ""], rows)


def classification_html(diagnostics: dict) -> str:
    confusion = diagnostics["confusion"]
    labels, matrix = confusion["labels"], confusion["matrix"]
    top = max((v for row in matrix for v in row), default=0) or 1
    cells = [[f"<b>{html.escape(label)}</b>"] + [
        f"<span style='display:block;background:rgba(37,99,235,{v / top:.2f});"
        f"color:{'#fff' if v / top > 0.5 else '#000'};text-align:right;padding:0 4px'>{v}</span>" for v in row]
        for label, row in zip(labels, matrix)]
    matrix_table = table(["true \\ predicted"] + labels, cells)
    per_class = table(["class", "precision", "recall", "F1", "support"],
                       [[html.escape(r["label"]), number(r["precision"]), number(r["recall"]), number(r["f1"]),
                         str(r["support"])] for r in diagnostics.get("per_class", [])])
    return f"<div>confusion matrix (rows: true class)</div>{matrix_table}<div>per class</div>{per_class}"


def calibration_html(record: dict) -> str:
    diagnostics = record.get("diagnostics", {})
    ece = record.get("metrics", {}).get("ece")
    parts = []
    if diagnostics.get("reliability"):
        parts.append(f"<div>reliability{f' (ECE {number(ece)})' if ece is not None else ''}: accuracy equals "
                     "confidence in every bin for a calibrated model</div>")
        parts.append(table(["confidence bin", "examples", "mean confidence", "accuracy"],
                            [[f"{b['lower']:.1f}–{b['upper']:.1f}", str(b["count"]), number(b["confidence"]),
                              number(b["accuracy"])] for b in diagnostics["reliability"]]))
    if diagnostics.get("coverage"):
        parts.append("<div>accuracy when answering only the most confident share</div>")
        parts.append(table(["coverage", "examples", "accuracy"],
                            [[f"{c['coverage']:.0%}", str(c["examples"]), number(c["accuracy"])]
                             for c in diagnostics["coverage"]]))
    return "".join(parts)


def suites_html(record: dict) -> str:
    rows = suite_rows(record)
    others = list(record.get("against", {}))
    header = ["suite", "group", "n", "rate", "95% interval"]
    for other in others:
        header += [f"{other} rate", "difference", "paired 95% interval", "verdict"]
    cells, shades = [], []
    for r in rows:
        line = [html.escape(r["suite"]), html.escape(r["group"]), number(r["n"]), number(r["rate"]),
                _interval(r["low"], r["high"])]
        shade = "transparent"
        for other in others:
            paired = r["against"].get(other)
            if paired is None:
                line += ["–"] * 4
                continue
            line += [number(paired["baseline"]), number(paired["difference"]), _interval(*paired["interval"]),
                     _verdict_cell(paired["verdict"])]
            shade = _VERDICT_COLOURS.get(paired["verdict"], shade)
        cells.append(line)
        shades.append(shade)
    return table(header, cells, shades)


def ratings_html(ratings: list[dict]) -> str:
    return "".join(summary_html(s) for s in rating_summaries(ratings))


def eval_html(folder: str | Path | EvalFolder, k: int = 5, score: str | None = None) -> str:
    """Every tab with data as one self-contained HTML string (no plotly), for notebooks run without a kernel."""
    data = folder if isinstance(folder, EvalFolder) else read_eval(folder)
    record = data.record
    titles = tab_titles(data)
    parts = [(f"<div class='ftlab-eval'><h3>Evaluation of {html.escape(str(record.get('name', '')))}</h3>"
              f"<div>{html.escape(str(record.get('split', '')))} split, {record.get('n')} examples, data version "
              f"{html.escape(str(record.get('data_version', '')))}</div>")]
    if "Figures" in titles:
        parts += ["<h4>Figures</h4>", metrics_html(record)]
        parts += [comparison_html(record, other) for other in record.get("against", {})]
    if "Classification" in titles:
        parts += ["<h4>Classification</h4>", classification_html(record["diagnostics"])]
    if "Calibration" in titles:
        parts += ["<h4>Calibration</h4>", calibration_html(record)]
    if "Samples" in titles:
        parts.append("<h4>Samples</h4>")
        names = score_names(data.samples)
        score = score if score in names else (names[0] if names else None)
        if score is not None:
            best, worst = best_worst(data.samples, score, k, record.get("higher_is_better", {}).get(score, True))
            parts += [f"<div>best {len(best)} by {html.escape(score)}</div>", samples_html(best, score),
                      f"<div>worst {len(worst)} by {html.escape(score)}</div>", samples_html(worst, score)]
        for other in record.get("against", {}):
            gains, regressions = changed_items(record, other, k)
            candidate = record["against"][other]["candidate"]
            parts += [f"<div>largest gains over {html.escape(other)}</div>", changes_html(gains, candidate, other),
                      f"<div>worst regressions against {html.escape(other)}</div>",
                      changes_html(regressions, candidate, other)]
    if "Suites" in titles:
        parts += ["<h4>Suites</h4>", suites_html(record)]
    if "Ratings" in titles:
        parts += ["<h4>Ratings</h4>", ratings_html(data.ratings)]
    return "".join(parts) + "</div>"


# ---- figures ---------------------------------------------------------------------------------------------------

def confusion_figure(diagnostics: dict) -> go.FigureWidget:
    confusion = diagnostics["confusion"]
    labels = confusion["labels"]
    fig = FigureWidget(go.Heatmap(z=confusion["matrix"], x=labels, y=labels, colorscale="Blues",
                                  text=confusion["matrix"], texttemplate="%{text}",
                                  hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>"),
                       layout=go.Layout(title="confusion matrix", xaxis_title="predicted", yaxis_title="true",
                                        yaxis_autorange="reversed", height=360, width=420, **_LAYOUT))
    return fig


def class_curves_figure(curves: dict, x: str, y: str, title: str, steps: bool) -> go.FigureWidget:
    """One curve per class (ROC: fpr/tpr, PR: recall/precision) with its area in the legend."""
    fig = FigureWidget(layout=go.Layout(title=title, xaxis_title=x, yaxis_title=y, height=360, width=440,
                                        xaxis_range=[0, 1.02], yaxis_range=[0, 1.02], **_LAYOUT))
    area_name = "AP" if steps else "AUC"
    for label, points in curves.items():
        area = curve_area(points[x], points[y], steps)
        fig.add_scatter(x=points[x], y=points[y], name=f"{label} ({area_name} {area:.3f})",
                        mode="lines", line_shape="hv" if steps else "linear")
    if not steps:
        fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"dash": "dot", "color": "#999"})
    return fig


def reliability_figure(record: dict) -> go.FigureWidget:
    bins = [b for b in record["diagnostics"].get("reliability", []) if b["count"]]
    biggest = max((b["count"] for b in bins), default=1)
    ece = record.get("metrics", {}).get("ece")
    fig = FigureWidget(layout=go.Layout(
        title="reliability" + (f" (ECE {ece:.3f})" if ece is not None else ""), xaxis_title="confidence",
        yaxis_title="accuracy", xaxis_range=[0, 1], yaxis_range=[0, 1.02], height=360, width=440, **_LAYOUT))
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="calibrated", line={"dash": "dot", "color": "#999"})
    fig.add_scatter(x=[b["confidence"] for b in bins], y=[b["accuracy"] for b in bins], mode="lines+markers",
                    name="model", marker={"size": [6 + 20 * b["count"] / biggest for b in bins]},
                    text=[f"{b['count']} examples" for b in bins])
    return fig


def coverage_figure(record: dict) -> go.FigureWidget:
    points = [c for c in record["diagnostics"].get("coverage", []) if c["accuracy"] is not None]
    fig = FigureWidget(layout=go.Layout(title="accuracy vs coverage", xaxis_title="coverage (most confident "
                                        "share answered)", yaxis_title="accuracy", xaxis_range=[0, 1.02],
                                        yaxis_range=[0, 1.02], height=360, width=440, **_LAYOUT))
    fig.add_scatter(x=[c["coverage"] for c in points], y=[c["accuracy"] for c in points], mode="lines+markers",
                    name="accuracy", text=[f"{c['examples']} examples" for c in points])
    return fig


def wins_figure(record: dict) -> go.FigureWidget:
    """Stacked wins / ties / losses of the candidate against each compared model."""
    summaries = [win_summary(record, other) for other in record.get("against", {})]
    fig = FigureWidget(layout=go.Layout(barmode="stack", title="wins / ties / losses per item",
                                        height=120 + 40 * len(summaries), **_LAYOUT))
    for key, colour in (("wins", "#16a34a"), ("ties", "#9ca3af"), ("losses", "#dc2626")):
        fig.add_bar(y=[s["other"] for s in summaries], x=[s[key] for s in summaries], name=key, orientation="h",
                    marker_color=colour)
    return fig


def differences_figure(record: dict, other: str) -> go.FigureWidget:
    """Paired differences with intervals, for the metrics on a 0-1 scale (one axis fits them all)."""
    rows = [r for r in difference_rows(record, other)
            if r["low"] is not None and 0 <= r["candidate"] <= 1 and 0 <= r["baseline"] <= 1]
    colours = [{"better": "#16a34a", "worse": "#dc2626"}.get(r["verdict"], "#6b7280") for r in rows]
    fig = FigureWidget(layout=go.Layout(title=f"difference vs {other} (candidate − baseline), paired 95% "
                                        "interval", height=120 + 26 * len(rows), **_LAYOUT))
    fig.add_scatter(x=[r["difference"] for r in rows], y=[f"{r['metric']} {r['arrow']}" for r in rows],
                    mode="markers", marker={"color": colours, "size": 9}, showlegend=False,
                    error_x={"type": "data", "symmetric": False, "array": [r["high"] - r["difference"] for r in rows],
                             "arrayminus": [r["difference"] - r["low"] for r in rows]})
    fig.add_vline(x=0, line_dash="dot", line_color="#999")
    return fig


# ---- the widget --------------------------------------------------------------------------------------------------

class EvalPanel:
    """Tabs over one evaluation folder; ``.widget`` is the ipywidgets view, :meth:`html` the static one."""

    def __init__(self, folder: str | Path, k: int = 5):
        self.data = read_eval(folder)
        self.record = self.data.record
        self.k = k
        self.by_index = {s["index"]: s for s in self.data.samples}
        self.titles = tab_titles(self.data)
        self.figures: dict[str, go.FigureWidget] = {}
        self.detail = W.HTML("<i>choose a sample to see it in full</i>")
        builders = {"Figures": self._figures_tab, "Classification": self._classification_tab,
                    "Calibration": self._calibration_tab, "Samples": self._samples_tab,
                    "Suites": lambda: W.HTML(suites_html(self.record)),
                    "Ratings": lambda: W.HTML(ratings_html(self.data.ratings))}
        self.tab = W.Tab(children=[builders[t]() for t in self.titles], titles=self.titles)
        self.widget = W.VBox([W.HTML(f"<b>{html.escape(str(self.record.get('name', '')))}</b>: "
                                     f"{html.escape(str(self.record.get('split', '')))} split, "
                                     f"{self.record.get('n')} examples"), self.tab])

    # tabs
    def _figures_tab(self) -> W.Widget:
        children = [W.HTML(metrics_html(self.record))]
        if self.record.get("against"):
            self.figures["wins"] = wins_figure(self.record)
            children.append(self.figures["wins"])
            for other in self.record["against"]:
                children.append(W.HTML(comparison_html(self.record, other)))
                self.figures[f"differences {other}"] = differences_figure(self.record, other)
                children.append(self.figures[f"differences {other}"])
        return W.VBox(children)

    def _classification_tab(self) -> W.Widget:
        diagnostics = self.record["diagnostics"]
        self.figures["confusion"] = confusion_figure(diagnostics)
        row = [self.figures["confusion"]]
        if diagnostics.get("roc"):
            self.figures["roc"] = class_curves_figure(diagnostics["roc"], "fpr", "tpr", "ROC", steps=False)
            row.append(self.figures["roc"])
        if diagnostics.get("pr"):
            self.figures["pr"] = class_curves_figure(diagnostics["pr"], "recall", "precision", "precision-recall",
                                               steps=True)
            row.append(self.figures["pr"])
        per_class = table(["class", "precision", "recall", "F1", "support"],
                           [[html.escape(r["label"]), number(r["precision"]), number(r["recall"]), number(r["f1"]),
                             str(r["support"])] for r in diagnostics.get("per_class", [])])
        return W.VBox([W.HBox(row, layout=W.Layout(flex_flow="row wrap")), W.HTML(per_class)])

    def _calibration_tab(self) -> W.Widget:
        diagnostics = self.record["diagnostics"]
        row = []
        if diagnostics.get("reliability"):
            self.figures["reliability"] = reliability_figure(self.record)
            row.append(self.figures["reliability"])
        if diagnostics.get("coverage"):
            self.figures["coverage"] = coverage_figure(self.record)
            row.append(self.figures["coverage"])
        return W.HBox(row, layout=W.Layout(flex_flow="row wrap"))

    def _samples_tab(self) -> W.Widget:
        names = score_names(self.data.samples)
        self.score = W.Dropdown(options=names, value=names[0] if names else None, description="score")
        self.best = W.Select(description="best", rows=self.k, layout=W.Layout(width="48%"))
        self.worst = W.Select(description="worst", rows=self.k, layout=W.Layout(width="48%"))
        self.changes: dict[str, W.Select] = {}
        changes = []
        for other in self.record.get("against", {}):
            gains, regressions = changed_items(self.record, other, self.k)
            select = W.Select(options=[(f"{c['change']:+.3f}  #{c['index']}  {c['question'][:60]}", c["index"])
                                       for c in gains + regressions], value=None, rows=min(2 * self.k, 10),
                              description="open", layout=W.Layout(width="98%"))
            select.observe(self._on_select, names="value")
            self.changes[other] = select
            candidate = self.record["against"][other]["candidate"]
            changes.append(W.VBox([W.HTML(f"<b>largest gains over {html.escape(other)}</b>"
                                          f"{changes_html(gains, candidate, other)}"
                                          f"<b>worst regressions against {html.escape(other)}</b>"
                                          f"{changes_html(regressions, candidate, other)}"), select]))
        for select in (self.best, self.worst):
            select.observe(self._on_select, names="value")
        self.score.observe(lambda _: self.show_scores(), names="value")
        self.show_scores()
        parts = [self.score, W.HBox([self.best, self.worst])] if names else []
        if changes:
            parts.append(W.Accordion(children=changes, titles=[f"changes vs {o}" for o in self.changes]))
        return W.VBox(parts + [self.detail])

    # actions
    def show_scores(self) -> None:
        """Re-rank the best and worst samples by the chosen score."""
        score = self.score.value
        if score is None:
            return
        best, worst = best_worst(self.data.samples, score, self.k,
                                 self.record.get("higher_is_better", {}).get(score, True))
        for select, rows in ((self.best, best), (self.worst, worst)):
            select.unobserve(self._on_select, names="value")
            select.options = [(f"{s['scores'][score]:.3f}  #{s['index']}  {s['question'][:50]}", s["index"])
                              for s in rows]
            select.value = None
            select.observe(self._on_select, names="value")

    def _on_select(self, change) -> None:
        if change["new"] is not None:
            self.show_sample(change["new"])

    def show_sample(self, index: int) -> None:
        """Show one example in full: prompt, reference, this model's answer and every compared model's."""
        sample = self.by_index[index]
        others = {name: rows[index] for name, rows in self.data.against_samples.items()
                  if index < len(rows) and rows[index].get("index") == index}
        self.detail.value = sample_html(sample, others, str(self.record.get("name", "candidate")))

    def html(self) -> str:
        return eval_html(self.data, self.k, getattr(getattr(self, "score", None), "value", None))

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
