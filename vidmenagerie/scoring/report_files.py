"""The evaluation's files: ``eval.json``, ``eval.predictions.csv`` and ``eval.per_class.csv``, each written atomically.

Probabilities and accuracies are written with 6 decimals; class names exactly as given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..batch.outputs import write_csv, write_json
from .metrics import ranked
from .per_class import ClassScore
from .scores import TOP_K, EvalScores


def write_eval_json(path: Path, scores: EvalScores, extra: Mapping[str, Any] | None = None) -> Path:
    """``eval.json``: the scores' summary, after ``extra`` (the run's model, views, inputs...)."""
    write_json(path, {**(extra or {}), "scores": scores.to_dict()})
    return path


def write_predictions(
    path: Path, videos: Sequence[str], probs: np.ndarray, truth: Sequence[int] | np.ndarray, class_names: Sequence[str]
) -> Path:
    """``eval.predictions.csv``: ``video, true, true_label, correct, top1..topK, p1..pK`` with K = min(5, classes).

    ``topN`` is a class name, ``pN`` its probability; ties rank the lower class index first.
    """
    values = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(truth, dtype=np.int64)
    if not len(videos) == values.shape[0] == labels.shape[0]:
        raise ValueError(f"{len(videos)} videos, {values.shape[0]} rows of probs and {labels.shape[0]} true labels")
    k = min(TOP_K, values.shape[1])
    best = ranked(values, k)
    header = ["video", "true", "true_label", "correct"]
    header += [f"top{n}" for n in range(1, k + 1)] + [f"p{n}" for n in range(1, k + 1)]
    with write_csv(path, header) as write:
        for video, true, row, order in zip(videos, labels, values, best):
            write(
                [video, int(true), class_names[true], int(order[0] == true)]
                + [class_names[i] for i in order]
                + [f"{row[i]:.6f}" for i in order]
            )
    return path


def write_per_class(path: Path, rows: Sequence[ClassScore]) -> Path:
    """``eval.per_class.csv``: a row per class in the truth, by class index.

    Columns ``class, label, videos, correct, accuracy, confused_with, confused_label,
    confused_count``: the ``confused_*`` cells name the most frequent wrong prediction, empty
    (count 0) for a class whose videos are all right.
    """
    header = ["class", "label", "videos", "correct", "accuracy", "confused_with", "confused_label", "confused_count"]
    with write_csv(path, header) as write:
        for r in rows:
            other = "" if r.confused_with is None else r.confused_with
            write(
                [
                    r.index,
                    r.name,
                    r.videos,
                    r.correct,
                    f"{r.accuracy:.6f}",
                    other,
                    r.confused_name or "",
                    r.confused_count,
                ]
            )
    return path
