"""The chat playground: talk to exported artifacts, runs or models, two side by side, the answers streaming in.

``Playground(sources)`` takes what :func:`ftlab.export.opening.open_runtime`
opens (an export's artifact folder, a run directory, a model folder or name) or
:class:`~ftlab.export.runtime.Runtime` objects.  Pick a model for the left pane
and, if you like, one for the right; each message goes to both, and each pane
keeps its own dialogue, so a quantised artifact and the model it came from can
be talked to turn by turn and compared as they drift apart.  A model opens on
first use and stays open; one that cannot be opened says why in its pane.

Every button's action is also a method (:meth:`Playground.send`,
:meth:`Playground.clear`) that a script calls and gets the answers back.
"""

from __future__ import annotations

import html
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ipywidgets as W

from ftlab.errors import FtlabError
from ftlab.export.opening import open_runtime
from ftlab.export.runtime import Generation, Runtime

Source = str | Path | Runtime
NONE = "(none)"
_TEXT = "white-space:pre-wrap;font-family:monospace"
_USER = "background:#eff6ff;border-radius:6px;padding:4px 8px;margin:6px 0 2px"
_ERROR = "background:#fee2e2;border-radius:6px;padding:4px 8px;margin:2px 0"
_STATS = "font-size:0.8em;color:#555"


@dataclass
class Answer:
    """One reply in a pane: the text, and what it cost (tokens as the runtime counted them, end of turn included)."""

    text: str
    pieces: list[str] = field(default_factory=list)  # as they arrived: more than one means the text streamed in
    tokens: int | None = None  # None where the runtime's stream did not return its Generation
    seconds: float = 0.0
    error: str | None = None  # why there is no answer (the model could not be opened, generation failed)

    @property
    def tokens_per_second(self) -> float | None:
        return self.tokens / self.seconds if self.tokens is not None and self.seconds > 0 else None

    def stats(self) -> str:
        if self.tokens is None:
            return f"{len(self.pieces)} pieces in {self.seconds:.2f} s (this runtime does not count tokens)"
        return f"{self.tokens} tokens · {self.tokens_per_second or 0:.1f} tokens/s · {self.seconds:.2f} s"


def source_names(sources: list[Source]) -> list[str]:
    """A name per source for the pickers: the path or name as given, a runtime's own name; repeats numbered."""
    names, seen = [], {}
    for source in sources:
        name = str(source) if isinstance(source, (str, Path)) else str(getattr(source, "name", type(source).__name__))
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


def export_sources(path: str | Path) -> list[str]:
    """What an export offers to talk to: the run it came from, then every artifact that was built."""
    from ftlab.widgets.export_panel import read_export

    data = read_export(path)
    run_dir = Path(data.record["run_dir"])
    run = run_dir if run_dir.is_absolute() else data.folder / run_dir
    # normpath: export.json keeps the run relative to the export folder (export/../runs/x reads as runs/x)
    return [os.path.normpath(run)] + [str(data.folder / a["path"]) for a in data.artifacts if a["status"] == "ok"]


def drain(stream: Iterator[str], on_piece: Callable[[str], None]) -> Generation | None:
    """Hand each piece of a runtime's stream on as it arrives; the stream's return value (its Generation) at the end."""
    while True:
        try:
            piece = next(stream)
        except StopIteration as stop:
            return stop.value if isinstance(stop.value, Generation) else None
        on_piece(piece)


