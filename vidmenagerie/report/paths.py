"""Where a run's files are, seen from its output folder: relative links, and short video names.

``run.json`` records paths as the run saw them (absolute, or relative to its working folder);
the page links them relative to the folder, and still finds them after the folder was moved.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from ..batch.outputs import common_folder, distinct_tails
from .html import url


@dataclass(frozen=True)
class Linker:
    """Turns a recorded path into a URL relative to ``folder`` (None when the file is not there)."""

    folder: Path

    def link(self, recorded: str | None) -> str | None:
        """The URL of ``recorded`` inside the folder; a path from before a move is matched by its
        longest tail that exists in the folder."""
        if not recorded:
            return None
        root = Path(os.path.abspath(self.folder))
        path = Path(os.path.abspath(recorded))
        if path.is_relative_to(root) and path.is_file():
            return url(path.relative_to(root))
        parts = PurePath(recorded).parts
        for start in range(1 if PurePath(recorded).is_absolute() else 0, len(parts)):
            tail = PurePath(*parts[start:])
            if (root / tail).is_file():
                return url(tail)
        return None


@dataclass(frozen=True)
class Names:
    """Videos named relative to their common folder (``root``), as the outputs mirror them; when
    they share no folder below the filesystem's root, each by the shortest ending of its path that
    no other video shares (``demo.mp4``, not ``usr/lib/.../demo.mp4``)."""

    root: str
    tails: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, videos: Sequence[str]) -> Names:
        """The names of ``videos``: below their common folder, else by distinct endings."""
        paths = [os.path.abspath(v) for v in videos]
        root = common_folder(paths)
        return cls(root) if root else cls("", distinct_tails(paths))

    def short(self, video: str) -> str:
        """``video`` below the common folder (or its distinct ending)."""
        if not self.root:
            return self.tails.get(os.path.abspath(video), video)
        path = os.path.abspath(video)
        prefix = self.root.rstrip(os.sep) + os.sep
        return path[len(prefix) :] if path.startswith(prefix) else os.path.relpath(path, self.root)

    def group(self, video: str) -> str:
        """The top-level folder of ``video`` below the common folder; a file directly in it is named by
        that folder's name (``clips/``), which no subfolder's name can be."""
        parts = PurePath(self.short(video)).parts
        if len(parts) > 1:
            return parts[0]
        return f"{os.path.basename(self.root.rstrip(os.sep)) or 'top level'}/"
