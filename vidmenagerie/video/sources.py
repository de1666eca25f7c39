"""Where clip frames come from: a video file, a folder of numbered frames, or one still image.

Each source answers the same questions: its frames as the training loader counted them (a
``frame_rule.Timeline``: a video's timestamps, a frame folder's indices), how many seconds it
holds, and the frame shown at each wanted instant, converted to model pixels by a
``FramePixels``. ``open_source`` picks the kind from the path: a folder is a frame folder, a
known image extension a still, anything else a video.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from vidmenagerie.errors import VideoError
from vidmenagerie.video.decode import NoFramesError, Picked, pick_frames
from vidmenagerie.video.frame_rule import LoaderMeta
from vidmenagerie.video.frame_table import FrameTable
from vidmenagerie.video.kinds import IMAGE_EXTENSIONS, InputKind, input_kind, natural_key, special_file
from vidmenagerie.video.probe import (
    DURATION_TOLERANCE,
    StreamClock,
    ffmpeg_reason,
    import_av,
    open_video,
    stream_clock,
)
from vidmenagerie.video.sampling import to_fraction
from vidmenagerie.video.transform import FramePixels, Shown

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.stream import VideoStream
    from PIL.Image import Image

    from vidmenagerie.video.frame_rule import Timeline

DEFAULT_FOLDER_FPS = 30.0
_ORIENTATION = 0x0112  # the EXIF tag saying how a camera's stored picture is turned for display


class FrameSource(Protocol):
    """What ``read_clips`` needs from any input."""

    kind: InputKind
    fps: Fraction  # the rate the frame rule counts source frames in
    duration: Fraction  # seconds of frames
    note: str  # something found about the input worth saying (else empty)

    @property
    def timeline(self) -> Timeline | None:
        """Its frames as the loader counted them (None: a still, one picture)."""
        ...

    def pick(self, instants: Sequence[Fraction]) -> list[Picked[Shown]]:
        """The converted frame shown at each instant (sorted ascending)."""
        ...

    def seconds(self, pts: int) -> Fraction:
        """Seconds from the start of a picked frame's timestamp."""
        ...


@contextlib.contextmanager
def open_source(
    path: str | Path, pixels: FramePixels, *, threads: int = 0, folder_fps: float = DEFAULT_FOLDER_FPS
) -> Iterator[FrameSource]:
    """The source for ``path`` (kind from ``input_kind``), closed on every path."""
    kind = input_kind(path)
    if kind == "image":
        yield StillSource(Path(path), pixels)
    elif kind == "frames":
        yield FolderSource(Path(path), pixels, folder_fps)
    else:
        with open_video(path, threads=threads) as (container, stream):
            yield VideoSource(Path(path), container, stream, pixels)


class VideoSource:
    """A video file's first video stream (as torchvision's reader took it), decoded by time."""

    kind: InputKind = "video"

    def __init__(self, path: Path, container: InputContainer, stream: VideoStream, pixels: FramePixels) -> None:
        av = import_av()
        self.path, self.container, self.stream, self.pixels = path, container, stream, pixels
        try:
            self.clock: StreamClock = stream_clock(container, stream)
        except av.FFmpegError as err:
            raise VideoError(f"{path}: cannot decode, damaged data ({ffmpeg_reason(err)})") from err
        clock = self.clock
        if clock.truncated:
            assert clock.claimed is not None and clock.held is not None
            raise VideoError(
                f"{path}: truncated or damaged: data stops at {float(clock.held):.2f} s of the "
                f"{float(clock.claimed):.2f} s its header claims"
            )
        self.note = ""
        if clock.longer_than_claimed:
            assert clock.claimed is not None and clock.held is not None
            self.note = (
                f"header claims {float(clock.claimed):.2f} s but the video data runs to {float(clock.held):.2f} s: "
                "clips cover the data"
            )
        # The frame rule counts in torchvision's video_fps (av_guess_frame_rate as float32) and places
        # clips on the header's duration (frame_rule); a header claiming less than the data holds is
        # wrong, and the data's duration stands in for it (README: where we differ).
        duration = stream.duration
        if clock.longer_than_claimed and clock.duration is not None:
            duration = round(clock.duration / clock.time_base)
        self.timeline: FrameTable = FrameTable(str(path), container, stream, clock, duration)
        self.fps = Fraction(self.timeline.fps)
        self.duration = clock.duration or Fraction(0)

    def pick(self, instants: Sequence[Fraction]) -> list[Picked[Shown]]:
        """Decode the frames on screen at ``instants`` in one in-order pass."""
        av = import_av()
        try:
            decoded = pick_frames(self.container, self.stream, self.clock, instants, self.pixels.video_frame)
        except NoFramesError as err:
            raise VideoError(f"{self.path}: no frame could be decoded ({err})") from err
        except av.FFmpegError as err:
            raise VideoError(f"{self.path}: cannot decode, damaged data ({ffmpeg_reason(err)})") from err
        end, duration = decoded.end_pts, self.clock.duration
        if end is not None and duration is not None and any(p.past_end for p in decoded.picked):
            stop = self.clock.to_seconds(end)
            if duration - stop > DURATION_TOLERANCE:  # frames the packets promised but the decoder could not give
                why = f": {decoded.damage}" if decoded.damage else ""
                raise VideoError(
                    f"{self.path}: truncated or damaged: frames stop at {float(stop):.2f} s of the "
                    f"{float(duration):.2f} s it claims{why}"
                )
        return decoded.picked

    def seconds(self, pts: int) -> Fraction:
        """Seconds from the stream's start."""
        return self.clock.to_seconds(pts)


