"""``read_clip`` and ``read_clips``: model-input clips from a video, a frame folder or a still.

A clip starting at ``start`` takes the source frames the training loader took (mae_st
``util/kinetics.py``): the frame on screen at ``start``, then frames ``floor(linspace(0, L -
1, T))`` after it, ``L = sampling_rate * T / 30 * fps`` (fps: the video's average rate),
found by presentation time; pixels follow the model's ``Preprocessing`` (``transform``).
Several clips of one input are decoded in one in-order pass; only the chosen frames are
converted. Windows starting in the same frame are one clip (``Windows.window_starts``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import torch

from vidmenagerie.errors import VideoError
from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video.clip import Clip, ClipInfo
from vidmenagerie.video.decode import Picked
from vidmenagerie.video.sampling import ClipSampling, Windows, WindowStarts, to_fraction
from vidmenagerie.video.sources import DEFAULT_FOLDER_FPS, FrameSource, open_source
from vidmenagerie.video.transform import Crops, FramePixels, Shown, check_crops


def read_clip(
    path: str | Path,
    num_frames: int | None = None,
    sampling_rate: int | None = None,
    img_size: int | None = None,
    start: float | None = None,
    *,
    preprocessing: Preprocessing | None = None,
    threads: int = 0,
    folder_fps: float = DEFAULT_FOLDER_FPS,
) -> Clip:
    """One clip of ``num_frames`` (default 16) frames at ``sampling_rate`` (default: the
    preprocessing's, 8), starting at ``start`` seconds (None: centred), as ``img_size``
    (default 224) crops. ``preprocessing`` (the model's: ``get_model_entry(name).preprocessing``)
    supplies every pixel and frame setting. ``path`` may be a video, a still image or a folder of
    numbered frames (``folder_fps`` frames per second). ``threads``: decoder threads (0: one per core)."""
    preprocessing = resolve(preprocessing, num_frames, img_size, sampling_rate)
    if start is None:
        return _read(path, Windows("center"), preprocessing, 1, threads, folder_fps)[0]
    if start < 0:
        raise ValueError(f"start must be >= 0 seconds, got {start}")
    return _read(path, [to_fraction(start)], preprocessing, 1, threads, folder_fps)[0]


def read_clips(
    path: str | Path,
    windows: str | Windows = "center",
    num_frames: int | None = None,
    sampling_rate: int | None = None,
    img_size: int | None = None,
    *,
    crops: Crops = 1,
    seed: int = 0,
    preprocessing: Preprocessing | None = None,
    threads: int = 0,
    folder_fps: float = DEFAULT_FOLDER_FPS,
) -> list[Clip]:
    """Several clips of one input, decoded once in order: ``windows`` is a ``Windows`` or a spec
    ('center', 'start', 'random[:N]' seeded by ``seed``, 'uniform:N', 'sliding[:STRIDE]');
    ``crops`` 1 (centre) or 3 (both ends and centre of the long side, mae_st's multi-view test:
    short side scaled to the crop size). Clips come window by window, crops within a window;
    each says its window and crop index. A still gives one window whatever the spec; windows
    that would start in the same frame are taken once (``ClipInfo.note`` says so)."""
    preprocessing = resolve(preprocessing, num_frames, img_size, sampling_rate)
    where = Windows.parse(windows, seed=seed)
    return _read(path, where, preprocessing, check_crops(crops), threads, folder_fps)


def resolve(
    preprocessing: Preprocessing | None,
    num_frames: int | None,
    img_size: int | None,
    sampling_rate: int | None,
) -> Preprocessing:
    """The Preprocessing a call means: the given one (explicit values that contradict it are an
    error rather than silently ignored), else the video training recipe for ``img_size``;
    ``sampling_rate`` overrides the recipe's."""
    if preprocessing is None:
        size = 224 if img_size is None else img_size
        if size < 1:
            raise ValueError(f"img_size must be >= 1, got {size}")
        preprocessing = Preprocessing.for_video(size, num_frames=16 if num_frames is None else num_frames)
    for name, value in (("num_frames", num_frames), ("img_size", img_size)):
        if value is not None and value != getattr(preprocessing, name):
            raise ValueError(
                f"{name}={value} contradicts the model's preprocessing ({name}="
                f"{getattr(preprocessing, name)}): pass one or the other"
            )
    if sampling_rate is not None and sampling_rate < 1:
        raise ValueError(f"sampling_rate must be >= 1, got {sampling_rate}")
    return preprocessing.with_sampling_rate(sampling_rate)


def sampling_of(preprocessing: Preprocessing) -> ClipSampling:
    """The frame rule's parameters of a recipe."""
    return ClipSampling(preprocessing.num_frames, preprocessing.sampling_rate, preprocessing.fps)


def iter_clip_chunks(
    path: str | Path,
    windows: str | Windows = "center",
    num_frames: int | None = None,
    sampling_rate: int | None = None,
    img_size: int | None = None,
    *,
    crops: Crops = 1,
    seed: int = 0,
    preprocessing: Preprocessing | None = None,
    threads: int = 0,
    max_windows: int = 16,
    folder_fps: float = DEFAULT_FOLDER_FPS,
) -> Iterator[list[Clip]]:
    """``read_clips`` in pieces of at most ``max_windows`` windows (each with its crops), in order.

    The input is opened and probed once; window starts are computed and each piece decoded
    when asked for, so memory stays bounded however long the video and however many windows
    (a sliding pass over hours of video holds one piece).
    """
    if max_windows < 1:
        raise ValueError(f"max_windows must be >= 1, got {max_windows}")
    preprocessing = resolve(preprocessing, num_frames, img_size, sampling_rate)
    where = Windows.parse(windows, seed=seed)
    yield from _read_pieces(path, where, preprocessing, check_crops(crops), threads, max_windows, folder_fps)


def _read(
    path: str | Path,
    where: Windows | Sequence[Fraction],
    preprocessing: Preprocessing,
    crops: Crops,
    threads: int,
    folder_fps: float,
) -> list[Clip]:
    """Decode the clips starting where ``where`` says (windows, or explicit start seconds), in one pass."""
    pieces = _read_pieces(path, where, preprocessing, crops, threads, None, folder_fps)
    return [clip for piece in pieces for clip in piece]


def _read_pieces(
    path: str | Path,
    where: Windows | Sequence[Fraction],
    preprocessing: Preprocessing,
    crops: Crops,
    threads: int,
    max_windows: int | None,
    folder_fps: float,
) -> Iterator[list[Clip]]:
    """The clips ``where`` names, ``max_windows`` windows at a time (all at once for None)."""
    sampling = sampling_of(preprocessing)
    with open_source(path, FramePixels(preprocessing, crops), threads=threads, folder_fps=folder_fps) as source:
        starts = _starts(path, where, source, sampling)
        note = "; ".join(text for text in (source.note, starts.note) if text)
        size = max_windows or len(starts)
        for first in range(0, len(starts), size):
            piece = starts[first : first + size]  # computed now: only this piece's starts are held
            instants = sorted({t for s in piece for t in sampling.times(s, source.fps)})
            by_instant = dict(zip(instants, source.pick(instants)))
            yield _assemble(path, piece, by_instant, source, sampling, first_window=first, note=note)


def _starts(
    path: str | Path, where: Windows | Sequence[Fraction], source: FrameSource, sampling: ClipSampling
) -> WindowStarts:
    """Clip start times: from the window spec (one per start frame), or the explicit ones (which
    must be in the input)."""
    if source.kind == "image":
        return WindowStarts.of([Fraction(0)])  # every window of a still is the same clip
    duration = source.duration
    if isinstance(where, Windows):
        return where.window_starts(duration, sampling.span, source.fps)
    for start in where:
        if start >= duration:
            raise VideoError(
                f"{path}: start {float(start):.3f} s is past the end of the video ({float(duration):.3f} s)"
            )
    return WindowStarts.of(list(where))


def _assemble(
    path: str | Path,
    starts: list[Fraction],
    by_instant: dict[Fraction, Picked[Shown]],
    source: FrameSource,
    sampling: ClipSampling,
    *,
    first_window: int = 0,
    note: str = "",
) -> list[Clip]:
    """One Clip per window and crop, from the picked frames (windows numbered from ``first_window``;
    ``note``: what is worth saying about the input and its windows)."""
    first = next(iter(by_instant.values())).value
    clips = []
    for window, start in enumerate(starts, start=first_window):
        picks = [by_instant[t] for t in sampling.times(start, source.fps)]
        info = ClipInfo(
            fps=float(source.fps) if source.kind != "image" else 0.0,
            width=first.width,
            height=first.height,
            duration=float(source.duration),
            rotation=first.rotation,
            repeated_frames=sum(p.past_end for p in picks),
            kind=source.kind,
            note=note,
        )
        times = tuple(float(source.seconds(p.pts)) for p in picks)
        if source.kind == "image":  # one picture in every frame: a view, not T copies (9.6 MB at 224 px)
            pixels = picks[0].value.pixels.unsqueeze(2).expand(-1, -1, len(picks), -1, -1)
        else:
            pixels = torch.stack([p.value.pixels for p in picks], dim=2)  # [crops, 3, T, S, S]
        start = sampling.anchor(start, source.fps)
        end = start if source.kind == "image" else start + sampling.span
        for crop, frames in enumerate(pixels):
            clips.append(
                Clip(
                    frames=frames,
                    times=times,
                    start=float(start),
                    end=float(end),
                    source=str(path),
                    info=info,
                    window=window,
                    crop=crop,
                )
            )
    return clips
