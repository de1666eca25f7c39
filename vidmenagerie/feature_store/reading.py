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
from ..models.video_vit import resolve_layer
from .layout import OutputLayout
from .manifest import RowInfo, VideoStatus, read_index, read_videos
from .parts import Finished, Rows, check_rows
from .record import read_record, record_settings
from .settings import EmbedSettings


@dataclass
class FeatureOutput:
    """An embedding output as written: ``features`` ``[rows, ...]`` (memory-mapped; None per video),
    ``rows`` (video and RowInfo of each row), ``videos`` (status of each input) and ``finished``
    (each ok video's rows, for per-video outputs too). An output of several layers is read one
    layer at a time with :meth:`layer_features`."""

    layout: OutputLayout
    record: dict[str, Any]
    settings: EmbedSettings
    videos: list[VideoStatus]
    rows: list[tuple[str, RowInfo]]
    finished: dict[str, Finished] = field(default_factory=dict)

    @property
    def features(self) -> np.ndarray | None:
        """All rows of a single output of one layer, memory-mapped (several layers: :meth:`layer_features`)."""
        if self.layout.per_video:
            return None
        if len(self.layers) > 1:
            raise OutputError(
                f"{self.layout.out} holds {len(self.layers)} layers ({self.layer_names()}): "
                "read one with layer_features(block)",
                path=str(self.layout.out),
                problem="several-layers",
            )
        return np.load(self.layout.features, mmap_mode="r")

    @property
    def layers(self) -> tuple[int, ...]:
        """The layers stored, as the settings name them (one as given, e.g. ``(-1,)``; several as block indices)."""
        return self.settings.layers

    @property
    def depth(self) -> int:
        """How many blocks the model has (from ``run.json``'s model entry)."""
        return int(self.record["model"]["architecture"]["depth"])

    def block(self, layer: int) -> int:
        """The block index (0..depth-1) a layer value names (``-1``: the last block)."""
        return resolve_layer(int(layer), self.depth)

    def layer_names(self) -> str:
        """The stored layers as people read them: ``block 31``, ``blocks 0-31`` or ``blocks 8, 16, 31``."""
        blocks = [self.block(k) for k in self.layers]
        if len(blocks) == 1:
            return f"block {blocks[0]}"
        if blocks == list(range(blocks[0], blocks[-1] + 1)):
            return f"blocks {blocks[0]}-{blocks[-1]}"
        return "blocks " + ", ".join(map(str, blocks))

    def layer_position(self, layer: int) -> int:
        """Where a layer (a stored value, or the block index it resolves to) is among :attr:`layers`."""
        wanted = self.block(layer)
        for k, stored in enumerate(self.layers):
            if self.block(stored) == wanted:
                return k
        raise OutputError(
            f"{self.layout.out} holds no block {wanted} (it holds {self.layer_names()})",
            path=str(self.layout.out),
            problem="no-such-layer",
        )

    def layer_features(self, layer: int) -> np.ndarray:
        """Every row at one stored layer, ``[rows, *feature_shape]``: memory-mapped from a single output,
        read and joined in row order from a per-video one."""
        k = self.layer_position(layer)
        if not self.layout.per_video:
            return np.load(self.layout.feature_files[k], mmap_mode="r")
        parts = [self.finished[s.video].features[k].read() for s in self.videos if s.status == "ok"]
        if not parts:
            return np.zeros((0, *self.settings.feature_shape), np.float32)
        return np.concatenate(parts)

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
    layout = layout.with_tags(settings.layer_tags)
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
        for path in layout.feature_files:
            check_rows(path, (total, *settings.feature_shape))
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
            features, logits = layout.video_siblings(layout.folder / s.file)
            for path in features:
                check_rows(path, (s.rows, *settings.feature_shape))
            if settings.logits:
                check_rows(logits, (s.rows, settings.num_classes or 0))
        else:
            features, logits = layout.feature_files, layout.logits
        result[s.video] = Finished(
            s.video,
            infos,
            tuple(Rows(path, first, s.rows) for path in features),
            Rows(logits, first, s.rows) if settings.logits else None,
            s.fingerprint,
        )
    return result
