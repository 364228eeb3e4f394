"""A widget as static HTML, drawn from the widget state a notebook saves (no kernel, no JavaScript).

A widget output is only a model id (``application/vnd.jupyter.widget-view+json``); what it showed lives in
the notebook's ``metadata.widgets`` state, one entry per model, children referenced as ``IPY_MODEL_<id>``.
This walks that tree and writes what a reader would have seen: boxes as rows and columns, every tab under
its title, accordions as ``<details>``, text and HTML as they were, progress bars as bars, controls as
"description: value", Output widgets' outputs, and plotly FigureWidgets as PNG images (``figure_png``).
A model it does not know, or one the saved state left out, draws nothing rather than failing the page.
"""

from __future__ import annotations

import base64
import copy
import html
from collections.abc import Callable
from typing import Any

import numpy as np

PREFIX = "IPY_MODEL_"
BAR_COLOURS = {"success": "#4caf50", "info": "#00bcd4", "warning": "#ff9800", "danger": "#f44336"}
BUTTON_COLOURS = {"primary": "#2196f3", "success": "#4caf50", "info": "#00bcd4", "warning": "#ff9800",
                  "danger": "#f44336"}
BOX = "display:flex;flex-direction:{};gap:4px 10px;flex-wrap:wrap;align-items:{};margin:2px 0"
FIELD = ("display:inline-block;min-width:8em;border:1px solid #d1d5db;border-radius:3px;padding:1px 6px;"
         "background:#fff;white-space:pre-wrap")
SELECTED = "font-weight:bold;background:#e3f2fd"


def figure_image_html(png: bytes, title: str = "") -> str:
    """An ``<img>`` carrying the PNG itself, so the page needs no other file."""
    alt = html.escape(f"figure: {title}" if title else "figure", quote=True)
    return (f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" alt="{alt}" '
            f'style="max-width:100%">')


def figure_title(layout: dict) -> str:
    title = layout.get("title")
    return str(title.get("text", "") if isinstance(title, dict) else title or "")


