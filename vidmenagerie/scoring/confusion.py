"""Who is mistaken for whom: the confusion matrix and its most frequent true -> predicted pairs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ConfusedPair:
    """Videos of class ``true`` predicted as class ``predicted`` (``count`` of them)."""

    true: int
    predicted: int
    count: int


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """Counts ``[classes, classes]``: row = true class, column = predicted class."""
    true, pred = np.asarray(truth, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    if true.shape != pred.shape:
        raise ValueError(f"{true.size} true classes but {pred.size} predictions")
    if true.size and (min(true.min(), pred.min()) < 0 or max(true.max(), pred.max()) >= classes):
        raise ValueError(f"class indices must be within 0..{classes - 1}")
    flat = true * classes + pred
    return np.bincount(flat, minlength=classes * classes).reshape(classes, classes)


def most_confused(matrix: np.ndarray, limit: int = 20) -> list[ConfusedPair]:
    """The ``limit`` largest off-diagonal counts, most first; ties by true, then predicted class index."""
    errors = np.array(matrix, dtype=np.int64)
    np.fill_diagonal(errors, 0)
    true, predicted = np.nonzero(errors)
    counts = errors[true, predicted]
    order = np.lexsort((predicted, true, -counts))[:limit]  # last key sorts first
    return [ConfusedPair(int(true[i]), int(predicted[i]), int(counts[i])) for i in order]
