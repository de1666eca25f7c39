"""What is compared: the embed outputs opened, their rows matched across outputs, and the users' own RDMs.

Rows are matched by ``(input path, clip, crop)`` as each output's ``index.csv`` names them (paths
as given to ``vidm embed``, normalised), or, with ``reduce="mean"``, by input path alone, each
input's rows averaged. Inputs that some output lacks are left out and named.

A user's RDM (behavioural or neural dissimilarities of the same inputs) is a CSV whose header
row names the inputs (an optional first column repeating the names), then the square matrix;
or ``NAME.npy`` (square) with its names in ``NAME.names.txt``, one per line in the matrix's order.
A name stands for the input whose path is that name, ends with ``/name``, or whose file name,
with or without its extension, is that name.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import CompareError

if TYPE_CHECKING:
    from ..feature_store import FeatureOutput

Key = tuple[str, int, int]  # (input path, clip, crop); (input path, -1, -1) for an input's mean
REDUCES: tuple[str, ...] = ("none", "mean")
SHOWN = 5  # inputs named in a message before "and N more"


@dataclass(frozen=True)
class Source:
    """One embed output: its path, its label on the page (the model, or model and file where two
    outputs share a model), the layers it stores (as stored, and as block indices) and the output."""

    path: Path
    label: str
    layers: tuple[int, ...]
    blocks: tuple[int, ...]
    output: FeatureOutput = field(repr=False)

    @property
    def model(self) -> str:
        return self.output.settings.model

    def features(self, layer: int) -> np.ndarray:
        """All rows of one stored layer, ``[rows, *feature_shape]`` (memory-mapped where the store allows)."""
        return self.output.layer_features(layer)


def open_sources(paths: Sequence[str | Path]) -> list[Source]:
    """Open each embed output (``feats.npy`` or a ``--per-video`` folder), labelled by its model; two
    outputs of one model with a layer in common are told apart by their file or folder name."""
    from ..feature_store import load_features

    outputs = [(Path(p), load_features(p)) for p in paths]
    found = [(path, output, output.layers) for path, output in outputs]
    blocks = [(o.settings.model, {o.block(x) for x in layers}) for _, o, layers in found]
    sources = []
    for k, (path, output, layers) in enumerate(found):
        model, mine = blocks[k]
        # Outputs of one model with other layers are that model's layers (one file per layer);
        # two with a layer in common are told apart by their file names.
        shared = any(other == model and mine & theirs for j, (other, theirs) in enumerate(blocks) if j != k)
        label = f"{model} ({_stem(path)})" if shared else model
        sources.append(Source(path, label, layers, tuple(output.block(x) for x in layers), output))
    where = [p.resolve() for p, _ in outputs]
    if len(set(where)) != len(where):
        twice = next(p for p, w in zip(paths, where) if where.count(w) > 1)
        raise CompareError(f"{twice}: the same output is given twice", path=str(twice), problem="inputs")
    return sources


def _stem(path: Path) -> str:
    return path.name.removesuffix(".npy") if path.suffix.lower() == ".npy" else path.name


@dataclass(frozen=True)
class Matched:
    """The inputs every output has, in the first output's order: their keys, names, and each source's
    rows for them (one row, or with ``reduce="mean"`` all of an input's rows), and what was left out."""

    keys: list[Key]
    rows: list[list[np.ndarray]]  # per source, per input: row numbers in that output
    missing: list[tuple[str, str]]  # (input, where it is missing)

    @property
    def n(self) -> int:
        return len(self.keys)

    @property
    def videos(self) -> list[str]:
        return [k[0] for k in self.keys]

    @property
    def names(self) -> list[str]:
        """``path`` for an input's own (or mean) row, ``path [clip c, crop k]`` for one of several."""
        per_video = len(set(self.videos)) == len(self.keys)
        return [v if per_video or c < 0 else f"{v} [clip {c}, crop {k}]" for v, c, k in self.keys]

    def select(self, keep: Sequence[int]) -> Matched:
        """Only the inputs at positions ``keep`` (in that order)."""
        return Matched([self.keys[i] for i in keep], [[rows[i] for i in keep] for rows in self.rows], self.missing)


def match_rows(sources: Sequence[Source], reduce: str = "none") -> Matched:
    """The inputs every source has, by ``(input path, clip, crop)`` (``reduce="mean"``: by input path)."""
    if reduce not in REDUCES:
        raise ValueError(f"reduce: use none or mean, not {reduce!r}")
    tables: list[dict[Key, list[int]]] = []
    for source in sources:
        table: dict[Key, list[int]] = {}
        for number, (video, info) in enumerate(source.output.rows):
            key = (
                (os.path.normpath(video), -1, -1)
                if reduce == "mean"
                else (os.path.normpath(video), info.clip, info.crop)
            )
            table.setdefault(key, []).append(number)
        tables.append(table)
    if reduce == "none":
        _refuse_mixed_reductions(sources)
    every = set(tables[0]).intersection(*tables[1:]) if tables else set()
    keys = [k for k in tables[0] if k in every] if tables else []
    one_each = all(len({k[0] for k in t}) == len(t) for t in tables)  # one row per input: name it by its path
    missing: list[tuple[str, str]] = []
    seen: set[Key] = set()
    for table in tables:
        for key in table:
            if key not in every and key not in seen:
                seen.add(key)
                lacking = [s.label for s, t in zip(sources, tables) if key not in t]
                missing.append((key[0] if one_each else _key_name(key), f"not in {', '.join(lacking)}"))
    rows = [[np.asarray(table[k], dtype=np.int64) for k in keys] for table in tables]
    return Matched(keys, rows, missing)


def _key_name(key: Key) -> str:
    video, clip, crop = key
    return video if clip < 0 else f"{video} [clip {clip}, crop {crop}]"


def _refuse_mixed_reductions(sources: Sequence[Source]) -> None:
    """Outputs of per-video means and of per-clip rows share no row: say so, and how to compare them."""
    kinds = {s.output.settings.reduce for s in sources}
    if len(kinds) > 1:
        reduced = next(s for s in sources if s.output.settings.reduce == "mean")
        raise CompareError(
            f"{reduced.path} holds one mean row per input (vidm embed --reduce mean) and other outputs one row per "
            "clip: compare with --reduce mean to average every output's rows per input",
            path=str(reduced.path),
            problem="inputs",
        )


# --------------------------------------------------------------------------- users' RDMs
@dataclass(frozen=True)
class UserRdm:
    """A user's dissimilarity matrix: its file, label, the input names in its order, the square matrix."""

    path: Path
    label: str
    names: list[str]
    matrix: np.ndarray


def read_user_rdm(path: str | Path) -> UserRdm:
    """A CSV (header row of names) or ``NAME.npy`` with ``NAME.names.txt``, checked: square, symmetric,
    finite, one distinct name per row."""
    where = Path(path)
    if not where.is_file():
        raise CompareError(f"{where}: no such file", path=str(where), problem="rdm")
    if where.suffix.lower() == ".npy":
        names_file = where.with_name(where.name[: -len(".npy")] + ".names.txt")
        try:
            matrix = np.load(where, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise CompareError(f"{where}: not a readable .npy array ({exc})", path=str(where), problem="rdm") from None
        if not names_file.is_file():
            raise CompareError(
                f"{where}: its input names are missing: write them to {names_file.name}, one per line in the "
                "matrix's order",
                path=str(where),
                problem="rdm",
            )
        names = [line.strip() for line in names_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        names, matrix = _read_csv(where)
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise CompareError(
            f"{where}: an RDM is a square matrix, this one is {' x '.join(map(str, matrix.shape))}",
            path=str(where),
            problem="rdm",
        )
    if not np.issubdtype(matrix.dtype, np.number):
        raise CompareError(f"{where}: holds {matrix.dtype} values, not numbers", path=str(where), problem="rdm")
    matrix = matrix.astype(np.float64)
    if len(names) != len(matrix):
        raise CompareError(
            f"{where}: {len(names)} input names for a {len(matrix)} x {len(matrix)} matrix",
            path=str(where),
            problem="rdm",
        )
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise CompareError(f"{where}: the input {twice!r} is named twice", path=str(where), problem="rdm")
    if not np.isfinite(matrix).all():
        i, j = np.argwhere(~np.isfinite(matrix))[0]
        raise CompareError(
            f"{where}: the dissimilarity of {names[i]!r} and {names[j]!r} is {matrix[i, j]} (every value must be a "
            "number)",
            path=str(where),
            problem="rdm",
        )
    scale = max(float(np.abs(matrix).max()), 1e-300)
    asymmetric = np.abs(matrix - matrix.T) > 1e-6 * scale
    if asymmetric.any():
        i, j = np.argwhere(asymmetric)[0]
        raise CompareError(
            f"{where}: not symmetric: {names[i]!r} to {names[j]!r} is {matrix[i, j]:g} but {names[j]!r} to "
            f"{names[i]!r} is {matrix[j, i]:g}",
            path=str(where),
            problem="rdm",
        )
    return UserRdm(where, _stem(where).removesuffix(".csv"), names, matrix)


def _read_csv(path: Path) -> tuple[list[str], np.ndarray]:
    """Names and values of an RDM CSV: a header of names (a blank first cell when a first column of
    names follows), then one row of numbers per input."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        table = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    if not table:
        raise CompareError(f"{path}: empty (expected a header row of input names)", path=str(path), problem="rdm")
    header = [cell.strip() for cell in table[0]]
    labelled = header[0] == "" or (len(table) > 1 and len(table[1]) == len(header) + 1)
    names = header[1:] if header[0] == "" else header
    values = []
    for number, row in enumerate(table[1:], start=2):
        cells = row[1:] if labelled else row
        try:
            values.append([float(cell) for cell in cells])
        except ValueError:
            raise CompareError(
                f"{path}, line {number}: not a row of numbers ({', '.join(cells[:4])}...); the first line names the "
                "inputs, every other line holds numbers",
                path=str(path),
                problem="rdm",
            ) from None
    if any(len(row) != len(names) for row in values) or len(values) != len(names):
        widths = sorted({len(row) for row in values})
        raise CompareError(
            f"{path}: an RDM is a square matrix: {len(names)} names, {len(values)} rows of "
            f"{'/'.join(map(str, widths)) or 0} values",
            path=str(path),
            problem="rdm",
        )
    return names, np.array(values, dtype=np.float64).reshape(len(values), len(names))


def name_matches(name: str, video: str) -> bool:
    """Whether a user's name stands for ``video``: its path, a path ending, its file name or stem."""
    video = os.path.normpath(video)
    base = os.path.basename(video)
    name = name.strip()
    return video == os.path.normpath(name) or video.endswith(os.sep + name) or name in (base, os.path.splitext(base)[0])


def place_names(rdm: UserRdm, videos: Sequence[str]) -> dict[int, int]:
    """For each of the RDM's rows that names one of ``videos``, that input's position; an ambiguous name
    or an RDM that names none of them is an error."""
    placed: dict[int, int] = {}
    for row, name in enumerate(rdm.names):
        found = [i for i, video in enumerate(videos) if name_matches(name, video)]
        if len(found) > 1:
            raise CompareError(
                f"{rdm.path}: the name {name!r} fits {len(found)} inputs ({videos[found[0]]}, {videos[found[1]]}"
                f"{', ...' if len(found) > 2 else ''}): name them by a longer part of their path",
                path=str(rdm.path),
                problem="rdm",
            )
        if found:
            placed[row] = found[0]
    if not placed:
        example = ", ".join(repr(n) for n in rdm.names[:3])
        raise CompareError(
            f"{rdm.path}: none of its {len(rdm.names)} names ({example}{', ...' if len(rdm.names) > 3 else ''}) "
            f"matches an input of the outputs (e.g. {videos[0] if videos else 'none'})",
            path=str(rdm.path),
            problem="rdm",
        )
    return placed
