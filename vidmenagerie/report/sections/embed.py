"""The ``vidm embed`` section: a 2-D map of the features (PCA, one point per row, coloured by
folder or by predicted label, a tooltip naming video and time), each video's nearest neighbours
by cosine similarity of its mean feature, and the failures with their reasons."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import VidmError
from ...feature_store.reading import FeatureOutput, load_features
from ..features import (
    MAX_POINTS,
    NEIGHBOURS,
    Arrays,
    Segment,
    gather,
    mean_probabilities,
    nearest,
    pca_2d,
    sample_rows,
    variance_shares,
    video_means,
)
from ..header import RunInfo
from ..html import Html, join, scrolling, tag, visible
from ..lists import Blob, Column, number, table
from ..paths import Names
from ..svg import OTHER, Axes, Point, scatter
from .common import failures, section

NAME, STATUS, ROWS, PREDICTED, NEAR, REASON = range(6)


def embed_section(sid: str, out: Path, *, per_video: bool, heading: str = "Features") -> Html:
    """The section of the embedding output ``out`` (a ``.npy`` file, or a ``--per-video`` folder)."""
    output = load_features(out, per_video=per_video)
    names = Names.of([s.video for s in output.videos])
    ok = [s.video for s in output.videos if s.status == "ok"]
    arrays = Arrays()
    segments = [_segment(output, v, logits=False) for v in ok]
    classes = _class_names(output.record.get("model", {}), output.settings.num_classes)
    rows = _video_rows(output, ok, segments, arrays, names)
    blob = Blob(f"{sid}-data", rows, classes)
    columns = [Column("video", NAME), Column("status", STATUS), Column("rows", ROWS, "num")]
    if output.settings.logits:
        columns.append(Column("predicted", PREDICTED, "enum", title="top label of the mean softmax of its rows"))
    columns.append(Column(f"nearest {NEIGHBOURS} (cosine)", NEAR, "ranked", ref=NAME))
    failed = [(names.short(s.video), str(r[REASON])) for s, r in zip(output.videos, rows) if s.status != "ok"]
    return section(
        sid,
        "embed",
        heading,
        _info(output),
        _counts(output, names),
        _layers_note(output),
        tag("h3", "Map"),
        _map(sid, output, ok, segments, arrays, names, classes),
        tag("h3", "Videos and their nearest neighbours"),
        tag("p", "Neighbours by cosine similarity of each video's mean feature (its rows averaged).", class_="note"),
        table(f"{sid}-videos", blob, columns),
        blob.markup(),
        failures(sid, failed),
    )


def _video_rows(
    output: FeatureOutput, ok: Sequence[str], segments: Sequence[Segment], arrays: Arrays, names: Names
) -> list[list[Any]]:
    """A row per input: name, status, rows, predicted class, ``[row, similarity, ...]`` of its
    nearest neighbours, and why it failed."""
    predicted: list[int | None] = [None] * len(ok)
    if output.settings.logits and ok:
        probabilities = mean_probabilities([_segment(output, v, logits=True) for v in ok], arrays)
        predicted = [int(i) for i in probabilities.argmax(axis=1)]
    near_index, near_score = nearest(video_means(segments, arrays)) if ok else (np.zeros((0, 0)), np.zeros((0, 0)))
    row_of = {s.video: i for i, s in enumerate(output.videos)}
    position = {video: i for i, video in enumerate(ok)}
    rows = []
    for status in output.videos:
        near: list[float | int] = []
        label = None
        if status.video in position:
            i = position[status.video]
            label = predicted[i]
            for j, sim in zip(near_index[i], near_score[i]):
                near += [row_of[ok[j]], number(sim, 3) or 0.0]
        reason = status.reason if status.status != "pending" else "not reached: the run was interrupted"
        rows.append([visible(names.short(status.video)), status.status, status.rows, label, near,
                     visible(reason) if status.status != "ok" else ""])  # fmt: skip
    return rows


def _segment(output: FeatureOutput, video: str, *, logits: bool) -> Segment:
    rows = output.finished[video].logits if logits else output.finished[video].features[-1]  # the deepest layer
    assert rows is not None  # logits are asked for only when the output has them
    return Segment(rows.path, rows.first, rows.count)


def _map(
    sid: str,
    output: FeatureOutput,
    ok: Sequence[str],
    segments: Sequence[Segment],
    arrays: Arrays,
    names: Names,
    classes: Sequence[str],
) -> Html:
    """The PCA map of (a spread sample of) every row, its legends and the colouring switch."""
    total = sum(s.count for s in segments)
    if total < 2:
        return tag("p", "Too few rows for a map.", class_="note")
    picks = sample_rows(total)
    rows, owner = gather(segments, arrays, picks)
    xy = pca_2d(rows)
    starts = np.cumsum([0] + [s.count for s in segments])
    videos = [ok[i] for i in owner]
    folders = [names.group(v) for v in videos]
    labels: list[str] | None = None
    if output.settings.logits:
        logit_rows, _ = gather([_segment(output, v, logits=True) for v in ok], arrays, picks)
        labels = [classes[int(i)] for i in logit_rows.argmax(axis=1)]
    folder_colour = _colours(folders)
    label_colour = _colours(labels) if labels is not None else {}
    crops = output.settings.crops > 1 and output.settings.reduce == "none"
    points, table_rows = [], []
    for n, (pick, video, index) in enumerate(zip(picks, videos, owner)):
        info = output.finished[video].rows[int(pick - starts[index])]
        name = visible(names.short(video))
        title = f"{name} \u00b7 {info.start:.2f}\u2013{info.end:.2f} s"
        if crops:
            title += f" \u00b7 crop {info.crop}"
        if labels is not None:
            title += f" \u00b7 {visible(labels[n])}"
        points.append(Point(title, folder_colour[folders[n]], label_colour[labels[n]] if labels else None))
        label = visible(labels[n]) if labels else None
        table_rows.append([name, number(info.start, 4), number(info.end, 4), info.crop if crops else None, label,
                           number(xy[n, 0], 3), number(xy[n, 1], 3)])  # fmt: skip
    note = (
        f"PCA of {len(picks)} of {total} rows" + (" (spread evenly over the output)" if len(picks) < total else "")
        + (", each row's tokens averaged" if len(output.settings.feature_shape) > 1 else "")
        + f"; at most {MAX_POINTS} points are drawn. Hover a point for its video and time; every point is in the "
        "table under the map."
    )  # fmt: skip
    first, second = variance_shares(rows, xy)
    axes = Axes(f"PC 1 ({100 * first:.1f}% of the variance)", f"PC 2 ({100 * second:.1f}% of the variance)")
    switch = None
    if labels is not None:
        switch = tag(
            "label", "colour by ",
            tag("select", tag("option", "top-level folder", value="folder"),
                tag("option", "predicted label", value="label"), class_="colour-by", data_for=f"{sid}-mapbox"),
        )  # fmt: skip
    legends = [_legend(folders, folder_colour, "legend-folder", "folder")]
    if labels is not None:
        legends.append(_legend(labels, label_colour, "legend-label", "predicted label"))
    chart = scrolling(scatter(f"{sid}-map", xy, points, axes))
    box = tag("div", switch, join(legends), chart, id=f"{sid}-mapbox", data_by="folder")
    return join([tag("p", note, class_="note"), box, _points_table(sid, table_rows, crops, labels is not None)])


def _points_table(sid: str, rows: list[list[Any]], crops: bool, labels: bool) -> Html:
    """Every point of the map with its video, time, crop, label and coordinates (``SID-points``); names
    and labels are stored once, as ``enum`` cells (5,000 points stay a small page)."""
    names: dict[str, int] = {}
    compact = [[names.setdefault(r[0], len(names)), *r[1:4],
                None if r[4] is None else names.setdefault(r[4], len(names)), *r[5:]] for r in rows]  # fmt: skip
    blob = Blob(f"{sid}-points-data", compact, list(names))
    columns = [
        Column("video", 0, "enum"),
        Column("start (s)", 1, "num", digits=4),
        Column("end (s)", 2, "num", digits=4),
    ]
    if crops:
        columns.append(Column("crop", 3, "num"))
    if labels:
        columns.append(Column("predicted", 4, "enum"))
    columns += [Column("PC 1", 5, "num", digits=3), Column("PC 2", 6, "num", digits=3)]
    return join([tag("h3", "Points of the map"), table(f"{sid}-points", blob, columns), blob.markup()])


def _colours(groups: Sequence[str]) -> dict[str, int]:
    """Palette index of each group: the most frequent groups get their own colour, the rest grey."""
    ranked = sorted(Counter(groups).items(), key=lambda item: (-item[1], item[0]))
    return {group: (i if i < OTHER else OTHER) for i, (group, _) in enumerate(ranked)}


def _legend(groups: Sequence[str], colour: dict[str, int], css: str, what: str) -> Html:
    """The colour of each group (``what``: folder or predicted label), with its count of points."""
    counts = Counter(groups)
    items = [tag("li", tag("i", class_=f"c{colour[g]}"), f"{visible(g)} ({n})") for g, n in counts.most_common(OTHER)]
    rest = [g for g in counts if colour[g] == OTHER]
    if rest:
        items.append(tag("li", tag("i", class_=f"c{OTHER}"), f"{len(rest)} others ({sum(counts[g] for g in rest)})"))
    return tag("ul", tag("li", f"colour = {what}:", class_="what"), join(items), class_=f"legend {css}")


def _counts(output: FeatureOutput, names: Names) -> Html:
    counts = Counter(s.status for s in output.videos)
    text = (
        f"{counts['ok']} videos embedded, {counts['failed']} failed, {counts['pending']} pending; "
        f"{len(output.rows)} rows of shape {list(output.settings.feature_shape)}"
    )
    where = f"; inputs under {names.root}" if names.root else ""
    return tag("p", text + where, class_="note counts")


def _layers_note(output: FeatureOutput) -> Html:
    """With several layers stored, which one the map and neighbours show (the deepest asked)."""
    if len(output.layers) == 1:
        return Html("")
    deepest = output.block(output.layers[-1])
    return tag(
        "p",
        f"This output holds {output.layer_names()}; the map and the neighbours use block {deepest}, the deepest.",
        class_="note",
    )


def _info(output: FeatureOutput) -> RunInfo:
    record = output.record
    path = output.layout.run
    return RunInfo(
        command=str(record.get("command", "vidm embed")),
        model=record.get("model", {}),
        settings=record.get("settings", {}),
        versions=record.get("versions", {}),
        started=record.get("started"),
        seconds=record.get("seconds"),
        written=path.stat().st_mtime,
    )


def _class_names(model: dict[str, Any], num_classes: int | None) -> list[str]:
    """The model's label names, or ``class N`` when its label set cannot be read."""
    if not num_classes:
        return []
    if model.get("labels"):
        from ...labels import load_labels

        try:
            return list(load_labels(str(model["labels"]), num_classes=num_classes))
        except VidmError:
            pass
    return [f"class {i}" for i in range(num_classes)]