class Pane:
    """One side of the playground: which source it talks to, its own dialogue, and the HTML that shows it."""

    def __init__(self, side: str):
        self.side = side
        self.source: int | None = None  # index into the playground's sources; None: this side is off
        self.name = NONE
        self.history: list[dict] = []  # the dialogue the model sees: answered turns only
        self.turns: list[tuple[str, Answer]] = []  # what the pane shows, failed turns included
        self.view = W.HTML(layout=W.Layout(width="50%", min_height="120px", border="1px solid #e5e7eb",
                                           padding="4px"))
        self.view.add_class(f"ftlab-playground-{side}")
        self.render()

    def reset(self, source: int | None, name: str) -> None:
        """A new conversation, with another source or the same one."""
        self.source, self.name = source, name
        self.history, self.turns = [], []
        self.render()

    def ask(self, message: str, runtime: Callable[[], Runtime], max_new_tokens: int, opening: bool = False) -> Answer:
        """Put ``message`` to this pane's model after its dialogue so far, showing the answer as it streams
        (``opening``: the model is not open yet, which the pane says while it loads)."""
        began, pieces = time.perf_counter(), []

        def shown(piece: str) -> None:
            pieces.append(piece)
            self.render(pending=(message, "".join(pieces)))

        self.render(pending=(message, ""), note=f"opening {self.name}…" if opening else "")
        try:
            dialogue = [*self.history, {"role": "user", "content": message}]
            generation = drain(runtime().stream(dialogue, max_new_tokens), shown)
        except Exception as exc:  # noqa: BLE001 - any failure (a path that is no model, a crash mid-answer) is
            # the person's to read in the pane; a traceback in a background thread would reach no one
            error = str(exc) if isinstance(exc, FtlabError) else f"{type(exc).__name__}: {exc}"
            answer = Answer("".join(pieces).strip(), pieces, None, time.perf_counter() - began, error)
        else:
            seconds = time.perf_counter() - began
            answer = (Answer(generation.text, pieces, generation.new_tokens, generation.seconds) if generation
                      else Answer("".join(pieces).strip(), pieces, None, seconds))
            self.history += [dialogue[-1], {"role": "assistant", "content": answer.text}]
        self.turns.append((message, answer))
        self.render()
        return answer

    def render(self, pending: tuple[str, str] | None = None, note: str = "") -> None:
        """The conversation as HTML; ``pending`` is the message being answered and the answer so far."""
        if self.source is None:
            self.view.value = f"<b>{self.side}</b>: <i>no model on this side</i>"
            return
        parts = [f"<div><b>{html.escape(self.name)}</b></div>"]
        for message, answer in self.turns:
            parts.append(_user_html(message))
            if answer.error:
                parts.append(f"<div class='ftlab-error' style='{_ERROR}'>{html.escape(answer.error)}</div>")
            else:
                parts.append(f"<div class='ftlab-answer' style='{_TEXT}'>{html.escape(answer.text)}</div>"
                             f"<div class='ftlab-answer-stats' style='{_STATS}'>{html.escape(answer.stats())}</div>")
        if pending:
            message, so_far = pending
            parts.append(_user_html(message))
            if note:
                parts.append(f"<div style='{_STATS}'>{html.escape(note)}</div>")
            parts.append(f"<div class='ftlab-streaming' style='{_TEXT}'>{html.escape(so_far)}▌</div>")
        elif not self.turns:
            parts.append("<i>type a message below and press Send</i>")
        self.view.value = "".join(parts)


def _user_html(message: str) -> str:
    return f"<div style='{_USER}'><b>you</b> <span style='{_TEXT}'>{html.escape(message)}</span></div>"


