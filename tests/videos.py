"""Video files with known content, written by the tests themselves (no fixtures on disk).

``write_video`` encodes frames with PyAV; ``write_gray_video`` encodes frames whose gray levels
identify their index, so a test can tell which source frame a decoded clip frame came from
(``frame_index``). Lossless settings (``LOSSLESS``) keep levels exact.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# Encoder options that keep pixels exact (H.264 in RGB, or lossless VP9).
LOSSLESS: dict[str, dict[str, str]] = {
    "libx264rgb": {"crf": "0", "preset": "ultrafast"},
    "libx264": {"qp": "0", "preset": "ultrafast"},
    "libvpx-vp9": {"lossless": "1", "deadline": "realtime", "cpu-used": "8"},
}
_PIX_FMT = {"libx264rgb": "rgb24", "libvpx-vp9": "yuv444p"}

# Index code of gray videos: the left half shows index // 16, the right half index % 16.
_LEVEL0, _LEVEL_STEP, _DIGITS = 20, 14, 16


def write_video(
    path: str | Path,
    frames: np.ndarray | Iterable[np.ndarray],
    *,
    fps: float = 30,
    codec: str = "libx264",
    options: dict[str, str] | None = None,
    pix_fmt: str | None = None,
    times: Sequence[float] | None = None,
    rotation: int = 0,
    audio: bool = False,
    bit_rate: int | None = None,
) -> Path:
    """Encode RGB uint8 frames ([T, H, W, 3] array or iterable of [H, W, 3]) to ``path``.

    ``options`` default to the codec's lossless settings (``LOSSLESS``), ``pix_fmt`` to rgb24
    for libx264rgb, yuv444p for VP9 and yuv420p otherwise. ``times`` gives each frame's
    presentation time in seconds (variable frame rate, stored with a millisecond time base);
    ``rotation`` stores a display matrix (degrees counter-clockwise, as ``VideoFrame.rotation``
    reads it back); ``audio`` adds a sine track.
    """
    path = Path(path)
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.pix_fmt = pix_fmt or _PIX_FMT.get(codec, "yuv420p")
        if options is None:
            options = LOSSLESS.get(codec, {})
        stream.options = dict(options)
        if bit_rate:
            stream.bit_rate = bit_rate
        if times is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        if rotation:
            stream.set_display_rotation(rotation)
        sound = _add_audio(container) if audio else None
        count = 0
        for i, image in enumerate(frames):
            if i == 0:
                stream.height, stream.width = image.shape[:2]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            if times is not None:
                frame.pts = round(times[i] * 1000)
                frame.time_base = Fraction(1, 1000)
            container.mux(stream.encode(frame))
            count += 1
        if not count:
            raise ValueError(f"{path}: no frames to write")
        container.mux(stream.encode())
        if sound is not None:
            _write_audio(container, sound, seconds=count / float(rate))
    return path


def _add_audio(container: av.container.OutputContainer) -> av.audio.stream.AudioStream:
    """An AAC mono stream at 16 kHz."""
    return container.add_stream("aac", rate=16000, layout="mono")


def _write_audio(container: av.container.OutputContainer, stream: av.audio.stream.AudioStream, seconds: float) -> None:
    """A 440 Hz tone of ``seconds``, in 1024-sample frames."""
    rate, step = 16000, 1024
    total = int(seconds * rate)
    for first in range(0, total, step):
        n = min(step, total - first)
        t = (np.arange(first, first + n) / rate).astype(np.float32)
        samples = (0.2 * np.sin(2 * np.pi * 440 * t))[None, :].astype(np.float32)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate, frame.pts = rate, first
        container.mux(stream.encode(frame))
    container.mux(stream.encode())


def index_image(index: int, height: int = 48, width: int = 64) -> np.ndarray:
    """A gray [H, W, 3] uint8 frame whose two halves' levels encode ``index`` (0..255)."""
    if not 0 <= index < _DIGITS * _DIGITS:
        raise ValueError(f"index {index} out of range 0..{_DIGITS * _DIGITS - 1}")
    image = np.empty((height, width, 3), np.uint8)
    image[:, : width // 2] = _LEVEL0 + _LEVEL_STEP * (index // _DIGITS)
    image[:, width // 2 :] = _LEVEL0 + _LEVEL_STEP * (index % _DIGITS)
    return image


def frame_index(image: np.ndarray) -> int:
    """The index ``index_image`` encoded, read from an [H, W, 3] or [3, H, W] image (0..255 scale)."""
    if image.shape[0] == 3 and image.shape[-1] != 3:
        image = np.moveaxis(image, 0, -1)
    width = image.shape[1]
    left = float(np.mean(image[:, : width // 4]))
    right = float(np.mean(image[:, 3 * width // 4 :]))
    high, low = (round((v - _LEVEL0) / _LEVEL_STEP) for v in (left, right))
    return high * _DIGITS + low


def clip_indices(frames: object, mean: float = 0.45, std: float = 0.225) -> list[int]:
    """Source frame index of each frame of a normalized clip tensor [3, T, H, W]."""
    pixels = frames.numpy() * std + mean  # type: ignore[attr-defined]
    return [frame_index(pixels[:, t] * 255.0) for t in range(pixels.shape[1])]


def write_gray_video(
    path: str | Path,
    num_frames: int,
    *,
    fps: float = 30,
    size: tuple[int, int] = (48, 64),
    codec: str = "libx264rgb",
    **kwargs: object,
) -> Path:
    """A video whose frame i shows ``index_image(i)``: losslessly encoded by default."""
    frames = (index_image(i, *size) for i in range(num_frames))
    return write_video(path, frames, fps=fps, codec=codec, **kwargs)  # type: ignore[arg-type]


def moving_frames(n: int = 30, height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """``[n, H, W, 3]`` uint8 noise texture sliding 2 px right per frame: content a model can tell apart."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    return np.stack([np.roll(base, 2 * i, axis=1) for i in range(n)])


def gradient_frames(count: int, height: int, width: int) -> np.ndarray:
    """``[count, H, W, 3]`` uint8 moving gradients: every frame differs, and resizing errors would show."""
    y, x = np.mgrid[0:height, 0:width]
    channels = [lambda i: (3 * x + 7 * i) % 256, lambda i: (2 * y + 5 * i) % 256, lambda i: (x * y // 7 + 11 * i) % 256]
    return np.stack([np.stack([c(i) for c in channels], -1).astype(np.uint8) for i in range(count)])


def claims_one_second(path: Path) -> None:
    """Rewrite an MP4's movie, track and media header durations to say 1 s (the samples stay)."""
    data = bytearray(path.read_bytes())
    for box in (b"mvhd", b"mdhd"):
        at = data.find(box)
        long_times = data[at + 4] == 1  # version 1 boxes hold 64-bit times
        scale_at = at + 8 + (16 if long_times else 8)
        scale = struct.unpack(">I", data[scale_at : scale_at + 4])[0]
        data[scale_at + 4 : scale_at + 8] = struct.pack(">I", scale)  # duration = one second of ticks
    path.write_bytes(bytes(data))


def write_gapped_avi(path: str | Path, num_frames: int, *, fps: int = 30, missing: int = 1, start: int = 0) -> Path:
    """An MPEG-4 AVI (time base 1/fps, like mae_st's ``demo.avi``) whose frame i shows ``index_image(i)``,
    with no frame at timestamp ``missing`` (later frames one tick later) and the first at ``start``."""
    path = Path(path)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.pix_fmt, stream.options = "yuv420p", {"qscale": "1"}  # index levels survive exactly
        stream.height, stream.width = 48, 64
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(index_image(i), format="rgb24")
            frame.pts = start + (i if start + i < missing else i + 1)
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path
