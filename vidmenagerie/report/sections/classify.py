"""The ``vidm classify`` section: a card per input (the first frame its centre clip showed the
model, its best labels as bars) and a table sortable by input, best label and its probability."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..header import RunInfo
from ..html import Html, tag, visible
from ..lists import Blob, Card, Column, number
from ..paths import Linker, Names
from .common import failures, listing, section

NAME, PICTURE, RANKED, BEST, P_BEST = range(5)


def classify_section(sid: str, folder: Path, record: dict[str, Any], path: Path) -> Html:
    """The section of the classification recorded in ``path`` (``folder/classify.json``)."""
    labels = record.get("labels") or {}
    pictures = record.get("pictures") or {}
    failed = [(str(f.get("input", "")), str(f.get("reason", ""))) for f in record.get("failed") or []]
    names = Names.of(list(labels) + [v for v, _ in failed])
    linker = Linker(folder)
    enum: dict[str, int] = {}
    rows = []
    for video, top in labels.items():
        ranked: list[float | int] = []
        for item in top:
            ranked += [
                enum.setdefault(visible(item.get("label", "")), len(enum)),
                number(item.get("probability")) or 0.0,
            ]
        rows.append([visible(names.short(video)), linker.link(pictures.get(video)), ranked,
                     ranked[0] if ranked else None, ranked[1] if ranked else None])  # fmt: skip
    blob = Blob(f"{sid}-data", rows, list(enum))
    k = max((len(top) for top in labels.values()), default=0)
    columns = [
        Column("input", NAME),
        Column("best label", BEST, "enum"),
        Column("its probability", P_BEST, "pct", title="mean softmax probability over the input's views"),
        Column(f"top {k}", RANKED, "ranked"),
        Column("picture", PICTURE, "path"),
    ]
    card = Card(NAME, PICTURE, bars=RANKED)
    views = record.get("views") or {}
    note = (
        f"{len(rows)} inputs classified, {len(failed)} failed. Views of each input: clips {views.get('clips', '?')}, "
        f"crops {views.get('crops', '?')}, combined as the mean of their softmax probabilities. The picture is the "
        "first frame of the centre clip, as the model saw it."
    )
    return section(
        sid,
        "classify",
        "Classification",
        _info(folder, record, path),
        tag("p", note, class_="note"),
        tag("p", f"inputs under {names.root}", class_="note") if names.root else None,
        listing(sid, "Inputs", blob, columns, card),
        failures(sid, [(names.short(v), r) for v, r in failed]),
    )


def _info(folder: Path, record: dict[str, Any], path: Path) -> RunInfo:
    """Head of the classification: the model, settings, start and duration of its views' embedding run."""
    try:
        views = json.loads((folder / "views.run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        views = {}
    views = views if isinstance(views, dict) else {}
    model = views.get("model") or {"name": record.get("model")}
    return RunInfo(
        command=str(record.get("command", "vidm classify")),
        model=model,
        settings=views.get("settings") or {"views": record.get("views")},
        versions=record.get("versions", {}),
        started=views.get("started"),
        seconds=views.get("seconds"),
        written=path.stat().st_mtime,
    )
