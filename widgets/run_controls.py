"""The dashboard's buttons: Stop, Pause/Continue, a new learning rate, Evaluate now, Save now.

A click queues a :class:`ftlab.training.live_control.Request`; the run takes the
queue between two steps (``requests()``) and records what it did.

How a click reaches a run that trains in the cell that shows it: the kernel
handles a widget's messages only between cells, so a click during a busy
cell used to arrive after the run had ended.  While a run trains, ``live()``
lets the kernel handle the front end's pending messages each time the run
asks for requests (at most every ``POLL_S``; jupyter-ui-poll does it, holding
back any cell a person runs meanwhile until this one ends).  Training stays
in the cell's own thread, so the documented cell works as before: ``result =
ftlab.train(config, listeners=[dashboard])`` returns the trained model, the
next cells wait for it, and Interrupt Kernel stops it where it is (a thread
would have needed a handle in place of the result, and an interrupt cannot
reach one).  Under papermill or in a script there is no front end: the poll
finds nothing and costs a few microseconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import ipywidgets as W

from ftlab.training.live_control import Request

POLL_S = 0.2  # how often a training step lets the kernel read the front end's messages


def _kernel():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return getattr(shell, "kernel", None)


class RunControls:
    def __init__(self):
        small = W.Layout(width="auto")
        self.stop = W.Button(description="Stop", icon="stop", button_style="warning", disabled=True, layout=small,
                             tooltip="Stop after this step and save a checkpoint; resume it later")
        self.pause = W.Button(description="Pause", icon="pause", disabled=True, layout=small,
                              tooltip="Hold the run after this step; Continue goes on from there")
        self.learning_rate = W.FloatText(description="lr", disabled=True, layout=W.Layout(width="150px"),
                                         style={"description_width": "20px"})
        self.set_lr = W.Button(description="Set lr", disabled=True, layout=small,
                               tooltip="Use this learning rate from the next step; the schedule keeps its shape")
        self.evaluate = W.Button(description="Evaluate now", disabled=True, layout=small,
                                 tooltip="Run the validation pass after this step")
        self.save = W.Button(description="Save now", icon="save", disabled=True, layout=small,
                             tooltip="Write a checkpoint after this step")
        self.widget = W.HBox([self.stop, self.pause, self.learning_rate, self.set_lr, self.evaluate, self.save])
        self.stop.on_click(lambda _: self.ask("stop", "stop button"))
        self.pause.on_click(lambda _: self.ask("continue" if self.paused else "pause"))
        self.set_lr.on_click(lambda _: self.ask("lr", self.learning_rate.value))
        self.evaluate.on_click(lambda _: self.ask("evaluate"))
        self.save.on_click(lambda _: self.ask("save"))
        self.paused = False
        self.stop_reason: str | None = None
        self._queue: list[Request] = []
        self._poll = None
        self._last_poll = 0.0

    @property
    def buttons(self) -> list[W.Widget]:
        return [self.stop, self.pause, self.learning_rate, self.set_lr, self.evaluate, self.save]

    def ask(self, action: str, value=None) -> None:
        """Queue a request, as a click does (code may call it too)."""
        if action == "stop":
            if self.stop_reason:
                return
            self.stop_reason = value
            self.stop.description = "Stopping..."
            for button in self.buttons:
                button.disabled = True
        elif action == "pause":
            self.pause.description, self.pause.icon = "Pausing...", "hourglass"
        self._queue.append(Request(action, value))

    def requests(self) -> list[Request]:
        """What was asked since the last call, after letting the kernel read the front end's clicks."""
        now = time.monotonic()
        if self._poll is not None and (self.paused or now - self._last_poll >= POLL_S):
            self._last_poll = now
            self._poll(50)
        out, self._queue = self._queue, []
        return out

    @contextmanager
    def live(self) -> Iterator[None]:
        """Open while a run trains: clicks reach it (see the module's docstring)."""
        if _kernel() is None:
            yield
            return
        from jupyter_ui_poll import ui_events

        with ui_events() as poll:
            self._poll = poll
            try:
                yield
            finally:
                self._poll = None

    # --- what the run reports back --------------------------------------------------------------
    def begin(self, row: dict) -> None:
        self.paused = False
        for button in self.buttons:
            button.disabled = False
        self.evaluate.disabled = not row.get("can_evaluate", False)
        self.evaluate.tooltip = ("Run the validation pass after this step" if row.get("can_evaluate")
                                 else "This run has no validation pass (train.eval_steps is 0)")
        if row.get("learning_rate"):
            self.learning_rate.value = row["learning_rate"]

    def event(self, row: dict) -> None:
        if row["event"] == "pause" and not row.get("error"):
            self.paused = True
            self.pause.description, self.pause.icon, self.pause.button_style = "Continue", "play", "success"
        elif row["event"] == "continue":
            self.paused = False
            self.pause.description, self.pause.icon, self.pause.button_style = "Pause", "pause", ""

    def end(self) -> None:
        for button in self.buttons:
            button.disabled = True
        self.paused = False
        self.stop.description = "Stopped" if self.stop_reason else "Stop"
        self.pause.description, self.pause.icon, self.pause.button_style = "Pause", "pause", ""
