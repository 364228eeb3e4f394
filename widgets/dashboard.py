"""The live training dashboard: curves, a progress bar with ETA, and the run's figures.

It is a listener of :class:`ftlab.training.run_callback.RunMonitor`: pass it to
``ftlab.train(config, listeners=[dashboard])``.  Redraws are throttled (one per
``refresh_s`` at most), so a training loop pays for a few list appends per
logged step and nothing more, whether or not a browser is watching.

Its buttons steer the run while it trains in the cell that shows it (Stop with
a checkpoint, Pause and Continue, a new learning rate, Evaluate now, Save
now; :mod:`ftlab.widgets.run_controls` says how a click gets through a busy
cell).  What was done is marked on the curves.  The run's warnings and
library messages (progress bars, deprecation notes) go to the collapsed Log
panel and the run directory's log.txt instead of between the cells.
"""

from __future__ import annotations

import html
import time

import ipywidgets as W

from ftlab.widgets.html_table import number, table
from ftlab.widgets.plots import TRACES, curves_figure, event_marks, series, stage_figure, stage_series
from ftlab.widgets.run_controls import RunControls
from ftlab.widgets.timeline_view import GenerationTimeline


def _fmt_seconds(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 60}:{seconds % 60:02d}"


ABOVE, BELOW = "#e6f4ea", "#fdecea"  # answers the update favours (above the group's mean reward) and disfavours


def group_table(row: dict) -> str:
    """An RL stage's ``groups`` row as HTML: the prompt and its reference, then each sampled answer with its
    reward in all and by part, shaded by whether it beats the group's mean (what GRPO and RLOO push up)."""
    answers = row["answers"]
    mean = sum(a["reward"] for a in answers) / len(answers) if answers else 0.0
    text = "white-space:pre-wrap;font-family:monospace"  # answers as sampled: line breaks and spaces show
    rows = [[f"<span style='{text}'>{html.escape(a['answer']) or '<i>(empty)</i>'}</span>",
             f"<b>{number(a['reward'])}</b>", *(number(a["parts"].get(part)) for part in row["parts"])]
            for a in answers]
    shades = [ABOVE if a["reward"] > mean else BELOW if a["reward"] < mean else "transparent" for a in answers]
    head = (f"<div style='margin:6px 0 2px'><b>One sampled group at step {row['step']}</b> "
            f"({len(answers)} answers, mean reward {number(mean)}; green beats the mean, red falls short)</div>"
            f"<div><b>prompt</b> <span style='white-space:pre-wrap'>{html.escape(row['prompt'])}</span></div>"
            f"<div><b>reference</b> <span style='{text}'>{html.escape(row['reference'])}</span></div>")
    return head + table(["answer", "reward", *row["parts"]], rows, shades)


LOG_LINES = 500  # the Log panel keeps the last lines; log.txt keeps them all


