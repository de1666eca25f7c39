"""Which decoded frames a clip takes: the training loader's rule, to the frame.

mae_st and hvm-1 read a clip with torchvision's ``video_reader`` (mae_st ``util/decoder/decoder.py``
``decode`` at 325c13c2, hvm-1 ``helpers/decoder/decoder.py`` at f950a067, the same code; torchvision
C++ at 03e8638e). For each clip the loader:

1. probed the stream: ``fps`` is ``av_guess_frame_rate`` (``csrc/io/decoder/stream.cpp``,
   ``Stream::openCodec``) stored as float32 (``video_reader.cpp`` ``probeVideo``: ``videoFps``
   is ``kFloat``); the duration is the stream's, rescaled to microseconds and back to its time
   base, in seconds (``torchvision/io/_video_opt.py`` ``_fill_info``). A stream without a duration
   (most WebM and MKV) comes out negative;
2. with a duration (``decoder.py:136-155``): placed the clip on ``fps * duration`` frames
   (``get_start_end_idx``), turned its first and last positions into the pts window
   ``int(index * den / fps)`` (``:153-155``; ``den`` alone, as the loader wrote it), and read the
   frames whose microsecond times lie in it: ``video_reader.cpp`` ``offsetsToUs`` converts the
   start only when it is > 0 and adds 100 us to the end only when it is > 0 (else no end);
   ``decoder/decoder.cpp`` ``Decoder::processPacket`` keeps ``start <= pts <= end``, each frame's
   pts being ``av_rescale_q(best_effort_timestamp)`` (``stream.cpp`` ``setFramePts``). Of those
   frames it took the centre clip (mae_st ``util/kinetics.py`` and hvm-1 ``helpers/kinetics.py``:
   ``get_start_end_idx(frames.shape[0], clip_sz, 0, 1, use_offset=True)``);
3. without a duration, or when the window held no frame (``decoder.py``: ``if v_frames.shape ==
   torch.Size([0])``, "failed selective decoding"), read the whole video (frames at times >= 0)
   and placed the clip on its frame count with the clip's own rule (``kinetics.py``:
   ``temporal_sample_index if decode_all_video``);
4. took frames ``linspace(start, start + clip_size - 1, T)`` of what it read, clamped to the
   last one and truncated (``temporal_sampling``, ``decoder.py:27-28``).

Frames are counted as the loader counted them, in presentation order: a gap in the timestamps
shifts every later index, and a window one frame short repeats its last frame.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import torch

from vidmenagerie.video.sampling import Position

MICROSECOND = Fraction(1, 1_000_000)  # AV_TIME_BASE_Q, the unit the reader compares frame times in
END_JITTER_US = 100  # video_reader.cpp timeBaseJitterUs: added to the window's end
READ_GAP_US = 10_000_000  # windows further apart than this have their frames read separately


def rescale(value: int, source: Fraction, target: Fraction) -> int:
    """FFmpeg's ``av_rescale_q``: ``value`` in ``source`` units as ``target`` units, rounded to the
    nearest with halves away from zero (``AV_ROUND_NEAR_INF``)."""
    exact = value * source / target
    magnitude = math.floor(abs(exact) + Fraction(1, 2))
    return magnitude if exact >= 0 else -magnitude


def float32(value: float) -> float:
    """``value`` as the float32 torchvision stored it in, read back as a Python float."""
    return float(struct.unpack("f", struct.pack("f", value))[0])


@dataclass(frozen=True)
class LoaderMeta:
    """What torchvision's probe told the loader about a stream (its ``video_meta``): the time
    base, the float32 frame rate, and the duration in seconds (<= 0: the stream states none)."""

    time_base: Fraction
    fps: float
    duration: float

    @classmethod
    def of_stream(cls, time_base: Fraction, guessed_rate: Fraction, stream_duration: int | None) -> LoaderMeta:
        """The probe's numbers from a stream's time base, guessed rate and duration in ticks (None: unknown)."""
        if stream_duration is None:
            seconds = -1.0  # AV_NOPTS_VALUE rescaled: negative, so no selective decoding
        else:
            ticks = rescale(rescale(stream_duration, time_base, MICROSECOND), MICROSECOND, time_base)
            seconds = float(ticks) * (time_base.numerator / float(time_base.denominator))  # _fill_info
        return cls(time_base, float32(float(guessed_rate)), seconds)

    @property
    def selective(self) -> bool:
        """The loader decoded a window of this stream (``decoder.py:137-141``), not all of it."""
        return self.duration > 0 and self.time_base.denominator > 0

    @property
    def video_size(self) -> float:
        """Frames the loader placed clips on: ``fps * video_duration`` (``decoder.py:146``)."""
        return self.fps * self.duration

    def window(self, start: float, end: float) -> tuple[int, int | None]:
        """The microsecond bounds of the frames read for clip positions ``start`` .. ``end``
        (``end`` None: to the end of the video)."""
        per_frame = self.time_base.denominator / self.fps  # decoder.py:153
        first, last = int(start * per_frame), int(end * per_frame)  # :154-155
        start_us = rescale(first, self.time_base, MICROSECOND) if first > 0 else 0  # offsetsToUs
        end_us = END_JITTER_US + rescale(last, self.time_base, MICROSECOND) if last > 0 else None
        return start_us, end_us

    def microseconds(self, pts: int) -> int:
        """A frame's time as the reader compared it (``setFramePts``)."""
        return rescale(pts, self.time_base, MICROSECOND)


