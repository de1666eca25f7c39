"""Charts as inline SVG: the feature map (a scatter with a tooltip per point) and accuracy bars.

Points carry classes ``fN`` (their folder) and ``pN`` (their predicted label); the page's CSS
colours one set or the other, so one chart serves both colourings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .html import Html, join, tag

# Nine distinct colours (Tableau 10 without its grey), and grey for everything else.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#9a9a9a")
OTHER = len(PALETTE) - 1


@dataclass(frozen=True)
class Point:
    """One point of the map: its tooltip and colour classes (``folder``, ``label``: palette indices)."""

    title: str
    folder: int
    label: int | None = None


def scatter(map_id: str, xy: np.ndarray, points: Sequence[Point], *, width: int = 760, height: int = 520) -> Html:
    """``xy`` ``[n, 2]`` scaled into the frame; one ``<circle>`` with a ``<title>`` per point."""
    pad = 12
    coords = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    low, high = (coords.min(axis=0), coords.max(axis=0)) if len(coords) else (np.zeros(2), np.ones(2))
    span = high - low
    # Each axis scaled into the frame; an axis on which all points agree puts them in the middle.
    share = np.where(span > 0, (coords - low) / np.where(span > 0, span, 1.0), 0.5)
    x = pad + share[:, 0] * (width - 2 * pad)
    y = height - pad - share[:, 1] * (height - 2 * pad)
    circles = []
    for cx, cy, point in zip(x, y, points):
        css = f"f{point.folder}" + ("" if point.label is None else f" p{point.label}")
        circles.append(tag("circle", tag("title", point.title), cx=f"{cx:.0f}", cy=f"{cy:.0f}", r="3", class_=css))
    return tag(
        "svg",
        join(circles),
        id=map_id,
        class_="map",
        viewBox=f"0 0 {width} {height}",
        width=width,
        height=height,
        xmlns="http://www.w3.org/2000/svg",
        role="img",
    )


@dataclass(frozen=True)
class Bar:
    """One bar: its label, a value in [0, 1] and the tooltip."""

    label: str
    value: float
    title: str


def bars(chart_id: str, items: Sequence[Bar], *, width: int = 760, labelled: int = 60) -> Html:
    """A labelled horizontal bar per item (up to ``labelled`` items), else one thin column per item
    in the given order with its tooltip (a profile of 1,000 classes still fits the width)."""
    if len(items) <= labelled:
        return _rows(chart_id, items, width)
    height, pad = 240, 4
    step = (width - 2 * pad) / max(len(items), 1)
    columns = []
    for i, item in enumerate(items):
        h = max(item.value, 0.0) * (height - 2 * pad)
        columns.append(
            tag("rect", tag("title", item.title), x=f"{pad + i * step:.2f}", y=f"{height - pad - h:.1f}",
                width=f"{max(step, 0.5):.2f}", height=f"{h:.1f}", class_="bar")
        )  # fmt: skip
    frame = tag("rect", x=pad, y=pad, width=width - 2 * pad, height=height - 2 * pad, class_="back")
    return _svg(chart_id, width, height, join([frame, *columns]))


def _rows(chart_id: str, items: Sequence[Bar], width: int) -> Html:
    """One row per item: the label, the bar, the value as a percentage."""
    row, label_width, value_width = 18, 200, 60
    track = width - label_width - value_width
    parts = []
    for i, item in enumerate(items):
        y = i * row
        length = max(item.value, 0.0) * track
        label = item.label if len(item.label) <= 30 else item.label[:29] + "\u2026"
        parts += [
            tag("text", label, x=label_width - 6, y=y + 13, text_anchor="end"),
            tag("rect", x=label_width, y=y + 3, width=track, height=row - 6, class_="back"),
            tag("rect", tag("title", item.title), x=label_width, y=y + 3, width=f"{length:.1f}", height=row - 6,
                class_="bar"),
            tag("text", f"{item.value * 100:.1f}%", x=label_width + track + 6, y=y + 13),
        ]  # fmt: skip
    return _svg(chart_id, width, max(row * len(items), row), join(parts))


def _svg(chart_id: str, width: int, height: int, content: Html) -> Html:
    return tag(
        "svg", content, id=chart_id, class_="bars", viewBox=f"0 0 {width} {height}", width=width, height=height,
        xmlns="http://www.w3.org/2000/svg", role="img",
    )  # fmt: skip
