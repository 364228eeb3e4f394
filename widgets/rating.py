"""A blind A/B rating widget: a person picks the better of two answers, by click or by key.

The two answers of an item are shown side by side as "Answer A" (left) and
"Answer B" (right), with no system names; which system stands on the left is
drawn per item from ``seed`` (:func:`ftlab.eval.ratings.shown_left`) and
saved with the rating, which is in system terms.  Each choice is appended to
``<run_dir>/ratings.jsonl`` at once and the next item shown; at the end the
summary appears.  Items already rated in that file for the same two systems
count as rated, so a session that died resumes where it stopped.

Keys: ipywidgets has no key events, so a small anywidget (:class:`KeyStrip`)
is the keyboard: a focusable strip that listens to keydown on itself and
sends each shortcut to Python as a custom message, which :meth:`press`
handles, the same method tests call.  It stops the key there, so JupyterLab's
own single-key shortcuts (``a`` and ``b`` insert cells) do not fire while it
has the focus.  Everything else is plain ipywidgets.
"""

from __future__ import annotations

import html
from typing import Any, Callable, Mapping, Sequence

import anywidget
import ipywidgets as W
import traitlets

from ftlab.errors import FtlabError
from ftlab.eval.ratings import RatingLog, agreement, shown_left, summarize

# key -> action; "left"/"right" mean the answer shown there, "1".."5" score the focused answer.
KEY_ACTIONS = {"a": "left", "ArrowLeft": "left", "t": "tie", "ArrowDown": "tie", "b": "right",
               "ArrowRight": "right", "n": "skip", **{str(d): "score" for d in range(1, 6)}}
LABELS = {"left": "A", "right": "B"}  # what the person sees; the systems behind them change per item
OTHER = {"left": "right", "right": "left", "a": "b", "b": "a"}

_ESM = """
function render({ model, el }) {
  const strip = document.createElement("div");
  strip.className = "ftlab-rating-keys";
  strip.tabIndex = 0;
  // JupyterLab's command-mode shortcuts (a, b, 1-5...) must not see the keys pressed here.
  strip.setAttribute("data-lm-suppress-shortcuts", "true");
  const showHint = () => { strip.textContent = model.get("hint"); };
  showHint();
  model.on("change:hint", showHint);
  strip.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (!model.get("shortcuts").includes(key)) return;
    event.preventDefault();
    event.stopPropagation();
    model.send({ key });
  });
  el.appendChild(strip);
  return () => model.off("change:hint", showHint);
}
export default { render };
"""

_CSS = """
.ftlab-rating-keys { padding: 6px 10px; border: 2px dashed #94a3b8; border-radius: 6px; color: #475569;
  cursor: pointer; font-size: 13px; }
.ftlab-rating-keys::before { content: "⌨ click here to rate with keys · "; font-weight: bold; }
.ftlab-rating-keys:focus { outline: none; border: 2px solid #2563eb; background: #eff6ff; color: #1e3a8a; }
.ftlab-rating-keys:focus::before { content: "⌨ keys on · "; }
"""


class KeyStrip(anywidget.AnyWidget):
    """A focusable strip that sends the keys in ``shortcuts`` pressed on it to Python as ``{"key": ...}`` messages."""

    _esm = _ESM
    _css = _CSS
    shortcuts = traitlets.List(traitlets.Unicode()).tag(sync=True)
    hint = traitlets.Unicode("").tag(sync=True)


_CARD = "border:1px solid #cbd5e1;border-radius:8px;padding:8px;white-space:pre-wrap;max-height:16em;overflow:auto;"


def _esc(text: Any) -> str:
    return html.escape(str(text))


def _percent(part: dict) -> str:
    return f"{part['rate']:.0%} ({part['low']:.0%}–{part['high']:.0%})"


