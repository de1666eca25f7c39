"""Where clips are taken (window specs) and how many frames a clip spans.

A window spec gives each clip a ``Position``: where the training loader's ``get_start_end_idx``
would start it, in frames; ``frame_rule`` turns positions into the frames the loader read.
Positions are computed when asked for (``WindowStarts``), so memory stays bounded however many
windows a spec makes. Seconds (strides, explicit starts) are exact ``Fraction``s: float seconds
put a window start one frame off in a few percent of starts.
"""

from __future__ import annotations

import functools
import math
import random
from array import array
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, get_args, overload

import torch

WindowKind = Literal["center", "start", "random", "uniform", "sliding"]
WINDOW_KINDS: tuple[str, ...] = get_args(WindowKind)
_SPEC_HELP = "center, start, random[:N], uniform:N or sliding[:STRIDE_SECONDS]"
MAX_COUNT = 100_000  # clips a random:N or uniform:N spec may ask of one video (an hour at 30 fps has 108,000 frames)
MIN_STRIDE = 1e-6  # seconds: times are kept to the microsecond (``to_fraction``), a finer stride would round to 0


def to_fraction(seconds: float | Fraction) -> Fraction:
    """Exact seconds: a float is read as the decimal it was written as (7.9 is 79/10)."""
    if isinstance(seconds, Fraction):
        return seconds
    return Fraction(seconds).limit_denominator(1_000_000)


@functools.lru_cache(maxsize=256)
def _frame_offsets(num_frames: int, sampling_rate: int, target_fps: float, video_fps: float) -> tuple[int, ...]:
    """The training rule's frame offsets from a window's first frame, computed as the loader computed them."""
    index = torch.linspace(0, clip_size(num_frames, sampling_rate, target_fps, video_fps) - 1, num_frames)
    return tuple(torch.clamp(index, min=0).long().tolist())


def clip_size(num_frames: int, sampling_rate: int, target_fps: float, video_fps: float) -> float:
    """Source frames one clip covers, in the loader's float arithmetic: mae_st ``util/kinetics.py``
    ``clip_sz = sampling_rate * self._num_frames / self._target_fps * fps`` (and ``decoder.py:144``)."""
    return sampling_rate * num_frames / target_fps * video_fps


@dataclass(frozen=True)
class ClipSampling:
    """How many frames a clip takes and how far apart: the training loader's rule (mae_st
    ``util/kinetics.py``, ``__getitem__``; which source frames follow is ``frame_rule``).

    A clip covers ``L = sampling_rate * num_frames / fps * video_fps`` source frames (``fps``: the
    target rate, 30) and takes frames ``floor(linspace(start, start + L - 1, num_frames))`` of them,
    computed with ``torch.linspace`` in float32 as the loader did. At 30 fps and rate 4 that is
    frames 0, 4, 8, 12, 16, 21, ..., 63 after an integer start.
    """

    num_frames: int = 16
    sampling_rate: int = 8
    fps: float = 30.0

    def __post_init__(self) -> None:
        """Refuse counts that cannot make a clip."""
        if self.num_frames < 1 or self.sampling_rate < 1 or not self.fps > 0:
            raise ValueError(
                f"num_frames and sampling_rate must be >= 1 and fps > 0, got {self.num_frames}, "
                f"{self.sampling_rate}, {self.fps}"
            )

    @property
    def span(self) -> Fraction:
        """Seconds of video one clip covers: ``sampling_rate * num_frames / fps``."""
        return self.num_frames * self.sampling_rate / to_fraction(self.fps)

    def clip_size(self, video_fps: float) -> float:
        """Source frames one clip covers at ``video_fps`` (``L``, a float as the loader had it)."""
        return clip_size(self.num_frames, self.sampling_rate, float(self.fps), float(video_fps))

    def offsets(self, video_fps: float | Fraction) -> list[int]:
        """Source-frame offsets of the clip frames from an integer window start."""
        return list(_frame_offsets(self.num_frames, self.sampling_rate, float(self.fps), float(video_fps)))


