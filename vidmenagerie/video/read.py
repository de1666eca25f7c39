"""``read_clip`` and ``read_clips``: model-input clips from a video, a frame folder or a still.

A window spec places each clip as the training loader's ``get_start_end_idx`` did
(``sampling.Position``), and the clip takes the source frames the loader's reader gave it
(``frame_rule``: pts windows, frames counted in presentation order, the last one repeated where
the window runs short); pixels follow the model's ``Preprocessing`` (``transform``). Several
clips of one input are decoded in one in-order pass; only the chosen frames are converted.
Windows that would be the same clip are taken once (``Windows.positions``).

With a ``SeedProtocol`` (``augment``), each input gives the seed scripts' one val clip: a random
window of its own, whole frames at the protocol's ``min_scale``, then its random scale, crop and flip.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import torch

from vidmenagerie.errors import VideoError
from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video.augment import OWN_CLIP, SeedProtocol
from vidmenagerie.video.clip import Clip, ClipInfo
from vidmenagerie.video.decode import Picked
from vidmenagerie.video.frame_rule import ClipFrames, FrameRule
from vidmenagerie.video.sampling import ClipSampling, Position, Windows, WindowStarts, to_fraction
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
    protocol: SeedProtocol | None = None,
) -> list[Clip]:
    """Several clips of one input, decoded once in order: ``windows`` is a ``Windows`` or a spec
    ('center', 'start', 'random[:N]' seeded by ``seed``, 'uniform:N', 'sliding[:STRIDE]');
    ``crops`` 1 (centre) or 3 (both ends and centre of the long side, mae_st's multi-view test:
    short side scaled to the crop size). Clips come window by window, crops within a window;
    each says its window and crop index. A still gives one window whatever the spec; windows
    that would start in the same frame are taken once (``ClipInfo.note`` says so). ``protocol``:
    the seed scripts' val clip instead (``augment.SeedProtocol``; ``windows`` and ``crops`` at
    their defaults)."""
    preprocessing = resolve(preprocessing, num_frames, img_size, sampling_rate)
    where = _where(windows, seed, crops, protocol)
    return _read(path, where, preprocessing, check_crops(crops), threads, folder_fps, protocol)


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
    protocol: SeedProtocol | None = None,
) -> Iterator[list[Clip]]:
    """``read_clips`` in pieces of at most ``max_windows`` windows (each with its crops), in order.

    The input is opened and probed once; window starts are computed and each piece decoded
    when asked for, so memory stays bounded however long the video and however many windows
    (a sliding pass over hours of video holds one piece). ``protocol`` as in ``read_clips``.
    """
    if max_windows < 1:
        raise ValueError(f"max_windows must be >= 1, got {max_windows}")
    preprocessing = resolve(preprocessing, num_frames, img_size, sampling_rate)
    where = _where(windows, seed, crops, protocol)
    yield from _read_pieces(path, where, preprocessing, check_crops(crops), threads, max_windows, folder_fps, protocol)


def _where(windows: str | Windows, seed: int, crops: int, protocol: SeedProtocol | None) -> Windows:
    """The parsed window spec; with a protocol (which takes its own window and crop) the defaults only."""
    where = Windows.parse(windows, seed=seed)
    if protocol is not None and (where != Windows() or crops != 1):
        raise ValueError(OWN_CLIP)
    return where


def _read(
    path: str | Path,
    where: Windows | Sequence[Fraction],
    preprocessing: Preprocessing,
    crops: Crops,
    threads: int,
    folder_fps: float,
    protocol: SeedProtocol | None = None,
) -> list[Clip]:
    """Decode the clips starting where ``where`` says (windows, or explicit start seconds), in one pass."""
    pieces = _read_pieces(path, where, preprocessing, crops, threads, None, folder_fps, protocol)
    return [clip for piece in pieces for clip in piece]


def _read_pieces(
    path: str | Path,
    where: Windows | Sequence[Fraction],
    preprocessing: Preprocessing,
    crops: Crops,
    threads: int,
    max_windows: int | None,
    folder_fps: float,
    protocol: SeedProtocol | None = None,
) -> Iterator[list[Clip]]:
    """The clips ``where`` names, ``max_windows`` windows at a time (all at once for None); with
    ``protocol``, its one window of this input, augmented."""
    sampling = sampling_of(preprocessing)
    pixels = FramePixels(preprocessing, crops, full_frame=protocol.min_scale if protocol else None)
    augment = None if protocol is None else _Augment(str(path), protocol)
    with open_source(path, pixels, threads=threads, folder_fps=folder_fps) as source:
        rule = None
        if source.timeline is not None:
            rule = FrameRule(source.timeline, sampling.clip_size(float(source.fps)), sampling.num_frames)
        starts = _starts(path, where, source, rule, protocol)
        short = ""
        if rule is not None and rule.video_size < rule.clip_size:
            short = (
                f"{float(source.duration):.2f} s long, shorter than one clip ({float(sampling.span):.2f} s): "
                "its last frame repeats"
            )
        note = "; ".join(text for text in (source.note, short, starts.note) if text)
        size = max_windows or len(starts)
        for first in range(0, len(starts), size):
            piece = starts[first : first + size]  # computed now: only this piece's positions are held
            if rule is None:  # a still: one picture in every frame
                chosen = [ClipFrames((0,) * sampling.num_frames, 0) for _ in piece]
            else:
                chosen = rule.frames(piece)
            ids = sorted({i for frames in chosen for i in frames.ids})
            by_id = dict(zip(ids, source.pick([source.seconds(i) for i in ids])))
            yield _assemble(path, chosen, by_id, source, sampling, first_window=first, note=note, augment=augment)


def _starts(
    path: str | Path,
    where: Windows | Sequence[Fraction],
    source: FrameSource,
    rule: FrameRule | None,
    protocol: SeedProtocol | None = None,
) -> WindowStarts:
    """Clip positions: from the window spec, the explicit start times (which must be in the
    input; each starts in the frame it falls in), or the seed protocol's one random draw."""
    if rule is None:
        return WindowStarts.of([Position()])  # every window of a still is the same clip
    if protocol is not None:
        return WindowStarts.of([Position(draw=protocol.draw(str(path)))])
    if isinstance(where, Windows):
        return where.positions(rule.video_size, rule.clip_size, float(source.fps), same=rule.key)
    for start in where:
        if start >= source.duration:
            raise VideoError(
                f"{path}: start {float(start):.3f} s is past the end of the video ({float(source.duration):.3f} s)"
            )
    return WindowStarts.of([Position(frame=math.floor(start * source.fps)) for start in where])


