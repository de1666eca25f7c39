"""What reading a clip returns: normalized frames plus where they came from."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ClipInfo:
    """Facts about the source (a video, a frame folder or a still: ``kind``; a still has fps 0
    and duration 0), how many clip frames repeat its last frame because the clip runs past its
    end (a short video never makes a clip fail), and anything found worth saying (``note``,
    e.g. a header that claims less than the data holds)."""

    fps: float
    width: int
    height: int
    duration: float
    rotation: int
    repeated_frames: int
    kind: str = "video"
    note: str = ""


@dataclass(frozen=True, eq=False)
class Clip:
    """One clip: ``frames`` float32 [3, T, S, S] normalized, ``times`` the presentation time
    (seconds from the video's first frame) of each chosen frame, the window it covers
    [``start``, ``end``) (``end``: the video's end where the window runs past it), its window and
    crop index, and the source file."""

    frames: torch.Tensor
    times: tuple[float, ...]
    start: float
    end: float
    source: str
    info: ClipInfo
    window: int = 0
    crop: int = 0
