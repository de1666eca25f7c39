"""A ``path,label`` CSV read as a labelled set: one row per input, the label a class index or a class name.

- Header optional: the first row is a header when its cells include a path word (``path``, ``file``,
  ``filename``, ``video``, ``input``) and a label word (``label``, ``class``, ``class_name``, ``target``,
  ``index``), any case; the columns are then found by those words, the first listed winning, others ignored.
  Without a header, the first two columns are path and label.
- A label that is a whole number is a class index (out of range: an error); anything else is a class name,
  matched ignoring case and punctuation (unknown or ambiguous: an error naming the name, file and line).
- Paths are relative to the CSV's folder (or to ``base`` when given); ``~`` is expanded. A path that is
  not there is listed as missing; a folder is one input (a frame folder) when it holds images.
- Blank rows and rows whose first cell starts with ``#`` are skipped.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

from vidmenagerie.errors import VideoError
from vidmenagerie.labelled.match import ClassMatcher
from vidmenagerie.labelled.sample import LabelledSample, LabelledSet, Missing, Rule
from vidmenagerie.video.find import is_frame_folder

PATH_COLUMNS: tuple[str, ...] = ("path", "file", "filename", "video", "input")  # by preference
LABEL_COLUMNS: tuple[str, ...] = ("label", "class", "class_name", "target", "index")


def read_rows(csv_file: Path) -> list[tuple[int, list[str]]]:
    """The non-blank, non-comment rows of a CSV with their line numbers (a VideoError if it cannot be read)."""
    try:
        with csv_file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise VideoError(f"{csv_file}: cannot read the table ({err})") from None
    return [(line, [c.strip() for c in row]) for line, row in rows if any(row) and not row[0].lstrip().startswith("#")]


def first_row(csv_file: Path) -> list[str]:
    """The first non-blank row of a CSV (to tell its kind without reading it all); empty if none."""
    try:
        with csv_file.open(encoding="utf-8-sig", newline="") as handle:
            return next((row for row in csv.reader(handle) if any(row)), [])
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise VideoError(f"{csv_file}: cannot read the table ({err})") from None


def read_table(csv_file: Path, class_names: Sequence[str], *, base: Path | None = None) -> LabelledSet:
    """The samples of a ``path,label`` CSV, labelled as the module doc says."""
    matcher = ClassMatcher.of(class_names)
    rows = read_rows(csv_file)
    path_col, label_col = 0, 1
    if rows and _is_header(rows[0][1]):
        header = [c.lower() for c in rows[0][1]]
        path_col = header.index(next(w for w in PATH_COLUMNS if w in header))
        label_col = header.index(next(w for w in LABEL_COLUMNS if w in header))
        rows = rows[1:]
    if not rows:
        raise VideoError(f"{csv_file}: the table has no rows")
    folder = base if base is not None else csv_file.parent
    samples: list[LabelledSample] = []
    missing: list[Missing] = []
    by_index = by_name = 0
    for line, row in rows:
        where = f"{csv_file}:{line}"
        if len(row) <= max(path_col, label_col) or not row[path_col] or not row[label_col]:
            raise VideoError(f"{where}: expected a path and a label, got {','.join(row)!r}")
        label, numbered = matcher.label(row[label_col], where)
        by_index, by_name = by_index + numbered, by_name + (not numbered)
        path = Path(row[path_col]).expanduser()
        if not path.is_absolute():
            path = Path(os.path.normpath(folder / path))
        source = f"{csv_file.name}:{line}"
        reason = _absent(path)
        if reason:
            missing.append(Missing(str(path), source, reason))
        else:
            samples.append(LabelledSample(path, label, source))
    rule: Rule = "names-and-indices" if by_index and by_name else "indices" if by_index else "names"
    given = {"names": "class names (matched ignoring case and punctuation)", "indices": "class indices"}.get(
        rule, f"class indices ({by_index} rows) and class names ({by_name} rows)"
    )
    return LabelledSet(
        csv_file, tuple(samples), tuple(missing), tuple(class_names), rule, f"labels from {csv_file.name}: {given}"
    )


def _is_header(row: list[str]) -> bool:
    """Whether a first row names its columns (a path word and a label word)."""
    cells = {c.lower() for c in row}
    return bool(cells.intersection(PATH_COLUMNS)) and bool(cells.intersection(LABEL_COLUMNS))


def _absent(path: Path) -> str | None:
    """Why ``path`` cannot be an input, or None if it can (a file, or a folder holding images)."""
    if path.is_file():
        return None
    if path.is_dir():
        try:
            return None if is_frame_folder(path, "always") else "folder holds no frames"
        except OSError as err:
            return f"cannot read the folder ({err.strerror or err})"
    return "no such file or folder"
