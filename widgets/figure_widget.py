"""A plotly FigureWidget whose first message to the front end already holds its traces and layout.

plotly's ``BaseFigureWidget`` opens its comm (ipywidgets sends the widget's
state with it) before it fills ``_widget_data`` and ``_widget_layout``; those
follow as an update.  Its view draws whatever state it holds when it renders
and then listens only for later edits, so a view that renders before that
update is applied stays an empty pair of axes.  Two fresh-clone CI runs on a
loaded machine showed exactly that in the evaluation panel (the screenshot
that ``tests/test_browser_eval_panel.py`` keeps: two blank plots, no title).
Opening the comm once the constructor has filled both traits puts them in the
opening state, so no view can render without them.
"""

from __future__ import annotations

import plotly.graph_objects as go


class FigureWidget(go.FigureWidget):
    """``go.FigureWidget`` with its comm opened after construction; use it wherever a FigureWidget is built."""

    def __init__(self, *args, **kwargs):
        self._open_later = True
        super().__init__(*args, **kwargs)
        self._open_later = False
        self.open()

    def open(self) -> None:
        if not getattr(self, "_open_later", False):
            super().open()
