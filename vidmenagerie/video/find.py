"""``find_inputs``: the videos, stills and frame folders named by paths, folders and list files.

A folder is read as *one video* (a frame folder, as DINO/VideoMAE users store datasets) when
``frame_folders`` says so:

- ``"auto"`` (default): it holds at least two files, all images of one extension, no
  subfolders and no videos, and the names differ only in one number whose values step
  evenly (``00001.jpg, 00002.jpg, ...``; ``frame_0000.png, frame_0004.png, ...``; two
  images only when their numbers are neighbours). A folder of
  photos with gaps in their numbering (``IMG_0012.jpg, IMG_0047.jpg``) is a folder of stills;
  a contiguous camera dump looks exactly like frames: say ``"never"`` for it.
- ``"always"``: every folder that directly holds images is a frame folder.
- ``"never"``: images are always stills.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from vidmenagerie.errors import InvalidSetting, VideoError
from vidmenagerie.video.kinds import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, special_file

LIST_EXTENSIONS: frozenset[str] = frozenset({".txt", ".lst"})
FrameFolders = Literal["auto", "always", "never"]
FRAME_FOLDER_MODES: tuple[str, ...] = get_args(FrameFolders)
INPUT_EXTENSIONS: frozenset[str] = VIDEO_EXTENSIONS | IMAGE_EXTENSIONS
_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")


def check_frame_folders(mode: str) -> FrameFolders:
    """``mode`` itself if it is a known frame-folder mode, else an ``InvalidSetting`` naming the choices."""
    if mode not in FRAME_FOLDER_MODES:
        choices = ", ".join(FRAME_FOLDER_MODES)
        raise InvalidSetting("frame_folders", f"frame folders must be one of {choices}, not {mode!r}")
    return mode  # type: ignore[return-value]


def find_inputs(
    paths: str | Path | Iterable[str | Path],
    *,
    frame_folders: FrameFolders = "auto",
    skipped: list[tuple[Path, str]] | None = None,
    repeats: list[Path] | None = None,
) -> list[Path]:
    """Expand paths into inputs (video files, still images, frame folders), deterministically,
    without duplicates.

    - a folder: a frame folder itself (see the module doc), else its videos, stills and frame
      folders, recursively, sorted by relative path; names starting with '.' are skipped;
    - a ``.txt`` / ``.lst`` file: the paths it lists, one per line, relative to the list's
      folder; blank lines and ``#`` comments are skipped; entries may be files or folders; an
      entry that is not there (or a folder without inputs) is kept as it is, so that a run
      reports it as failed and the others go on;
    - any other file: kept as given, whatever its extension.

    Links are followed, but each real folder and file is visited once: a link back to a folder
    above it (``sub/up -> ..``), or to anything already found, is a repeat, skipped and, when
    ``repeats`` is a list, added to it. Real paths win over links to them.

    Results keep the order of the arguments. A missing path, a folder without inputs or a list
    naming nothing (given as arguments) raises VideoError naming it. A subfolder that cannot be read is skipped and,
    when ``skipped`` is a list, added to it with the reason (so a caller can say how many).
    """
    mode = check_frame_folders(frame_folders)
    if isinstance(paths, (str, Path)):
        paths = [paths]
    search = Search(mode)
    found: dict[Path, None] = {}
    try:
        for path in map(Path, paths):
            for item in search.expand(path):
                found.setdefault(item, None)
    finally:
        if skipped is not None:
            skipped.extend(search.skipped)
        if repeats is not None:
            repeats.extend(search.repeats)
    return list(found)


def find_videos(paths: str | Path | Iterable[str | Path], *, frame_folders: FrameFolders = "auto") -> list[Path]:
    """The earlier name of :func:`find_inputs` (which also finds stills and frame folders)."""
    return find_inputs(paths, frame_folders=frame_folders)


def is_frame_folder(folder: Path, mode: FrameFolders = "auto") -> bool:
    """Whether ``folder`` is read as one video of numbered frames under ``mode``."""
    if mode == "never":
        return False
    entries = [e for e in folder.iterdir() if not e.name.startswith(".")]
    images = [e for e in entries if e.is_file() and e.suffix.lower() in IMAGE_EXTENSIONS]
    if mode == "always":
        return bool(images)
    if len(images) < 2 or len(images) != len(entries):
        return False
    if len({e.suffix.lower() for e in images}) != 1:
        return False
    matches = [_LAST_NUMBER.search(e.stem) for e in images]
    if any(m is None for m in matches):
        return False
    patterns = {e.stem[: m.start()] + "#" + e.stem[m.end() :] for e, m in zip(images, matches) if m}
    if len(patterns) != 1:
        return False
    numbers = sorted(int(m.group(1)) for m in matches if m)
    steps = {b - a for a, b in zip(numbers, numbers[1:])}
    if len(numbers) == 2:  # any two numbers step evenly: only neighbours count as frames
        return steps == {1}
    return len(steps) == 1 and steps != {0}


@dataclass
class Search:
    """One search for inputs: what it skipped, and the real folders and files it has met (by device
    and inode), so that links are followed but nothing is visited twice (a loop such as
    ``sub/up -> ..`` would otherwise count the same files 40 times, or never end)."""

    mode: FrameFolders = "auto"
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # unreadable folders, with why
    repeats: list[Path] = field(default_factory=list)  # paths whose real file or folder was already met
    _met: set[tuple[int, int]] = field(default_factory=set, init=False, repr=False)

    def first_visit(self, path: Path) -> bool:
        """Whether the real file or folder behind ``path`` is met for the first time (else it is a repeat)."""
        info = path.stat()
        key = (info.st_dev, info.st_ino)
        if key in self._met:
            self.repeats.append(path)
            return False
        self._met.add(key)
        return True

    def expand(self, path: Path, listed_in: str | None = None) -> list[Path]:
        """The inputs one argument (or list entry, ``listed_in`` saying where) stands for."""
        where = f" (listed in {listed_in})" if listed_in else ""
        if path.is_dir():
            repeats = len(self.repeats)
            try:
                if not self.first_visit(path):
                    return []
                if is_frame_folder(path, self.mode):
                    return [path]
                found = self._walk(path)
            except OSError as err:
                raise VideoError(f"{path}{where}: cannot read the folder ({err.strerror or err})") from None
            if not found and len(self.repeats) == repeats:
                known = ", ".join(sorted(VIDEO_EXTENSIONS | IMAGE_EXTENSIONS))
                raise VideoError(f"{path}{where}: folder holds no videos or images (looked for {known})")
            return found
        if not path.exists():
            raise VideoError(f"{path}{where}: no such file or folder")
        special = special_file(path)
        if special:
            raise VideoError(f"{path}{where}: {special}, not a video, image or folder")
        if path.suffix.lower() in LIST_EXTENSIONS and listed_in is None:
            return self._read_list(path)
        return [path] if self.first_visit(path) else []

    def _walk(self, root: Path) -> list[Path]:
        """Videos, stills and frame folders below ``root``, sorted by path relative to it. Every real
        entry is visited before any link is followed (so a real path wins over a link to it);
        subfolders that cannot be read are added to ``skipped``."""
        found: list[Path] = []
        real: deque[Path] = deque()
        links: deque[Path] = deque()
        self._enter(root, real, links)
        while real or links:
            entry = real.popleft() if real else links.popleft()
            try:
                if entry.is_dir():
                    if not self.first_visit(entry):
                        continue
                    if is_frame_folder(entry, self.mode):
                        found.append(entry)
                    else:
                        self._enter(entry, real, links)
                elif entry.is_file() and entry.suffix.lower() in INPUT_EXTENSIONS and self.first_visit(entry):
                    found.append(entry)
            except OSError as err:
                self.skipped.append((entry, err.strerror or str(err)))
        return sorted(found, key=lambda p: p.relative_to(root).as_posix())

    @staticmethod
    def _enter(folder: Path, real: deque[Path], links: deque[Path]) -> None:
        """Queue the visible entries of ``folder`` by name: links apart, to be followed last."""
        for entry in sorted(folder.iterdir()):
            if not entry.name.startswith("."):
                (links if entry.is_symlink() else real).append(entry)

    def _read_list(self, list_file: Path) -> list[Path]:
        """The inputs named by a list file's entries (lists inside lists are taken as files)."""
        try:
            lines = list_file.read_text(encoding="utf-8", errors="surrogateescape").splitlines()  # any name
        except (OSError, UnicodeDecodeError) as err:
            raise VideoError(f"{list_file}: cannot read the list ({err})") from err
        found: list[Path] = []
        for number, line in enumerate(lines, start=1):
            entry = line.strip()
            if not entry or entry.startswith("#"):
                continue
            path = Path(entry).expanduser()
            if not path.is_absolute():
                path = Path(os.path.normpath(list_file.parent / path))  # "lists/../a.mp4" -> "a.mp4"
            try:
                found.extend(self.expand(path, f"{list_file}:{number}"))
            except (
                VideoError
            ):  # not there, or holds nothing: kept, so the run lists it as failed (with why) and goes on
                found.append(path)
        if not found:
            raise VideoError(f"{list_file}: list names no videos")
        return found