class WidgetHtml:
    """Static HTML for the models of one notebook's saved widget state.

    ``figure_png(figure_dict)`` draws a plotly figure (None where it cannot); ``render(model_id)`` returns
    the HTML of that widget and everything under it ('' for nothing to show).
    """

    def __init__(self, models: dict[str, dict], figure_png: Callable[[dict], bytes | None]):
        self.models = models
        self.figure_png = figure_png
        self.figures: dict[str, str] = {}  # model id -> <img> already drawn (a figure shown twice is drawn once)
        self._draw: dict[str, Callable[[dict], str]] = {
            "HTMLModel": self._html, "HTMLMathModel": self._html, "LabelModel": self._label,
            "ButtonModel": self._button, "ToggleButtonModel": self._toggle_button,
            "IntProgressModel": self._progress, "FloatProgressModel": self._progress,
            "CheckboxModel": self._checkbox, "ValidModel": self._checkbox,
            "DropdownModel": self._choice, "ComboboxModel": self._field,
            "SelectModel": self._list, "RadioButtonsModel": self._list, "SelectMultipleModel": self._list,
            "ToggleButtonsModel": self._toggle_buttons,
            "TextModel": self._field, "TextareaModel": self._field, "IntTextModel": self._field,
            "FloatTextModel": self._field, "BoundedIntTextModel": self._field, "BoundedFloatTextModel": self._field,
            "IntSliderModel": self._field, "FloatSliderModel": self._field, "FloatLogSliderModel": self._field,
            "IntRangeSliderModel": self._field, "FloatRangeSliderModel": self._field,
            "SelectionSliderModel": self._choice, "TagsInputModel": self._field,
            "VBoxModel": self._column, "BoxModel": self._column, "GridBoxModel": self._column,
            "HBoxModel": self._row, "TabModel": self._tabs, "AccordionModel": self._accordion,
            "StackModel": self._stack, "OutputModel": self._output,
        }

    def render(self, model_id: str) -> str:
        model = self.models.get(model_id.removeprefix(PREFIX))
        if model is None:
            return ""  # left out of the saved state (a bundled front end, or a model closed before saving)
        state = model.get("state", {})
        if self._hidden(state):
            return ""
        if is_plotly_figure(model):
            return self._figure(model_id.removeprefix(PREFIX), model)
        draw = self._draw.get(model.get("model_name", ""))
        return draw(state) if draw else ""

    # containers

    def _children(self, state: dict) -> list[str]:
        return [self.render(child) for child in state.get("children", [])]

    def _column(self, state: dict) -> str:
        return f"<div style='{BOX.format('column', 'stretch')}'>{''.join(self._children(state))}</div>"

    def _row(self, state: dict) -> str:
        return f"<div style='{BOX.format('row', 'center')}'>{''.join(self._children(state))}</div>"

    def _tabs(self, state: dict) -> str:
        """Every tab under its title: a reader without a kernel cannot switch tabs, so all of them show."""
        titles = _titles(state)
        parts = []
        for index, child in enumerate(self._children(state)):
            style = "border-bottom:2px solid #2196f3;font-weight:bold;padding:4px 2px;margin:8px 0 4px"
            parts.append(f"<div style='{style}'>{html.escape(titles[index])}</div>{child}")
        return f"<div>{''.join(parts)}</div>"

    def _accordion(self, state: dict) -> str:
        """``<details>`` opens and closes without JavaScript; the section that was open is open."""
        titles = _titles(state)
        return "".join(f"<details{' open' if state.get('selected_index') == index else ''}>"
                       f"<summary><b>{html.escape(titles[index])}</b></summary>{child}</details>"
                       for index, child in enumerate(self._children(state)))

    def _stack(self, state: dict) -> str:
        children, index = self._children(state), state.get("selected_index")
        return children[index] if index is not None and 0 <= index < len(children) else ""

    def _output(self, state: dict) -> str:
        return "".join(self._saved_output(output) for output in state.get("outputs", []))

    def _saved_output(self, output: dict) -> str:
        if output.get("output_type") == "stream":
            return f"<pre>{html.escape(_text(output.get('text', '')))}</pre>"
        if output.get("output_type") == "error":
            return f"<pre>{html.escape(output.get('ename', ''))}: {html.escape(output.get('evalue', ''))}</pre>"
        data = output.get("data", {})
        if "application/vnd.jupyter.widget-view+json" in data:
            return self.render(data["application/vnd.jupyter.widget-view+json"]["model_id"])
        if "text/html" in data:
            return _text(data["text/html"])
        if "image/png" in data:
            return f'<img src="data:image/png;base64,{_text(data["image/png"]).strip()}" style="max-width:100%">'
        if "application/vnd.plotly.v1+json" in data:
            png = self.figure_png(data["application/vnd.plotly.v1+json"])
            return figure_image_html(png) if png else ""
        if "text/plain" in data:
            return f"<pre>{html.escape(_text(data['text/plain']))}</pre>"
        return ""

    # leaves

    def _figure(self, model_id: str, model: dict) -> str:
        if model_id not in self.figures:
            figure = plotly_figure(model)
            png = self.figure_png(figure)
            self.figures[model_id] = figure_image_html(png, figure_title(figure["layout"])) if png else ""
        return self.figures[model_id]

    def _html(self, state: dict) -> str:
        return f"<div>{_description(state)}{state.get('value', '')}</div>"

    def _label(self, state: dict) -> str:
        return f"<span>{_description(state)}{html.escape(str(state.get('value', '')))}</span>"

    def _button(self, state: dict) -> str:
        colour = BUTTON_COLOURS.get(state.get("button_style", ""))
        look = f"background:{colour};color:#fff;border-color:{colour}" if colour else "background:#eee"
        fade = ";opacity:0.6" if state.get("disabled") else ""
        return (f"<span style='display:inline-block;border:1px solid #bbb;border-radius:3px;padding:1px 10px;"
                f"{look}{fade}'>{html.escape(state.get('description', ''))}</span>")

    def _toggle_button(self, state: dict) -> str:
        return self._button({**state, "button_style": "primary" if state.get("value") else ""})

    def _progress(self, state: dict) -> str:
        low, high, value = state.get("min", 0), state.get("max", 100), state.get("value", 0)
        share = 0.0 if high == low else max(0.0, min(1.0, (value - low) / (high - low)))
        colour = BAR_COLOURS.get(state.get("bar_style", ""), "#2196f3")
        amount = f"{_number(value)}/{_number(high)}"
        return (f"<span style='display:inline-flex;align-items:center;gap:6px'>{_description(state)}"
                f"<span title='{amount}' style='display:inline-block;width:200px;height:12px;background:#e5e7eb;"
                f"border-radius:2px;overflow:hidden'><span style='display:block;width:{share * 100:.1f}%;"
                f"height:100%;background:{colour}'></span></span></span>")

    def _checkbox(self, state: dict) -> str:
        return f"<span>{'☑' if state.get('value') else '☐'} {html.escape(state.get('description', ''))}</span>"

    def _field(self, state: dict) -> str:
        value = state.get("value", "")
        if isinstance(value, list):
            value = ", ".join(_number(v) for v in value) if state.get("_model_name") != "TagsInputModel" \
                else " ".join(f"[{v}]" for v in value)
        shown = html.escape(_number(value)) if value != "" else \
            f"<i style='color:#9ca3af'>{html.escape(state.get('placeholder', '').strip(chr(0x200b)))}</i>"
        return f"<span>{_description(state)}<span style='{FIELD}'>{shown}</span></span>"

    def _choice(self, state: dict) -> str:
        labels, index = state.get("_options_labels", []), state.get("index")
        value = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else ""
        return self._field({**state, "value": value, "placeholder": ""})

    def _list(self, state: dict) -> str:
        """A list box as its visible rows (the chosen ones marked), and how many more it holds."""
        labels, index = state.get("_options_labels", []), state.get("index")
        chosen = set(index if isinstance(index, (list, tuple)) else [] if index is None else [index])
        rows = state.get("rows") or len(labels)
        items = "".join(f"<div style='padding:0 4px;{SELECTED if i in chosen else ''}'>{html.escape(label)}</div>"
                        for i, label in enumerate(labels[:rows]))
        more = f"<div style='color:#6b7280'>… {len(labels) - rows} more</div>" if len(labels) > rows else ""
        return (f"<span style='display:inline-flex;gap:6px;align-items:flex-start'>{_description(state)}"
                f"<span style='{FIELD};white-space:normal'>{items}{more}</span></span>")

    def _toggle_buttons(self, state: dict) -> str:
        labels, index = state.get("_options_labels", []), state.get("index")
        buttons = "".join(self._button({"description": label, "button_style": "primary" if i == index else ""})
                          for i, label in enumerate(labels))
        return f"<span style='display:inline-flex;gap:2px;align-items:center'>{_description(state)}{buttons}</span>"

    def _hidden(self, state: dict) -> bool:
        layout = self.models.get(str(state.get("layout", "")).removeprefix(PREFIX), {}).get("state", {})
        return layout.get("display") == "none" or layout.get("visibility") == "hidden"


