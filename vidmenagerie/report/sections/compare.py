"""The ``vidm compare`` section: a heatmap per metric (colour scale, axes labelled by model and
layer), each model's RSA against each user RDM layer by layer (with its bootstrap band), the RDMs
as pictures and every pair in a sortable table.

Built from ``compare.json`` and ``run.json`` alone (and the ``rdms/*.png`` the run wrote). The
heatmap's cells are one small PNG inside the SVG (a pixel per pair, drawn without smoothing), so
20 models x 33 layers (660 x 660 pairs) stay a page of a few hundred KB; with up to ``HOVER``
representations each cell also carries a tooltip. Labels thin out as cells shrink: model names
once per model, layer numbers every few layers.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ...heatmap import colormap_table
from ..header import RunInfo
from ..html import Html, join, scrolling, tag, visible
from ..lists import Blob, Card, Column, cards, number, table
from ..paths import Linker
from ..records import read_record
from ..svg import PALETTE
from .common import colour_scale, section

HOVER = 40  # representations up to which every heatmap cell has its own tooltip
PLOT = 900  # the heatmap's side in pixels at most (cells at least MIN_CELL)
MIN_CELL, MAX_CELL = 1.5, 60.0
TICK = 13  # pixels between two labels on an axis at least
TITLES = {"cka": "CKA", "rsa": "RSA"}
LISTED = 5000  # pairs in the page's table at most (pairs with a user RDM first); compare.json has them all


def compare_section(sid: str, folder: Path, record: dict[str, Any], path: Path) -> Html:
    """The section of the comparison recorded in ``path`` (``folder/compare.json``)."""
    run = read_record(folder / "run.json")
    reps = [r for r in record.get("representations", []) if isinstance(r, dict)]
    pairs = [p for p in record.get("pairs", []) if isinstance(p, dict)]
    metrics = record.get("metrics") or {}
    parts: list[Html | None] = [tag("p", _what(record, run), class_="note")]
    for metric, about in metrics.items():
        members = [str(m) for m in (about or {}).get("members", [])]
        if not members:
            continue
        parts += [
            tag("h3", f"{TITLES.get(metric, metric)}: {about.get('description', '')}"),
            heatmap(f"{sid}-{metric}-map", metric, members, reps, pairs),
        ]
    users = [str(r.get("name")) for r in reps if r.get("kind") == "rdm"]
    if users and "rsa" in metrics:
        parts.append(tag("h3", "Each layer against each RDM (RSA, with the bootstrap 95% interval)"))
        parts += [_curves(f"{sid}-curve-{k}", user, reps, pairs) for k, user in enumerate(users)]
    parts += _pictures(sid, folder, reps, record)
    parts += _pairs(sid, pairs, users)
    return section(sid, "compare", "Comparison", _info(run, path), *parts)


def _what(record: dict[str, Any], run: dict[str, Any]) -> str:
    """One sentence: how many inputs, which estimator, what resampling, what was left out."""
    left = ((run.get("inputs") or {}).get("left_out")) or []
    words = [f"{record.get('n', '?')} inputs shared by every output and RDM"]
    if left:
        words[0] += f" ({len(left)} left out: see run.json)"
    if record.get("estimator"):
        words.append(f"CKA estimator: {record['estimator']}")
    resamples = record.get("bootstrap", 0)
    words.append(f"95% intervals from {resamples} bootstrap resamples of the inputs" if resamples
                 else "no intervals (--bootstrap 0)")  # fmt: skip
    if any(r.get("kind") == "rdm" for r in record.get("representations", []) if isinstance(r, dict)):
        words.append(f"p: one-sided, {record.get('permutations', 0)} permutations of each RDM's inputs")
    return "; ".join(words) + f"; seed {record.get('seed', 0)}."


# --------------------------------------------------------------------------- heatmap
def _matrix(metric: str, members: Sequence[str], pairs: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    """``value``, ``low``, ``high`` as ``[K, K]`` arrays from the pairs (1 on the diagonal)."""
    where = {name: i for i, name in enumerate(members)}
    k = len(members)
    found = {key: np.full((k, k), np.nan) for key in ("value", "low", "high")}
    np.fill_diagonal(found["value"], 1.0)
    for pair in pairs:
        if pair.get("metric") != metric or pair.get("a") not in where or pair.get("b") not in where:
            continue
        i, j = where[pair["a"]], where[pair["b"]]
        for key in found:
            x = number(pair.get(key))
            found[key][i, j] = found[key][j, i] = np.nan if x is None else x
    return found


def _groups(members: Sequence[str], reps: Sequence[dict[str, Any]]) -> list[tuple[str, list[int], list[str]]]:
    """Runs of consecutive members of one model (its layers): its label, their positions, and each one's tick."""
    about = {str(r.get("name")): r for r in reps}
    groups: list[tuple[str, list[int], list[str]]] = []
    for i, name in enumerate(members):
        rep = about.get(name, {})
        if rep.get("kind") == "model":
            tick = name.rsplit(":", 1)[1] if ":" in name else ""
            key = "model:" + (name.rsplit(":", 1)[0] if ":" in name else name)
        else:
            tick, key = "", f"rdm:{name}"
        if groups and groups[-1][0] == key:
            groups[-1][1].append(i)
            groups[-1][2].append(tick)
        else:
            groups.append((key, [i], [tick]))
    return [(_label(members, positions), positions, ticks) for _, positions, ticks in groups]