class TrainingDashboard:
    def __init__(self, title: str = "", refresh_s: float = 1.0):
        self.refresh_s = refresh_s
        self.metrics: list[dict] = []
        self.system: list[dict] = []
        self.events: list[dict] = []
        self.log_lines: list[str] = []
        self.max_steps = 0
        self.step = 0
        self.figure = curves_figure(title=title, widget=True)
        self.progress = W.IntProgress(value=0, min=0, max=1, description="step", bar_style="info",
                                      layout=W.Layout(width="360px"))
        self.status = W.HTML("waiting for training to start")
        self.controls = RunControls()
        self.stop_button = self.controls.stop
        self.timeline = GenerationTimeline()  # validation answers at every evaluation step
        self.log_view = W.HTML()
        self._answers = W.Accordion(children=[self.timeline.widget, self.log_view],
                                    titles=["Answers during training (timeline)", "Log"])
        self._head = W.VBox([W.HBox([self.progress, self.status]), self.controls.widget])
        self.widget = W.VBox([self._head, self.figure, self._answers])
        self._last_draw = 0.0
        self.stage = None  # the run's stage entry once training begins; its panel shows when it has plots
        self.stage_figure = None
        self.stage_notes = W.HTML()
        self.stage_notes.add_class("ftlab-stage-notes")
        self.stage_group = W.HTML()  # an RL stage's latest sampled group with its rewards
        self.stage_group.add_class("ftlab-stage-group")
        self.group: dict | None = None

    # --- what the run asks of its listeners -----------------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        self.controls.ask("stop", reason)

    def stop_requested(self) -> str | None:
        return self.controls.stop_reason

    def requests(self):
        return self.controls.requests()

    def log(self, line: str) -> None:
        self.log_lines = (self.log_lines + [line])[-LOG_LINES:]
        self.log_view.value = (f"<pre style='max-height:240px;overflow:auto;font-size:11px;margin:0'>"
                               f"{html.escape(chr(10).join(self.log_lines), quote=False)}</pre>")
        self._answers.set_title(1, f"Log ({len(self.log_lines)} lines; all of them in the run's log.txt)")

    # --- what the run reports ---------------------------------------------------------------------------------
    def update(self, kind: str, row: dict) -> None:
        if kind == "generations":
            self.timeline.update(kind, row)
            return
        if kind == "groups":  # already one every logging interval: drawn at once
            self.group = row
            self.stage_group.value = group_table(row)
            return
        if kind == "events":
            self.events.append(row)
            self.controls.event(row)
            self._show_event(row)
            self.redraw()
            return
        if kind == "metrics":
            self.metrics.append(row)
        elif kind == "system":
            self.system.append(row)
        if "step" in row:
            self.step = row["step"]
        if kind == "begin":
            self._show_stage(row.get("stage"))
            self.max_steps = row["max_steps"]
            self.progress.max = max(self.max_steps, 1)
            self.controls.begin(row)
        elif kind == "end":
            self.controls.end()
        self._show_progress(row.get("elapsed"), finished=kind == "end")
        now = time.time()
        if kind in ("begin", "end") or now - self._last_draw >= self.refresh_s:
            self._last_draw = now
            self.redraw()

    def _show_event(self, row: dict) -> None:
        if row.get("error"):
            self.status.value = f"<span style='color:#d62728'>{html.escape(row['event'])}: " \
                                f"{html.escape(row['error'])}</span>"
        elif row["event"] == "pause":
            self.status.value = f"paused at step {row['step']}/{self.max_steps}; Continue goes on"
            self.progress.bar_style = "warning"
        elif row["event"] == "continue":
            self.progress.bar_style = "info"

    def _show_stage(self, name: str | None) -> None:
        """Below the common curves, the stage's own (DPO rewards and margins, GRPO reward and KL...) and notes."""
        from ftlab.training.stages import STAGES

        stage = STAGES.get(name) if name else None
        if stage is None or not stage.plots or stage is self.stage:
            return
        self.stage = stage
        self.stage_figure = stage_figure(stage.plots, widget=True)
        self.stage_figure.update_layout(title=f"{stage.name}: {stage.summary}", title_font_size=13,
                                        margin=dict(t=70))
        # In a pipeline this replaces the panel of an earlier stage, with its notes and group.
        self.group, self.stage_notes.value, self.stage_group.value = None, "", ""
        self.widget.children = (self._head, self.figure, self.stage_figure, self.stage_notes, self.stage_group,
                                self._answers)

    def _show_progress(self, elapsed: float | None, finished: bool) -> None:
        self.progress.value = self.step
        if elapsed is None:
            return
        if self.controls.paused and not finished:
            return  # the status says paused until Continue
        parts = [f"{self.step}/{self.max_steps} steps", f"elapsed {_fmt_seconds(elapsed)}"]
        stop_reason = self.controls.stop_reason
        if finished and stop_reason:
            self.progress.bar_style = "warning"
            parts.append(f"stopped ({stop_reason}); checkpoint saved")
        elif finished:
            self.progress.bar_style = "success"
            parts.append("done")
        elif self.step:
            parts.append(f"ETA {_fmt_seconds(elapsed / self.step * (self.max_steps - self.step))}")
        losses = [m["loss"] for m in self.metrics if "loss" in m]
        if losses:
            parts.append(f"loss {losses[-1]:.4f}")
        self.status.value = " · ".join(parts)

    def redraw(self) -> None:
        data = series(self.metrics, self.system)
        shapes, marks = event_marks(self.events)
        with self.figure.batch_update():
            for trace, (name, *_rest) in zip(self.figure.data, TRACES):
                xs, ys = data[name]
                trace.x, trace.y = xs, ys
                if ys:
                    trace.visible = True
            markers = self.figure.data[len(TRACES)]
            markers.x, markers.y, markers.text = marks["x"], [1.0] * len(marks["x"]), marks["text"]
            markers.hovertext, markers.marker.color = marks["hover"], marks["color"]
            self.figure.layout.shapes = shapes
        if self.stage_figure is not None:
            with self.stage_figure.batch_update():
                for trace, (xs, ys) in zip(self.stage_figure.data, stage_series(self.stage.plots, self.metrics)):
                    trace.x, trace.y = xs, ys
            notes = self.stage.diagnose(self.metrics) if self.stage.diagnose else []
            self.stage_notes.value = "".join(f"<div style='color:#8a5300'>⚠ {note}</div>" for note in notes)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

