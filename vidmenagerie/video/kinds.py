"""What kind of input a path is (video file, still image, folder of frames): names only, no decoding.

Kept apart from the decoders so that finding inputs (``vidm embed --help``, folder walks) needs
neither torch nor PyAV.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

InputKind = Literal["video", "frames", "image"]

VIDEO_EXTENSIONS: frozenset[str] = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi"})
# Stills PIL reads (GIF: its first frame). Matched case-insensitively.
IMAGE_EXTENSIONS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})


def input_kind(path: str | Path) -> InputKind:
    """What a path is read as: a folder of frames, a still image, or a video file."""
    path = Path(path)
    if path.is_dir():
        return "frames"
    return "image" if path.suffix.lower() in IMAGE_EXTENSIONS else "video"


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders numbers by value: frame2 before frame10."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name) if part)
