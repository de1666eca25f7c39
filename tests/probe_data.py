"""Synthetic features written as ``vidm embed`` outputs, for probe tests and the probe benchmark."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from vidmenagerie.catalog import get_model_entry
from vidmenagerie.feature_store import EmbedSettings, OutputLayout, RowInfo, VideoStatus
from vidmenagerie.feature_store.manifest import write_index, write_videos


def write_output(
    out: Path,
    videos: list[str],
    features: np.ndarray | dict[int, np.ndarray],
    *,
    model: str = "vit_s_none",
    layer: int = -1,
    pool: str = "cls",
) -> Path:
    """``out`` (``NAME.npy``) with its manifests and run.json, one row per video: ``features`` ``[videos, dim]``
    at ``layer``, or ``{block: [videos, dim]}`` for several blocks (``NAME.layer08.npy``...)."""
    arrays = features if isinstance(features, dict) else {layer: features}
    dim = next(iter(arrays.values())).shape[1]
    files = store_files(out, sorted(arrays) if isinstance(features, dict) else layer, model=model)
    for path, key in zip(files, sorted(arrays)):
        np.save(path, np.ascontiguousarray(arrays[key], dtype=np.float32))
    return write_manifests(out, videos, sorted(arrays) if isinstance(features, dict) else layer, dim, model=model,
                           pool=pool)  # fmt: skip


def store_files(out: Path, layers: int | list[int], *, model: str = "vit_s_none") -> list[Path]:
    """The feature files an output of ``layers`` holds (``NAME.npy``, or ``NAME.layer08.npy``...)."""
    settings = EmbedSettings.for_model(get_model_entry(model), layer=layers)
    out.parent.mkdir(parents=True, exist_ok=True)
    return OutputLayout(out).with_tags(settings.layer_tags).feature_files


def write_manifests(
    out: Path, videos: list[str], layers: int | list[int], dim: int, *, model: str = "vit_s_none", pool: str = "cls"
) -> Path:
    """``NAME.index.csv``, ``NAME.videos.csv`` and ``NAME.run.json`` of an output whose arrays are written."""
    entry = get_model_entry(model)
    settings = replace(EmbedSettings.for_model(entry, layer=layers, pool=pool), feature_shape=(dim,))
    stem = out.with_suffix("")
    rows = [(v, None, i, RowInfo(0, 0, 0.0, 4.0)) for i, v in enumerate(videos)]
    write_index(Path(f"{stem}.index.csv"), rows, reduced=False, per_video=False)
    statuses = [VideoStatus(v, "ok", 1, i) for i, v in enumerate(videos)]
    write_videos(Path(f"{stem}.videos.csv"), statuses, per_video=False)
    record = {"command": "vidm embed", "model": {"name": model, "architecture": entry.arch.to_dict()},
              "settings": settings.to_dict(), "complete": True}  # fmt: skip
    Path(f"{stem}.run.json").write_text(json.dumps(record))
    return out


def labelled_table(path: Path, videos: list[str], labels: list[str]) -> Path:
    """A ``path,label`` CSV naming ``videos`` (files created empty, so they exist) with ``labels``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for video in videos:
        Path(video).parent.mkdir(parents=True, exist_ok=True)
        Path(video).touch()
    path.write_text("path,label\n" + "".join(f"{v},{label}\n" for v, label in zip(videos, labels)))
    return path


def blobs(classes: int, per_class: int, dim: int, *, spread: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` points around each of ``classes`` random centres (``spread``: their noise), and labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, dim))
    labels = np.repeat(np.arange(classes), per_class)
    return centres[labels] + spread * rng.normal(size=(len(labels), dim)), labels