def is_plotly_figure(model: dict) -> bool:
    """plotly's FigureWidget: an anywidget with ``_widget_data`` (plotly 6+), or plotly 5's ``FigureModel``."""
    state = model.get("state", {})
    return "_widget_data" in state or model.get("model_name") == "FigureModel"


def plotly_figure(model: dict) -> dict:
    """The figure a FigureWidget model holds, with the arrays its saved binary buffers carry put back."""
    state = _with_buffers(model.get("state", {}), model.get("buffers", []))
    data = state.get("_widget_data", state.get("_data")) or []
    layout = state.get("_widget_layout", state.get("_layout")) or {}
    return {"data": _plain(data), "layout": _plain(layout)}


def _with_buffers(state: dict, buffers: list[dict]) -> dict:
    """ipywidgets sends numpy arrays as binary buffers beside the JSON; the notebook keeps them base64-encoded
    with the path where each one belongs (plotly wraps each as ``{"buffer", "dtype", "shape"}``)."""
    if not buffers:
        return state
    state = copy.deepcopy(state)
    for buffer in buffers:
        *parents, last = buffer["path"]
        target = state
        for key in parents:
            target = target[key]
        target[last] = base64.b64decode(buffer["data"])
    return state


def _plain(value: Any) -> Any:
    """Typed arrays back to lists, and plotly's ``"_undefined_"`` placeholders out."""
    if isinstance(value, dict):
        if isinstance(value.get("buffer"), bytes) and "dtype" in value:
            return np.frombuffer(value["buffer"], dtype=value["dtype"]).reshape(value.get("shape") or -1).tolist()
        return {k: _plain(v) for k, v in value.items() if v != "_undefined_"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _titles(state: dict) -> list[str]:
    titles = [str(t or "") for t in state.get("titles") or state.get("_titles", {}).values() or []]
    return titles + [""] * (len(state.get("children", [])) - len(titles))


def _description(state: dict) -> str:
    description = state.get("description", "")
    if not description:
        return ""
    text = description if state.get("description_allow_html") else html.escape(description)
    return f"<span style='color:#374151;margin-right:4px'>{text}:</span>"


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value
