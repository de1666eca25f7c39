"""Accuracy of each class present in the truth, and what its videos are most often taken for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassScore:
    """One true class: its videos, how many were right, and its most frequent wrong prediction (if any)."""

    index: int
    name: str
    videos: int
    correct: int
    accuracy: float
    confused_with: int | None
    confused_name: str | None
    confused_count: int


def per_class_scores(matrix: np.ndarray, class_names: Sequence[str]) -> list[ClassScore]:
    """A row per class with at least one true video, by class index; wrong-prediction ties go to the lower index."""
    rows: list[ClassScore] = []
    for index in np.flatnonzero(matrix.sum(axis=1)).tolist():
        counts = np.array(matrix[index], dtype=np.int64)
        videos, correct = int(counts.sum()), int(counts[index])
        counts[index] = 0
        worst = int(np.argmax(counts))  # the first maximum: the lower index on ties
        confused = worst if counts[worst] > 0 else None
        name = None if confused is None else class_names[confused]
        rows.append(
            ClassScore(index, class_names[index], videos, correct, correct / videos, confused, name, int(counts[worst]))
        )
    return rows
