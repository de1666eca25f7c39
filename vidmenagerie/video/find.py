"""``find_videos``: the video files named by command-line paths, folders and list files."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from vidmenagerie.errors import VideoError

VIDEO_EXTENSIONS: frozenset[str] = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi"})
LIST_EXTENSIONS: frozenset[str] = frozenset({".txt", ".lst"})


def find_videos(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """Expand paths into video files, deterministically, without duplicates.

    - a folder: its videos (known extensions, any case), recursively, sorted by relative path;
      hidden files and folders (names starting with '.') are skipped;
    - a ``.txt`` / ``.lst`` file: the paths it lists, one per line, relative to the list's
      folder; blank lines and ``#`` comments are skipped; entries may be files or folders;
    - any other file: kept as given, whatever its extension.

    Results keep the order of the arguments. A missing path, a folder without videos or a list
    naming nothing raises VideoError naming it.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    found: dict[Path, None] = {}
    for path in map(Path, paths):
        for video in _expand(path, listed_in=None):
            found.setdefault(video, None)
    return list(found)


def _expand(path: Path, listed_in: str | None) -> list[Path]:
    """The videos one argument (or list entry, ``listed_in`` saying where) stands for."""
    where = f" (listed in {listed_in})" if listed_in else ""
    if path.is_dir():
        videos = sorted(
            (p for p in path.rglob("*") if _is_video(p, path)), key=lambda p: p.relative_to(path).as_posix()
        )
        if not videos:
            known = ", ".join(sorted(VIDEO_EXTENSIONS))
            raise VideoError(f"{path}{where}: folder holds no videos (looked for {known})")
        return videos
    if not path.exists():
        raise VideoError(f"{path}{where}: no such file or folder")
    if path.suffix.lower() in LIST_EXTENSIONS and listed_in is None:
        return _read_list(path)
    return [path]


def _is_video(path: Path, root: Path) -> bool:
    """A non-hidden file under ``root`` with a known video extension."""
    if path.suffix.lower() not in VIDEO_EXTENSIONS or not path.is_file():
        return False
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def _read_list(list_file: Path) -> list[Path]:
    """The videos named by a list file's entries (lists inside lists are taken as files)."""
    try:
        lines = list_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise VideoError(f"{list_file}: cannot read the list ({err})") from err
    videos: list[Path] = []
    for number, line in enumerate(lines, start=1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        path = Path(entry).expanduser()
        if not path.is_absolute():
            path = Path(os.path.normpath(list_file.parent / path))  # "lists/../a.mp4" -> "a.mp4"
        videos.extend(_expand(path, listed_in=f"{list_file}:{number}"))
    if not videos:
        raise VideoError(f"{list_file}: list names no videos")
    return videos