def summary_html(summary: dict, judged: dict | None = None) -> str:
    """The summary a person reads at the end: system names are shown only now."""
    a, b = (_esc(s) for s in summary["systems"])
    lines = [f"<b>{a} vs {b}</b> over {summary['n']} rated items; 95% Wilson intervals in brackets",
             (f"{a} better: {_percent(summary['win'])} · tie: {_percent(summary['tie'])} · "
              f"{b} better: {_percent(summary['loss'])}")]
    scores = [f"{name} {summary[f'mean_score_{s}']:.2f} (n={summary[f'n_scored_{s}']})"
              for name, s in ((a, "a"), (b, "b")) if summary[f"mean_score_{s}"] is not None]
    if scores:
        lines.append("mean score (1–5): " + " · ".join(scores))
    if judged is not None:
        kappa = "undefined" if judged["kappa"] is None else f"{judged['kappa']:.2f}"
        lines.append(f"agreement with the judge: {judged['agreement']:.0%} of {judged['n']} items, "
                     f"Cohen's kappa {kappa}")
    return "<div class='ftlab-rating-summary'>" + "<br>".join(lines) + "</div>"


class RatingWidget:
    """Blind pairwise rating of ``items`` (the judge's shape) between ``systems``, saved in ``run_dir``.

    ``widget.ratings`` is what ``ratings.jsonl`` holds for these items and
    systems; each new rating is also passed to the ``on_rating`` callbacks.
    Give ``verdicts`` (``JudgeResult.verdicts``) to see the people-judge
    agreement in the summary.
    """

    def __init__(self, items: Sequence[dict], run_dir: Any, systems: Sequence[str] = ("A", "B"), seed: int = 0,
                 scores: bool = True, on_rating: Callable[[dict], None] | Sequence[Callable] = (),
                 verdicts: Mapping[Any, str] | None = None):
        self.log = RatingLog(run_dir, items, systems)
        self.items = list(self.log.items.values())
        missing = [item["id"] for item in self.items if verdicts is not None and item["id"] not in verdicts]
        if missing:
            raise FtlabError(f"verdicts: no judge verdict for item {missing[0]!r} ({len(missing)} items have none); "
                             "judge the same items that are rated, e.g. judge_pairs(items).verdicts.")
        self.seed, self.scores, self.verdicts = seed, scores, verdicts
        self.ratings = self.log.read()
        rated = {r["item"] for r in self.ratings}
        self._queue = [item for item in self.items if item["id"] not in rated]
        self._callbacks = [on_rating] if callable(on_rating) else list(on_rating)
        self.skipped: list[Any] = []
        self.current: dict | None = None
        self.left = "a"  # the system shown on the left for the current item
        self.focus = "left"  # the answer the next digit scores

        self.keyboard = KeyStrip(shortcuts=[k for k, action in KEY_ACTIONS.items() if scores or action != "score"])
        self.keyboard.on_msg(lambda _widget, content, _buffers: self.press(content.get("key")))
        self.progress = W.HTML()
        self.prompt = W.HTML()
        self.answers = {side: W.HTML() for side in LABELS}
        self.score_buttons = {side: W.ToggleButtons(options=[1, 2, 3, 4, 5], value=None, description="score",
                                                    style={"button_width": "32px"}) for side in LABELS}
        for side, toggle in self.score_buttons.items():
            toggle.observe(lambda change, side=side: change["new"] is not None and self._focus_on(OTHER[side]),
                           "value")
        self.cards = {side: W.VBox([self.answers[side]] + ([self.score_buttons[side]] if scores else []),
                                   layout=W.Layout(flex="1", padding="4px")) for side in LABELS}
        self.buttons = [self._button("A is better", "left", "←"), self._button("tie", "tie", "↓"),
                        self._button("B is better", "right", "→")]
        skip = W.Button(description="skip", tooltip="Rate this item later (n)")
        skip.on_click(lambda _: self.skip())
        self.buttons.append(skip)
        self.summary = W.HTML()
        self.button_row = W.HBox(self.buttons)
        self.widget = W.VBox([self.keyboard, self.progress, self.prompt, W.HBox(list(self.cards.values())),
                              self.button_row, self.summary])
        self.widget.add_class("ftlab-rating")
        self._next()

    def _button(self, label: str, side: str, arrow: str) -> W.Button:
        key = {"left": "a", "tie": "t", "right": "b"}[side]
        button = W.Button(description=label, tooltip=f"{label} ({key} or {arrow})",
                          button_style="" if side == "tie" else "info")
        button.on_click(lambda _: self.choose(side))
        return button

    def on_rating(self, callback: Callable[[dict], None]) -> None:
        """Call ``callback(rating)`` with each rating once it is saved."""
        self._callbacks.append(callback)

    @property
    def done(self) -> bool:
        return self.current is None

    def choose(self, side: str) -> dict:
        """Save the choice for the current item (``"left"``, ``"right"`` or ``"tie"`` as shown) and move on."""
        if side not in ("left", "right", "tie"):
            raise FtlabError(f"side: {side!r} is not a side; choose 'left', 'right' or 'tie'.")
        if self.current is None:
            raise FtlabError("Every item has been rated or skipped; there is no current item to choose for.")
        shown = {"left": self.left, "right": OTHER[self.left]}
        given = {shown[s]: self.score_buttons[s].value for s in LABELS}
        row = self.log.record(self.current["id"], "tie" if side == "tie" else shown[side], self.left,
                              given["a"], given["b"])
        self.ratings.append(row)
        self._next()  # before the callbacks: one that fails must not leave a saved item on screen
        for callback in self._callbacks:
            callback(row)
        return row

    def skip(self) -> None:
        """Leave the current item unrated for now; it is rated next time the widget opens on this run."""
        if self.current is None:
            raise FtlabError("Every item has been rated or skipped; there is no current item to skip.")
        self.skipped.append(self.current["id"])
        self._next()

    def score(self, value: int) -> None:
        """Give the focused answer a 1-5 score; the focus then moves to the other answer."""
        if not self.scores:
            raise FtlabError("scores: this widget was built with scores=False, so answers take no score.")
        self.score_buttons[self.focus].value = value

    def press(self, key: str) -> None:
        """Act on a shortcut key as the keyboard strip sends it (``"a"``, ``"ArrowLeft"``, ``"3"``...)."""
        action = KEY_ACTIONS.get(key)
        if action is None:
            raise FtlabError(f"key: {key!r} is not a rating shortcut; the keys are "
                             f"{', '.join(KEY_ACTIONS)}.")
        if action == "score":
            self.score(int(key))
        elif action == "skip":
            self.skip()
        else:
            self.choose(action)

    def _focus_on(self, side: str) -> None:
        self.focus = side
        for name, card in self.cards.items():
            card.layout.border = "2px solid #2563eb" if self.scores and name == side else "2px solid transparent"
        self._show_hint()

    def _show_hint(self) -> None:
        score = f" · 1–5 score answer {LABELS[self.focus]}" if self.scores else ""
        self.keyboard.hint = ("all items rated" if self.current is None else
                          f"a or ← A is better · t or ↓ tie · b or → B is better{score} · n skip")

    def _next(self) -> None:
        self.current = self._queue.pop(0) if self._queue else None
        rated = len({r["item"] for r in self.ratings})
        self.progress.value = f"<b>{rated} of {len(self.items)} rated</b>" + (
            f" · {len(self.skipped)} skipped" if self.skipped else "")
        if self.current is None:
            self._finish()
            return
        item = self.current
        self.left = shown_left(item["id"], self.seed)
        reference = item.get("reference")
        self.prompt.value = (f"<div style='{_CARD}background:#f8fafc'><b>Prompt</b><br>{_esc(item['prompt'])}"
                             + (f"<br><i>Reference: {_esc(reference)}</i>" if reference is not None else "")
                             + "</div>")
        shown = {"left": item[self.left], "right": item[OTHER[self.left]]}
        for side, label in LABELS.items():
            self.answers[side].value = f"<div style='{_CARD}'><b>Answer {label}</b><br>{_esc(shown[side])}</div>"
            self.score_buttons[side].value = None
        self._focus_on("left")

    def _finish(self) -> None:
        for button in self.buttons:
            button.disabled = True
        for box in [*self.cards.values(), self.button_row]:
            box.layout.display = "none"
        self.prompt.value = ""
        self.keyboard.shortcuts = []
        self._show_hint()
        if not self.ratings:
            self.summary.value = "Nothing was rated."
            return
        judged = agreement(self.ratings, self.verdicts) if self.verdicts else None
        self.summary.value = summary_html(summarize(self.ratings), judged)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
