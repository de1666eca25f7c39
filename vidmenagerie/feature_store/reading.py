"""Reading an embedding output back: its settings, its videos, what every row is, and the rows themselves.

Used by notebooks (``load_features``), by resume (a finished output is a source of finished
videos, so its parts can be deleted) and by ``--merge`` (shards are read back and joined).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputError
from .layout import OutputLayout
from .manifest import RowInfo, VideoStatus, read_index, read_videos
from .parts import Finished, Rows, check_rows
from .record import read_record, record_settings
from .settings import EmbedSettings


@dataclass
class FeatureOutput:
    """An embedding output as written: ``features`` ``[rows, ...]`` (memory-mapped; None per video),
    ``rows`` (video and RowInfo of each row), ``videos`` (status of each input) and ``finished``
    (each ok video's rows, for per-video outputs too)."""

    layout: OutputLayout
    record: dict[str, Any]
    settings: EmbedSettings
    videos: list[VideoStatus]
    rows: list[tuple[str, RowInfo]]
    finished: dict[str, Finished] = field(default_factory=dict)

    @property
    def features(self) -> np.ndarray | None:
        """All rows of a single output, memory-mapped."""
        return None if self.layout.per_video else np.load(self.layout.features, mmap_mode="r")

    @property
    def logits(self) -> np.ndarray | None:
        """Class scores of a single output written with ``--logits``."""
        if self.layout.per_video or not self.settings.logits:
            return None
        return np.load(self.layout.logits, mmap_mode="r")


def read_output(layout: OutputLayout) -> FeatureOutput:
    """Read and check an output: manifests agree with each other and with the arrays' shapes."""
    record = read_record(layout.run)
    if record is None:
        raise OutputError(
            f"{layout.run}: no such file (not a vidm embed output, or never started)",
            path=str(layout.run),
            problem="not-a-record",
        )
    settings = record_settings(record)
    try:
        statuses = read_videos(layout.videos)
        index = read_index(layout.index)
        finished = _finished(layout, settings, statuses, index)
    except (OSError, ValueError, KeyError) as exc:
        raise OutputError(
            f"{layout.out}: output is incomplete or damaged ({exc}); run it again to repair",
            path=str(layout.out),
            problem="unreadable",
        ) from None
    rows = [(video, info) for video, _, _, info in index]
    return FeatureOutput(layout, record, settings, statuses, rows, finished)


def load_features(out: str | Path, *, per_video: bool | None = None) -> FeatureOutput:
    """Open what ``vidm embed --out OUT`` wrote (a ``.npy`` file, or a ``--per-video`` folder)."""
    path = Path(out)
    return read_output(OutputLayout(path, path.suffix.lower() != ".npy" if per_video is None else per_video))


def _finished(
    layout: OutputLayout,
    settings: EmbedSettings,
    statuses: list[VideoStatus],
    index: list[tuple[str, str | None, int, RowInfo]],
) -> dict[str, Finished]:
    """Each ok video's rows, checked against ``index.csv`` and the arrays on disk."""
    by_video: dict[str, list[tuple[int, RowInfo]]] = defaultdict(list)
    for video, _, number, info in index:
        by_video[video].append((number, info))
    total = sum(s.rows for s in statuses if s.status == "ok")
    if total != len(index):
        raise ValueError(f"videos.csv counts {total} rows, index.csv lists {len(index)}")
    if not layout.per_video:
        check_rows(layout.features, (total, *settings.feature_shape))
        if settings.logits:
            check_rows(layout.logits, (total, settings.num_classes or 0))
    result: dict[str, Finished] = {}
    for s in statuses:
        if s.status != "ok":
            continue
        numbers = [n for n, _ in by_video[s.video]]
        first = 0 if layout.per_video else s.first_row
        if first is None or numbers != list(range(first, first + s.rows)):
            raise ValueError(f"rows of {s.video} in index.csv do not match videos.csv")
        infos = tuple(info for _, info in by_video[s.video])
        if layout.per_video:
            if not s.file:
                raise ValueError(f"videos.csv names no file for {s.video}")
            features = layout.folder / s.file
            logits = features.with_name(features.name.removesuffix(".npy") + ".logits.npy")
            check_rows(features, (s.rows, *settings.feature_shape))
            if settings.logits:
                check_rows(logits, (s.rows, settings.num_classes or 0))
        else:
            features, logits = layout.features, layout.logits
        result[s.video] = Finished(
            s.video,
            infos,
            Rows(features, first, s.rows),
            Rows(logits, first, s.rows) if settings.logits else None,
            s.fingerprint,
        )
    return result