class Playground:
    """Two panes over a list of sources; ``.widget`` is the view.  Send answers in a background thread, so the
    kernel stays free while the answers stream in (:meth:`wait` waits for them)."""

    def __init__(self, sources: list[Source], max_new_tokens: int = 128):
        self.sources = list(sources)
        if not self.sources:
            raise FtlabError("Playground(sources) needs at least one source: an exported artifact folder, a run "
                             "directory, a model folder or name (e.g. 'ftlab/tiny-chat'), or a Runtime.")
        self.names = source_names(self.sources)
        self._runtimes: dict[int, Runtime] = {}
        self._opening = threading.Lock()
        self._worker: threading.Thread | None = None
        choices = [(name, i) for i, name in enumerate(self.names)]
        self.left_choice = W.Dropdown(options=choices, value=0, description="left")
        self.right_choice = W.Dropdown(options=[(NONE, None), *choices], value=1 if len(choices) > 1 else None,
                                       description="right")
        self.max_new_tokens = W.BoundedIntText(value=max_new_tokens, min=1, max=4096, description="max new tokens",
                                               style={"description_width": "initial"},
                                               layout=W.Layout(width="190px"))
        self.message = W.Textarea(placeholder="a message to both models", rows=2, layout=W.Layout(width="100%"))
        self.send_button = W.Button(description="Send", button_style="primary", icon="paper-plane")
        self.clear_button = W.Button(description="Clear", icon="eraser", tooltip="start both conversations again")
        self.panes = [Pane("left"), Pane("right")]
        for pane, choice in zip(self.panes, (self.left_choice, self.right_choice)):
            choice.observe(lambda change, pane=pane: self.choose(pane, change["new"]), names="value")
            self.choose(pane, choice.value)
        self.send_button.on_click(lambda _: self._send_in_background())
        self.clear_button.on_click(lambda _: self.clear())
        self.widget = W.VBox([W.HBox([self.left_choice, self.right_choice, self.max_new_tokens]),
                              W.HBox([pane.view for pane in self.panes]), self.message,
                              W.HBox([self.send_button, self.clear_button])])

    @classmethod
    def from_export(cls, path: str | Path, **kwargs) -> Playground:
        """The run an export came from and every artifact it built (left: the run, right: the first artifact)."""
        return cls(export_sources(path), **kwargs)

    # actions
    def runtime(self, index: int) -> Runtime:
        """The source's runtime, opened on first use and kept (a failed opening is tried again next time)."""
        with self._opening:  # two panes on one source open it once
            if index not in self._runtimes:
                source = self.sources[index]
                self._runtimes[index] = open_runtime(source) if isinstance(source, (str, Path)) else source
            return self._runtimes[index]

    def choose(self, pane: Pane, index: int | None) -> None:
        """Point a pane at another source (None: off); its conversation starts again."""
        pane.reset(index, self.names[index] if index is not None else NONE)

    def send(self, message: str) -> list[Answer]:
        """Both panes answer ``message`` after their own dialogues; returns the answers, left first.

        One pane after the other, not both at once: concurrent generations share the CPU's cores, so each pane's
        tokens/s would measure the contention rather than the model, and comparing speeds is half of the point.
        """
        max_new_tokens = self.max_new_tokens.value
        return [pane.ask(message, lambda pane=pane: self.runtime(pane.source), max_new_tokens,
                         opening=pane.source not in self._runtimes)
                for pane in self.panes if pane.source is not None]

    def clear(self) -> None:
        """Start both conversations again (the models stay open)."""
        for pane in self.panes:
            pane.reset(pane.source, pane.name)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the answers a Send click started; True when they are done."""
        if self._worker is not None:
            self._worker.join(timeout)
        return self._worker is None or not self._worker.is_alive()

    def close(self) -> None:
        """Free the models the playground opened (runtimes it was given stay with their owner)."""
        self.wait()
        for index, runtime in self._runtimes.items():
            if isinstance(self.sources[index], (str, Path)):
                runtime.close()
        self._runtimes.clear()

    def _send_in_background(self) -> None:
        message = self.message.value.strip()
        if not message or not self.wait(0):
            return
        self.message.value = ""
        self._set_busy(True)

        def run():
            try:
                self.send(message)
            finally:
                self._set_busy(False)

        self._worker = threading.Thread(target=run, daemon=True, name="ftlab-playground")
        self._worker.start()

    def _set_busy(self, busy: bool) -> None:
        """While answering, nothing that would change a pane mid-answer can be clicked."""
        for control in (self.send_button, self.clear_button, self.left_choice, self.right_choice):
            control.disabled = busy
        self.send_button.description = "answering…" if busy else "Send"

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
