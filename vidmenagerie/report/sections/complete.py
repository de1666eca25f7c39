"""The ``vidm complete`` section: a card per clip (picture, animation, MSE, PSNR, loss) and a
table sortable by every number, so the worst completions can be found first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..html import Html, tag
from ..lists import Blob, Card, Column, number
from .common import failures, listing, plain_table, section
from .per_clip import read_per_clip, repeated, repeats

# Row fields of the blob the table and the cards share.
NAME, PICTURE, VIDEO, MSE, PSNR, LOSS, START, END, ARRAYS, POSTER, REPEATED = range(11)


def complete_section(sid: str, folder: Path, record: dict[str, Any], path: Path) -> Html:
    """The section of the run recorded in ``path``."""
    run = read_per_clip(folder, record, path)
    rows = [
        [c.name, c.picture, c.animation, number(c.record.get("mse")), number(c.record.get("psnr")),
         number(c.record.get("loss")), number(c.record.get("start"), 4), number(c.record.get("end"), 4), c.arrays,
         c.poster, repeated(c)]
        for c in run.clips
    ]  # fmt: skip
    blob = Blob(f"{sid}-data", rows)
    columns = [
        Column("video", NAME),
        Column("picture", PICTURE, "path"),
        Column("MSE", MSE, "num", digits=4, title="mean squared error over hidden pixels, [0, 1] RGB"),
        Column("PSNR (dB)", PSNR, "num", digits=4),
        Column("loss", LOSS, "num", digits=4, title="MSE over hidden pixels in the normalized input space"),
        Column("start (s)", START, "num", digits=4),
        Column("end (s)", END, "num", digits=4),
    ]
    if any(c.arrays for c in run.clips):
        columns.append(Column("arrays", ARRAYS, "path"))
    repeat_columns, repeat_note = repeats(run.clips, REPEATED)
    columns += repeat_columns
    numbers = (("MSE", MSE, 4, "num"), ("PSNR (dB)", PSNR, 4, "num"), ("loss", LOSS, 4, "num"))
    card = Card(NAME, PICTURE, VIDEO, numbers, wide=True, poster=POSTER)
    overall = record.get("overall") or {}
    summary = plain_table(
        [[len(run.clips), _num(overall.get("mse")), _num(overall.get("psnr")), _num(overall.get("loss"))]],
        ("clips", "MSE", "PSNR (dB)", "loss"),
        class_="overall",
        id=f"{sid}-overall",
    )
    return section(
        sid,
        "complete",
        "Completion",
        run.info,
        tag("h3", "Overall"),
        summary,
        tag("p", str(record.get("metrics_note", "")), class_="note"),
        tag("p", str(record.get("pictures_note", "")), class_="note") if record.get("pictures_note") else None,
        tag("p", f"inputs under {run.root}", class_="note") if run.root else None,
        repeat_note,
        listing(
            sid,
            "Clips",
            blob,
            columns,
            card,
            "Click a heading to sort: PSNR up or MSE down puts the worst completions first.",
        ),
        failures(sid, run.failed),
    )


def _num(value: Any) -> str:
    x = number(value, 4)
    return "\u2013" if x is None else f"{x:g}"
