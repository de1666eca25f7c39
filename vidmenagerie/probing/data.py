"""The probe's data: the user's classes, TRAIN and VAL labels, and each labelled input's rows in a
feature output (matched by input path), checked before anything is fitted.

Labels are the user's own classes: TRAIN's (its class folders, or the labels its table names), kept
when at least one TRAIN input has them, in sorted order; VAL is read with TRAIN's names, so a VAL
class TRAIN lacks is an error naming it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ProbeError
from ..feature_store import FeatureOutput
from ..labelled import LabelledSet, read_labelled
from ..labelled.classes import source_classes
from ..labelled.match import ClassMatcher
from ..video.find import FrameFolders
from .layers import block_rows, features_file


@dataclass(frozen=True)
class Labels:
    """TRAIN (and VAL) with class indices into ``names`` (the classes TRAIN holds)."""

    names: tuple[str, ...]
    train: LabelledSet
    val: LabelledSet | None


def read_labels(
    train: str | Path | LabelledSet,
    val: str | Path | LabelledSet | None = None,
    *,
    videos: str | Path | None = None,
    val_videos: str | Path | None = None,
    frame_folders: FrameFolders = "auto",
) -> Labels:
    """Read TRAIN with its own classes and VAL with TRAIN's; refuse fewer than 2 classes."""
    train_set = train if isinstance(train, LabelledSet) else _read(train, None, videos, frame_folders)
    present = sorted({s.label for s in train_set.samples})
    names = tuple(train_set.class_names[i] for i in present)
    if len(names) < 2:
        found = f"only {names[0]!r}" if names else "none"
        raise ProbeError(
            f"{train_set.source}: a probe needs at least 2 classes with examples, TRAIN has {found}",
            path=str(train_set.source),
            problem="classes",
        )
    train_set = _renumbered(train_set, names)
    val_set = None
    if val is not None:
        val_set = val if isinstance(val, LabelledSet) else _read(val, names, val_videos, frame_folders)
        val_set = _renumbered(val_set, names)
    return Labels(names, train_set, val_set)


def _read(
    source: str | Path, names: tuple[str, ...] | None, videos: str | Path | None, mode: FrameFolders
) -> LabelledSet:
    """A labelled source read with ``names`` (None: the classes it names itself)."""
    if names is not None and Path(source).is_dir():
        matcher = ClassMatcher(names)
        unknown = [n for n in source_classes(source) if not matcher.find(n)]
        if unknown:
            raise ProbeError(
                f"{Path(source) / unknown[0]}: class {unknown[0]!r} has no TRAIN example (TRAIN's classes: "
                f"{', '.join(names[:5])}{', ...' if len(names) > 5 else ''})",
                path=str(source),
                problem="classes",
            )
    classes = names if names is not None else source_classes(source)
    return read_labelled(source, classes, videos=videos, frame_folders=mode)


def _renumbered(labelled: LabelledSet, names: tuple[str, ...]) -> LabelledSet:
    """``labelled`` with class indices into ``names`` (the same names, possibly fewer)."""
    if labelled.class_names == names:
        return labelled
    index = {name: i for i, name in enumerate(names)}
    samples = []
    for s in labelled.samples:
        name = labelled.class_names[s.label]
        if name not in index:
            raise ProbeError(
                f"{s.path} ({s.source}): class {name!r} has no TRAIN example",
                path=str(labelled.source),
                problem="classes",
            )
        samples.append(type(s)(s.path, index[name], s.source))
    return type(labelled)(
        labelled.source, tuple(samples), labelled.missing, names, labelled.rule, labelled.description,
        labelled.repeats, labelled.duplicates,
    )  # fmt: skip


def check_cross_validation(labels: Labels) -> None:
    """Without VAL, every class needs two TRAIN inputs (one to train on, one to score)."""
    if labels.val is not None:
        return
    counts = np.bincount([s.label for s in labels.train.samples], minlength=len(labels.names))
    single = [labels.names[c] for c in np.flatnonzero(counts < 2)]
    if single:
        raise ProbeError(
            f"{labels.train.source}: class {single[0]!r} has one example: cross-validation needs at least 2 per "
            "class (add examples, drop the class, or give --val)",
            path=str(labels.train.source),
            problem="classes",
        )


def _key(path: str | Path) -> str:
    """What makes a features row's input and a labelled input one: the real path."""
    return os.path.realpath(os.fspath(path))


@dataclass(frozen=True)
class Side:
    """One side (TRAIN or VAL) in a feature output: each input's name, label and rows."""

    output: FeatureOutput
    inputs: tuple[str, ...]
    labels: np.ndarray  # [inputs]
    first: np.ndarray  # [inputs]: the input's first row
    count: np.ndarray  # [inputs]: its rows
    excluded: tuple[tuple[str, str], ...]  # inputs without features, with why

    def rows(self, which: np.ndarray) -> np.ndarray:
        """The row numbers of inputs ``which``, input after input."""
        if not len(which):
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.arange(self.first[i], self.first[i] + self.count[i]) for i in which])

    def groups(self, which: np.ndarray) -> np.ndarray:
        """Which input (of ``which``) each of ``rows(which)`` belongs to."""
        return np.repeat(np.asarray(which, dtype=np.int64), self.count[which])

    def block(self, block: int) -> np.ndarray:
        """Every row of one block, read into memory (float32), checked to be finite."""
        values = np.ascontiguousarray(block_rows(self.output, block), dtype=np.float32)
        bad = np.flatnonzero(~np.isfinite(values).reshape(len(values), -1).all(axis=1))
        if bad.size:
            video = self.output.rows[int(bad[0])][0] if int(bad[0]) < len(self.output.rows) else "?"
            raise ProbeError(
                f"{features_file(self.output, block)}: row {int(bad[0])} ({video}) holds NaN or infinite features "
                f"({bad.size} such rows): embed those inputs again",
                path=str(features_file(self.output, block)),
                problem="values",
            )
        return values


def match(output: FeatureOutput, labelled: LabelledSet, *, strict: bool) -> Side:
    """Each labelled input's rows in ``output``. ``strict`` (features given with ``--features``): a label
    without features and features without a label are errors; else inputs that failed are excluded."""
    ok = {_key(s.video): s for s in output.videos if s.status == "ok"}
    excluded = [(s.video, s.reason or s.status) for s in output.videos if s.status != "ok"]
    labelled_keys = {_key(s.path) for s in labelled.samples}
    if strict:
        unlabelled = [s.video for k, s in ok.items() if k not in labelled_keys]
        if unlabelled:
            raise ProbeError(
                f"{output.layout.out}: {len(unlabelled)} input(s) with features have no label in "
                f"{labelled.source} (e.g. {unlabelled[0]}): give the labels of every input, or embed only those",
                path=str(output.layout.out),
                problem="labels",
            )
    inputs, labels, first, count = [], [], [], []
    for sample in labelled.samples:
        status = ok.get(_key(sample.path))
        if status is None:
            if strict:
                raise ProbeError(
                    f"{labelled.source}: {sample.path} ({sample.source}) has no features in {output.layout.out}: "
                    "embed every labelled input",
                    path=str(labelled.source),
                    problem="features",
                )
            continue
        inputs.append(status.video)
        labels.append(sample.label)
        first.append(status.first_row or 0)
        count.append(status.rows)
    return Side(
        output, tuple(inputs), np.asarray(labels, dtype=np.int64), np.asarray(first, dtype=np.int64),
        np.asarray(count, dtype=np.int64), tuple(excluded),
    )  # fmt: skip