def read_image(path: Path) -> Image:
    """A still as RGB, EXIF orientation applied (a GIF: its first frame); a VideoError if unreadable
    (a device or pipe named like an image, or a picture over PIL's decompression-bomb limit, too)."""
    import warnings

    from PIL import Image as PILImage
    from PIL import ImageOps, UnidentifiedImageError

    if not path.exists():
        raise VideoError(f"{path}: no such file")
    special = special_file(path)
    if special:
        raise VideoError(f"{path}: {special}, not an image file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: empty file (0 bytes)")
    try:
        with warnings.catch_warnings():  # PIL's own warning would reach the terminal raw
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(path) as opened:
                opened.load()
                image: Image = opened
                if opened.getexif().get(_ORIENTATION, 1) != 1:
                    image = ImageOps.exif_transpose(opened)
                return _to_rgb(image)
    except PermissionError as err:
        raise VideoError(f"{path}: cannot read the file (permission denied)") from err
    except (PILImage.DecompressionBombWarning, PILImage.DecompressionBombError) as err:
        size = str(err).split(", could be")[0].rstrip(".")
        raise VideoError(
            f"{path}: not read: {size}, PIL's guard against decompression bombs (downscale it, or raise "
            "PIL.Image.MAX_IMAGE_PIXELS in Python)"
        ) from err
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        reason = str(err).replace(str(path), "").strip(" :'\"") or type(err).__name__
        raise VideoError(f"{path}: not a readable image, damaged or of another kind ({reason})") from err


# Integer gray modes wider than 8 bits: PIL's convert("RGB") clips their values at 255 (mid-gray
# 32768 turns white), so they are scaled as 16-bit data: value / 257 maps 0..65535 onto 0..255.
_WIDE_GRAY = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})


def _to_rgb(image: Image) -> Image:
    """``image`` as 8-bit RGB: 16-bit gray (and 32-bit ``I``, taken as 16-bit data) scaled by 1/257
    and rounded; every other mode through PIL's own convert (``F`` on the 0-255 scale, alpha
    dropped, palettes and CMYK resolved, 1-bit as 0/255)."""
    if image.mode in _WIDE_GRAY:
        import numpy as np
        from PIL import Image as PILImage

        values = np.asarray(image, dtype=np.float64)
        eight = np.clip(np.rint(values / 257), 0, 255).astype(np.uint8)
        return PILImage.fromarray(eight).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


class StillSource:
    """One image: every clip frame shows it (the ImageNet models saw images this way)."""

    kind: InputKind = "image"
    fps = Fraction(30)
    duration = Fraction(0)
    note = ""
    timeline = None

    def __init__(self, path: Path, pixels: FramePixels) -> None:
        self.path = path
        image = read_image(path)
        self._shown = Shown(pixels.image(image), image.height, image.width, 0)

    def pick(self, instants: Sequence[Fraction]) -> list[Picked[Shown]]:
        """The image, at every instant."""
        return [Picked(self._shown, 0, False) for _ in instants]

    def seconds(self, pts: int) -> Fraction:
        """A still has one instant."""
        return Fraction(0)


def frame_files(folder: Path) -> list[Path]:
    """The image files of a frame folder in natural order (hidden files skipped)."""
    images = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")]
    return sorted((p for p in images if p.is_file()), key=lambda p: natural_key(p.name))


class FolderSource:
    """A folder of numbered frames, one video at ``fps``: frame i is shown from i / fps. The loader
    never read folders; it is a video without a stated duration (every frame read, clips placed
    on the frame count), so its own timeline."""

    kind: InputKind = "frames"
    note = ""
    meta: LoaderMeta | None = None

    def __init__(self, path: Path, pixels: FramePixels, fps: float) -> None:
        if not fps > 0 or not math.isfinite(fps):
            raise VideoError(f"{path}: frame rate must be a positive number, got {fps}")
        self.path, self.pixels = path, pixels
        self.files = frame_files(path)
        if not self.files:
            raise VideoError(f"{path}: folder holds no frames (looked for {', '.join(sorted(IMAGE_EXTENSIONS))})")
        self.fps = to_fraction(fps)
        self.duration = len(self.files) / self.fps
        self.timeline = self

    def load(self, start_us: int, end_us: int | None) -> None:
        """Nothing to read ahead: the files are listed."""

    def frames_in(self, start_us: int, end_us: int | None) -> Sequence[int]:
        """Never asked: a folder has no pts windows (``meta`` is None)."""
        raise NotImplementedError("a frame folder is read whole")

    def every_frame(self) -> Sequence[int]:
        """Frame indices, in order."""
        return range(len(self.files))

    def pick(self, instants: Sequence[Fraction]) -> list[Picked[Shown]]:
        """Load each needed frame once; instants past the last frame show the last frame."""
        shown: dict[int, Shown] = {}
        picked = []
        for t in instants:
            index = min(max(math.floor(t * self.fps), 0), len(self.files) - 1)
            if index not in shown:
                image = read_image(self.files[index])
                shown[index] = Shown(self.pixels.image(image), image.height, image.width, 0)
            picked.append(Picked(shown[index], index, t >= self.duration))
        return picked

    def seconds(self, pts: int) -> Fraction:
        """Frame ``pts`` is shown from ``pts / fps``."""
        return pts / self.fps
