"""Pixels as the models were trained on them: short-side resize, crop, normalize.

The training pipeline (``float_pipeline``) scales RGB to [0, 1], resizes so the short side is
``short_side`` (bilinear, ``align_corners=False``, no antialiasing; the long side is floored),
crops ``img_size`` squares (centre: offsets rounded up, as the reference ``uniform_crop``) and
normalizes. ``CropResizer``, used when decoding, computes the same numbers (to float
rounding) but only for the pixels the crops keep: faster than resizing whole frames, even in
uint8 (which would be 0.25/255 off on textured frames). Scaling inside swscale is 2-5 levels
off, so it is never used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from vidmenagerie.preprocess import Preprocessing

Crops = Literal[1, 3]


def check_crops(crops: int) -> Crops:
    """``crops`` itself if it is 1 or 3, else a ValueError naming the choices."""
    if crops not in (1, 3):
        raise ValueError(f"crops must be 1 (centre) or 3 (both ends and centre), not {crops!r}")
    return crops  # type: ignore[return-value]


def resized_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """Size after scaling the short side to ``short_side`` (long side floored, as in training)."""
    if height <= width:
        return short_side, int(math.floor(float(width) / height * short_side))
    return int(math.floor(float(height) / width * short_side)), short_side


def crop_offsets(height: int, width: int, size: int, crops: Crops = 1) -> list[tuple[int, int]]:
    """(top, left) of each crop: centre, or start/centre/end along the long side for 3 crops."""
    check_crops(crops)
    top, left = math.ceil((height - size) / 2), math.ceil((width - size) / 2)
    if crops == 1:
        return [(top, left)]
    if height > width:
        return [(0, left), (top, left), (height - size, left)]
    return [(top, 0), (top, left), (top, width - size)]


def rotate(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """The frame as it is displayed: rotate [H, W, 3] by ``rotation`` degrees counter-clockwise."""
    turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


@dataclass(frozen=True)
class _Taps:
    """Bilinear taps along one axis for a run of output positions: two source indices each,
    and their weights, computed as PyTorch's ``interpolate`` does (float32, half-pixel centres)."""

    first: np.ndarray
    second: np.ndarray
    weight_first: np.ndarray
    weight_second: np.ndarray

    @classmethod
    def along(cls, in_size: int, out_size: int, start: int, count: int) -> _Taps:
        """Taps of output positions ``start .. start + count - 1`` of an ``in_size -> out_size`` resize."""
        scale = np.float32(in_size) / np.float32(out_size)
        dst = np.arange(start, start + count, dtype=np.float32)
        src = np.maximum(scale * (dst + np.float32(0.5)) - np.float32(0.5), np.float32(0.0))
        first = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
        weight = np.clip(src - first, 0.0, 1.0).astype(np.float32)
        return cls(first, np.minimum(first + 1, in_size - 1), np.float32(1.0) - weight, weight)


@dataclass(frozen=True)
class _Plan:
    """How frames of one size are resized and cropped: taps of the rows and columns the crops
    cover, and each crop's (top, left) within that covered block."""

    rows: _Taps
    cols: _Taps
    crops: list[tuple[int, int]]


class CropResizer:
    """The training pipeline's resize, crop and normalize, computed only where the crops are.

    Bilinear resizing is separable, so the rows and columns the crops need are interpolated
    straight from the decoded frame (PyTorch's taps and weights, in float32): the result equals
    ``float_pipeline`` to float rounding, without resizing the whole frame. It runs in numpy:
    torch ops between decoder calls would wake torch's spinning OpenMP threads, which take the
    cores FFmpeg's frame threads need (measured: decoding got about 1.9x slower).
    """

    def __init__(self, preprocessing: Preprocessing, crops: Crops = 1) -> None:
        self.preprocessing = preprocessing
        self.crops = check_crops(crops)
        self._mean = np.asarray(preprocessing.mean, np.float32)
        self._std = np.asarray(preprocessing.std, np.float32)
        self._plans: dict[tuple[int, int], _Plan] = {}

    def __call__(self, rgb: np.ndarray) -> torch.Tensor:
        """One decoded RGB frame [H, W, 3] uint8 -> its crops, float32 [crops, 3, S, S]."""
        plan = self._plan(rgb.shape[0], rgb.shape[1])
        # Each output pixel mixes four source pixels: gather them in uint8 (cheap), then
        # combine in float32 in PyTorch's order, along the row first, then between the rows.
        upper, lower = rgb[plan.rows.first], rgb[plan.rows.second]
        left, right = plan.cols.first, plan.cols.second
        w_left, w_right = plan.cols.weight_first[None, :, None], plan.cols.weight_second[None, :, None]
        w_upper, w_lower = plan.rows.weight_first[:, None, None], plan.rows.weight_second[:, None, None]
        block = (_taps_of(upper, left) * w_left + _taps_of(upper, right) * w_right) * w_upper
        block += (_taps_of(lower, left) * w_left + _taps_of(lower, right) * w_right) * w_lower
        block -= self._mean
        block /= self._std
        size = self.preprocessing.img_size
        crops = np.stack([block[top : top + size, left : left + size] for top, left in plan.crops])
        return torch.from_numpy(crops.transpose(0, 3, 1, 2))

    def _plan(self, height: int, width: int) -> _Plan:
        """The (cached) plan for frames of ``height`` x ``width``."""
        plan = self._plans.get((height, width))
        if plan is None:
            size = self.preprocessing.img_size
            out_h, out_w = resized_size(height, width, self.preprocessing.short_side)
            offsets = crop_offsets(out_h, out_w, size, self.crops)
            top, left = min(t for t, _ in offsets), min(c for _, c in offsets)
            bottom, right = max(t for t, _ in offsets) + size, max(c for _, c in offsets) + size
            plan = _Plan(
                rows=_Taps.along(height, out_h, top, bottom - top),
                cols=_Taps.along(width, out_w, left, right - left),
                crops=[(t - top, c - left) for t, c in offsets],
            )
            self._plans[(height, width)] = plan
        return plan


def _taps_of(rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Columns ``columns`` of uint8 ``rows`` [R, W, 3], as float32 in [0, 1]."""
    return rows[:, columns].astype(np.float32) / np.float32(255.0)


def float_pipeline(
    rgb: torch.Tensor | np.ndarray, preprocessing: Preprocessing, crops: Crops = 1
) -> list[torch.Tensor]:
    """The training pipeline on decoded RGB frames [T, H, W, 3] uint8: each crop as [3, T, S, S].

    The reference the fast path is held to: everything in float32 from the start.
    """
    frames = torch.as_tensor(rgb).permute(0, 3, 1, 2).to(torch.float32) / 255.0
    size = resized_size(frames.shape[2], frames.shape[3], preprocessing.short_side)
    if size != tuple(frames.shape[2:]):
        frames = F.interpolate(frames, size=size, mode="bilinear", align_corners=False, antialias=False)
    mean = torch.tensor(preprocessing.mean).view(1, 3, 1, 1)
    std = torch.tensor(preprocessing.std).view(1, 3, 1, 1)
    out = []
    s = preprocessing.img_size
    for top, left in crop_offsets(size[0], size[1], s, crops):
        crop = frames[:, :, top : top + s, left : left + s]
        out.append(((crop - mean) / std).permute(1, 0, 2, 3).contiguous())
    return out
