"""The data explorer: read rows the way the model will see them, search them, and see what the pipeline did.

Rows render as chat bubbles (chat formats), question/answer cards, preference
pairs side by side, labelled texts or plain documents.  Plots show token
lengths per split, the label distribution and the drop reasons of every
pipeline step.  The widget only views records and reports; filtering is the
plain function ``filter_records`` that scripts can call too.
"""

from __future__ import annotations

import html
from collections import Counter
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from ftlab.data.formats import FORMATS
from ftlab.data.records import Record

_ROLE_STYLE = {
    "system": "background:#eef0f3;color:#555;font-style:italic;margin:4px 10%;",
    "user": "background:#dbeafe;margin:4px 30% 4px 0;",
    "assistant": "background:#dcfce7;margin:4px 0 4px 30%;",
    "tool": "background:#fef9c3;font-family:monospace;margin:4px 15%;",
}
_BUBBLE = "padding:6px 10px;border-radius:10px;white-space:pre-wrap;"
_CARD = "border:1px solid #ddd;border-radius:8px;padding:8px;margin:6px 0;"


def _esc(text: Any) -> str:
    return html.escape(str(text))


def _bubbles(turns: list[dict]) -> str:
    return "".join(f"<div style='{_BUBBLE}{_ROLE_STYLE.get(t['role'], '')}'><b>{_esc(t['role'])}</b><br>"
                   f"{_esc(t['content'])}</div>" for t in turns)


def _pair(record: Record) -> str:
    return (_bubbles(record.messages) + "<div style='display:flex;gap:8px'>"
            + f"<div style='flex:1;border-top:3px solid #16a34a'><b>chosen</b>{_bubbles(record.chosen)}</div>"
            + f"<div style='flex:1;border-top:3px solid #dc2626'><b>rejected</b>{_bubbles(record.rejected)}</div>"
            + "</div>")


def _feedback(record: Record) -> str:
    verdict = "👍 good" if record.label else "👎 bad"
    return _bubbles(record.messages + [{"role": "assistant", "content": record.completion}]) + f"<b>{verdict}</b>"


def _labelled(record: Record) -> str:
    return (f"<div style='{_BUBBLE}'>{_esc(record.text)}</div>"
            f"<span style='background:#e0e7ff;padding:2px 8px;border-radius:8px'>{_esc(record.label)}</span>")


def _document(record: Record) -> str:
    return f"<div style='{_BUBBLE}max-height:12em;overflow:auto'>{_esc(record.text)}</div>"


def _qa(record: Record) -> str:
    """A single exchange as a Q/A card (with its rationale); a longer dialogue as chat bubbles."""
    if len(record.messages) > 3 or len(record.messages) < 2:
        return _bubbles(record.messages)
    system = [m for m in record.messages if m["role"] == "system"]
    question, answer = record.messages[-2]["content"], record.messages[-1]["content"]
    rationale = (f"<div style='color:#555;border-left:3px solid #a78bfa;padding-left:6px;white-space:pre-wrap'>"
                 f"<b>rationale</b> {_esc(record.rationale)}</div>") if record.rationale else ""
    return (_bubbles(system) + f"<div><b>Q</b> <span style='white-space:pre-wrap'>{_esc(question)}</span></div>"
            + rationale + f"<div><b>A</b> <span style='white-space:pre-wrap'>{_esc(answer)}</span></div>")


# One renderer per view a format can declare (ftlab.data.formats.VIEWS).
RENDERERS = {"chat": lambda r: _bubbles(r.messages), "qa": _qa, "pair": _pair, "feedback": _feedback,
             "labelled": _labelled, "document": _document}


def render_record(record: Record) -> str:
    """One row as HTML: the card a person reads, drawn the way its format's ``view`` says."""
    head = (f"<div style='color:#888;font-size:11px'>{_esc(record.format)} · {_esc(record.where)}"
            + (f" · <span style='color:#b45309'>{_esc(record.meta['flag'])}</span>" if record.meta.get("flag") else "")
            + "</div>")
    return f"<div style='{_CARD}'>{head}{RENDERERS[FORMATS[record.format].view](record)}</div>"


def filter_records(records: list[Record], query: str = "", label: Any = None, fmt: str | None = None) -> list[Record]:
    """Rows whose text contains ``query`` (any case), with ``label`` and ``fmt`` when given."""
    query = query.strip().lower()
    return [r for r in records
            if (not query or query in r.joined().lower() or query in r.where.lower())
            and (label is None or r.label == label) and (fmt is None or r.format == fmt)]


def lengths(records: list[Record], tokenizer: Any = None) -> list[int]:
    if tokenizer is None:
        return [len(r.joined()) for r in records]
    return [len(ids) for ids in tokenizer([r.joined() for r in records], add_special_tokens=False)["input_ids"]]


def length_figure(splits: dict[str, list[Record]], tokenizer: Any = None) -> go.Figure:
    unit = "characters" if tokenizer is None else "tokens"
    fig = go.Figure([go.Histogram(x=lengths(rows, tokenizer), name=name, opacity=0.7)
                     for name, rows in splits.items() if rows])
    fig.update_layout(barmode="overlay", title=f"Row length ({unit})", xaxis_title=unit, yaxis_title="rows",
                      template="plotly_white", height=320, margin=dict(l=40, r=20, t=50, b=40))
    return fig


