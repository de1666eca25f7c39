"""The ``vidm attend`` section: a card per clip (picture, animation, strongest patch, CLS-to-CLS
weight) with the per-head rows folded away, and a sortable table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...heatmap import colormap_table
from ..html import Html, tag
from ..lists import Blob, Card, Column, number
from .common import colour_scale, failures, listing, section
from .per_clip import read_per_clip, repeated, repeats

NAME, PICTURE, VIDEO, PEAK, WEIGHT, CLS_SELF, HEADS, START, MAPS, POSTER, REPEATED = range(11)


def attend_section(sid: str, folder: Path, record: dict[str, Any], path: Path) -> Html:
    """The section of the run recorded in ``path``."""
    run = read_per_clip(folder, record, path)
    settings = record.get("settings", {})
    rows = []
    for c in run.clips:
        peak = c.record.get("peak") or {}
        where = f"slot {peak.get('slot')}, row {peak.get('row')}, col {peak.get('column')}" if peak else ""
        own = [v for v in (number(x, 4) for x in c.record.get("cls_self") or []) if v is not None]
        heads = [[label, v] for label, v in zip(row_labels(settings, len(own)), own)]
        mean = number(sum(own) / len(own), 4) if own else None
        rows.append([c.name, c.picture, c.animation, where, number(peak.get("weight"), 4), mean, heads,
                     number(c.record.get("start"), 4), c.arrays, c.poster, repeated(c)])  # fmt: skip
    blob = Blob(f"{sid}-data", rows)
    columns = [
        Column("video", NAME),
        Column("picture", PICTURE, "path"),
        Column("strongest patch", PEAK),
        Column("its weight", WEIGHT, "pct", title="share of the CLS query's attention (mean of heads)"),
        Column("CLS itself", CLS_SELF, "pct", title="CLS-to-CLS weight, mean over the map rows"),
        Column("start (s)", START, "num", digits=4),
    ]
    if any(c.arrays for c in run.clips):
        columns.append(Column("maps", MAPS, "path"))
    repeat_columns, repeat_note = repeats(run.clips, REPEATED)
    columns += repeat_columns
    card = Card(
        NAME, PICTURE, VIDEO, (("strongest patch weight", WEIGHT, 3, "pct"), ("CLS itself", CLS_SELF, 3, "pct")),
        details=("CLS-to-CLS weight per row", HEADS, "pct"), poster=POSTER, wide=True,
    )  # fmt: skip
    return section(
        sid,
        "attend",
        "Attention",
        run.info,
        tag("p", str(record.get("pictures_note", "")), class_="note") if record.get("pictures_note") else None,
        _scale(settings),
        tag("p", str(record.get("maps_note", "")), class_="note") if any(c.arrays for c in run.clips) else None,
        tag("p", f"inputs under {run.root}", class_="note") if run.root else None,
        repeat_note,
        listing(sid, "Clips", blob, columns, card),
        failures(sid, run.failed),
    )


def _scale(settings: dict[str, Any]) -> Html | None:
    """The pictures' colour bar: the run's colormap from a row's minimum to its maximum."""
    try:
        table = colormap_table(str(settings.get("colormap", "inferno")))
    except ValueError:  # a matplotlib colormap, and matplotlib is gone
        return None
    blend = " (50% over the frame)" if settings.get("style", "overlay") == "overlay" else ""
    return colour_scale(table, f"Colour: CLS attention, from each row's min to its max{blend}", "row min", "row max")


def row_labels(settings: dict[str, Any], count: int) -> list[str]:
    """Names of the map rows: ``rollout``, the chosen heads (``--heads 3,7``), or ``head i``."""
    if settings.get("rollout") and count == 1:
        return ["rollout"]
    chosen = [h.strip() for h in str(settings.get("heads", "")).split(",")]
    if len(chosen) == count and all(h.isdigit() for h in chosen):
        return [f"head {h}" for h in chosen]
    return [f"head {i}" for i in range(count)]
