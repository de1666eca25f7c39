"""Open a video file and read its timing, turning every failure into one clear VideoError.

``av`` is imported on first use (like ``torchvision.io``) so ``import vidmenagerie`` stays fast.
Times are measured from the video stream's start, in exact ``Fraction`` seconds.
"""

from __future__ import annotations

import contextlib
import math
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


# The header's duration and the data's end may differ by a frame or two (rounding, a last
# frame's duration); beyond this the file is truncated or its header is wrong.
DURATION_TOLERANCE = Fraction(1, 4)
# Containers whose header states one duration for the whole file (FFmpeg format names).
HEADER_DURATION_FORMATS: frozenset[str] = frozenset({"matroska,webm"})


@dataclass(frozen=True)
class StreamClock:
    """Converts seconds from the stream's first frame to its integer timestamps and back.

    ``end_pts`` is where the video data really ends when that could be read, else what the
    header claims. ``claimed`` is the header's duration in seconds and ``held`` how long the
    data it speaks of runs (the video's; every stream's for WebM/MKV, whose header gives one
    duration for the whole file): both None when the header claims nothing.
    """

    time_base: Fraction
    start_pts: int
    end_pts: int | None
    claimed: Fraction | None = None
    held: Fraction | None = None

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

    @property
    def truncated(self) -> bool:
        """The data stops well before the header's claim (a cut download or copy)."""
        return self.claimed is not None and self.held is not None and self.claimed - self.held > DURATION_TOLERANCE

    @property
    def longer_than_claimed(self) -> bool:
        """The data runs well past the header's claim (a wrong header): clips cover the data."""
        return self.claimed is not None and self.held is not None and self.held - self.claimed > DURATION_TOLERANCE


def stream_clock(container: InputContainer, stream: VideoStream) -> StreamClock:
    """The stream's time base, start, real end (its last packets) and the header's claim.

    The real end is read from the packets after the last keyframe before the claimed end, so a
    header that claims less than the data holds, or more (a truncated file), is found out.
    """
    time_base = stream.time_base or Fraction(1, 90000)
    start = _first_frame_pts(container, stream)
    whole_file = not stream.duration  # WebM/MKV: the header's one duration covers every stream
    claimed: Fraction | None = None
    estimate = None if not container.duration else container.duration * _MICROSECONDS
    if stream.duration:
        claimed = stream.duration * time_base
    elif container.format.name in HEADER_DURATION_FORMATS:
        claimed = estimate  # MPEG-TS and the like only estimate a duration: a hint where to look, no claim
    hint = claimed if claimed is not None else estimate
    target = None if hint is None else start + math.floor(hint / time_base)
    video_end, held = _data_end(container, stream, start, target, whole_file)
    end = video_end
    if end is None and hint is not None:
        end = start + math.ceil(hint / time_base)
    return StreamClock(time_base, start, end, claimed if held is not None else None, held)


def _first_frame_pts(container: InputContainer, stream: VideoStream, lookahead: int = 32) -> int:
    """The first frame's timestamp: the lowest pts among the first packets (AVI with B-frames
    says the stream starts a tick before its first frame). Time 0 is that frame, so a clip at 0
    starts with it, as the training loader's frame 0 did."""
    av = import_av()
    declared = stream.start_time if stream.start_time is not None else None
    seen: list[int] = []
    with contextlib.suppress(av.FFmpegError):
        container.seek(declared if declared is not None else 0, stream=stream, backward=True)
        for packet in container.demux(stream):
            if packet.size and packet.pts is not None and not packet.is_discard:
                seen.append(packet.pts)
            if len(seen) >= lookahead:
                break
    if not seen:
        return declared or 0
    return min(seen) if declared is None else max(declared, min(seen))


def _data_end(
    container: InputContainer, stream: VideoStream, start: int, target: int | None, whole_file: bool
) -> tuple[int | None, Fraction | None]:
    """The video's last packet end (ticks), and how long the data runs (seconds from the start;
    every stream's with ``whole_file``). Reads from the keyframe before ``target`` to the end of
    the data; when nothing can be read there (an index pointing past a cut), from the start."""
    av = import_av()
    others = [s for s in container.streams if s is not stream] if whole_file else []
    for other in others:
        other.discard = av.stream.Discard.default
    try:
        for seek_to in [target, start] if target is not None else [start]:
            with contextlib.suppress(av.FFmpegError):
                container.seek(max(seek_to, start), stream=stream, backward=True)
            video_end: int | None = None
            held: Fraction | None = None
            try:
                for packet in container.demux([stream, *others]):
                    if packet.pts is None or not packet.size:
                        continue
                    packet_end = packet.pts + (packet.duration or 0)
                    if packet.stream is stream:
                        video_end = packet_end if video_end is None else max(video_end, packet_end)
                    first = packet.stream.start_time or 0
                    seconds = (packet_end - first) * (packet.stream.time_base or Fraction(1, 90000))
                    held = seconds if held is None else max(held, seconds)
            except av.FFmpegError:
                pass  # a damaged tail: the packets read so far give the end
            if video_end is not None:
                return video_end, held
        return None, None
    finally:
        for other in others:
            other.discard = av.stream.Discard.all


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
