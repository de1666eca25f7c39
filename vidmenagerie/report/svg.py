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


@dataclass(frozen=True)
class Axes:
    """The names of a map's two axes (``PC 1 (23.4% of the variance)``)."""

    x: str
    y: str


MARGIN = (62, 16, 16, 46)  # left, top, right, bottom: room for the ticks and the axis names


def scatter(
    map_id: str, xy: np.ndarray, points: Sequence[Point], axes: Axes, *, width: int = 760, height: int = 520
) -> Html:
    """``xy`` ``[n, 2]`` in a frame with ticks and named axes; one ``<circle>`` per point, in order
    (the n-th circle is row n of the points table), with a ``<title>``: its tooltip."""
    left, top, right, bottom = MARGIN
    coords = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    low, high = (coords.min(axis=0), coords.max(axis=0)) if len(coords) else (np.zeros(2), np.ones(2))
    ticks = [_ticks(low[k], high[k]) for k in range(2)]
    low = np.array([min(low[k], ticks[k][0]) for k in range(2)])
    high = np.array([max(high[k], ticks[k][-1]) for k in range(2)])
    span = np.where(high > low, high - low, 1.0)
    plot_w, plot_h = width - left - right, height - top - bottom

    def place(values: np.ndarray, k: int) -> np.ndarray:
        share = (values - low[k]) / span[k]
        return left + share * plot_w if k == 0 else top + (1 - share) * plot_h

    x, y = place(coords[:, 0], 0), place(coords[:, 1], 1)
    circles = []
    for cx, cy, point in zip(x, y, points):
        css = f"f{point.folder}" + ("" if point.label is None else f" p{point.label}")
        circles.append(tag("circle", tag("title", point.title), cx=f"{cx:.0f}", cy=f"{cy:.0f}", r="3", class_=css))
    marks = [tag("rect", x=left, y=top, width=plot_w, height=plot_h, class_="frame")]
    for value in ticks[0]:
        at = float(place(np.array(value), 0))
        marks += [tag("line", x1=f"{at:.1f}", x2=f"{at:.1f}", y1=top, y2=top + plot_h, class_="grid"),
                  tag("text", _tick(value), x=f"{at:.1f}", y=top + plot_h + 15, text_anchor="middle")]  # fmt: skip
    for value in ticks[1]:
        at = float(place(np.array(value), 1))
        marks += [tag("line", x1=left, x2=left + plot_w, y1=f"{at:.1f}", y2=f"{at:.1f}", class_="grid"),
                  tag("text", _tick(value), x=left - 6, y=f"{at + 4:.1f}", text_anchor="end")]  # fmt: skip
    marks += [
        tag("text", axes.x, x=left + plot_w / 2, y=height - 8, text_anchor="middle", class_="axis x"),
        tag("text", axes.y, x=14, y=top + plot_h / 2, text_anchor="middle", class_="axis y",
            transform=f"rotate(-90 14 {top + plot_h / 2})"),
    ]  # fmt: skip
    return tag(
        "svg",
        join(marks),
        join(circles),
        id=map_id,
        class_="map",
        viewBox=f"0 0 {width} {height}",
        width=width,
        height=height,
        xmlns="http://www.w3.org/2000/svg",
        role="img",
    )


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round values (steps of 1, 2 or 5 times a power of ten) covering ``low..high``."""
    if not high > low:
        return [low - 1, low, low + 1]
    rough = (high - low) / count
    power = 10 ** np.floor(np.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    first, last = np.floor(low / step), np.ceil(high / step)
    return [float(k * step) for k in np.arange(first, last + 1)]


def _tick(value: float) -> str:
    """A tick's number, short (``-20``, ``0.5``, ``1e-05``)."""
    return f"{value:.3g}" if value else "0"


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


@dataclass(frozen=True)
class Curve:
    """One line of a chart: its name, palette colour, and points ``(x, value, low, high)`` (shares in [0, 1])."""

    name: str
    colour: int
    points: tuple[tuple[float, float, float, float], ...]


def curves(
    chart_id: str,
    lines: Sequence[Curve],
    *,
    x_name: str,
    y_name: str,
    x_labels: dict[float, str] | None = None,
    width: int = 760,
    height: int = 360,
) -> Html:
    """Lines against x with their interval as a shaded band, y from 0 to 100%, ticks and named axes,
    a ``<title>`` on every point (``name, x: value [low, high]``); ``x_labels`` names the x ticks
    (else every x of the points)."""
    left, top, right, bottom = MARGIN
    xs = sorted({p[0] for line in lines for p in line.points})
    low_x, high_x = (xs[0], xs[-1]) if xs else (0.0, 1.0)
    span = high_x - low_x or 1.0
    plot_w, plot_h = width - left - right, height - top - bottom

    def at(x: float, y: float) -> tuple[float, float]:
        share = 0.5 if high_x == low_x else (x - low_x) / span
        return left + share * plot_w, top + (1 - min(max(y, 0.0), 1.0)) * plot_h

    marks = [tag("rect", x=left, y=top, width=plot_w, height=plot_h, class_="frame")]
    for value in (0.0, 0.25, 0.5, 0.75, 1.0):
        _, y = at(low_x, value)
        marks += [tag("line", x1=left, x2=left + plot_w, y1=f"{y:.1f}", y2=f"{y:.1f}", class_="grid"),
                  tag("text", f"{value * 100:.0f}%", x=left - 6, y=f"{y + 4:.1f}", text_anchor="end")]  # fmt: skip
    names = x_labels or {x: _tick(x) for x in xs}
    step = max(1, len(names) // 16)  # at most about 16 labelled ticks
    for i, (value, text) in enumerate(sorted(names.items())):
        x, _ = at(value, 0.0)
        if i % step == 0 or i == len(names) - 1:
            marks.append(tag("text", text, x=f"{x:.1f}", y=top + plot_h + 15, text_anchor="middle"))
    for line in lines:
        colour = PALETTE[line.colour % len(PALETTE)]
        upper = [at(x, hi) for x, _, _, hi in line.points]
        lower = [at(x, lo) for x, _, lo, _ in reversed(line.points)]
        band = " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower)
        marks.append(tag("polygon", points=band, fill=colour, fill_opacity="0.18", stroke="none", class_="band"))
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (at(px, v) for px, v, _, _ in line.points))
        marks.append(tag("polyline", points=path, fill="none", stroke=colour, stroke_width="2", class_="line"))
        for x, value, lo, hi in line.points:
            cx, cy = at(x, value)
            label = names.get(x, _tick(x))
            title = f"{line.name}, {x_name} {label}: {value * 100:.2f}% [{lo * 100:.2f}, {hi * 100:.2f}]"
            marks.append(tag("circle", tag("title", title), cx=f"{cx:.1f}", cy=f"{cy:.1f}", r="3.5", fill=colour,
                             class_="point"))  # fmt: skip
    marks += [
        tag("text", x_name, x=left + plot_w / 2, y=height - 8, text_anchor="middle", class_="axis x"),
        tag("text", y_name, x=14, y=top + plot_h / 2, text_anchor="middle", class_="axis y",
            transform=f"rotate(-90 14 {top + plot_h / 2})"),
    ]  # fmt: skip
    return tag(
        "svg", join(marks), id=chart_id, class_="chart", viewBox=f"0 0 {width} {height}", width=width,
        height=height, xmlns="http://www.w3.org/2000/svg", role="img",
    )  # fmt: skip
