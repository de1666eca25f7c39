"""Open a video file and read its timing, turning every failure into one clear VideoError.

``av`` is imported on first use (like ``torchvision.io``) so ``import vidmenagerie`` stays fast.
Times are measured from the video stream's start, in exact ``Fraction`` seconds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from vidmenagerie.errors import VideoError

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.stream import VideoStream

_MICROSECONDS = Fraction(1, 1_000_000)  # av.time_base, the unit of container.duration


def import_av() -> ModuleType:
    """PyAV, imported lazily; a VideoError saying how to install it when missing."""
    try:
        import av
    except ImportError as err:  # pragma: no cover - av is a dependency
        raise VideoError(f"PyAV is needed to read videos ({err}): pip install av") from err
    return av


def _check_file(path: Path) -> None:
    """Fail early, in plain words, on paths no decoder should be asked about."""
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if path.is_dir():
        raise VideoError(f"{path}: is a folder, not a video file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: empty file (0 bytes)")


@contextlib.contextmanager
def open_video(path: str | Path, *, threads: int = 0) -> Iterator[tuple[InputContainer, VideoStream]]:
    """The opened container and its first video stream, closed on every path.

    ``threads`` is the decoder's thread count (0: one per core, frame threading).
    """
    av = import_av()
    path = Path(path)
    _check_file(path)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except PermissionError as err:  # PyAV's, an FFmpegError too
        raise VideoError(f"{path}: cannot read the file (permission denied)") from err
    except av.FFmpegError as err:
        raise VideoError(f"{path}: not a readable video, damaged or of another kind ({ffmpeg_reason(err)})") from err
    with container:
        if not container.streams.video:
            kinds = sorted({s.type for s in container.streams}) or ["no streams"]
            raise VideoError(f"{path}: no video stream (holds {', '.join(kinds)})")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.thread_count = threads
        for other in container.streams:
            if other is not stream:
                other.discard = av.stream.Discard.all  # do not even demux audio
        yield container, stream


def ffmpeg_reason(err: Exception) -> str:
    """FFmpeg's message without the errno and file name PyAV adds."""
    strerror = getattr(err, "strerror", None)
    return str(strerror or err).rstrip(".")


@dataclass(frozen=True)
class StreamClock:
    """Converts seconds from the stream's first frame to its integer timestamps and back."""

    time_base: Fraction
    start_pts: int
    end_pts: int | None

    def to_pts(self, seconds: Fraction) -> Fraction:
        """The timestamp (exact, possibly between ticks) of ``seconds`` after the start."""
        return self.start_pts + seconds / self.time_base

    def to_seconds(self, pts: int) -> Fraction:
        """Seconds from the start of timestamp ``pts``."""
        return (pts - self.start_pts) * self.time_base

    @property
    def duration(self) -> Fraction | None:
        """Seconds from the first frame to the end of the last, when known."""
        return None if self.end_pts is None else self.to_seconds(self.end_pts)


def stream_clock(container: InputContainer, stream: VideoStream) -> StreamClock:
    """The stream's time base, start and end; WebM/MKV/TS give no stream duration, so their
    end is read from the packets after the last keyframe (exact, and cheap)."""
    time_base = stream.time_base or Fraction(1, 90000)
    start = stream.start_time if stream.start_time is not None else 0
    if stream.duration:
        end: int | None = start + stream.duration
    else:
        end = _last_packet_end(container, stream, start, time_base)
    return StreamClock(time_base=time_base, start_pts=start, end_pts=end)


def _last_packet_end(container: InputContainer, stream: VideoStream, start: int, time_base: Fraction) -> int | None:
    """End timestamp of the last video packet: seek near the end, then read to it."""
    av = import_av()
    if container.duration:
        with contextlib.suppress(av.FFmpegError):
            container.seek(start + int(container.duration * _MICROSECONDS / time_base), stream=stream)
    end = None
    try:
        for packet in container.demux(stream):
            if packet.pts is not None:
                packet_end = packet.pts + (packet.duration or 0)
                end = packet_end if end is None else max(end, packet_end)
    except av.FFmpegError:
        pass  # a damaged tail: the packets read so far give the end
    if end is None and container.duration:
        end = start + int(container.duration * _MICROSECONDS / time_base)
    return end


@dataclass(frozen=True)
class VideoInfo:
    """What a video file says about itself (sizes as stored, before any rotation)."""

    path: str
    codec: str
    width: int
    height: int
    fps: float
    duration: float | None
    num_frames: int | None
    has_audio: bool


def probe_video(path: str | Path) -> VideoInfo:
    """Read a video's codec, size, frame rate, duration and frame count without decoding."""
    with open_video(path) as (container, stream):
        av = import_av()
        try:
            clock = stream_clock(container, stream)
        except av.FFmpegError as err:
            raise VideoError(f"{path}: cannot read its packets ({ffmpeg_reason(err)})") from err
        rate = stream.average_rate or stream.guessed_rate
        return VideoInfo(
            path=str(path),
            codec=stream.codec_context.name,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            fps=float(rate) if rate else 0.0,
            duration=None if clock.duration is None else float(clock.duration),
            num_frames=stream.frames or None,
            has_audio=bool(container.streams.audio),
        )