@dataclass(frozen=True)
class Position:
    """Where one clip starts on a video of any length, as mae_st's ``get_start_end_idx``
    (``util/decoder/decoder.py:53-68``, ``use_offset=True``) places it: view ``view`` of ``views``
    test-mode views (one view: the centre), a uniform ``draw`` in [0, 1) of the room (random
    temporal sampling), or a given start ``frame``."""

    view: int = 0
    views: int = 1
    draw: float | None = None
    frame: int | None = None

    def start(self, video_size: float, clip_size: float) -> float:
        """The start index (frames, possibly fractional) on a video of ``video_size`` frames."""
        if self.frame is not None:
            return self.frame
        delta = max(video_size - clip_size, 0)  # :53
        if self.draw is not None:
            return delta * self.draw  # :56, random.uniform(0, delta)
        if self.views == 1:
            return math.floor(delta / 2)  # :61
        return self.view * math.floor(delta / (self.views - 1))  # :64


class WindowStarts(Sequence[Position]):
    """A video's clip positions, in increasing order, each computed when asked for (a sliding
    pass over hours of video holds no list of them); ``note`` says why the video gets fewer
    clips than its spec asked for (else empty)."""

    def __init__(self, length: int, at: Callable[[int], Position], note: str = "") -> None:
        self._length, self._at, self.note = length, at, note

    def __len__(self) -> int:
        """Number of windows."""
        return self._length

    @overload
    def __getitem__(self, index: int) -> Position: ...

    @overload
    def __getitem__(self, index: slice) -> list[Position]: ...

    def __getitem__(self, index: int | slice) -> Position | list[Position]:
        """The position of window ``index``, or a list of those a slice names."""
        if isinstance(index, slice):
            return [self._at(k) for k in range(*index.indices(self._length))]
        k = index + self._length if index < 0 else index
        if not 0 <= k < self._length:
            raise IndexError(f"window {index} of {self._length}")
        return self._at(k)

    def __repr__(self) -> str:
        """How many windows, and the note if any (not every position: there may be millions)."""
        return f"WindowStarts({self._length} windows{', ' + repr(self.note) if self.note else ''})"

    @classmethod
    def of(cls, positions: Sequence[Position], note: str = "") -> WindowStarts:
        """Positions already at hand."""
        return cls(len(positions), positions.__getitem__, note)