def _assemble(
    path: str | Path,
    chosen: list[ClipFrames],
    by_id: dict[int, Picked[Shown]],
    source: FrameSource,
    sampling: ClipSampling,
    *,
    first_window: int = 0,
    note: str = "",
    augment: _Augment | None = None,
) -> list[Clip]:
    """One Clip per window and crop, from the picked frames (windows numbered from ``first_window``;
    ``note``: what is worth saying about the input and its windows; ``augment``: the seed
    protocol's scale, crop and flip of whole frames)."""
    first = next(iter(by_id.values())).value
    clips = []
    for window, frames in enumerate(chosen, start=first_window):
        picks = [by_id[i] for i in frames.ids]
        info = ClipInfo(
            fps=float(source.fps) if source.kind != "image" else 0.0,
            width=first.width,
            height=first.height,
            duration=float(source.duration),
            rotation=first.rotation,
            repeated_frames=frames.repeated,
            kind=source.kind,
            note=note,
        )
        times = tuple(float(source.seconds(p.pts)) for p in picks)
        if augment is not None:
            pixels = augment(picks, still=source.kind == "image")
        elif source.kind == "image":  # one picture in every frame: a view, not T copies (9.6 MB at 224 px)
            pixels = picks[0].value.pixels.unsqueeze(2).expand(-1, -1, len(picks), -1, -1)
        else:
            pixels = torch.stack([p.value.pixels for p in picks], dim=2)  # [crops, 3, T, S, S]
        start = source.seconds(picks[0].pts)  # the first frame the clip shows
        end = start if source.kind == "image" else min(start + sampling.span, source.duration)  # not past the video
        for crop, crop_frames in enumerate(pixels):
            clips.append(
                Clip(
                    frames=crop_frames,
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


class _Augment:
    """The seed protocol's spatial draws for one input: its generator, applied to each clip's whole frames."""

    def __init__(self, path: str, protocol: SeedProtocol) -> None:
        self.path, self.protocol = path, protocol
        self.rng = protocol.generator(path)

    def __call__(self, picks: list[Picked[Shown]], *, still: bool) -> torch.Tensor:
        """Whole frames [1, 3, H, W] per pick -> the clip's crop [1, 3, T, crop, crop] (a still is
        augmented once and repeated, as a view)."""
        if still:
            crop = self.protocol.apply(picks[0].value.pixels[0].unsqueeze(1), self.rng)  # [3, 1, c, c]
            return crop.expand(-1, len(picks), -1, -1).unsqueeze(0)
        sizes = sorted({tuple(p.value.pixels.shape[-2:]) for p in picks})
        if len(sizes) > 1:  # frames change size mid-stream, or a frame folder mixes sizes
            raise VideoError(
                f"{self.path}: frames of different sizes ({sizes[0][1]}x{sizes[0][0]} and {sizes[-1][1]}x"
                f"{sizes[-1][0]} after scaling): the seed protocol scales a clip's frames together"
            )
        frames = torch.stack([p.value.pixels[0] for p in picks], dim=1)  # [3, T, H, W], as the loader's C T H W
        return self.protocol.apply(frames, self.rng).unsqueeze(0)