def _label(members: Sequence[str], positions: list[int]) -> str:
    """A group's name: its members' name without the layer."""
    first = members[positions[0]]
    return first.rsplit(":", 1)[0] if len(positions) > 1 or ":" in first else first


def heatmap(map_id: str, metric: str, members: Sequence[str], reps: Sequence[dict[str, Any]],
            pairs: Sequence[dict[str, Any]]) -> Html:  # fmt: skip
    """``svg.heat``: one cell per pair, coloured on viridis from the lower end of the values (0 or
    below) to 1, labelled by model (once per model) and layer (as room allows), with its colour scale."""
    found = _matrix(metric, members, pairs)
    values = found["value"]
    k = len(members)
    low = min(0.0, float(np.nanmin(values))) if np.isfinite(values).any() else 0.0
    table_ = colormap_table("viridis")
    shares = np.clip((np.nan_to_num(values, nan=low) - low) / (1.0 - low or 1.0), 0, 1)
    pixels = table_[np.round(shares * 255).astype(int)].astype(np.uint8)
    pixels[~np.isfinite(values)] = 255  # a pair without a value is white
    cell = max(MIN_CELL, min(MAX_CELL, PLOT / max(k, 1)))
    side = k * cell
    groups = _groups(members, reps)
    longest = max((len(label) for label, _, _ in groups), default=4)
    layered = any(len(g) > 1 for _, g, _ in groups)
    tick_room = 26 if layered else 0
    left = min(240, 7 * min(longest, 32) + 12) + tick_room
    bottom = left
    width, height = left + side + 8, side + bottom + 8
    marks: list[Html] = [
        tag("image", href=_png(pixels), x=left, y=0, width=f"{side:.1f}", height=f"{side:.1f}",
            preserveAspectRatio="none", style="image-rendering: pixelated", class_="cells"),
    ]  # fmt: skip
    step = max(1, int(np.ceil(TICK / cell)))
    for label, positions, ticks in groups:
        start, end = positions[0] * cell, (positions[-1] + 1) * cell
        middle = (start + end) / 2
        shown = label if len(label) <= 32 else label[:31] + "\u2026"
        if end - start >= TICK or len(groups) * TICK <= side:
            marks += [
                tag("text", shown, tag("title", visible(label)), x=left - tick_room - 6, y=f"{middle + 4:.1f}",
                    text_anchor="end", class_="group"),
                tag("text", shown, tag("title", visible(label)), x=f"{left + middle + 4:.1f}",
                    y=side + tick_room + 6, text_anchor="end", class_="group",
                    transform=f"rotate(-90 {left + middle + 4:.1f} {side + tick_room + 6})"),
            ]  # fmt: skip
        if positions[0] > 0:
            at = left + start
            marks += [tag("line", x1=f"{at:.1f}", x2=f"{at:.1f}", y1=0, y2=f"{side:.1f}", class_="split"),
                      tag("line", x1=left, x2=f"{left + side:.1f}", y1=f"{start:.1f}", y2=f"{start:.1f}",
                          class_="split")]  # fmt: skip
        if not layered:
            continue
        for n, (position, text) in enumerate(zip(positions, ticks)):
            if n % step or not text:
                continue
            y = position * cell + cell / 2
            marks += [
                tag("text", text, x=left - 4, y=f"{y + 4:.1f}", text_anchor="end", class_="tick"),
                tag("text", text, x=f"{left + y + 4:.1f}", y=side + 4, text_anchor="end", class_="tick",
                    transform=f"rotate(-90 {left + y + 4:.1f} {side + 4})"),
            ]  # fmt: skip
    if layered:
        marks.append(tag("text", "layer (block)", x=left - 4, y=side + 14, text_anchor="end", class_="axis"))
    if k <= HOVER:
        marks += _hover(members, found, left, cell)
    frame = tag("rect", x=left, y=0, width=f"{side:.1f}", height=f"{side:.1f}", class_="frame")
    svg = tag(
        "svg", join(marks), frame, id=map_id, class_="heat", viewBox=f"0 0 {width:.0f} {height:.0f}",
        width=f"{width:.0f}", height=f"{height:.0f}", xmlns="http://www.w3.org/2000/svg", role="img",
        aria_label=f"{TITLES.get(metric, metric)} of every pair of {k} representations", data_count=k,
        data_low=f"{low:g}",
    )  # fmt: skip
    scale = colour_scale(table_, f"{TITLES.get(metric, metric)} (white: no value)", f"{low:.2g}", "1")
    return join([scrolling(svg), scale])


