"""What kind of input a path is (video file, still image, folder of frames): names only, no decoding.

Kept apart from the decoders so that finding inputs (``vidm embed --help``, folder walks) needs
neither torch nor PyAV.
"""

from __future__ import annotations

import os
import re
import stat
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


_SPECIAL = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe"),
            (stat.S_ISSOCK, "a socket"))  # fmt: skip


def special_file(path: str | Path) -> str | None:
    """What ``path`` is when it exists but is neither a regular file nor a folder (``/dev/zero``:
    "a character device"), so that it is named as such, not as missing or empty; else None."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return next((what for test, what in _SPECIAL if test(mode)), None)
