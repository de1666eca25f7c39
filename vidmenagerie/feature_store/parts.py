"""Finished work that survives a crash: one part per finished video, written the moment it finishes.

A part is the video's rows (one ``.npy`` per layer, plus ``.logits.npy``) and then a small ``.json`` naming
them, each written atomically; the ``.json`` is the commit, so a part is either whole or absent.
In a per-video output the rows go straight to the video's own file. On resume a part counts
only if its ``.json`` reads back, it was made with the same settings and its arrays load with
the expected shapes; anything else is done again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..batch.outputs import atomic_path
from .layout import OutputLayout
from .manifest import RowInfo
from .settings import EmbedSettings


@dataclass(frozen=True)
class Rows:
    """Rows ``[first, first + count)`` of a ``.npy`` file, read on demand (memory-mapped)."""

    path: Path
    first: int
    count: int

    def read(self) -> np.ndarray:
        """The rows, memory-mapped (nothing is read until used)."""
        return np.load(self.path, mmap_mode="r")[self.first : self.first + self.count]


@dataclass(frozen=True)
class Finished:
    """A finished video: what each of its rows is, and where its features (one ``Rows`` per stored
    layer, in the settings' order) and logits are."""

    video: str
    rows: tuple[RowInfo, ...]
    features: tuple[Rows, ...]
    logits: Rows | None = None
    fingerprint: str = ""  # the input's size and mtime when it was read (``batch.fingerprint``)


def settings_tag(settings: EmbedSettings) -> str:
    """A short fingerprint of the settings, stamped on every part."""
    text = json.dumps(settings.to_dict(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def video_key(video: str) -> str:
    """A file-name-safe key for a video: readable name plus a hash of its absolute path."""
    digest = hashlib.sha1(os.fsencode(os.path.abspath(video))).hexdigest()[:12]  # the name's bytes, UTF-8 or not
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(video).stem)[:40]
    return f"{name}-{digest}"


def save_npy(path: Path, array: np.ndarray) -> None:
    """Write an array atomically and durably (fsync before the rename)."""
    with atomic_path(path) as tmp:
        with tmp.open("wb") as handle:
            np.save(handle, np.ascontiguousarray(array))
            handle.flush()
            os.fsync(handle.fileno())


def check_rows(path: Path, shape: tuple[int, ...], first: int = 0) -> None:
    """Raise ValueError unless ``path`` is float32 rows of ``shape[1:]``, at least ``first + shape[0]`` of them."""
    array = np.load(path, mmap_mode="r")
    if array.dtype != np.float32 or array.shape[1:] != shape[1:] or array.shape[0] < first + shape[0]:
        raise ValueError(
            f"{path.name} holds {array.dtype} {list(array.shape)}, expected float32 rows of {list(shape[1:])}"
        )


class PartStore:
    """The parts of one output: written per finished video, loaded and checked on resume."""

    def __init__(self, layout: OutputLayout, settings: EmbedSettings, stems: Mapping[str, Path] | None = None) -> None:
        self.layout = layout
        self.settings = settings
        self.stems = stems or {}
        self.tag = settings_tag(settings)

    def _meta(self, video: str) -> Path:
        return self.layout.parts / f"{video_key(video)}.json"

    def _arrays(self, video: str) -> tuple[list[Path], Path]:
        """Where a video's features (one file per layer) and logits go."""
        tags = self.settings.layer_tags
        if self.layout.per_video:
            stem = self.stems[video]
            return [self.layout.video_features(stem, tag) for tag in tags], self.layout.video_logits(stem)
        key = video_key(video)
        folder = self.layout.parts
        return [folder / (f"{key}.{tag}.npy" if tag else f"{key}.npy") for tag in tags], folder / f"{key}.logits.npy"

    def write(
        self,
        video: str,
        rows: Iterable[RowInfo],
        features: np.ndarray,
        logits: np.ndarray | None,
        fingerprint: str = "",
    ) -> Finished:
        """Make a finished video durable: arrays first, then the ``.json`` that commits them.

        ``features`` is ``[rows, layers, *feature_shape]``, one slice per stored layer (one layer:
        ``[rows, *feature_shape]`` too).
        """
        rows = tuple(rows)
        feature_paths, logits_path = self._arrays(video)
        if features.ndim == 1 + len(self.settings.feature_shape) and len(feature_paths) == 1:
            features = features[:, None]
        if features.shape[1] != len(feature_paths):
            raise ValueError(f"{features.shape[1]} layers of features, the settings store {len(feature_paths)}")
        for k, path in enumerate(feature_paths):
            save_npy(path, features[:, k].astype(np.float32, copy=False))
        if logits is not None:
            save_npy(logits_path, logits.astype(np.float32, copy=False))
        folder = self.layout.folder
        meta = {
            "video": video,
            "settings": self.tag,
            "rows": [[r.clip, r.crop, r.start, r.end] for r in rows],
            "features": [os.path.relpath(path, folder) for path in feature_paths],
            "logits": os.path.relpath(logits_path, folder) if logits is not None else None,
            "fingerprint": fingerprint,
        }
        with atomic_path(self._meta(video)) as tmp:
            tmp.write_text(json.dumps(meta), encoding="utf-8")
        return Finished(
            video,
            rows,
            tuple(Rows(path, 0, len(rows)) for path in feature_paths),
            Rows(logits_path, 0, len(rows)) if logits is not None else None,
            fingerprint,
        )

    def load(self, videos: Iterable[str]) -> tuple[dict[str, Finished], dict[str, str]]:
        """The finished parts of ``videos`` that check out, and why each other existing part was refused."""
        found: dict[str, Finished] = {}
        refused: dict[str, str] = {}
        if not self.layout.parts.is_dir():
            return found, refused
        for video in videos:
            path = self._meta(video)
            if not path.is_file():
                continue
            try:
                found[video] = self._load(video, path)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                refused[video] = str(exc)
        return found, refused

    def _load(self, video: str, path: Path) -> Finished:
        """One part, checked: same video and settings, arrays where this run puts them, right shapes."""
        meta = json.loads(path.read_text(encoding="utf-8"))
        named = str(meta["video"])  # a relative name was given from some folder: the key (its absolute path) matched
        if (os.path.isabs(named) and named != os.path.abspath(video)) or meta["settings"] != self.tag:
            raise ValueError("part was written for another video or other settings")
        rows = tuple(RowInfo(int(c), int(k), float(s), float(e)) for c, k, s, e in meta["rows"])
        feature_paths, logits_path = self._arrays(video)
        folder = self.layout.folder
        if [folder / name for name in meta["features"]] != feature_paths:
            raise ValueError(f"rows were written to {meta['features']}, this run puts them elsewhere")
        for path in feature_paths:
            check_rows(path, (len(rows), *self.settings.feature_shape))
        logits = None
        if self.settings.logits:
            check_rows(logits_path, (len(rows), self.settings.num_classes or 0))
            logits = Rows(logits_path, 0, len(rows))
        features = tuple(Rows(path, 0, len(rows)) for path in feature_paths)
        return Finished(video, rows, features, logits, str(meta.get("fingerprint", "")))

    def remove(self) -> None:
        """Delete the parts folder (the finished rows now live in the assembled output)."""
        shutil.rmtree(self.layout.parts, ignore_errors=True)
