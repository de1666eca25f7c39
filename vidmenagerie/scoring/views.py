"""Multi-view testing: parse ``--views CLIPSxCROPS`` and combine a video's views into one prediction.

A video is scored from several views (temporal clips x spatial crops) and its prediction is
the mean of the views' softmax probabilities, as in mae_st / SlowFast multi-view testing
(not the softmax of the mean logits: one confident view weighs no more than its share).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

CROP_CHOICES = (1, 3)  # mae_st's multi-view test takes 3 spatial crops (left/centre/right), or the centre one
_VIEWS = re.compile(r"\s*(\S+?)\s*[xX]\s*(\S+)\s*")


def parse_views(spec: str) -> tuple[int, int]:
    """``"5x3"`` -> ``(5, 3)``: clips per video and crops per clip, with a clear error for anything else."""
    match = _VIEWS.fullmatch(spec)
    if match is None:
        raise ValueError(f"--views must be CLIPSxCROPS, e.g. 5x3 or 1x1 (got {spec!r})")
    clips = _positive(match.group(1), "clips", spec)
    crops = _positive(match.group(2), "crops", spec)
    if crops not in CROP_CHOICES:
        raise ValueError(f"--views {spec}: crops must be 1 (centre) or 3 (left, centre, right), got {crops}")
    return clips, crops


def _positive(text: str, what: str, spec: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"--views {spec}: {what} must be a positive whole number (got {text!r})") from None
    if value < 1:
        raise ValueError(f"--views {spec}: {what} must be at least 1 (got {value})")
    return value


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64, stable for large logits (the row's maximum is subtracted first)."""
    values = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(values - values.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def combine_views(logits: np.ndarray, video_ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Per-view logits ``[rows, classes]`` -> videos (first-appearance order), mean softmax ``[videos, classes]``."""
    values = np.asarray(logits)
    if values.ndim != 2:
        raise ValueError(f"logits must be a [rows, classes] array, got shape {values.shape}")
    if len(video_ids) != values.shape[0]:
        raise ValueError(f"{values.shape[0]} rows of logits but {len(video_ids)} video ids")
    if values.shape[1] == 0:
        raise ValueError("logits have no classes")
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if bad.size:
        raise ValueError(f"logits of row {int(bad[0])} ({video_ids[bad[0]]}) are not finite ({bad.size} such rows)")
    position: dict[str, int] = {}
    which = np.fromiter(
        (position.setdefault(v, len(position)) for v in video_ids), dtype=np.int64, count=len(video_ids)
    )
    sums = np.zeros((len(position), values.shape[1]), dtype=np.float64)
    np.add.at(sums, which, softmax(values))
    counts = np.bincount(which, minlength=len(position)).astype(np.float64)
    return list(position), sums / counts[:, None]
