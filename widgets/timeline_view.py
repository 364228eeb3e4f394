"""The generation timeline: the same validation prompts answered at every evaluation step of a run.

Live, it is a listener (the dashboard holds one): choose a step with the
slider and read that step's answers, each marked right or wrong, with what
changed since the step before highlighted and a character diff against the
reference.  Static, :func:`timeline_html` draws every step side by side as one
HTML table, which a saved or papermill-run notebook keeps without a kernel.
Both read the ``generations`` rows that ``ftlab.eval.timeline`` records in
the run directory.
"""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as W

from ftlab.eval.paired import char_diff
from ftlab.eval.timeline import timeline_rows

_RIGHT, _WRONG, _CHANGED = "#dcfce7", "#fee2e2", "#fef08a"
_CELL = "padding:2px 6px;border:1px solid #e5e7eb;font-family:monospace;white-space:pre-wrap;vertical-align:top"


def _answer_cell(answer: str, right: bool, changed: bool) -> str:
    style = f"{_CELL};background:{_RIGHT if right else _WRONG}"
    if changed:
        style += f";box-shadow:inset 0 0 0 2px {_CHANGED}"
    return f"<td style='{style}'>{html.escape(answer)}</td>"


def diff_html(reference: str, answer: str) -> str:
    """The answer against the reference: missing characters struck through in red, extra ones in green."""
    marks = {"equal": "{}", "delete": "<del style='color:#b91c1c'>{}</del>",
             "insert": "<ins style='color:#15803d;text-decoration:none;font-weight:bold'>{}</ins>"}
    return "".join(marks[op].format(html.escape(text)) for op, text in char_diff(reference, answer))


def timeline_html(generations: list[dict], last_steps: int | None = None) -> str:
    """Every recorded step as a column (the last ``last_steps`` if given); rows are the prompts."""
    rows = timeline_rows(generations)
    if last_steps:
        rows = rows[-last_steps:]
    if not rows:
        return "<i>no generations recorded yet (they come with each evaluation step)</i>"
    head = "".join(f"<th style='{_CELL}'>step {r['step']}</th>" for r in rows)
    body = []
    for i, first in enumerate(rows[0]["answers"]):
        cells = "".join(_answer_cell(r["answers"][i]["answer"], r["right"][i], r["changed"][i] and k > 0)
                        for k, r in enumerate(rows))
        body.append(f"<tr><td style='{_CELL}'>{html.escape(first['prompt'])}</td>"
                    f"<td style='{_CELL}'>{html.escape(first['reference'])}</td>{cells}</tr>")
    legend = (f"<div style='font-size:0.85em;color:#555'>green: right, red: wrong, yellow frame: changed since the "
              f"step before; {sum(r['right'].count(True) for r in rows[-1:])} of {len(rows[-1]['answers'])} right at "
              f"step {rows[-1]['step']}</div>")
    return (f"<div style='overflow-x:auto'><table style='border-collapse:collapse;font-size:0.85em'>"
            f"<tr><th style='{_CELL}'>prompt</th><th style='{_CELL}'>reference</th>{head}</tr>{''.join(body)}"
            f"</table></div>{legend}")


def step_html(row: dict) -> str:
    """One step's answers, with a diff against the reference and what changed since the step before."""
    lines = []
    for answer, right, changed in zip(row["answers"], row["right"], row["changed"]):
        mark = "✔" if right else "✘"
        note = " <b style='background:#fef08a'>changed</b>" if changed and row["step"] else ""
        lines.append(f"<tr><td style='{_CELL}'>{html.escape(answer['prompt'])}</td><td style='{_CELL}'>{mark} "
                     f"{diff_html(answer['reference'], answer['answer'])}{note}</td></tr>")
    return f"<table style='border-collapse:collapse;font-size:0.85em'>{''.join(lines)}</table>"


class GenerationTimeline:
    """A listener of the run monitor, or a view of a finished run (``GenerationTimeline.of(run_dir)``)."""

    def __init__(self):
        self.generations: list[dict] = []
        self.step = W.SelectionSlider(options=["-"], value="-", description="step", continuous_update=False,
                                      layout=W.Layout(width="520px"))
        self.view = W.HTML("<i>the answers appear at the first evaluation</i>")
        self.step.observe(lambda _: self.show(), names="value")
        self.widget = W.VBox([self.step, self.view])

    @classmethod
    def of(cls, run_dir: str | Path) -> "GenerationTimeline":
        from ftlab.training.rundir import RunDir

        timeline = cls()
        for row in RunDir(run_dir).read("generations"):
            timeline.update("generations", row)
        return timeline

    def update(self, kind: str, row: dict) -> None:
        if kind != "generations":
            return
        self.generations.append(row)
        steps = [g["step"] for g in self.generations]
        self.step.options = steps
        self.step.value = steps[-1]  # follow training; a person can slide back
        self.show()

    def show(self) -> None:
        rows = {r["step"]: r for r in timeline_rows(self.generations)}
        if self.step.value in rows:
            self.view.value = step_html(rows[self.step.value])

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
