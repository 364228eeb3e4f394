"""PNG images of plotly figures, drawn by kaleido (plotly.js in a headless Chromium) from the figure's JSON.

Starting Chromium is most of the cost (about 3 s); a figure after that is a fraction of a second.  So one
``FigureImages`` keeps one kaleido browser open for a whole batch of notebooks.  kaleido's own "sync server"
would hang on its queue when Chromium cannot start, so the browser runs on an event loop of our own in a
thread, which also works inside a running Jupyter kernel (where ``asyncio.run`` cannot).

Where kaleido or a Chromium is missing, ``png`` returns None and ``unavailable`` says why: the notebook keeps
its interactive output and the caller reports what was left without an image.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

WIDTH = 900  # CSS pixels; scale 1 keeps a line chart at 30-80 kB
HEIGHT = 450
RENDER_TIMEOUT_S = 120

try:
    from kaleido.errors import KaleidoError
except ImportError:  # no kaleido: FigureImages says so when asked for an image
    KaleidoError = RuntimeError


class FigureImages:
    """A context manager: ``with FigureImages() as images: images.png(figure_dict)``."""

    def __init__(self, width: int = WIDTH, height: int = HEIGHT, scale: float = 1.0):
        self.width, self.height, self.scale = width, height, scale
        self.unavailable: str | None = None  # why no image can be drawn here, once known
        self.last_error: str | None = None  # why the last figure that failed was not drawn
        self.drawn = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self._kaleido is not None:
            self._run(self._kaleido.close())
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()
        self._kaleido = self._loop = self._thread = None

    def png(self, figure: dict) -> bytes | None:
        """The figure (a dict with ``data`` and ``layout``) as PNG bytes; None where it cannot be drawn here."""
        if self.unavailable is None and self._kaleido is None:
            self._start()
        if self.unavailable is not None:
            return None
        layout = figure.get("layout") or {}
        opts = {"format": "png", "scale": self.scale,
                "width": layout.get("width") or self.width, "height": layout.get("height") or self.height}
        try:
            image = self._run(self._kaleido.calc_fig({"data": figure.get("data") or [], "layout": layout}, opts=opts))
        except (RuntimeError, ValueError, TimeoutError, KaleidoError) as error:  # plotly.js refused this figure
            self.last_error = f"kaleido could not draw it ({error!r})"
            return None
        self.drawn += 1
        return image

    def _start(self) -> None:
        try:
            import kaleido
            from choreographer.browsers.chromium import ChromeNotFoundError
        except ImportError:
            self.unavailable = ("kaleido is not installed (pip install 'ftlab[lab]', or pip install kaleido); "
                                "plotly figures keep only their interactive form")
            return
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kaleido", daemon=True)
        self._thread.start()
        try:
            # mathjax=False: kaleido would fetch MathJax from a CDN, and the figures use no LaTeX.
            kaleido_browser = kaleido.Kaleido(mathjax=False)
        except ChromeNotFoundError:
            where = os.environ.get("BROWSER_PATH")
            self.unavailable = (f"no browser at BROWSER_PATH={where}" if where else
                                "no Chromium or Chrome found for kaleido (Debian: apt-get install chromium; or "
                                "set BROWSER_PATH)") + "; plotly figures keep only their interactive form"
            return
        try:
            self._run(kaleido_browser.open())
        except (RuntimeError, OSError, TimeoutError) as error:  # a browser that does not start (sandbox, libraries)
            self.unavailable = f"Chromium did not start for kaleido ({error!r}); plotly figures keep only their " \
                               "interactive form"
            return
        self._kaleido = kaleido_browser

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(RENDER_TIMEOUT_S)