def _hover(members: Sequence[str], found: dict[str, np.ndarray], left: float, cell: float) -> list[Html]:
    """A transparent cell with a tooltip per pair: the two names, the value and its interval."""
    cells = []
    for i, a in enumerate(members):
        for j, b in enumerate(members):
            value, low, high = (found[key][i, j] for key in ("value", "low", "high"))
            text = f"{visible(a)} \u00d7 {visible(b)}: {_fixed(value)}"
            if np.isfinite(low) and np.isfinite(high) and i != j:
                text += f" (95%: {_fixed(low)} to {_fixed(high)})"
            cells.append(tag("rect", tag("title", text), x=f"{left + j * cell:.1f}", y=f"{i * cell:.1f}",
                             width=f"{cell:.1f}", height=f"{cell:.1f}", class_="cell"))  # fmt: skip
    return cells


def _png(pixels: np.ndarray) -> str:
    """A ``data:`` URL of an RGB picture (the page stays one self-contained file)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _fixed(value: float) -> str:
    return "\u2013" if not np.isfinite(value) else f"{value:.3f}"


# --------------------------------------------------------------------------- layer curves
def _curves(chart_id: str, user: str, reps: Sequence[dict[str, Any]], pairs: Sequence[dict[str, Any]]) -> Html:
    """RSA with ``user`` against layer: a line and a band per model, a point each where a model has one layer."""
    against: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        if pair.get("metric") == "rsa" and user in (pair.get("a"), pair.get("b")):
            other = pair["b"] if pair.get("a") == user else pair["a"]
            against[str(other)] = pair
    lines: dict[str, list[tuple[float, float, float | None, float | None]]] = {}
    for rep in reps:
        name = str(rep.get("name"))
        if rep.get("kind") != "model" or name not in against or not isinstance(rep.get("block"), int):
            continue
        pair = against[name]
        value = number(pair.get("value"))
        if value is None:
            continue
        label = name.rsplit(":", 1)[0]
        lines.setdefault(label, []).append((float(rep["block"]), value, number(pair.get("low")),
                                            number(pair.get("high"))))  # fmt: skip
    if not lines:
        return tag("p", f"No layer has an RSA value against {user}.", class_="note")
    if all(len(points) == 1 for points in lines.values()):  # one layer each: the models side by side
        models = list(lines)
        lines = {m: [(float(k), *lines[m][0][1:])] for k, m in enumerate(models)}
        chart = line_chart(chart_id, lines, "model (its one layer)", f"RSA with {user}", categories=models)
    else:
        chart = line_chart(chart_id, lines, "layer (block)", f"RSA with {user}")
    return join([tag("h4", f"against {user}"), chart])


def line_chart(chart_id: str, lines: dict[str, list[tuple[float, float, float | None, float | None]]],
               x_name: str, y_name: str, *, categories: Sequence[str] | None = None, width: int = 760,
               height: int = 300) -> Html:  # fmt: skip
    """``svg.curves``: per named line, ``(x, y, low, high)`` points joined in x order with a band from
    low to high, coloured from the palette (grey after nine), and a legend; ``categories``: names for
    the whole-number x positions instead of numbers."""
    left, top, right, bottom = 56, 12, 16, 40
    xs = [p[0] for pts in lines.values() for p in pts]
    ys = [v for pts in lines.values() for p in pts for v in (p[1], p[2], p[3]) if v is not None]
    x0, x1 = min(xs), max(xs)
    if categories or x1 == x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    y0, y1 = min(min(ys), 0.0), max(max(ys), 0.1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * plot_h

    marks: list[Html] = [tag("rect", x=left, y=top, width=plot_w, height=plot_h, class_="frame")]
    for value in _ticks(y0, y1):
        marks += [tag("line", x1=left, x2=left + plot_w, y1=f"{py(value):.1f}", y2=f"{py(value):.1f}", class_="grid"),
                  tag("text", f"{value:.2g}", x=left - 6, y=f"{py(value) + 4:.1f}", text_anchor="end")]  # fmt: skip
    for value in _ticks(x0, x1, whole=True) if not categories else range(len(categories)):
        text = f"{value:g}" if not categories else categories[int(value)][:24]
        marks.append(tag("text", text, x=f"{px(value):.1f}", y=top + plot_h + 15, text_anchor="middle"))
    marks += [
        tag("text", x_name, x=left + plot_w / 2, y=height - 6, text_anchor="middle", class_="axis"),
        tag("text", y_name, x=12, y=top + plot_h / 2, text_anchor="middle", class_="axis",
            transform=f"rotate(-90 12 {top + plot_h / 2})"),
    ]  # fmt: skip
    legend = []
    for k, (label, points) in enumerate(lines.items()):
        colour = PALETTE[min(k, len(PALETTE) - 1)]
        points = sorted(points)
        band = [(x, float(lo), float(hi)) for x, _, lo, hi in points if lo is not None and hi is not None]
        if len(band) > 1:
            outline = [f"{px(x):.1f},{py(hi):.1f}" for x, _, hi in band]
            outline += [f"{px(x):.1f},{py(lo):.1f}" for x, lo, _ in reversed(band)]
            marks.append(tag("polygon", points=" ".join(outline), fill=colour, class_="band"))
        elif band:
            x, lo, hi = band[0]
            marks.append(tag("line", x1=f"{px(x):.1f}", x2=f"{px(x):.1f}", y1=f"{py(lo):.1f}", y2=f"{py(hi):.1f}",
                             stroke=colour, class_="whisker"))  # fmt: skip
        if len(points) > 1:
            path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y, _, _ in points)
            marks.append(tag("polyline", points=path, stroke=colour, class_="line"))
        for x, y, low, high in points:
            title = f"{visible(label)}, layer {x:g}: {y:.3f}"
            if low is not None and high is not None:
                title += f" (95%: {low:.3f} to {high:.3f})"
            marks.append(tag("circle", tag("title", title), cx=f"{px(x):.1f}", cy=f"{py(y):.1f}", r="3", fill=colour))
        legend.append(tag("li", tag("i", style=f"background: {colour}"), label))
    svg = tag("svg", join(marks), id=chart_id, class_="curves", viewBox=f"0 0 {width} {height}", width=width,
              height=height, xmlns="http://www.w3.org/2000/svg", role="img")  # fmt: skip
    return join([scrolling(svg), tag("ul", join(legend), class_="legend")])


def _ticks(low: float, high: float, *, whole: bool = False) -> list[float]:
    """About five round values from ``low`` to ``high`` (whole numbers for layers)."""
    rough = (high - low) / 5
    power = 10 ** np.floor(np.log10(rough)) if rough > 0 else 1.0
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    if whole:
        step = max(1.0, float(np.ceil(step)))
    first = np.ceil(low / step) * step
    return [float(v) for v in np.arange(first, high + step / 2, step)]


# --------------------------------------------------------------------------- RDM pictures, pairs
def _pictures(sid: str, folder: Path, reps: Sequence[dict[str, Any]], record: dict[str, Any]) -> list[Html | None]:
    """A card per RDM picture the run wrote (inputs in the shown order)."""
    linker = Linker(folder)
    rows = []
    for rep in reps:
        stored = rep.get("rdm")
        picture = linker.link(str(folder / str(stored).removesuffix(".npy")) + ".png") if stored else None
        if picture:
            rows.append([visible(str(rep.get("name"))), picture])
    if not rows:
        return []
    blob = Blob(f"{sid}-rdms-data", rows)
    note = (
        f"{len(rows)} RDMs, {record.get('n', '?')} inputs a side in the order of compare.inputs.csv's 'shown' "
        "column (the first RDM's average-linkage clustering unless --order was given); each dissimilarity "
        "coloured by its percentile within its RDM: dark = most similar, yellow = most dissimilar."
    )
    scale = colour_scale(colormap_table("viridis"), "percentile of the dissimilarity in its RDM", "0", "100")
    return [tag("h3", "RDMs"), tag("p", note, class_="note"), scale, cards(f"{sid}-rdms", blob, Card(0, img=1)),
            blob.markup()]  # fmt: skip


def _pairs(sid: str, pairs: Sequence[dict[str, Any]], users: Sequence[str]) -> list[Html | None]:
    """Every pair in a sortable table, pairs with a user RDM first."""
    ordered = sorted(pairs, key=lambda p: p.get("a") not in users and p.get("b") not in users)
    note = None
    if len(ordered) > LISTED:
        note = tag("p", f"The first {LISTED} of {len(ordered)} pairs (those with a user RDM first); compare.json "
                   "and the compare.*.matrix.csv files hold them all.", class_="note")  # fmt: skip
        ordered = ordered[:LISTED]
    rows = [
        [visible(str(p.get("a"))), visible(str(p.get("b"))), TITLES.get(str(p.get("metric")), str(p.get("metric"))),
         number(p.get("value"), 4), number(p.get("low"), 4), number(p.get("high"), 4), number(p.get("p"), 3),
         p.get("n")]
        for p in ordered
    ]  # fmt: skip
    blob = Blob(f"{sid}-pairs-data", rows)
    columns = (
        Column("a", 0), Column("b", 1), Column("metric", 2), Column("value", 3, "num", digits=3),
        Column("low", 4, "num", digits=3, title="bootstrap 95% interval, lower end"),
        Column("high", 5, "num", digits=3, title="bootstrap 95% interval, upper end"),
        Column("p", 6, "num", digits=3, title="one-sided permutation p-value (RSA against a user RDM)"),
        Column("inputs", 7, "num"),
    )  # fmt: skip
    heading = tag("h3", f"Every pair ({len(pairs)}), sortable")
    return [heading, note, table(f"{sid}-pairs", blob, columns), blob.markup()]


def _info(run: dict[str, Any], path: Path) -> RunInfo:
    """The head: the models compared, the settings, when and how long."""
    outputs = [o for o in run.get("outputs", []) if isinstance(o, dict)]
    models = ", ".join(dict.fromkeys(str(o.get("model")) for o in outputs))
    settings = dict(run.get("settings") or {})
    settings["outputs"] = [str(o.get("path")) for o in outputs]
    settings["rdms"] = run.get("rdms") or []
    return RunInfo(
        command=str(run.get("command", "vidm compare")),
        model={"name": models} if models else {},
        settings=settings,
        versions=run.get("versions", {}),
        started=run.get("started"),
        seconds=run.get("seconds"),
        written=path.stat().st_mtime,
    )
