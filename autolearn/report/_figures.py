"""Figure plumbing shared by the plot modules.

Figures are made with :class:`matplotlib.figure.Figure`, never ``pyplot``: pyplot keeps every figure in a
global registry (a leak in a long-running dashboard) and is not thread-safe, while a bare Figure is an
ordinary object the caller owns, renders with Agg and lets the garbage collector take. matplotlib is
imported on first use, so the dashboard (which shares the colours) runs without it.
"""

from __future__ import annotations

import base64
import io
import math
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

STATUS_COLORS = {
    "success": "#4C72B0",
    "pruned": "#8C8C8C",
    "failed": "#C44E52",
    "crashed": "#8B0000",
    "timeout": "#DD8452",
    "memout": "#9467BD",
    "cancelled": "#BBBBBB",
    "refit": "#55A868",
    "running": "#F2C14E",
}


def new_figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (8.0, 4.5), **kwargs: Any) -> tuple[Figure, Any]:
    """A constrained-layout figure and its axes (an array when there are several)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=True, **kwargs)


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def figure_data_uri(fig: Figure, dpi: int = 100) -> str:
    """The figure as a ``data:`` URI, so an HTML page embeds it without a second file or request."""
    return "data:image/png;base64," + base64.b64encode(figure_png(fig, dpi)).decode("ascii")


def natural_key(text: str) -> list[Any]:
    """Sort "worker-2" before "worker-10"."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def short_number(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.4g}"


def shorten(text: str, width: int = 40) -> str:
    """Long labels (pipeline configs, column names) cut so an axis stays readable."""
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def empty_figure(message: str, size: tuple[float, float] = (6.0, 2.0)) -> Figure:
    """A figure that says why there is nothing to draw (the dashboard's PNG endpoints use it)."""
    fig, ax = new_figure(size=size)
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return fig
