"""What ``complete`` and ``attend`` share: their ``run.json`` read as run head, clips and failures."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..header import RunInfo
from ..html import Html, tag, visible
from ..lists import Column, number
from ..paths import Linker, Names


@dataclass(frozen=True)
class ClipFiles:
    """One clip as the page shows it: its name, and its picture, MP4, the MP4's poster frame (the
    picture when the run wrote none) and arrays (``--save-arrays``, ``--save-maps``) as relative URLs."""

    name: str
    picture: str | None
    animation: str | None
    arrays: str | None
    record: dict[str, Any]
    poster: str | None = None


@dataclass(frozen=True)
class PerClipRun:
    """A ``complete`` or ``attend`` run: its head, clips and failures (short names, reasons)."""

    info: RunInfo
    clips: list[ClipFiles]
    failed: list[tuple[str, str]]
    root: str


def read_per_clip(folder: Path, record: dict[str, Any], path: Path) -> PerClipRun:
    """The run recorded in ``path`` (``folder/run.json``)."""
    clips = [c for c in record.get("clips", []) if isinstance(c, dict)]
    failed = [f for f in record.get("failed", []) if isinstance(f, dict)]
    names = Names.of([str(c.get("video", "")) for c in clips] + [str(f.get("video", "")) for f in failed])
    per_video = Counter(str(c.get("video", "")) for c in clips)
    linker = Linker(folder)
    files = []
    for clip in clips:
        video = str(clip.get("video", ""))
        name = visible(names.short(video))
        if per_video[video] > 1:
            name += f" \u00b7 clip {clip.get('clip', 0)}"
        mp4 = next((a for a in clip.get("animations") or [] if str(a).lower().endswith(".mp4")), None)
        arrays = linker.link(clip.get("arrays") or clip.get("maps"))
        picture = linker.link(clip.get("picture"))
        poster = linker.link(clip.get("poster")) or picture
        files.append(ClipFiles(name, picture, linker.link(mp4), arrays, clip, poster))
    settings = {**record.get("settings", {}), "preprocessing": record.get("preprocessing", {})}
    info = RunInfo(
        command=f"vidm {str(record.get('command', '')).removeprefix('vidm ')}",
        model=record.get("model", {}),
        settings=settings,
        versions=record.get("versions", {}),
        started=record.get("started"),
        seconds=record.get("seconds"),
        written=os.path.getmtime(path),
    )
    reasons = [(names.short(str(f.get("video", ""))), str(f.get("reason", ""))) for f in failed]
    return PerClipRun(info, files, reasons, names.root)


def repeated(clip: ClipFiles) -> int | None:
    """How many of the clip's positions show its video's last frame again (the video is shorter than a clip)."""
    value = number(clip.record.get("repeated_frames"))
    return None if value is None else int(value)


def repeats(clips: list[ClipFiles], field: int) -> tuple[list[Column], Html | None]:
    """A ``repeated`` column (row field ``field``) and a note, when any clip runs past its video's
    end; nothing otherwise."""
    short = [c for c in clips if repeated(c)]
    if not short:
        return [], None
    column = Column("repeated", field, "num", title="positions showing the video's last frame again")
    note = tag(
        "p",
        f"{len(short)} of {len(clips)} clips run past the end of a video shorter than a clip: its last frame "
        "fills the positions after it (the repeated column; the end is the video's).",
        class_="note",
    )
    return [column], note
