"""The final files of an output, built from finished videos in input order, each written atomically.

Rows are copied video by video into a memory-mapped ``.npy``, so memory stays bounded
whatever the number of videos or the row size (``--pool tokens``). Videos without rows are
listed in ``videos.csv`` as ``failed`` (with the reason) or ``pending``, never dropped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..batch.outputs import atomic_path, reserve_space
from .layout import OutputLayout
from .manifest import RowInfo, VideoStatus, write_index, write_videos
from .parts import Finished, Rows, save_npy
from .settings import EmbedSettings
from .topk import TopK, top_labels, write_topk


@dataclass
class Assembly:
    """What was written: every video's status, the number of rows, and the best labels per video."""

    statuses: list[VideoStatus]
    rows: int
    topk: dict[str, list[TopK]] = field(default_factory=dict)

    def count(self, status: str) -> int:
        """How many videos have ``status``."""
        return sum(s.status == status for s in self.statuses)


def assemble(
    layout: OutputLayout,
    settings: EmbedSettings,
    order: Sequence[str],
    finished: Mapping[str, Finished],
    failed: Mapping[str, str],
    *,
    stems: Mapping[str, Path] | None = None,
    top_k: int = 0,
    labels: Sequence[str] | None = None,
) -> Assembly:
    """Write features, logits, ``index.csv``, ``videos.csv`` (and ``topk.csv``) for ``order``'s videos."""
    statuses, first = [], 0
    for video in order:
        if video in finished:
            n = len(finished[video].rows)
            file = _relative(layout, _target(layout, stems, finished[video])) if layout.per_video else None
            place = None if layout.per_video else first
            statuses.append(VideoStatus(video, "ok", n, place, file, fingerprint=finished[video].fingerprint))
            first += n
        elif video in failed:
            statuses.append(VideoStatus(video, "failed", reason=failed[video]))
        else:
            statuses.append(VideoStatus(video, "pending", reason="not reached: the run was interrupted"))
    done = [finished[s.video] for s in statuses if s.status == "ok"]
    if layout.per_video:
        for item in done:
            _place(layout, stems, item)
    else:
        for k, path in enumerate(layout.feature_files):
            _stack(path, [d.features[k] for d in done], (first, *settings.feature_shape))
        if settings.logits:
            _stack(layout.logits, [d.logits for d in done if d.logits], (first, settings.num_classes or 0))
    write_index(
        layout.index, _index_rows(statuses, done), reduced=settings.reduce != "none", per_video=layout.per_video
    )
    write_videos(layout.videos, statuses, per_video=layout.per_video)
    best: dict[str, list[TopK]] = {}
    if top_k and settings.logits:
        best = {d.video: top_labels(d.logits.read(), labels, top_k) for d in done if d.logits}
        write_topk(layout.topk, best)
    return Assembly(statuses, first, best)


def _index_rows(statuses: list[VideoStatus], done: list[Finished]) -> list[tuple[str, str | None, int, RowInfo]]:
    """``(video, file, row number, info)`` of every row, numbered through the file."""
    rows: list[tuple[str, str | None, int, RowInfo]] = []
    for status, item in zip((s for s in statuses if s.status == "ok"), done):
        first = status.first_row or 0
        rows.extend((item.video, status.file, first + i, info) for i, info in enumerate(item.rows))
    return rows


def _stack(path: Path, sources: Sequence[Rows | None], shape: tuple[int, ...]) -> None:
    """One ``.npy`` of ``shape`` from the sources' rows, in order, through a memory map (its blocks
    reserved first, so a full disk is one error line that leaves no temporary file)."""
    if shape[0] == 0:
        save_npy(path, np.zeros(shape, np.float32))
        return
    with atomic_path(path) as tmp:
        target = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=shape)
        reserve_space(tmp)  # a full disk is an error here, not a SIGBUS in the copy
        row = 0
        for source in sources:
            assert source is not None
            target[row : row + source.count] = source.read()
            row += source.count
        target.flush()
        del target
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())


def _target(layout: OutputLayout, stems: Mapping[str, Path] | None, item: Finished, layer: int = 0) -> Path:
    """Where a video's own file of a layer goes in a per-video output (where it already is, unless stems
    say otherwise); layer 0's is the file ``videos.csv`` names."""
    if stems and item.video in stems:
        return layout.video_features(stems[item.video], layout.tags[layer])
    return item.features[layer].path


def _relative(layout: OutputLayout, path: Path) -> str:
    return os.path.relpath(path, layout.folder)


def _place(layout: OutputLayout, stems: Mapping[str, Path] | None, item: Finished) -> None:
    """Make sure a video's per-video files hold exactly its rows at their places."""
    _, logits_target = layout.video_siblings(_target(layout, stems, item))
    moved = False
    for layer, rows in enumerate(item.features):
        target = _target(layout, stems, item, layer)
        whole = rows.first == 0 and np.load(rows.path, mmap_mode="r").shape[0] == rows.count
        if rows.path != target or not whole:
            save_npy(target, rows.read())
            moved = True
    if moved and item.logits is not None:
        save_npy(logits_target, item.logits.read())
