"""``read_clip`` and ``read_clips``: normalized model-input clips from a video file.

Clip frame i shows the frame on screen at ``start + i * sampling_rate / fps`` seconds (fps from
the Preprocessing, 30 for the published models), whatever the file's own frame rate. Several
clips of one video are decoded in one in-order pass; only the chosen frames are converted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from vidmenagerie.errors import VideoError
from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video.clip import Clip, ClipInfo
from vidmenagerie.video.decode import Decoded, NoFramesError, Picked, pick_frames
from vidmenagerie.video.probe import StreamClock, ffmpeg_reason, import_av, open_video, stream_clock
from vidmenagerie.video.sampling import ClipSampling, Windows, to_fraction
from vidmenagerie.video.transform import CropResizer, Crops, check_crops, rotate

if TYPE_CHECKING:
    from av.video.frame import VideoFrame

# A clip running past the end of the data is an error (truncated file), not a short video,
# when the file claims more than this many seconds beyond where its frames stop.
TRUNCATION_TOLERANCE = Fraction(1, 4)


def read_clip(
    path: str | Path,
    num_frames: int | None = None,
    sampling_rate: int = 4,
    img_size: int | None = None,
    start: float | None = None,
    *,
    preprocessing: Preprocessing | None = None,
    threads: int = 0,
) -> Clip:
    """One clip of ``num_frames`` (default 16) frames, ``sampling_rate`` frames apart at 30 fps,
    starting at ``start`` seconds (None: centred in the video), as ``img_size`` (default 224)
    crops. A given ``preprocessing`` (the model's) supplies img_size, short side, mean, std,
    num_frames and fps. ``threads``: decoder threads (0: one per core)."""
    preprocessing, sampling = resolve(preprocessing, num_frames, img_size, sampling_rate)
    if start is None:
        return _read(path, Windows("center"), preprocessing, sampling, 1, threads)[0]
    if start < 0:
        raise ValueError(f"start must be >= 0 seconds, got {start}")
    return _read(path, [to_fraction(start)], preprocessing, sampling, 1, threads)[0]


def read_clips(
    path: str | Path,
    windows: str | Windows = "center",
    num_frames: int | None = None,
    sampling_rate: int = 4,
    img_size: int | None = None,
    *,
    crops: Crops = 1,
    seed: int = 0,
    preprocessing: Preprocessing | None = None,
    threads: int = 0,
) -> list[Clip]:
    """Several clips of one video, decoded once in order: ``windows`` is a ``Windows`` or a spec
    ('center', 'start', 'random[:N]' seeded by ``seed``, 'uniform:N', 'sliding[:STRIDE]');
    ``crops`` 1 (centre) or 3 (both ends and centre of the long side, for multi-view testing).
    Clips come window by window, crops within a window; each says its window and crop index."""
    preprocessing, sampling = resolve(preprocessing, num_frames, img_size, sampling_rate)
    return _read(path, Windows.parse(windows, seed=seed), preprocessing, sampling, check_crops(crops), threads)


def resolve(
    preprocessing: Preprocessing | None, num_frames: int | None, img_size: int | None, sampling_rate: int
) -> tuple[Preprocessing, ClipSampling]:
    """The Preprocessing and sampling a call means; explicit values that contradict the given
    preprocessing are an error rather than silently ignored."""
    if preprocessing is None:
        size = 224 if img_size is None else img_size
        if size < 1:
            raise ValueError(f"img_size must be >= 1, got {size}")
        preprocessing = Preprocessing.for_size(size, num_frames=16 if num_frames is None else num_frames)
    for name, value in (("num_frames", num_frames), ("img_size", img_size)):
        if value is not None and value != getattr(preprocessing, name):
            raise ValueError(
                f"{name}={value} contradicts the model's preprocessing ({name}="
                f"{getattr(preprocessing, name)}): pass one or the other"
            )
    if preprocessing.short_side < preprocessing.img_size:
        raise ValueError(f"short side {preprocessing.short_side} is smaller than the crop {preprocessing.img_size}")
    return preprocessing, ClipSampling(preprocessing.num_frames, sampling_rate, preprocessing.fps)


@dataclass(frozen=True)
class _Shown:
    """A chosen frame's crops (float32 [crops, 3, S, S]), its display size and rotation."""

    pixels: torch.Tensor
    height: int
    width: int
    rotation: int


def iter_clip_chunks(
    path: str | Path,
    windows: str | Windows = "center",
    num_frames: int | None = None,
    sampling_rate: int = 4,
    img_size: int | None = None,
    *,
    crops: Crops = 1,
    seed: int = 0,
    preprocessing: Preprocessing | None = None,
    threads: int = 0,
    max_windows: int = 16,
) -> Iterator[list[Clip]]:
    """``read_clips`` in pieces of at most ``max_windows`` windows (each with its crops), in order.

    The file is opened and probed once; each piece is decoded when asked for, so memory stays
    bounded however long the video (a sliding pass over hours of video holds one piece).
    """
    if max_windows < 1:
        raise ValueError(f"max_windows must be >= 1, got {max_windows}")
    preprocessing, sampling = resolve(preprocessing, num_frames, img_size, sampling_rate)
    where = Windows.parse(windows, seed=seed)
    yield from _read_pieces(path, where, preprocessing, sampling, check_crops(crops), threads, max_windows)


def _read(
    path: str | Path,
    where: Windows | Sequence[Fraction],
    preprocessing: Preprocessing,
    sampling: ClipSampling,
    crops: Crops,
    threads: int,
) -> list[Clip]:
    """Decode the clips starting where ``where`` says (windows, or explicit start seconds), in one pass."""
    pieces = _read_pieces(path, where, preprocessing, sampling, crops, threads, None)
    return [clip for piece in pieces for clip in piece]


def _read_pieces(
    path: str | Path,
    where: Windows | Sequence[Fraction],
    preprocessing: Preprocessing,
    sampling: ClipSampling,
    crops: Crops,
    threads: int,
    max_windows: int | None,
) -> Iterator[list[Clip]]:
    """The clips ``where`` names, ``max_windows`` windows at a time (all at once for None)."""
    av = import_av()
    resize = CropResizer(preprocessing, crops)
    def show(frame: VideoFrame) -> _Shown:
        """Convert a chosen frame: RGB, upright, resized, cropped, normalized."""
        rgb = rotate(frame.to_ndarray(format="rgb24"), frame.rotation)
        return _Shown(resize(rgb), rgb.shape[0], rgb.shape[1], frame.rotation)

    with open_video(path, threads=threads) as (container, stream):
        try:
            clock = stream_clock(container, stream)
        except av.FFmpegError as err:
            raise VideoError(f"{path}: cannot decode, damaged data ({ffmpeg_reason(err)})") from err
        starts = _starts(path, where, clock, sampling)
        size = max_windows or len(starts)
        for first in range(0, len(starts), size):
            piece = starts[first : first + size]
            instants = sorted({t for s in piece for t in sampling.times(s)})
            try:
                decoded = pick_frames(container, stream, clock, instants, show)
            except NoFramesError as err:
                raise VideoError(f"{path}: no frame could be decoded ({err})") from err
            except av.FFmpegError as err:
                raise VideoError(f"{path}: cannot decode, damaged data ({ffmpeg_reason(err)})") from err
            _check_complete(path, decoded, clock)
            rate = stream.average_rate or stream.guessed_rate  # known once frames were decoded
            by_instant = dict(zip(instants, decoded.picked))
            yield _assemble(path, piece, by_instant, decoded, clock, sampling, rate, first_window=first)


def _starts(
    path: str | Path, where: Windows | Sequence[Fraction], clock: StreamClock, sampling: ClipSampling
) -> list[Fraction]:
    """Clip start times: from the window spec, or the explicit ones (which must be in the video)."""
    duration = clock.duration
    if isinstance(where, Windows):
        return where.starts(duration or Fraction(0), sampling.span)
    for start in where:
        if duration is not None and start >= duration:
            raise VideoError(
                f"{path}: start {float(start):.3f} s is past the end of the video ({float(duration):.3f} s)"
            )
    return list(where)


def _check_complete(path: str | Path, decoded: Decoded[_Shown], clock: StreamClock) -> None:
    """Raise if frames the clips need are missing although the file claims them (truncated)."""
    claimed, end = clock.end_pts, decoded.end_pts
    if claimed is None or end is None or not any(p.past_end for p in decoded.picked):
        return
    if clock.to_seconds(claimed) - clock.to_seconds(end) > TRUNCATION_TOLERANCE:
        why = f": {decoded.damage}" if decoded.damage else ""
        raise VideoError(
            f"{path}: truncated or damaged: frames stop at {float(clock.to_seconds(end)):.2f} s of the "
            f"{float(clock.to_seconds(claimed)):.2f} s it claims{why}"
        )


def _assemble(
    path: str | Path,
    starts: list[Fraction],
    by_instant: dict[Fraction, Picked[_Shown]],
    decoded: Decoded[_Shown],
    clock: StreamClock,
    sampling: ClipSampling,
    rate: Fraction | None,
    *,
    first_window: int = 0,
) -> list[Clip]:
    """One Clip per window and crop, from the decoded frames (windows numbered from ``first_window``)."""
    first = decoded.picked[0].value
    duration = clock.duration if clock.duration is not None else Fraction(0)
    clips = []
    for window, start in enumerate(starts, start=first_window):
        picks = [by_instant[t] for t in sampling.times(start)]
        info = ClipInfo(
            fps=float(rate) if rate else 0.0,
            width=first.width,
            height=first.height,
            duration=float(duration),
            rotation=first.rotation,
            repeated_frames=sum(p.past_end for p in picks),
        )
        times = tuple(float(clock.to_seconds(p.pts)) for p in picks)
        pixels = torch.stack([p.value.pixels for p in picks], dim=2)  # [crops, 3, T, S, S]
        for crop, frames in enumerate(pixels):
            clips.append(
                Clip(
                    frames=frames,
                    times=times,
                    start=float(start),
                    end=float(start + sampling.span),
                    source=str(path),
                    info=info,
                    window=window,
                    crop=crop,
                )
            )
    return clips
