"""Independent oracles of the training pipelines, written the plain way, for tests to compare with.

- ``legacy_swscale_rgb``: what torchvision's ``video_reader`` did to each frame
  (``VideoSampler::init``: ``sws_getContext(in, out, AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL,
  NULL)`` and ``sws_scale``), called through ctypes on the libswscale PyAV ships.
- ``training_video_clip``: mae_st's frame rule on every decoded frame (``get_start_end_idx`` +
  ``temporal_sampling``), then the legacy scale, ``uniform_crop`` and ``tensor_normalize``.
- ``training_image_clip``: ``finetune_on_image.py``'s torchvision transforms on a PIL image.
"""

from __future__ import annotations

import ctypes
import math
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

SWS_AREA = 0x20


class _Swscale:
    """libswscale and libavutil as PyAV loaded them."""

    def __init__(self) -> None:
        paths = _loaded_libraries()
        if "libswscale" not in paths or "libavutil" not in paths:
            pytest.skip("cannot find the libswscale PyAV uses (needed for the legacy sws_scale oracle)")
        self.sws = ctypes.CDLL(paths["libswscale"])
        self.avutil = ctypes.CDLL(paths["libavutil"])
        self.avutil.av_get_pix_fmt.restype = ctypes.c_int
        self.avutil.av_get_pix_fmt.argtypes = [ctypes.c_char_p]
        self.sws.sws_getContext.restype = ctypes.c_void_p
        self.sws.sws_getContext.argtypes = [ctypes.c_int] * 7 + [ctypes.c_void_p] * 3
        pointers, ints = ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_int)
        self.sws.sws_scale.argtypes = [ctypes.c_void_p, pointers, ints, ctypes.c_int, ctypes.c_int, pointers, ints]
        self.sws.sws_freeContext.argtypes = [ctypes.c_void_p]

    def rgb(self, frame: av.VideoFrame, height: int, width: int) -> np.ndarray:
        """RGB24 [height, width, 3] of ``frame`` by one legacy ``sws_scale`` call with ``SWS_AREA``."""
        source_format = self.avutil.av_get_pix_fmt(frame.format.name.encode())
        rgb24 = self.avutil.av_get_pix_fmt(b"rgb24")
        context = self.sws.sws_getContext(
            frame.width, frame.height, source_format, width, height, rgb24, SWS_AREA, None, None, None
        )
        assert context, f"sws_getContext failed for {frame.format.name}"
        planes = list(frame.planes)
        source = (ctypes.c_void_p * 4)(*[p.buffer_ptr for p in planes], *[None] * (4 - len(planes)))
        strides = (ctypes.c_int * 4)(*[p.line_size for p in planes], *[0] * (4 - len(planes)))
        out = np.zeros((height, width * 3 + 64), np.uint8)
        target = (ctypes.c_void_p * 4)(out.ctypes.data, None, None, None)
        target_strides = (ctypes.c_int * 4)(out.shape[1], 0, 0, 0)
        try:
            self.sws.sws_scale(context, source, strides, 0, frame.height, target, target_strides)
        finally:
            self.sws.sws_freeContext(context)
        return out[:, : width * 3].reshape(height, width, 3)


def _loaded_libraries() -> dict[str, str]:
    """Paths of the FFmpeg libraries in this process (PyAV's), by name."""
    found: dict[str, str] = {}
    libs = Path(av.__file__).parent.parent / "av.libs"
    candidates = list(libs.glob("lib*.so*")) if libs.is_dir() else []
    if os.path.exists("/proc/self/maps"):
        with open("/proc/self/maps") as maps:
            candidates += [Path(line.split()[-1]) for line in maps if ".so" in line and "/" in line]
    for path in candidates:
        for name in ("libswscale", "libavutil"):
            if path.name.startswith(name) and name not in found:
                found[name] = str(path)
    return found


_SWS: _Swscale | None = None


def legacy_swscale_rgb(frame: av.VideoFrame, height: int, width: int) -> np.ndarray:
    """torchvision ``VideoSampler``'s RGB24 of ``frame`` at ``height`` x ``width``."""
    global _SWS
    if _SWS is None:
        _SWS = _Swscale()
    return _SWS.rgb(frame, height, width)


