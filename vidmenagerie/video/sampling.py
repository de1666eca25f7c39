"""Which instants of a video a clip shows, and where clips are taken (window specs).

All times are exact ``Fraction`` seconds from the video's first frame: float seconds put a
window start one frame off in a few percent of starts.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, get_args

import torch

WindowKind = Literal["center", "start", "random", "uniform", "sliding"]
WINDOW_KINDS: tuple[str, ...] = get_args(WindowKind)
_SPEC_HELP = "center, start, random[:N], uniform:N or sliding[:STRIDE_SECONDS]"


def to_fraction(seconds: float | Fraction) -> Fraction:
    """Exact seconds: a float is read as the decimal it was written as (7.9 is 79/10)."""
    if isinstance(seconds, Fraction):
        return seconds
    return Fraction(seconds).limit_denominator(1_000_000)


@functools.lru_cache(maxsize=256)
def _frame_offsets(num_frames: int, sampling_rate: int, target_fps: float, video_fps: float) -> tuple[int, ...]:
    """The training rule's frame offsets, computed as the loader computed them."""
    # mae_st util/kinetics.py:327 (cf2f5dda): clip_sz = sampling_rate * self._num_frames / self._target_fps * fps
    clip_size = sampling_rate * num_frames / target_fps * video_fps
    # util/decoder/decoder.py:27-28 (325c13c2), temporal_sampling: torch.linspace(start_idx, end_idx, n), clamp, .long()
    index = torch.linspace(0, clip_size - 1, num_frames)
    return tuple(torch.clamp(index, min=0).long().tolist())


@dataclass(frozen=True)
class ClipSampling:
    """Which frames one clip takes: the training loader's rule (mae_st ``util/kinetics.py``,
    ``__getitem__``; ``util/decoder/decoder.py``, ``get_start_end_idx`` and ``temporal_sampling``).

    A clip covers ``L = sampling_rate * num_frames / fps * video_fps`` source frames (``fps``: the
    target rate, 30; ``video_fps``: the stream's average rate) and takes frames
    ``floor(linspace(0, L - 1, num_frames))`` of them, computed with ``torch.linspace`` in float32
    as the loader did. At 30 fps and rate 4 that is frames 0, 4, 8, 12, 16, 21, ..., 63.
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

    def offsets(self, video_fps: float | Fraction) -> list[int]:
        """Source-frame offsets of the clip frames from the window's first frame."""
        return list(_frame_offsets(self.num_frames, self.sampling_rate, float(self.fps), float(video_fps)))

    def anchor(self, start: Fraction, video_fps: float | Fraction) -> Fraction:
        """The window's first frame time: ``start`` snapped down to the video's frame grid (the
        loader's integer ``start_idx``, util/decoder/decoder.py:61), so clip instants fall on
        frame times, not between them."""
        rate = video_fps if isinstance(video_fps, Fraction) else to_fraction(video_fps)
        return Fraction(math.floor(start * rate)) / rate

    def times(self, start: Fraction, video_fps: float | Fraction) -> list[Fraction]:
        """The instant each clip frame shows: ``(first + offset) / video_fps``, where ``first`` is
        the frame the window starts in (exact seconds from the first frame)."""
        rate = video_fps if isinstance(video_fps, Fraction) else to_fraction(video_fps)
        first = math.floor(start * rate)
        return [Fraction(first + k) / rate for k in self.offsets(rate)]


@dataclass(frozen=True)
class Windows:
    """Where clips are taken: the middle, the start, ``count`` random or evenly spread clips,
    or sliding clips every ``stride`` seconds (one clip length when None) covering the video."""

    kind: WindowKind = "center"
    count: int = 1
    stride: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        """Refuse unknown kinds, counts below 1 and non-positive strides."""
        if self.kind not in WINDOW_KINDS:
            raise ValueError(f"unknown window kind {self.kind!r}: use {_SPEC_HELP}")
        if self.count < 1:
            raise ValueError(f"window count must be >= 1, got {self.count}")
        if self.stride is not None and not self.stride > 0:
            raise ValueError(f"sliding stride must be > 0 seconds, got {self.stride}")

    @classmethod
    def parse(cls, spec: str | Windows, *, seed: int = 0) -> Windows:
        """A spec from the command line: 'center', 'start', 'random:3', 'uniform:5', 'sliding:2'."""
        if isinstance(spec, Windows):
            return spec
        kind, _, arg = spec.strip().lower().partition(":")
        try:
            if kind in ("center", "centre") and not arg:
                return cls("center")
            if kind == "start" and not arg:
                return cls("start")
            if kind == "random":
                return cls("random", count=int(arg) if arg else 1, seed=seed)
            if kind == "uniform" and arg:
                return cls("uniform", count=int(arg))
            if kind == "sliding":
                return cls("sliding", stride=float(arg) if arg else None)
        except ValueError as err:
            raise ValueError(f"bad window spec {spec!r} ({err}): use {_SPEC_HELP}") from None
        raise ValueError(f"bad window spec {spec!r}: use {_SPEC_HELP}")

    def starts(self, duration: Fraction, span: Fraction) -> list[Fraction]:
        """Start times of the clips in a video of ``duration`` seconds, in increasing order."""
        room = max(duration - span, Fraction(0))
        if self.kind == "start":
            return [Fraction(0)]
        if self.kind == "center":
            return [room / 2]
        if self.kind == "uniform":
            if self.count == 1:
                return [room / 2]
            return [room * k / (self.count - 1) for k in range(self.count)]
        if self.kind == "random":
            rng = random.Random(self.seed)
            return sorted(room * to_fraction(rng.random()) for _ in range(self.count))
        stride = to_fraction(self.stride) if self.stride is not None else span
        starts = [stride * k for k in range(int(room // stride) + 1)]
        if starts[-1] < room:  # one more, ending with the video, so the end is covered too
            starts.append(room)
        return starts