@dataclass(frozen=True)
class Windows:
    """Where clips are taken: the middle, the start, ``count`` random or evenly spread clips,
    or sliding clips every ``stride`` seconds (one clip length when None) covering the video."""

    kind: WindowKind = "center"
    count: int = 1
    stride: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        """Refuse unknown kinds, counts outside 1..MAX_COUNT and strides no video could use."""
        if self.kind not in WINDOW_KINDS:
            raise ValueError(f"unknown window kind {self.kind!r}: use {_SPEC_HELP}")
        if self.count < 1:
            raise ValueError(f"window count must be >= 1, got {self.count}")
        if self.count > MAX_COUNT:
            raise ValueError(f"at most {MAX_COUNT} clips per video, got {self.count}")
        if self.stride is None:
            return
        if not math.isfinite(self.stride):
            raise ValueError(f"sliding stride must be a finite number of seconds, got {self.stride}")
        if not self.stride > 0:
            raise ValueError(f"sliding stride must be > 0 seconds, got {self.stride}")
        if self.stride < MIN_STRIDE:
            raise ValueError(
                f"sliding stride must be at least {MIN_STRIDE:g} s (times are kept to the microsecond), "
                f"got {self.stride:g}"
            )

    @classmethod
    def parse(cls, spec: str | Windows, *, seed: int = 0) -> Windows:
        """A spec from the command line: 'center', 'start', 'random:3', 'uniform:5', 'sliding:2'."""
        if isinstance(spec, Windows):
            return spec
        kind, _, arg = spec.strip().lower().partition(":")
        try:  # a malformed number is a bad spec; a number out of range says its limit
            count = int(arg) if kind in ("random", "uniform") and arg else 1
            stride = float(arg) if kind == "sliding" and arg else None
        except ValueError as err:
            raise ValueError(f"bad window spec {spec!r} ({err}): use {_SPEC_HELP}") from None
        if kind in ("center", "centre", "start") and not arg:
            return cls("center" if kind == "centre" else kind)  # type: ignore[arg-type]
        if kind == "random" or (kind == "uniform" and arg) or kind == "sliding":
            try:
                return cls(kind, count=count, stride=stride, seed=seed if kind == "random" else 0)  # type: ignore[arg-type]
            except ValueError as err:
                raise ValueError(f"{spec}: {err}") from None
        raise ValueError(f"bad window spec {spec!r}: use {_SPEC_HELP}")

    @property
    def expected_count(self) -> int | None:
        """Clips the spec gives a video long enough for them all (None for sliding: it depends on the length)."""
        if self.kind in ("random", "uniform"):
            return self.count
        return None if self.kind == "sliding" else 1

    @property
    def spec(self) -> str:
        """The spec as the command line writes it ('uniform:4', 'sliding:0.5', 'random:3', 'center')."""
        if self.kind in ("random", "uniform"):
            return f"{self.kind}:{self.count}"
        if self.kind == "sliding" and self.stride is not None:
            return f"sliding:{self.stride:g}"
        return self.kind

    def positions(
        self,
        video_size: float,
        clip_size: float,
        fps: float,
        same: Callable[[Position], Hashable] | None = None,
    ) -> WindowStarts:
        """Where the clips of a video of ``video_size`` frames (at ``fps``) start, in increasing
        order, computed when asked for: ``center`` and ``uniform:N`` as mae_st's test mode places
        its views, ``random`` as its random temporal sampling (seeded draws), ``start`` and
        ``sliding`` at the frame their start time falls in.

        Windows that would be the same clip are taken once, with a ``note``: views that test mode
        puts in one frame (a short video), a stride under one frame, and random draws that ``same``
        (the frames a position decides, ``FrameRule.key``) maps to one clip.
        """
        delta = Fraction(max(video_size - clip_size, 0))  # the room, in frames (decoder.py:53)
        distinct = math.floor(delta) + 1  # start frames 0 .. room
        if self.kind == "start":
            return WindowStarts.of([Position(frame=0)])
        if self.kind == "center" or (self.kind == "uniform" and self.count == 1):
            return WindowStarts.of([Position()])
        if self.kind == "uniform":
            count = self.count
            if math.floor(delta / (count - 1)) == 0:  # decoder.py:64: every view starts in frame 0
                note = f"{self.spec} puts every clip in frame 0 of this short video (mae_st's test mode): took it once"
                return WindowStarts.of([Position(0, count)], note)
            return WindowStarts(count, lambda k: Position(k, count))
        if self.kind == "random":
            return self._random(distinct, same)
        step = to_fraction(self.stride) * Fraction(fps) if self.stride is not None else Fraction(clip_size)
        return self._sliding(delta, distinct, step)

    def _sliding(self, delta: Fraction, distinct: int, step: Fraction) -> WindowStarts:
        """Starts every ``step`` frames, each in the frame it falls in, and one more in the last
        start frame so the end is covered too."""
        count = math.floor(delta / step) + 1
        last = math.floor(delta)
        extra = math.floor(step * (count - 1)) < last
        if step < 1 and count + extra > distinct:  # some windows share a frame: then every frame has one
            return WindowStarts(distinct, lambda k: Position(frame=k), note=self._more_than(distinct))
        return WindowStarts(count + extra, lambda k: Position(frame=math.floor(step * k) if k < count else last))

    def _random(self, distinct: int, same: Callable[[Position], Hashable] | None) -> WindowStarts:
        """``count`` seeded draws, sorted; given ``same``, each clip once."""
        rng = random.Random(self.seed)
        drawn = array("d", sorted(rng.random() for _ in range(self.count)))  # the start grows with the draw
        note = ""
        if same is not None:
            keys = [same(Position(draw=x)) for x in drawn]
            kept = array("d", (x for i, x in enumerate(drawn) if i == 0 or keys[i] != keys[i - 1]))
            if len(kept) < len(drawn):
                note = (
                    self._more_than(distinct)
                    if self.count > distinct
                    else f"{self.spec} drew {len(drawn) - len(kept)} clip(s) already drawn: "
                    f"took each once ({len(kept)} clips)"
                )
            drawn = kept
        return WindowStarts(len(drawn), lambda k: Position(draw=drawn[k]), note)

    def _more_than(self, frames: int) -> str:
        """The note of a spec that asks for more windows than the video has start frames."""
        frames_of = f"{frames} distinct start frame{'' if frames == 1 else 's'}"
        return f"{self.spec} asks for more clips than the {frames_of} of this video: took each once"
