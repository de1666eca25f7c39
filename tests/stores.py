"""Embed outputs with known numbers, written straight into the feature store's files (no model run)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from vidmenagerie.catalog import default_catalog
from vidmenagerie.feature_store import EmbedSettings
from vidmenagerie.feature_store.manifest import RowInfo, VideoStatus, write_index, write_videos


def write_output(
    out: Path,
    features: np.ndarray,
    videos: Sequence[str],
    *,
    model: str = "vit_s_none",
    clips: int = 1,
    layers: Sequence[int] = (-1,),
    depth: int | None = None,
    reduce: str = "none",
    failed: Sequence[str] = (),
) -> Path:
    """``out`` (``NAME.npy``) as ``vidm embed`` leaves it: ``features`` ``[len(videos) * clips, dim]``
    (several ``layers``: ``[len(layers), rows, dim]``, one ``NAME.layerNN.npy`` each), each video's
    ``clips`` rows in order, ``failed`` videos listed without rows; ``depth`` gives the model that
    many blocks (a benchmark's 33). Returns ``out``."""
    entry = default_catalog().get(model)
    several = len(layers) > 1
    shape = tuple(features.shape[2:] if several else features.shape[1:])
    settings = replace(EmbedSettings.for_model(entry, reduce=reduce), layers=tuple(layers), feature_shape=shape)
    rows = features.shape[1] if several else len(features)
    assert rows == len(videos) * clips
    out.parent.mkdir(parents=True, exist_ok=True)
    stem = out.with_suffix("")
    if several:
        for tag, array in zip(settings.layer_tags, features):
            np.save(Path(f"{stem}.{tag}.npy"), np.asarray(array, dtype=np.float32))
    else:
        np.save(out, np.asarray(features, dtype=np.float32))
    model_record = entry.to_dict()
    if depth is not None:
        model_record["architecture"] = {**model_record["architecture"], "depth": depth}
    statuses, index = [], []
    for v, video in enumerate(videos):
        statuses.append(VideoStatus(video, "ok", rows=clips, first_row=v * clips, fingerprint="1:2"))
        for c in range(clips):
            info = RowInfo(clips, 1, 0.0, 4.0) if reduce == "mean" else RowInfo(c, 0, 2.0 * c, 2.0 * c + 4.27)
            index.append((video, None, v * clips + c, info))
    statuses += [VideoStatus(video, "failed", reason="not a readable video") for video in failed]
    write_index(Path(f"{stem}.index.csv"), index, reduced=reduce == "mean", per_video=False)
    write_videos(Path(f"{stem}.videos.csv"), statuses, per_video=False)
    record = {
        "command": "vidm embed",
        "complete": True,
        "settings": settings.to_dict(),
        "model": model_record,
        "layout": "single",
        "counts": {"ok": len(videos), "failed": len(failed), "pending": 0, "rows": rows},
        "started": "2026-01-01T00:00:00+00:00",
        "seconds": 1.0,
        "versions": {"vidmenagerie": "0.1.0"},
    }
    Path(f"{stem}.run.json").write_text(json.dumps(record))
    return out
