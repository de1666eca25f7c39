"""Which inputs train and which score a probe: the VAL set, or stratified K-fold on TRAIN; and the
few-shot draws of N inputs per class, reproducible from a seed.

Splits are of inputs (videos), never of rows, so a video's clips are never on both sides.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    """Input indices that train (``train``, into TRAIN) and that are scored (``val``: into VAL, or into
    TRAIN for a fold), with the fold number (None with a VAL set)."""

    train: np.ndarray
    val: np.ndarray
    fold: int | None


def splits(labels: np.ndarray, *, val_inputs: int | None, folds: int, seed: int) -> list[Split]:
    """One split (all TRAIN, all VAL) when there is a VAL set of ``val_inputs``, else ``folds``
    stratified folds of TRAIN shuffled with ``seed`` (every TRAIN input scored once)."""
    everything = np.arange(len(labels))
    if val_inputs is not None:
        return [Split(everything, np.arange(val_inputs), None)]
    from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]

    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the least populated class has fewer members than n_splits": said by us
        parts = list(splitter.split(everything, labels))
    return [Split(train, val, fold) for fold, (train, val) in enumerate(parts)]


def draw_shots(labels: np.ndarray, pool: np.ndarray, shots: int, seed: int, fold: int | None = None) -> np.ndarray:
    """``shots`` inputs per class from ``pool`` (indices into ``labels``), drawn with ``(seed, fold)``; a
    class with fewer gives all it has. Sorted indices: the draw depends on the seed alone, not on order."""
    rng = np.random.default_rng([seed, 0 if fold is None else fold + 1])
    chosen: list[np.ndarray] = []
    for c in np.unique(labels[pool]):
        members = pool[labels[pool] == c]
        chosen.append(members[rng.permutation(len(members))[:shots]])
    return np.sort(np.concatenate(chosen)) if chosen else pool[:0]


def short_classes(labels: np.ndarray, pool: np.ndarray, shots: int) -> dict[int, int]:
    """Classes with fewer than ``shots`` inputs in ``pool``, and how many they have."""
    values, counts = np.unique(labels[pool], return_counts=True)
    return {int(c): int(n) for c, n in zip(values, counts) if n < shots}
