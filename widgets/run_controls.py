"""The dashboard's buttons: Stop, Pause/Continue, a new learning rate, Evaluate now, Save now.

A click queues a :class:`ftlab.training.live_control.Request`; the run takes the
queue between two steps (``requests()``) and records what it did.

How a click reaches a run that trains in the cell that shows it.  The kernel
runs a cell and handles widget messages on the same (main) thread, so a click
during a busy cell used to arrive after the run had ended.  JupyterLab (4.4
and later) sends widget messages on a kernel *subshell*, a thread of its own
in ipykernel 7, but ipykernel hands a widget's messages back to the shell
that last wrote to it: the busy main one.  The controls below are kept on the
subshell the front end chose (:func:`answer_on_front_end_subshell`), so their
clicks are handled at once, on that thread, while the cell trains; a click
only queues a request, which the training loop takes between two steps.

Why not the alternatives: training in a worker thread would make the cell
return a handle instead of the trained model and let the next cells run
against an unfinished model, and Interrupt Kernel could not reach it;
pumping the kernel's messages from inside the cell (jupyter-ui-poll) relies
on ``Kernel.do_one_iteration``, which ipykernel 7 no longer has.  With the
subshell, the documented cell stays as it was (``result = ftlab.train(config,
listeners=[dashboard])`` returns the trained model, the next cells wait for
it, Interrupt Kernel stops it with its checkpoints), and papermill and
scripts, which have no front end, see no change.  A front end without
subshells (Jupyter Notebook 6, an ipykernel before 7) delivers the click
when the cell ends, as before.
"""

from __future__ import annotations

import queue

import ipywidgets as W

from ftlab.training.live_control import Request


def _stay_on_sender_subshell(data, default):
    return default  # the subshell the front end sent the message on (None: the main shell)


def answer_on_front_end_subshell(widget: W.Widget) -> None:
    """Handle this widget's messages on the subshell the front end sends them on, not on the busy main shell.

    ipykernel 7 decides per message through the comm's ``_reply_subshell_for`` (by default: the shell that
    last wrote to the widget); where a kernel has no such hook, nothing changes.
    """
    comm = getattr(widget, "comm", None)
    if comm is not None and hasattr(comm, "_reply_subshell_for"):
        comm._reply_subshell_for = _stay_on_sender_subshell


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
        self._queue: queue.SimpleQueue[Request] = queue.SimpleQueue()  # clicks come on a subshell's thread
        for widget in self.buttons:
            answer_on_front_end_subshell(widget)

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
        self._queue.put(Request(action, value))

    def requests(self) -> list[Request]:
        """What was asked since the last call."""
        out = []
        while not self._queue.empty():
            out.append(self._queue.get())
        return out

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
