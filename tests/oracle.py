"""Independent oracles of the training pipelines, written the plain way, for tests to compare with.

- ``legacy_swscale_rgb``: what torchvision's ``video_reader`` did to each frame
  (``VideoSampler::init``: ``sws_getContext(in, out, AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL,
  NULL)`` and ``sws_scale``), called through ctypes on the libswscale PyAV ships.
- ``TrainingLoader``: which frames mae_st's loader read for a clip (torchvision's pts windows,
  frames counted in decode order, ``get_start_end_idx`` + ``temporal_sampling``), on every
  decoded frame.
- ``training_video_clip``: the loader's pixels of chosen decoded frames: the legacy scale,
  ``uniform_crop`` and ``tensor_normalize``.
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


def av_rescale_q(value: int, source: Fraction, target: Fraction) -> int:
    """libavutil ``av_rescale_q`` (``av_rescale_rnd`` with ``AV_ROUND_NEAR_INF``), in its integer steps."""
    b, c = source.numerator * target.denominator, target.numerator * source.denominator
    if value < 0:
        return -av_rescale_q(-value, source, target)
    return (value * b + c // 2) // c


US = Fraction(1, 1_000_000)


class TrainingLoader:
    """mae_st's / hvm-1's clip reading with torchvision's ``video_reader``, written out plainly from
    the sources, on every frame of a video decoded in order (``frames``, ``pts``).

    ``decoder.py`` ``decode`` (selective decoding) + ``get_start_end_idx`` + ``temporal_sampling``;
    ``video_reader.cpp`` ``probeVideo`` / ``offsetsToUs``; ``decoder.cpp`` ``processPacket``;
    ``stream.cpp`` ``openCodec`` (fps) and ``setFramePts``; ``_video_opt.py`` ``_fill_info``;
    ``kinetics.py`` ``__getitem__`` (the clip taken from what was decoded).
    """

    def __init__(self, path: Path) -> None:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            self.frames = list(container.decode(stream))
            base = stream.time_base
            guessed = stream.guessed_rate
            duration = stream.duration
        self.pts = [f.pts for f in self.frames]
        self.num, self.den = base.numerator, base.denominator
        self.fps = float(np.float32(float(guessed)))  # header.fps (double) into a kFloat tensor
        if duration is None:
            self.duration = -1.0  # AV_NOPTS_VALUE rescaled stays negative
        else:
            ticks = av_rescale_q(av_rescale_q(duration, base, US), US, base)
            self.duration = float(ticks) * (self.num / float(self.den))
        self.us = [av_rescale_q(p, base, US) for p in self.pts]
        self.seconds = [(p - self.pts[0]) * base for p in self.pts]

    @staticmethod
    def get_start_end_idx(
        video_size: float, clip_size: float, clip_idx: int, num_clips: int, draw: float
    ) -> tuple[float, float]:
        """decoder.py get_start_end_idx with use_offset=True; ``draw`` replaces ``random.random()``."""
        delta = max(video_size - clip_size, 0)
        if clip_idx == -1:
            start_idx = 0 + (delta - 0) * draw  # random.uniform(0, delta)
        elif num_clips == 1:
            start_idx = math.floor(delta / 2)
        else:
            start_idx = clip_idx * math.floor(delta / (num_clips - 1))
        return start_idx, start_idx + clip_size - 1

    def clip(
        self,
        num_frames: int,
        sampling_rate: int,
        clip_idx: int = 0,
        num_clips: int = 1,
        *,
        draw: float = 0.0,
        start_frame: int | None = None,
    ) -> list[int]:
        """Decode-order indices of the frames of one clip: view ``clip_idx`` of ``num_clips`` (-1: a
        random start, ``draw`` in [0, 1)), or a clip whose start index is ``start_frame``."""
        fps = self.fps

        def place(video_size: float) -> tuple[float, float]:
            if start_frame is not None:
                return start_frame, start_frame + clip_size - 1
            return self.get_start_end_idx(video_size, clip_size, clip_idx, num_clips, draw)

        clip_size = sampling_rate * num_frames / 30 * fps
        decoded: list[int] = []
        decode_all_video = True
        if self.den > 0 and self.duration > 0:
            decode_all_video = False
            start_idx, end_idx = place(fps * self.duration)
            pts_per_frame = self.den / fps
            video_start_pts, video_end_pts = int(start_idx * pts_per_frame), int(end_idx * pts_per_frame)
            start_us = av_rescale_q(video_start_pts, Fraction(self.num, self.den), US) if video_start_pts > 0 else 0
            end_us = 100 + av_rescale_q(video_end_pts, Fraction(self.num, self.den), US) if video_end_pts > 0 else -1
            for i, us in enumerate(self.us):
                if end_us > 0 and us > end_us:
                    break  # the stream leaves the range: no more frames from it
                if us >= start_us:
                    decoded.append(i)
            if not decoded:  # failed selective decoding
                decode_all_video = True
        if decode_all_video:
            decoded = [i for i, us in enumerate(self.us) if us >= 0]
            start_idx, end_idx = place(len(decoded))
        else:  # kinetics.py: get_start_end_idx(frames.shape[0], clip_sz, 0, 1, use_offset)
            start_idx, end_idx = self.get_start_end_idx(len(decoded), clip_size, 0, 1, 0.0)
        index = torch.linspace(start_idx, end_idx, num_frames)
        index = torch.clamp(index, 0, len(decoded) - 1).long()
        return [decoded[i] for i in index.tolist()]


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
