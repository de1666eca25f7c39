"""Decode the frames on screen at wanted instants, in one in-order pass over the video.

The frame on screen at time t is the last frame whose presentation timestamp is <= t; instants
after the end of the video show its last frame. Measured levers (see the module tests and
``tests/benchmarks/bench_decode.py``):

- frame threading (``thread_type="AUTO"``, set by ``open_video``);
- seek to the keyframe before the first wanted instant, and seek earlier again when the first
  decoded frame is later than wanted, or when no frame decodes at all (MPEG-TS seeks land one
  GOP late, or between keyframes);
- packets are demuxed here, ``LOOKAHEAD`` ahead of the decoder, and a packet is sent with
  ``skip_frame="NONREF"`` only when the timestamps already demuxed *prove* its frame is not
  wanted (another frame starts after it and no later than the next wanted instant), and only
  to decoders that apply the setting to the packet it was set for (``SKIP_SAFE_CODECS``:
  FFmpeg's own H.264 and HEVC decoders copy it per packet, even with frame threads). libdav1d
  applies it to whatever frame it outputs next, several frames later: on AV1 it made clips
  pick the frame before the right one, so other codecs never skip;
- once every packet that can hold a wanted frame has been sent (dts only grow, and pts >= dts),
  the decoder is drained and decoding stops: no frame after the last wanted one is decoded;
- wanted instants further apart than ``seek_gap`` are reached by seeking forward;
- one decoded frame is held at a time, and ``convert`` runs once per chosen frame only.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Generic, TypeVar

from vidmenagerie.video.probe import StreamClock, ffmpeg_reason, import_av

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.packet import Packet
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

T = TypeVar("T")

LOOKAHEAD = 16  # packets read ahead of the decoder; B-frame reordering needs a handful
MIN_SEEK_GAP = Fraction(10)  # seconds between wanted instants beyond which decoding seeks ahead
# Stored timestamps are rounded to the time base (milliseconds in WebM/MKV: a 30 fps frame at
# 266.67 ms is stored as 267), so a frame counts as shown from half a tick before its timestamp.
HALF_TICK = Fraction(1, 2)
# Decoders whose skip_frame setting is read with the packet it was set for (tested against a
# decode-everything oracle in tests/test_video_codecs.py); every other decoder decodes all frames.
SKIP_SAFE_CODECS: frozenset[str] = frozenset({"h264", "hevc"})


@dataclass(frozen=True)
class Picked(Generic[T]):
    """The frame on screen at one wanted instant: ``convert``'s output and its timestamp."""

    value: T
    pts: int
    past_end: bool


@dataclass(frozen=True)
class Decoded(Generic[T]):
    """One pick per wanted instant, the end timestamp of the frames found, and why the data
    stopped early if the demuxer failed (a damaged or truncated file), else None."""

    picked: list[Picked[T]]
    end_pts: int | None
    damage: str | None


def pick_frames(
    container: InputContainer,
    stream: VideoStream,
    clock: StreamClock,
    wanted: Sequence[Fraction],
    convert: Callable[[VideoFrame], T],
    *,
    seek_gap: Fraction = MIN_SEEK_GAP,
) -> Decoded[T]:
    """The frame on screen at each wanted instant (seconds from the start, sorted ascending)."""
    if any(b < a for a, b in zip(wanted, wanted[1:])):
        raise ValueError("wanted instants must be sorted")
    picker = _Picker([clock.to_pts(t) + HALF_TICK for t in wanted], convert)
    gap = seek_gap / clock.time_base
    state = _PassState()
    while not picker.done:
        _decode_segment(container, stream, clock, picker, gap, state)
    return Decoded(picker.picked, state.end_pts, state.damage)


