"""Which instants of a video a clip shows, and where clips are taken (window specs).

All times are exact ``Fraction`` seconds from the video's first frame: float seconds put a
window start one frame off in a few percent of starts. Window starts are computed when asked
for (``WindowStarts``), so memory stays bounded however many windows a spec makes.
"""

from __future__ import annotations

import functools
import math
import random
from array import array
from collections.abc import Callable, Sequence
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


class WindowStarts(Sequence[Fraction]):
    """A video's window start times, in increasing order, each computed when asked for (a sliding
    pass over hours of video holds no list of them); ``note`` says why the video gets fewer
    windows than its spec asked for (else empty)."""

    def __init__(self, length: int, at: Callable[[int], Fraction], note: str = "") -> None:
        self._length, self._at, self.note = length, at, note

    def __len__(self) -> int:
        """Number of windows."""
        return self._length

    @overload
    def __getitem__(self, index: int) -> Fraction: ...

    @overload
    def __getitem__(self, index: slice) -> list[Fraction]: ...

    def __getitem__(self, index: int | slice) -> Fraction | list[Fraction]:
        """The start of window ``index``, or a list of the starts a slice names."""
        if isinstance(index, slice):
            return [self._at(k) for k in range(*index.indices(self._length))]
        k = index + self._length if index < 0 else index
        if not 0 <= k < self._length:
            raise IndexError(f"window {index} of {self._length}")
        return self._at(k)

    def __repr__(self) -> str:
        """How many windows, and the note if any (not every start: there may be millions)."""
        return f"WindowStarts({self._length} windows{', ' + repr(self.note) if self.note else ''})"

    @classmethod
    def of(cls, starts: Sequence[Fraction], note: str = "") -> WindowStarts:
        """Starts already at hand (explicit start times)."""
        return cls(len(starts), starts.__getitem__, note)

    @classmethod
    def grid(
        cls, first: Fraction, step: Fraction, count: int, last: Fraction | None = None, *, note: str = ""
    ) -> WindowStarts:
        """``first + step * k`` for ``k < count``, then ``last`` when given."""

        def at(k: int) -> Fraction:
            if k < count or last is None:
                return first + step * k
            return last

        return cls(count + (last is not None), at, note)


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
    def spec(self) -> str:
        """The spec as the command line writes it ('uniform:4', 'sliding:0.5', 'random:3', 'center')."""
        if self.kind in ("random", "uniform"):
            return f"{self.kind}:{self.count}"
        if self.kind == "sliding" and self.stride is not None:
            return f"sliding:{self.stride:g}"
        return self.kind

    def starts(self, duration: Fraction, span: Fraction, fps: float | Fraction | None = None) -> list[Fraction]:
        """All of ``window_starts`` at once, as a list."""
        return list(self.window_starts(duration, span, fps))

    def window_starts(self, duration: Fraction, span: Fraction, fps: float | Fraction | None = None) -> WindowStarts:
        """Start times of the clips in a video of ``duration`` seconds, in increasing order,
        computed when asked for.

        Given the video's ``fps``, a window starting in the same frame as the one before it
        (``ClipSampling.anchor``: the same clip again) is taken once. A spec asking for more
        windows than the video has start frames gets each start frame once, with a ``note``.
        """
        room = max(duration - span, Fraction(0))
        rate = None if fps is None else fps if isinstance(fps, Fraction) else to_fraction(fps)
        if self.kind == "random":
            return self._random(room, rate)
        first, step, count, last = self._grid(room, span)
        if rate is None:
            return WindowStarts.grid(first, step, count, last)
        frames = math.floor(room * rate) + 1  # distinct start frames: 0 .. room
        if count + (last is not None) > frames:  # some windows share a frame: then every frame has one
            return WindowStarts.grid(Fraction(0), 1 / rate, frames, note=self._more_than(frames))
        if last is not None and math.floor(last * rate) == math.floor((first + step * (count - 1)) * rate):
            last = None  # the window ending with the video starts in the frame of the one before it
        return WindowStarts.grid(first, step, count, last)

    def _grid(self, room: Fraction, span: Fraction) -> tuple[Fraction, Fraction, int, Fraction | None]:
        """Evenly spaced starts ``first + step * k`` (k < count), then ``last`` (or None)."""
        if self.kind == "start":
            return Fraction(0), Fraction(0), 1, None
        if self.kind == "center" or (self.kind == "uniform" and self.count == 1):
            return room / 2, Fraction(0), 1, None
        if self.kind == "uniform":
            return Fraction(0), room / (self.count - 1), self.count, None
        stride = to_fraction(self.stride) if self.stride is not None else span
        count = int(room // stride) + 1
        # one more, ending with the video, so the end is covered too
        return Fraction(0), stride, count, room if stride * (count - 1) < room else None

    def _random(self, room: Fraction, rate: Fraction | None) -> WindowStarts:
        """``count`` seeded random starts, sorted; given the frame rate, each start frame once."""
        rng = random.Random(self.seed)
        # sorting the draws sorts the starts: room * to_fraction(x) never decreases as x grows
        drawn = array("d", sorted(rng.random() for _ in range(self.count)))
        note = ""
        if rate is not None:
            frames = [math.floor(room * to_fraction(x) * rate) for x in drawn]
            kept = array("d", (x for i, x in enumerate(drawn) if i == 0 or frames[i] != frames[i - 1]))
            distinct = math.floor(room * rate) + 1
            if len(kept) < len(drawn):
                note = (
                    self._more_than(distinct)
                    if self.count > distinct
                    else f"{self.spec} drew {len(drawn) - len(kept)} start(s) in a frame already drawn: "
                    f"took each frame once ({len(kept)} clips)"
                )
            drawn = kept
        return WindowStarts(len(drawn), lambda k: room * to_fraction(drawn[k]), note)

    def _more_than(self, frames: int) -> str:
        """The note of a spec that asks for more windows than the video has start frames."""
        frames_of = f"{frames} distinct start frame{'' if frames == 1 else 's'}"
        return f"{self.spec} asks for more clips than the {frames_of} of this video: took each once"
