"""The seed scripts' ``val`` protocol: one random clip per input, randomly scaled, cropped and flipped.

hvm-1's ``test_video_recognition.py`` (14fcaa48) evaluates with ``--val_mode val`` (``:38``),
``train_jitter_scales`` ``[256, 320]`` (``:44``; ``448 448`` for the 448-pixel models) and crop
``img_size`` (``:89``). Its ``Kinetics`` loader (``helpers/kinetics.py``, f950a067) then, per video:

1. takes ``temporal_sample_index = spatial_sample_index = -1`` and ``min_scale, max_scale =
   train_jitter_scales`` (``:233-238``) and decodes selectively (``rigid_decode_all_video=self.mode
   in []``, ``:288``): the clip starts uniformly in ``[0, max(fps * duration - clip size, 0)]``
   frames (``helpers/decoder/decoder.py:53-56``, ``:145-154``), unrounded, and its frames are
   those the reader gives for that pts window (``frame_rule``; ``:327-335`` take the centre
   clip of the decoded run); a video without a stated duration is read whole and the draw
   placed on its frame count;
2. decodes at short side ``min_scale`` (``max_spatial_scale=min_scale``, ``:286``: our ``"area"``
   pixels) and normalizes (``tensor_normalize``, ``:337``);
3. calls ``spatial_sampling(spatial_idx=-1, ...)`` with aspect ratio and scale None in val mode
   (``:341-356``; mae_st ``util/decoder/utils.py:114-134`` at 6d5e259a): ``random_short_side_scale_jitter``,
   ``random_crop``, ``horizontal_flip(0.5)`` (mae_st ``util/decoder/transform.py:43``, ``:83``,
   ``:108`` at f3f2cc84; hvm-1's ``helpers/decoder/transform.py`` holds the same code).

mae_st's own loader at cf2f5dda differs in one point: its val mode decodes the whole video
(``rigid_decode_all_video=self.mode in ["finetune", "val"]``) and samples ``linspace`` from the
unrounded start on every frame; we follow hvm-1's seed scripts, which decode the window.

The loader drew from the global ``random``/``np.random`` streams, which depend on worker seeds
and order; here each input draws from its own generators, seeded by (``seed``, its path string),
so a run gives the same numbers with any worker count, in any order, every time.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from vidmenagerie.preprocess import Preprocessing

# train_jitter_scales of the seed scripts, by crop size: hvm-1 test_video_recognition.py:44 (224 px),
# mae_st scripts' --train_jitter_scales 448 448 for the 448-pixel models (train_sayavakepicutego4d_448.sh:42).
JITTER_SCALES: dict[int, tuple[int, int]] = {224: (256, 320), 448: (448, 448)}
SEED_CLIPS = "random:1"  # the protocol's window spec, as run.json and eval.json record it
OWN_CLIP = "the seed protocol takes one random window and crop of its own: leave windows and crops at their defaults"


@dataclass(frozen=True)
class SeedProtocol:
    """The seed scripts' val mode: short side jittered in [``min_scale``, ``max_scale``], a random
    ``crop`` square, a horizontal flip with probability 0.5 (``flip``), all seeded by ``seed``."""

    min_scale: int
    max_scale: int
    crop: int
    flip: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        """Refuse scales that cannot give a ``crop`` square."""
        if not 1 <= self.crop <= self.min_scale <= self.max_scale:
            raise ValueError(
                f"need 1 <= crop <= min_scale <= max_scale, got crop {self.crop}, "
                f"scales [{self.min_scale}, {self.max_scale}]"
            )

    @classmethod
    def for_preprocessing(cls, preprocessing: Preprocessing, seed: int = 0) -> SeedProtocol:
        """The seed scripts' scales for a model's recipe: ``JITTER_SCALES`` by crop size; another
        crop size (no published model) keeps the recipe's short side, so only the crop and flip vary."""
        if preprocessing.resize != "area":
            raise ValueError("the seed protocol is the video loader's: the recipe must use the 'area' resize")
        size = preprocessing.img_size
        low, high = JITTER_SCALES.get(size, (preprocessing.short_side, preprocessing.short_side))
        return cls(min_scale=low, max_scale=high, crop=size, seed=seed)

    def draw(self, path: str) -> float:
        """The input's draw ``x`` in [0, 1): its clip starts at ``random.uniform(0, delta) = delta * x``
        frames (``decoder.py:56``), whose frames then follow the loader's reader (``frame_rule``)."""
        return random.Random(input_seed(self.seed, path, "start")).random()

    def generator(self, path: str) -> np.random.Generator:
        """The input's generator for the scale, crop and flip draws."""
        return np.random.default_rng(input_seed(self.seed, path, "pixels"))

    def apply(self, frames: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """``spatial_sampling(spatial_idx=-1)`` of normalized frames [C, T, H, W] -> [C, T, crop, crop]."""
        # mae_st util/decoder/utils.py:116-134 (6d5e259a): aspect_ratio and scale are None in val mode
        frames = short_side_scale_jitter(frames, self.min_scale, self.max_scale, rng)
        frames = random_crop(frames, self.crop, rng)
        if self.flip:
            frames = horizontal_flip(0.5, frames, rng)
        return frames.contiguous()  # a crop is a view: do not keep the whole frames alive

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, for eval.json."""
        return {
            "min_scale": self.min_scale,
            "max_scale": self.max_scale,
            "crop": self.crop,
            "flip": self.flip,
            "seed": self.seed,
        }


def input_seed(seed: int, path: str, purpose: str) -> int:
    """A 64-bit seed from (``seed``, ``purpose``, the input's path string): the same on every run and worker."""
    digest = hashlib.sha256(f"{seed}\0{purpose}\0".encode() + os.fsencode(path)).digest()
    return int.from_bytes(digest[:8], "big")


def short_side_scale_jitter(
    frames: torch.Tensor, min_size: int, max_size: int, rng: np.random.Generator
) -> torch.Tensor:
    """``random_short_side_scale_jitter`` (mae_st util/decoder/transform.py:43-80, f3f2cc84): the short
    side of [C, T, H, W] to a random size, bilinear, long side floored; unchanged when already there."""
    size = int(round(rng.uniform(min_size, max_size)))  # :63
    height, width = frames.shape[2], frames.shape[3]
    if (width <= height and width == size) or (height <= width and height == size):  # :67
        return frames
    new_height = new_width = size
    if width < height:  # :71-74
        new_height = int(math.floor((float(height) / width) * size))
    else:
        new_width = int(math.floor((float(width) / height) * size))
    return torch.nn.functional.interpolate(frames, size=(new_height, new_width), mode="bilinear", align_corners=False)


def random_crop(frames: torch.Tensor, size: int, rng: np.random.Generator) -> torch.Tensor:
    """``random_crop`` (transform.py:83-105): offsets drawn in ``[0, H - size)`` and ``[0, W - size)``
    (the upper end excluded, as ``np.random.randint``), 0 where the side equals ``size``."""
    if frames.shape[2] == size and frames.shape[3] == size:  # :94
        return frames
    height, width = frames.shape[2], frames.shape[3]
    top = int(rng.integers(0, height - size)) if height > size else 0  # :99-100
    left = int(rng.integers(0, width - size)) if width > size else 0  # :102-103
    return frames[:, :, top : top + size, left : left + size]


def horizontal_flip(prob: float, frames: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """``horizontal_flip`` (transform.py:108-121): mirror the last axis with probability ``prob``."""
    if rng.uniform() < prob:  # :119
        frames = frames.flip(-1)
    return frames