class _Picker(Generic[T]):
    """Hands each wanted timestamp the frame on screen then, as frames arrive in pts order."""

    def __init__(self, wanted: list[Fraction], convert: Callable[[VideoFrame], T]) -> None:
        self.wanted = wanted
        self.convert = convert
        self.picked: list[Picked[T]] = []
        self.held: VideoFrame | None = None
        self.held_pts = 0
        self._value: T | None = None  # the held frame converted, once

    @property
    def next(self) -> int:
        """Index of the first wanted instant not settled yet."""
        return len(self.picked)

    @property
    def done(self) -> bool:
        """Every wanted instant has its frame."""
        return len(self.picked) == len(self.wanted)

    def offer(self, frame: VideoFrame, pts: int) -> None:
        """A decoded frame: wanted instants before it get the frame held until now."""
        if self.held is None:
            self._hold(frame, pts)  # instants before the very first frame show that frame
        self.settle(lambda t: t < pts)
        self._hold(frame, pts)

    def settle(self, shown: Callable[[Fraction], bool], past_end: int | None = None) -> None:
        """Give the held frame to the next wanted instants while ``shown(instant)`` holds."""
        while not self.done and shown(t := self.wanted[self.next]):
            if self._value is None:
                assert self.held is not None
                self._value = self.convert(self.held)
            late = past_end is not None and t >= past_end
            self.picked.append(Picked(self._value, self.held_pts, late))

    def _hold(self, frame: VideoFrame, pts: int) -> None:
        """Keep ``frame`` (and only it) as the frame on screen."""
        self.held, self.held_pts, self._value = frame, pts, None


@dataclass
class _PassState:
    """What decoding learnt so far: where the data ends, whether it was damaged, GOP length."""

    end_pts: int | None = None
    damage: str | None = None
    gop: int = 0  # longest distance between keyframes seen, in ticks


def _decode_segment(
    container: InputContainer,
    stream: VideoStream,
    clock: StreamClock,
    picker: _Picker[T],
    gap: Fraction,
    state: _PassState,
) -> None:
    """Seek before the next wanted instant and decode until it and its near followers are
    settled; seek earlier again while the first decoded frame comes out too late."""
    first = picker.wanted[picker.next]
    back = Fraction(0)
    while True:
        target = math.floor(first - back)
        from_start = target <= clock.start_pts
        container.seek(max(target, clock.start_pts), stream=stream, backward=True)
        if _decode_pass(
            stream,
            picker,
            max(gap, Fraction(2 * state.gop)),
            state,
            _Packets(container, stream),
            late_after=None if from_start else first,
        ):
            return
        back = max(2 * back, 1 / clock.time_base)  # landed late: one second earlier, then two...


def _decode_pass(
    stream: VideoStream,
    picker: _Picker[T],
    gap: Fraction,
    state: _PassState,
    packets: _Packets,
    late_after: Fraction | None,
) -> bool:
    """Decode from the current position; False (nothing settled) if the first frame is later
    than ``late_after``, else True once the instants up to the next big gap are settled."""
    codec = stream.codec_context
    may_skip = codec.name in SKIP_SAFE_CODECS
    last = _horizon(picker.wanted, picker.next, gap)
    first_frame = True

    def give(frames: list[VideoFrame]) -> bool:
        """Offer decoded frames to the picker; False if the very first one is too late."""
        nonlocal first_frame
        for frame in frames:
            pts = _pts(frame, picker)
            if first_frame and late_after is not None and pts > late_after:
                return False
            first_frame = False
            picker.offer(frame, pts)
        return True

    try:
        while picker.next <= last:
            if packets.all_sent_through(picker.wanted[last]):
                if not give(codec.decode(None)):
                    return False
                if picker.held is None:  # nothing decodable after the seek (it landed past the keyframe)
                    return _from_earlier(late_after, packets)
                picker.settle(lambda t: t <= picker.wanted[last])
                break
            packet = packets.pop()
            if packet is None:  # end of the data: what is left shows the last frame
                if not give(codec.decode(None)):
                    return False
                if picker.held is None:
                    return _from_earlier(late_after, packets)
                picker.settle(lambda t: True, past_end=packets.end_pts)
                break
            if may_skip:
                codec.skip_frame = "NONREF" if packets.unneeded(packet.pts, picker.wanted) else "DEFAULT"
            if not give(codec.decode(packet)):
                return False
            packets.forget_before(picker.held_pts)
        return True
    finally:
        _absorb(state, packets)


def _from_earlier(late_after: Fraction | None, packets: _Packets) -> bool:
    """No frame came out of a pass: False (seek earlier and try again) unless it began at the
    start of the stream, where no frame can be decoded at all."""
    if late_after is None:
        raise NoFramesError(packets.damage)
    return False


