"""Which instants of a video a clip shows, and where clips are taken (window specs).

All times are exact ``Fraction`` seconds from the video's first frame: float seconds put a
window start one frame off in a few percent of starts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, get_args

WindowKind = Literal["center", "start", "random", "uniform", "sliding"]
WINDOW_KINDS: tuple[str, ...] = get_args(WindowKind)
_SPEC_HELP = "center, start, random[:N], uniform:N or sliding[:STRIDE_SECONDS]"


def to_fraction(seconds: float | Fraction) -> Fraction:
    """Exact seconds: a float is read as the decimal it was written as (7.9 is 79/10)."""
    if isinstance(seconds, Fraction):
        return seconds
    return Fraction(seconds).limit_denominator(1_000_000)


@dataclass(frozen=True)
class ClipSampling:
    """A clip's frames: ``num_frames`` instants, ``sampling_rate`` frames apart at ``fps``."""

    num_frames: int = 16
    sampling_rate: int = 4
    fps: float = 30.0

    def __post_init__(self) -> None:
        """Refuse counts that cannot make a clip."""
        if self.num_frames < 1 or self.sampling_rate < 1 or self.fps <= 0:
            raise ValueError(
                f"num_frames and sampling_rate must be >= 1 and fps > 0, got {self.num_frames}, "
                f"{self.sampling_rate}, {self.fps}"
            )

    @property
    def step(self) -> Fraction:
        """Seconds between two clip frames."""
        return self.sampling_rate / to_fraction(self.fps)

    @property
    def span(self) -> Fraction:
        """Seconds of video one clip covers (``num_frames`` steps)."""
        return self.num_frames * self.step

    def times(self, start: Fraction) -> list[Fraction]:
        """The instant shown by each clip frame: ``start + i * sampling_rate / fps``."""
        return [start + i * self.step for i in range(self.num_frames)]


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
