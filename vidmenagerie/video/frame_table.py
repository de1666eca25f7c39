"""The timestamps of a video stream's frames, read from its packets without decoding.

The training loader counted decoded frames; each video packet of the containers we read holds one
frame, with the frame's own presentation timestamp (checked against decoding every frame for
H.264, HEVC, VP9, AV1, MPEG-4 and MJPEG in MP4, MOV, MKV, WebM and AVI in
``tests/test_loader_frames.py``), so the frames of a span are known after demuxing it, which
costs a few milliseconds, and the decoder can still skip every frame no clip takes. Packets
that FFmpeg marks to be dropped (the pre-roll an MP4 edit list cuts) hold no frame.
"""

from __future__ import annotations

import bisect
import contextlib
from fractions import Fraction
from typing import TYPE_CHECKING

from vidmenagerie.errors import VideoError
from vidmenagerie.video.frame_rule import MICROSECOND, LoaderMeta
from vidmenagerie.video.probe import StreamClock, ffmpeg_reason, import_av

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.stream import VideoStream


class FrameTable:
    """A stream's frame timestamps (ticks) as the loader's reader saw them, a span at a time:
    ``load`` demuxes a span once, ``frames_in`` answers from it; ``every_frame`` reads them all once."""

    def __init__(
        self, path: str, container: InputContainer, stream: VideoStream, clock: StreamClock, duration: int | None
    ) -> None:
        """``duration``: the stream's in ticks as the probe read it (None: none stated)."""
        self.path, self.container, self.stream, self.clock = path, container, stream, clock
        rate = stream.guessed_rate or stream.average_rate  # the loader's fps; a stream stating none is read at 30
        self.meta = LoaderMeta.of_stream(clock.time_base, Fraction(rate) if rate else Fraction(30), duration)
        self.fps = self.meta.fps
        self._span: tuple[int, int | None] | None = None  # ticks covered by _loaded (end None: to the end)
        self._loaded: list[int] = []
        self._every: list[int] | None = None

    def load(self, start_us: int, end_us: int | None) -> None:
        """Demux the packets of ``start_us`` .. ``end_us`` (None: to the end) unless already at hand."""
        low, high = self._ticks(start_us, end_us)
        if self._covers(low, high):
            return
        self._span, self._loaded = (low, high), self._read(low, high)

    def frames_in(self, start_us: int, end_us: int | None) -> list[int]:
        """The timestamps of the frames whose microsecond times lie in ``start_us`` .. ``end_us``."""
        low, high = self._ticks(start_us, end_us)
        if self._every is not None:
            source = self._every
        else:
            self.load(start_us, end_us)
            source = self._loaded
        first = bisect.bisect_left(source, low)
        last = len(source) if high is None else bisect.bisect_right(source, high)
        times = ((pts, self.meta.microseconds(pts)) for pts in source[first:last])
        return [pts for pts, us in times if us >= start_us and (end_us is None or us <= end_us)]

    def every_frame(self) -> list[int]:
        """Every frame's timestamp at a time >= 0 (the reader kept ``pts >= 0``), read once."""
        if self._every is None:
            self._every = [pts for pts in self._read(None, None) if self.meta.microseconds(pts) >= 0]
            if not self._every:
                raise VideoError(f"{self.path}: no frame could be decoded (no video packets)")
        return self._every

    def _ticks(self, start_us: int, end_us: int | None) -> tuple[int, int | None]:
        """A tick span surely holding every frame of the microsecond span (one tick of slack each side)."""
        base = self.clock.time_base
        low = int(start_us * MICROSECOND / base) - 1
        return low, None if end_us is None else int(end_us * MICROSECOND / base) + 2

    def _covers(self, low: int, high: int | None) -> bool:
        """The loaded span holds ``low`` .. ``high``."""
        if self._span is None:
            return False
        have_low, have_high = self._span
        return have_low <= low and (have_high is None or (high is not None and high <= have_high))

    def _read(self, low: int | None, high: int | None) -> list[int]:
        """Sorted timestamps of the frames in ``low`` .. ``high`` ticks (None: from the start / to the end)."""
        target = self.clock.start_pts if low is None else max(low, self.clock.start_pts)
        back = 0
        while True:
            found, first_pts = self._demux(max(target - back, self.clock.start_pts), low, high)
            landed_late = low is not None and first_pts is not None and first_pts > low
            if not landed_late or target - back <= self.clock.start_pts:
                return sorted(found)
            # the seek landed after the span: a second earlier, then two...
            back = max(2 * back, round(1 / self.clock.time_base))

    def _demux(self, seek_to: int, low: int | None, high: int | None) -> tuple[list[int], int | None]:
        """The frame timestamps in ``low`` .. ``high`` demuxed from the keyframe before ``seek_to``,
        and the first packet's timestamp (to tell a seek that landed too late)."""
        error = import_av().FFmpegError
        found: list[int] = []
        first_pts: int | None = None
        with contextlib.suppress(error):
            self.container.seek(seek_to, stream=self.stream, backward=True)
        try:
            for packet in self.container.demux(self.stream):
                if not packet.size or packet.is_discard:
                    continue
                pts = packet.pts if packet.pts is not None else packet.dts
                if pts is None:
                    continue
                if first_pts is None:
                    first_pts = pts
                if high is not None and (packet.dts if packet.dts is not None else pts) > high:
                    break  # decode order: every later packet shows later still (pts >= dts)
                if (low is None or pts >= low) and (high is None or pts <= high):
                    found.append(pts)
        except error as err:  # a damaged tail: the frames before it are there
            if not found:
                raise VideoError(f"{self.path}: cannot read its packets ({ffmpeg_reason(err)})") from err
        return found, first_pts
