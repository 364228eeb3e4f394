"""Plain HTML tables for the views that must also read without a kernel (run comparison, evaluation panel)."""

from __future__ import annotations

import html

CELL = "padding:2px 8px;border:1px solid #e5e7eb;vertical-align:top"
HIGHLIGHT = "#fff3cd"


def number(value) -> str:
    """A figure as a cell: 4 significant digits for floats, a dash for a missing one, anything else escaped."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def table(header: list[str], rows: list[list[str]], shades: list[str] | None = None) -> str:
    """A table of cells already written as HTML; ``shades`` colours whole rows."""
    head = "".join(f"<th style='{CELL};text-align:left'>{html.escape(h)}</th>" for h in header)
    shades = shades or ["transparent"] * len(rows)
    body = "".join(f"<tr style='background:{shade}'>" + "".join(f"<td style='{CELL}'>{cell}</td>" for cell in row)
                   + "</tr>" for row, shade in zip(rows, shades))
    return f"<table style='border-collapse:collapse;font-size:0.85em'><tr>{head}</tr>{body}</table>"
