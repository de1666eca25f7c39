"""The classes a labelled source names itself, for probes whose classes are the user's, not a model head's.

- class folders: the subfolder names (hidden ones aside), in sorted order, as torchvision's ImageFolder;
- a ``path,label`` CSV: its label cells, sorted; when every label is a whole number they are class
  indices, named ``"0"`` .. ``"max"``;
- a Kinetics CSV: its ``label`` column; an SSv2 JSON: its ``template`` strings; both sorted.

``read_labelled(source, source_classes(source))`` then reads the source with these names.
"""

from __future__ import annotations

import json
from pathlib import Path

from vidmenagerie.errors import VideoError
from vidmenagerie.labelled.kinetics import is_kinetics_header
from vidmenagerie.labelled.match import parse_index
from vidmenagerie.labelled.tables import LABEL_COLUMNS, PATH_COLUMNS, first_row, read_rows


def source_classes(source: str | Path) -> tuple[str, ...]:
    """The class names ``source`` uses (see the module doc); a VideoError naming the file when it has none."""
    path = Path(source).expanduser()
    if path.is_dir():
        names = sorted(e.name for e in path.iterdir() if e.is_dir() and not e.name.startswith("."))
        if not names:
            raise VideoError(f"{path}: no class subfolders (a labelled folder holds one subfolder per class)")
        return tuple(names)
    if not path.exists():
        raise VideoError(f"{path}: no such file or folder")
    if path.suffix.lower() == ".json":
        return _templates(path)
    if path.suffix.lower() == ".csv":
        return _table_labels(path)
    return ()  # read_labelled says what a labelled source is


def _templates(path: Path) -> tuple[str, ...]:
    """The distinct SSv2 templates of an annotation list."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise VideoError(f"{path}: cannot read the SSv2 annotations ({err})") from None
    if not isinstance(entries, list):
        raise VideoError(f"{path}: SSv2 annotations must be a JSON list of {{id, template}} objects")
    found = {e["template"] for e in entries if isinstance(e, dict) and isinstance(e.get("template"), str)}
    return tuple(sorted(found))


def _table_labels(path: Path) -> tuple[str, ...]:
    """The distinct labels of a ``path,label`` or Kinetics CSV (indices named by their numbers)."""
    rows = read_rows(path)
    header = [c.strip().lower() for c in first_row(path)]
    if is_kinetics_header(header):
        column = header.index("label") if "label" in header else 0
        rows = rows[1:]
    elif header and set(header) & set(PATH_COLUMNS) and set(header) & set(LABEL_COLUMNS):
        column = header.index(next(w for w in LABEL_COLUMNS if w in header))
        rows = rows[1:]
    else:
        column = 1
    cells = sorted({row[column] for _, row in rows if len(row) > column and row[column]})
    numbers = [parse_index(c) for c in cells]
    if cells and all(n is not None and n >= 0 for n in numbers):
        return tuple(str(i) for i in range(max(n for n in numbers if n is not None) + 1))
    if any(n is not None for n in numbers):
        raise VideoError(f"{path}: labels mix class indices and class names: use one or the other")
    return tuple(cells)