class Timeline(Protocol):
    """A source's frames as the loader counted them, named by an id (a video's timestamps, a
    frame folder's indices)."""

    @property
    def meta(self) -> LoaderMeta | None:
        """The probe's numbers; None where the loader would have read every frame (a frame folder)."""
        ...

    def load(self, start_us: int, end_us: int | None) -> None:
        """Read ahead the frames of a span that ``frames_in`` will be asked about (one pass for many windows)."""
        ...

    def frames_in(self, start_us: int, end_us: int | None) -> Sequence[int]:
        """The ids of the frames whose times lie in ``start_us`` .. ``end_us`` (None: no end), in order."""
        ...

    def every_frame(self) -> Sequence[int]:
        """The ids of every frame at a time >= 0, in order."""
        ...


@dataclass(frozen=True)
class ClipFrames:
    """The frames one clip takes: an id per clip position, and how many positions repeat the last
    frame read because the clip runs past it."""

    ids: tuple[int, ...]
    repeated: int


def temporal_sampling(count: int, start: float, end: float, num_samples: int) -> tuple[list[int], int]:
    """``temporal_sampling`` (decoder.py:27-28): ``linspace(start, end, num_samples)`` in float32,
    clamped to ``count - 1`` and truncated; with the number of positions past the last frame (the
    clamp repeats it there)."""
    index = torch.linspace(start, end, num_samples)
    repeated = int((index >= count).sum())
    return torch.clamp(index, 0, count - 1).long().tolist(), repeated


class FrameRule:
    """The loader's frame choice for clips of ``num_frames`` frames covering ``clip_size`` source
    frames, on one source's ``timeline``."""

    def __init__(self, timeline: Timeline, clip_size: float, num_frames: int) -> None:
        self.timeline, self.clip_size, self.num_frames = timeline, clip_size, num_frames

    @property
    def video_size(self) -> float:
        """Frames the clips are placed on: ``fps * duration`` when windows are read, else the frame count."""
        meta = self.timeline.meta
        if meta is not None and meta.selective:
            return meta.video_size
        return len(self.timeline.every_frame())

    def window(self, position: Position) -> tuple[int, int | None] | None:
        """The microsecond window the loader read for ``position``; None when it read the whole video."""
        meta = self.timeline.meta
        if meta is None or not meta.selective:
            return None
        start = position.start(meta.video_size, self.clip_size)
        return meta.window(start, start + self.clip_size - 1)

    def key(self, position: Position) -> Hashable:
        """What decides the frames of ``position`` without reading any: equal keys, equal clips."""
        window = self.window(position)
        if window is not None:
            return window
        every = len(self.timeline.every_frame())
        start = position.start(every, self.clip_size)
        return tuple(temporal_sampling(every, start, start + self.clip_size - 1, self.num_frames)[0])

    def frames(self, positions: Sequence[Position]) -> list[ClipFrames]:
        """The frames of each clip (positions in increasing order). Windows that overlap or lie
        close together have their frames read in one pass; far-apart ones (sparse windows over a
        long video) each in their own, so no stretch between them is read."""
        windows = [self.window(p) for p in positions]
        chosen: list[ClipFrames] = []
        group: list[int] = []  # indices of the windows read together
        for index, window in enumerate(windows):
            if group and not self._near(windows[group[-1]], window):
                chosen += self._read_group(positions, windows, group)
                group = []
            group.append(index)
        return chosen + self._read_group(positions, windows, group)

    @staticmethod
    def _near(before: tuple[int, int | None] | None, window: tuple[int, int | None] | None) -> bool:
        """Whether ``window`` starts within ``READ_GAP_US`` of the end of the window ``before`` it."""
        if before is None or window is None:
            return before is window
        end = before[1]
        return end is None or window[0] - end <= READ_GAP_US

    def _read_group(
        self, positions: Sequence[Position], windows: list[tuple[int, int | None] | None], group: list[int]
    ) -> list[ClipFrames]:
        """The clips of one group of windows, their frames read in one pass."""
        spans = [w for w in (windows[i] for i in group) if w is not None]
        if spans:
            ends = [end for _, end in spans]
            last = None if any(end is None for end in ends) else max(end for end in ends if end is not None)
            self.timeline.load(min(start for start, _ in spans), last)
        return [self._clip(positions[i], windows[i]) for i in group]

    def _clip(self, position: Position, window: tuple[int, int | None] | None) -> ClipFrames:
        """One clip: the centre clip of its window's frames, or placed on the whole video."""
        if window is not None:
            found = self.timeline.frames_in(*window)
            if found:  # kinetics.py: get_start_end_idx(frames.shape[0], clip_sz, 0, 1, use_offset=True)
                return self._sample(found, Position())
        return self._sample(self.timeline.every_frame(), position)  # failed selective decoding, or none tried

    def _sample(self, frames: Sequence[int], position: Position) -> ClipFrames:
        """``position``'s clip of ``frames``, by ``temporal_sampling``."""
        start = position.start(len(frames), self.clip_size)
        index, repeated = temporal_sampling(len(frames), start, start + self.clip_size - 1, self.num_frames)
        return ClipFrames(tuple(frames[i] for i in index), repeated)
