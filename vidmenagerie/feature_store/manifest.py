"""The manifests beside the features: what every row is (``index.csv``) and what became of every video (``videos.csv``).

``index.csv``: ``row, video, clip, crop, start, end`` (seconds). ``clip`` is the window's number
within its video, ``crop`` 0 for the centre crop, or 0/1/2 for left/centre/right (top/centre/
bottom for portrait video) with ``--crops 3``. With ``--reduce mean`` a row is the mean of a
whole video and the columns are ``clips`` and ``crops`` (how many were averaged), ``start`` of
the first window and ``end`` of the last. A per-video output adds ``file`` and numbers rows
within each file.

``videos.csv``: ``video, status, first_row, rows, reason, fingerprint`` (``file`` instead of
``first_row`` per video); status is ``ok``, ``failed`` (reason says why) or ``pending`` (not
reached yet: the run was interrupted); ``fingerprint`` is the input's size and modification
time when it was embedded (``size:mtime_ns``), so a resumed run redoes a replaced video.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..batch.outputs import read_csv, write_csv

Status = Literal["ok", "failed", "pending"]


@dataclass(frozen=True)
class RowInfo:
    """What one row is: its video's window and crop, and the seconds it covers.

    In a reduced output ``clip`` and ``crop`` count the windows and crops averaged.
    """

    clip: int
    crop: int
    start: float
    end: float


@dataclass(frozen=True)
class VideoStatus:
    """One input video: ``ok`` with its rows, ``failed`` with a reason, or ``pending``."""

    video: str
    status: Status
    rows: int = 0
    first_row: int | None = None
    file: str | None = None
    reason: str = ""
    fingerprint: str = ""


def _seconds(value: float) -> str:
    """Seconds with microsecond resolution, the same text every time."""
    return f"{value:.6f}"


def _clip_columns(reduced: bool) -> tuple[str, str]:
    return ("clips", "crops") if reduced else ("clip", "crop")


def write_index(
    path: Path, rows: Iterable[tuple[str, str | None, int, RowInfo]], *, reduced: bool, per_video: bool
) -> None:
    """Write ``index.csv`` atomically from ``(video, file, row number, RowInfo)`` tuples."""
    clip, crop = _clip_columns(reduced)
    header = ["row", "video", *(["file"] if per_video else []), clip, crop, "start", "end"]
    with write_csv(path, header) as write:
        for video, file, number, info in rows:
            where = [video, file] if per_video else [video]
            write([number, *where, info.clip, info.crop, _seconds(info.start), _seconds(info.end)])


def write_videos(path: Path, statuses: Sequence[VideoStatus], *, per_video: bool) -> None:
    """Write ``videos.csv`` atomically, one line per input video, in input order."""
    where = "file" if per_video else "first_row"
    with write_csv(path, ["video", "status", where, "rows", "reason", "fingerprint"]) as write:
        for s in statuses:
            place = s.file if per_video else s.first_row
            write([s.video, s.status, "" if place is None else place, s.rows, s.reason, s.fingerprint])


def read_index(path: Path) -> list[tuple[str, str | None, int, RowInfo]]:
    """``index.csv`` back as ``(video, file, row number, RowInfo)`` tuples."""
    rows = read_csv(path)
    clip, crop = _clip_columns(bool(rows) and "clips" in rows[0])
    return [
        (
            r["video"],
            r.get("file"),
            int(r["row"]),
            RowInfo(int(r[clip]), int(r[crop]), float(r["start"]), float(r["end"])),
        )
        for r in rows
    ]


def read_videos(path: Path) -> list[VideoStatus]:
    """``videos.csv`` back, in its order."""
    result = []
    for r in read_csv(path):
        first = r.get("first_row")
        result.append(
            VideoStatus(
                video=r["video"],
                status=r["status"],  # type: ignore[arg-type]
                rows=int(r["rows"]),
                first_row=int(first) if first else None,
                file=r.get("file") or None,
                reason=r["reason"],
                fingerprint=r.get("fingerprint") or "",
            )
        )
    return result