def min_dimension_size(height: int, width: int, short: int) -> tuple[int, int]:
    """``Util::setFormatDimensions`` with ``minDimension``: C ``round`` (half away from zero)."""
    if width > height:
        return short, int(math.floor(width * short / height + 0.5))
    return int(math.floor(height * short / width + 0.5)), short


def uniform_crop_offsets(height: int, width: int, size: int, spatial_idx: int) -> tuple[int, int]:
    """mae_st ``util/decoder/transform.py`` ``uniform_crop``."""
    y_offset = int(math.ceil((height - size) / 2))
    x_offset = int(math.ceil((width - size) / 2))
    if height > width:
        if spatial_idx == 0:
            y_offset = 0
        elif spatial_idx == 2:
            y_offset = height - size
    else:
        if spatial_idx == 0:
            x_offset = 0
        elif spatial_idx == 2:
            x_offset = width - size
    return y_offset, x_offset


def decode_all(path: Path) -> tuple[list[av.VideoFrame], list[Fraction], Fraction]:
    """Every frame of the first video stream, their times (seconds from the first frame) and the average rate."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        rate = Fraction(stream.average_rate or stream.guessed_rate)
        base = stream.time_base
    first = frames[0].pts
    return frames, [(f.pts - first) * base for f in frames], rate


def training_indices(
    times: list[Fraction], rate: Fraction, start: Fraction, num_frames: int, sampling_rate: int
) -> list[int]:
    """Indices of the frames a clip starting at ``start`` takes: the frame on screen at ``start``, then
    ``temporal_sampling``'s ``linspace`` over ``clip_sz`` frames, clamped to the last frame."""
    first = max((i for i, t in enumerate(times) if t <= start + Fraction(1, 2000)), default=0)
    clip_sz = sampling_rate * num_frames / 30 * float(rate)
    index = torch.linspace(first, first + clip_sz - 1, num_frames)
    return torch.clamp(index, 0, len(times) - 1).long().tolist()


def normalize(rgb: np.ndarray, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """``tensor_normalize``: uint8 [T, H, W, 3] -> float / 255, minus mean, over std -> [3, T, H, W]."""
    frames = torch.from_numpy(rgb).float() / 255.0
    frames = (frames - torch.tensor(mean)) / torch.tensor(std)
    return frames.permute(3, 0, 1, 2)


def training_video_clip(
    frames: list[av.VideoFrame],
    indices: list[int],
    *,
    img_size: int,
    short_side: int,
    mean: tuple[float, ...] = (0.45, 0.45, 0.45),
    std: tuple[float, ...] = (0.225, 0.225, 0.225),
    spatial_idx: int = 1,
) -> torch.Tensor:
    """The loader's clip from decoded frames: legacy area scale to the short side, crop, normalize."""
    chosen = []
    for i in indices:
        frame = frames[i]
        height, width = min_dimension_size(frame.height, frame.width, short_side)
        chosen.append(legacy_swscale_rgb(frame, height, width))
    video = np.stack(chosen)
    top, left = uniform_crop_offsets(video.shape[1], video.shape[2], img_size, spatial_idx)
    return normalize(video[:, top : top + img_size, left : left + img_size], mean, std)


def training_image_clip(image_path: Path, img_size: int, num_frames: int) -> torch.Tensor:
    """``finetune_on_image.py``'s val transform on an ImageFolder-loaded image, repeated over frames
    (``images.unsqueeze(2).repeat(...)`` in ``test_image_recognition.py``)."""
    from PIL import Image, ImageOps
    from torchvision.transforms import CenterCrop, Compose, Normalize, Resize, ToTensor

    transform = Compose(
        [
            Resize(img_size + 32, interpolation=3),
            CenterCrop(img_size),
            ToTensor(),
            Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
        ]
    )
    with Image.open(image_path) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    return transform(upright).unsqueeze(1).repeat(1, num_frames, 1, 1)


def levels(a: torch.Tensor, b: torch.Tensor, std: float = 0.225) -> tuple[float, float]:
    """Mean and max absolute difference of two normalized clips, in 0..255 levels."""
    diff = (a - b).abs() * std * 255
    return diff.mean().item(), diff.max().item()