class NoFramesError(Exception):
    """No frame at all could be decoded (the reader turns it into a VideoError)."""

    def __init__(self, damage: str | None) -> None:
        super().__init__(damage or "no frame could be decoded")


def _pts(frame: VideoFrame, picker: _Picker[T]) -> int:
    """A frame's timestamp; the decode timestamp or the previous one + 1 when it has none."""
    if frame.pts is not None:
        return int(frame.pts)
    if frame.dts is not None:
        return int(frame.dts)
    return picker.held_pts + 1


def _horizon(wanted: list[Fraction], first: int, gap: Fraction) -> int:
    """Index of the last wanted instant reachable from ``first`` without a gap over ``gap``."""
    last = first
    while last + 1 < len(wanted) and wanted[last + 1] - wanted[last] <= gap:
        last += 1
    return last


def _absorb(state: _PassState, packets: _Packets) -> None:
    """Keep what a pass learnt about the stream's end, damage and keyframe distance."""
    if packets.end_pts is not None and (state.end_pts is None or packets.end_pts > state.end_pts):
        state.end_pts = packets.end_pts
    state.damage = state.damage or packets.damage
    state.gop = max(state.gop, packets.gop)


class _Packets:
    """Video packets demuxed ahead of the decoder, and what their timestamps prove."""

    def __init__(self, container: InputContainer, stream: VideoStream) -> None:
        self._source: Iterator[Packet] | None = container.demux(stream)
        self._queue: deque[Packet] = deque()
        self._known: list[int] = []  # sorted pts of packets demuxed (from the held frame on)
        self._complete_below: int | None = None  # packets still to come have pts >= this
        self._last_key: int | None = None
        self.end_pts: int | None = None
        self.damage: str | None = None
        self.gop = 0
        self._demux_error = import_av().FFmpegError

    def pop(self) -> Packet | None:
        """The next packet in decode order, or None at the end of the data."""
        self._fill()
        return self._queue.popleft() if self._queue else None

    def _fill(self) -> None:
        """Read packets until ``LOOKAHEAD`` are queued or the data ends."""
        while self._source is not None and len(self._queue) < LOOKAHEAD:
            try:
                packet = next(self._source)
            except StopIteration:
                self._source = None
                break
            except self._demux_error as err:  # a truncated or damaged file: keep what was read
                self._source, self.damage = None, ffmpeg_reason(err)
                break
            if packet.size == 0:  # PyAV's end-of-stream marker
                continue
            self._queue.append(packet)
            self._learn(packet)

    def _learn(self, packet: Packet) -> None:
        """Note a packet's timestamps: known pts, completeness, stream end, keyframe distance."""
        if packet.dts is not None and (self._complete_below is None or packet.dts > self._complete_below):
            self._complete_below = packet.dts
        if packet.pts is None:
            return
        bisect.insort(self._known, packet.pts)
        end = packet.pts + (packet.duration or 0)
        self.end_pts = end if self.end_pts is None else max(self.end_pts, end)
        if self._last_key is not None:
            self.gop = max(self.gop, packet.pts - self._last_key)
        if packet.is_keyframe:
            self._last_key = packet.pts

    def unneeded(self, pts: int | None, wanted: list[Fraction]) -> bool:
        """True only if the frame of timestamp ``pts`` is provably shown at no wanted instant:
        a known frame starts after it, no later than the first wanted instant at or after it."""
        if pts is None:
            return False
        first_wanted = bisect.bisect_left(wanted, pts)
        if first_wanted == len(wanted):
            return True  # after every wanted instant
        later = bisect.bisect_right(self._known, pts)
        return later < len(self._known) and self._known[later] <= wanted[first_wanted]

    def all_sent_through(self, instant: Fraction) -> bool:
        """Every packet whose frame starts at or before ``instant`` has left the queue."""
        self._fill()
        if self._complete_below is None or self._complete_below <= instant:
            return False
        return all(p.pts is not None and p.pts > instant for p in self._queue)

    def forget_before(self, pts: int) -> None:
        """Drop known timestamps before the held frame's: no later proof needs them."""
        if len(self._known) > 4 * LOOKAHEAD:
            del self._known[: bisect.bisect_left(self._known, pts)]