def label_figure(splits: dict[str, list[Record]]) -> go.Figure:
    labels = sorted({str(r.label) for rows in splits.values() for r in rows if r.label is not None})
    fig = go.Figure([go.Bar(x=labels, y=[Counter(str(r.label) for r in rows)[lab] for lab in labels], name=name)
                     for name, rows in splits.items() if rows])
    fig.update_layout(barmode="group", title="Labels per split", template="plotly_white", height=320,
                      margin=dict(l=40, r=20, t=50, b=40))
    return fig


def drops_figure(reports: list) -> go.Figure:
    """Rows dropped by each step, stacked by reason: where the data went."""
    reasons = sorted({reason for r in reports for reason in r.reasons()})
    steps = [r.step for r in reports]
    fig = go.Figure([go.Bar(x=steps, y=[r.reasons().get(reason, 0) for r in reports], name=reason)
                     for reason in reasons])
    fig.update_layout(barmode="stack", title="Rows dropped per step, by reason", yaxis_title="rows",
                      template="plotly_white", height=340, margin=dict(l=40, r=20, t=50, b=40))
    return fig


class DataExplorer:
    """Browse splits (or a list of records) page by page, with search and filters, plus the plots.

    ``DataExplorer(prepared)`` takes what ``ftlab.data.prepare.prepare`` returns
    (splits and the pipeline's reports); ``DataExplorer(records)`` or
    ``DataExplorer({"train": [...], ...})`` work too.
    """

    def __init__(self, data: Any, reports: list | None = None, tokenizer: Any = None, page_size: int = 5):
        if hasattr(data, "version"):  # a Prepared result
            reports = reports if reports is not None else data.reports
            data = data.version.splits
        elif hasattr(data, "splits") and hasattr(data, "manifest"):  # a DataVersion
            data = data.splits
        self.splits: dict[str, list[Record]] = data if isinstance(data, dict) else {"rows": list(data)}
        self.reports = reports or []
        self.tokenizer = tokenizer
        self.page_size = page_size
        self.page = 0
        names = [n for n, rows in self.splits.items() if rows] or list(self.splits)
        self.split = W.Dropdown(options=names, value=names[0], description="split")
        self.search = W.Text(placeholder="search text or row place", description="search")
        self.label = W.Dropdown(description="label")
        self.format = W.Dropdown(description="format")
        self.prev_button = W.Button(description="◀", layout=W.Layout(width="40px"))
        self.next_button = W.Button(description="▶", layout=W.Layout(width="40px"))
        self.position = W.Label()
        self.rows_html = W.HTML()
        self.prev_button.on_click(lambda _: self.turn(-1))
        self.next_button.on_click(lambda _: self.turn(1))
        for control in (self.split, self.search, self.label, self.format):
            control.observe(self._changed, names="value")
        self._fill_choices()
        self.plots = W.Output()
        controls = W.HBox([self.split, self.search]), W.HBox([self.label, self.format, self.prev_button,
                                                              self.position, self.next_button])
        self.widget = W.VBox([*controls, self.rows_html, self.plots])
        self.refresh()

    # --- state ----------------------------------------------------------------
    @property
    def matching(self) -> list[Record]:
        return filter_records(self.splits[self.split.value], self.search.value,
                              None if self.label.value == "(all)" else self.label.value,
                              None if self.format.value == "(all)" else self.format.value)

    @property
    def visible(self) -> list[Record]:
        start = self.page * self.page_size
        return self.matching[start:start + self.page_size]

    def turn(self, pages: int) -> None:
        last = max(0, (len(self.matching) - 1) // self.page_size)
        self.page = min(max(self.page + pages, 0), last)
        self.refresh()

    def _fill_choices(self) -> None:
        rows = self.splits[self.split.value]
        labels = sorted({r.label for r in rows if r.label is not None}, key=str)
        self.label.options = ["(all)"] + labels
        self.label.value = "(all)"
        self.format.options = ["(all)"] + sorted({r.format for r in rows})
        self.format.value = "(all)"

    def _changed(self, change) -> None:
        if change["owner"] is self.split:
            self._fill_choices()
        self.page = 0
        self.refresh()

    def refresh(self) -> None:
        matching = self.matching
        pages = max(1, -(-len(matching) // self.page_size))
        self.position.value = f"page {self.page + 1}/{pages} · {len(matching)} rows"
        self.rows_html.value = "".join(render_record(r) for r in self.visible) or "<i>no rows match</i>"

    # --- plots ------------------------------------------------------------------
    def figures(self) -> dict[str, go.Figure]:
        figures = {"lengths": length_figure(self.splits, self.tokenizer)}
        if any(r.label is not None and FORMATS[r.format].view == "labelled" for rows in self.splits.values()
               for r in rows):
            figures["labels"] = label_figure(self.splits)
        if self.reports:
            figures["drops"] = drops_figure(self.reports)
        return figures

    def show_plots(self) -> None:
        from IPython.display import display

        self.plots.clear_output()
        with self.plots:
            for fig in self.figures().values():
                display(fig)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        self.show_plots()
        display(self.widget)
