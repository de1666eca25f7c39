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
    layer: int = -1,
    reduce: str = "none",
    failed: Sequence[str] = (),
) -> Path:
    """``out`` (``NAME.npy``) as ``vidm embed`` leaves it: ``features`` ``[len(videos) * clips, dim]``,
    each video's ``clips`` rows in order, ``failed`` videos listed without rows. Returns ``out``."""
    entry = default_catalog().get(model)
    settings = replace(  # any layer number (a benchmark's 33 layers of a 32-block model), any width
        EmbedSettings.for_model(entry, reduce=reduce), layer=layer, feature_shape=tuple(features.shape[1:])
    )
    assert len(features) == len(videos) * clips
    out.parent.mkdir(parents=True, exist_ok=True)
    stem = out.with_suffix("")
    np.save(out, np.asarray(features, dtype=np.float32))
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
        "model": entry.to_dict(),
        "layout": "single",
        "counts": {"ok": len(videos), "failed": len(failed), "pending": 0, "rows": len(features)},
        "started": "2026-01-01T00:00:00+00:00",
        "seconds": 1.0,
        "versions": {"vidmenagerie": "0.1.0"},
    }
    Path(f"{stem}.run.json").write_text(json.dumps(record))
    return out
