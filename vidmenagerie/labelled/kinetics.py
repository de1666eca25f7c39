"""A Kinetics annotation CSV (``label,youtube_id,time_start,time_end,split``) plus a folder of its videos.

Columns are found by the header (required; extra ones such as ``split`` or ``is_cc`` are ignored). Labels are
class names, matched ignoring case and punctuation (``acting_in_play`` = ``acting in play``); an unknown one is
an error naming it, the file and the line. A row's video is ``<youtube_id>_<start:06d>_<end:06d>`` (the common
Kinetics layout) or else ``<youtube_id>``, any video extension or a frame folder of that name, in the video
folder or one of its subfolders (``<folder>/<label>/``); one not found is listed as missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vidmenagerie.errors import VideoError
from vidmenagerie.labelled.locate import VideoIndex
from vidmenagerie.labelled.match import ClassMatcher
from vidmenagerie.labelled.sample import LabelledSample, LabelledSet, Missing
from vidmenagerie.labelled.tables import read_rows

KINETICS_COLUMNS: tuple[str, ...] = ("label", "youtube_id", "time_start", "time_end")


def is_kinetics_header(row: Sequence[str]) -> bool:
    """Whether a CSV's first row is a Kinetics header (it names a ``youtube_id`` column)."""
    return "youtube_id" in {c.strip().lower() for c in row}


def read_kinetics(csv_file: Path, class_names: Sequence[str], *, videos: Path) -> LabelledSet:
    """The samples of a Kinetics CSV whose videos are under ``videos``, labelled by class name."""
    rows = read_rows(csv_file)
    if not rows:
        raise VideoError(f"{csv_file}: the table has no rows")
    header_line, header = rows[0]
    lowered = [c.lower() for c in header]
    absent = [c for c in KINETICS_COLUMNS if c not in lowered]
    if absent:
        names = ", ".join(absent)
        raise VideoError(f"{csv_file}:{header_line}: Kinetics table has no {names} column (header: {','.join(header)})")
    label_col, id_col, start_col, end_col = (lowered.index(c) for c in KINETICS_COLUMNS)
    matcher = ClassMatcher.of(class_names)
    index = VideoIndex.scan(videos)
    samples: list[LabelledSample] = []
    missing: list[Missing] = []
    for line, row in rows[1:]:
        where = f"{csv_file}:{line}"
        if len(row) < len(header):
            raise VideoError(f"{where}: expected {len(header)} columns ({','.join(header)}), got {len(row)}")
        if not row[label_col]:
            raise VideoError(f"{where}: no label (the Kinetics test split is unlabelled)")
        label = matcher.index(row[label_col], where)
        start, end = _second(row[start_col], where), _second(row[end_col], where)
        stems = (f"{row[id_col]}_{start:06d}_{end:06d}", row[id_col])
        source = f"{csv_file.name}:{line}"
        path = index.find(stems, prefer=row[label_col])
        if path is None:
            missing.append(Missing(stems[0], source, index.missing_reason(stems)))
        else:
            samples.append(LabelledSample(path, label, source))
    description = f"labels from {csv_file.name} (Kinetics): class names matched ignoring case and punctuation"
    return LabelledSet(csv_file, tuple(samples), tuple(missing), tuple(class_names), "names", description)


def _second(text: str, where: str) -> int:
    """A whole number of seconds from a ``time_start`` / ``time_end`` cell ("10", "10.0")."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value.is_integer() or value < 0:
        raise VideoError(f"{where}: time {text!r} is not a whole number of seconds")
    return int(value)
