"""Finding dataset videos by file-name stem (SSv2 ``<id>.webm``, Kinetics ``<id>_<start>_<end>.mp4``) in a folder
and its subfolders, one scan for the whole set."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vidmenagerie.errors import InvalidSetting
from vidmenagerie.labelled.match import class_key
from vidmenagerie.video.find import is_frame_folder
from vidmenagerie.video.kinds import VIDEO_EXTENSIONS


@dataclass(frozen=True)
class VideoIndex:
    """Videos (any of ``VIDEO_EXTENSIONS``) and candidate frame folders in ``root`` and its direct subfolders,
    by stem. Deeper folders are not searched: the common layouts are ``root/<name>`` and ``root/<class>/<name>``."""

    root: Path
    by_stem: dict[str, tuple[Path, ...]]

    @classmethod
    def scan(cls, root: Path) -> VideoIndex:
        """Index ``root`` (an ``InvalidSetting`` on ``videos`` if it is not a folder); unreadable subfolders are
        passed over, so their videos are reported missing."""
        if not root.is_dir():
            raise InvalidSetting("videos", f"{root}: not a folder of videos")
        found: dict[str, list[Path]] = {}
        for entry, is_dir in _entries(root):
            if is_dir:
                found.setdefault(entry.name, []).append(entry)  # a frame folder named like a video, or a class
                for inner, inner_is_dir in _entries(entry):
                    if inner_is_dir:
                        found.setdefault(inner.name, []).append(inner)
                    elif inner.suffix.lower() in VIDEO_EXTENSIONS:
                        found.setdefault(inner.stem, []).append(inner)
            elif entry.suffix.lower() in VIDEO_EXTENSIONS:
                found.setdefault(entry.stem, []).append(entry)
        return cls(root, {stem: tuple(sorted(paths)) for stem, paths in found.items()})

    def find(self, stems: tuple[str, ...], *, prefer: str | None = None) -> Path | None:
        """The first of ``stems`` that names a video or a folder of frames; with several such files, the one in
        the subfolder named like ``prefer`` (a class name, loosely), else in the root, else the first by path."""
        for stem in stems:
            usable = [p for p in self.by_stem.get(stem, ()) if p.is_file() or is_frame_folder(p, "always")]
            if usable:
                wanted = class_key(prefer) if prefer else None
                return min(usable, key=lambda p: (class_key(p.parent.name) != wanted, p.parent != self.root, str(p)))
        return None

    def missing_reason(self, stems: tuple[str, ...]) -> str:
        """Why none of ``stems`` was found, in words."""
        names = " or ".join(f"{s}.*" for s in stems)
        return f"no video {names} (nor a frame folder) in {self.root} or its subfolders"


def _entries(folder: Path) -> list[tuple[Path, bool]]:
    """The non-hidden entries of ``folder`` with whether each is a folder (one ``scandir``, no extra stat);
    none if it cannot be read."""
    try:
        with os.scandir(folder) as it:
            return [(Path(e.path), e.is_dir()) for e in it if not e.name.startswith(".")]
    except OSError:
        return []
