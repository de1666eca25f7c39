"""``score``: every number of ``vidm evaluate`` from the videos' probabilities (and, optionally, the clips' logits)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .confusion import confusion_matrix
from .metrics import PROB_FLOOR, Z_95, Accuracy, accuracy, cross_entropy, top_k_hits
from .per_class import ClassScore, per_class_scores

TOP_K = 5


@dataclass(frozen=True)
class EvalScores:
    """Acc@1/Acc@k per video (and per clip), mean per-class accuracy, loss and the counts behind them.

    ``top_k`` is min(5, classes of the model): with fewer than 5 classes "Acc@5" is Acc@classes.
    Clip fields are ``None`` when no clip logits were given.
    """

    videos: int
    clips: int | None
    classes_present: int
    classes_model: int
    top_k: int
    acc1_video: Accuracy
    acc5_video: Accuracy
    acc1_clip: Accuracy | None
    acc5_clip: Accuracy | None
    mean_class_accuracy: float
    loss: float
    per_class: tuple[ClassScore, ...]

    def to_dict(self) -> dict[str, Any]:
        """The summary for ``eval.json`` (per-class rows go to ``eval.per_class.csv``)."""
        data = asdict(self)
        del data["per_class"]
        data["interval"] = {"method": "wilson", "level": 0.95, "z": Z_95}
        data["loss_prob_floor"] = PROB_FLOOR
        return data

    def rows(self) -> list[tuple[str, Accuracy | float | int]]:
        """``(metric, value)`` rows for a table, in the order a reader wants them, clip rows only when scored."""
        k = f"Acc@{self.top_k}"
        rows: list[tuple[str, Accuracy | float | int]] = [
            ("Acc@1 (input)", self.acc1_video),  # a video's or an image's views combined
            (f"{k} (input)", self.acc5_video),
        ]
        if self.acc1_clip is not None and self.acc5_clip is not None:
            rows += [("Acc@1 (clip)", self.acc1_clip), (f"{k} (clip)", self.acc5_clip)]
        rows += [
            ("mean per-class accuracy", self.mean_class_accuracy),
            ("loss (cross-entropy)", self.loss),
            ("inputs", self.videos),
            ("classes in the truth", self.classes_present),
            ("classes of the model", self.classes_model),
        ]
        return rows


def score(
    probs: np.ndarray,
    truth: Sequence[int] | np.ndarray,
    class_names: Sequence[str],
    clip_logits: np.ndarray | None = None,
    clip_truth: Sequence[int] | np.ndarray | None = None,
) -> EvalScores:
    """Score videos' probabilities ``[videos, classes]`` against their true class indices (and clips, if given)."""
    values, labels = _checked(probs, truth, len(class_names), "probs", "truth")
    if (values < 0).any() or not np.allclose(values.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("probs must be probabilities (rows of a softmax, summing to 1), not logits")
    classes = values.shape[1]
    k = min(TOP_K, classes)
    matrix = confusion_matrix(labels, values.argmax(axis=1), classes)  # argmax: the first maximum, lower index
    per_class = tuple(per_class_scores(matrix, class_names))
    if (clip_logits is None) != (clip_truth is None):
        raise ValueError("clip_logits and clip_truth go together: give both or neither")
    clip1 = clip5 = clips = None
    if clip_logits is not None and clip_truth is not None:  # clips ranked by logits: the order of their softmax
        logits, rows_truth = _checked(clip_logits, clip_truth, classes, "clip_logits", "clip_truth")
        clip1, clip5 = accuracy(top_k_hits(logits, rows_truth, 1)), accuracy(top_k_hits(logits, rows_truth, k))
        clips = len(rows_truth)
    return EvalScores(
        videos=len(labels),
        clips=clips,
        classes_present=len(per_class),
        classes_model=classes,
        top_k=k,
        acc1_video=accuracy(top_k_hits(values, labels, 1)),
        acc5_video=accuracy(top_k_hits(values, labels, k)),
        acc1_clip=clip1,
        acc5_clip=clip5,
        mean_class_accuracy=float(np.mean([c.accuracy for c in per_class])),
        loss=cross_entropy(values, labels),
        per_class=per_class,
    )


def _checked(
    scores: np.ndarray, truth: Sequence[int] | np.ndarray, classes: int, name: str, truth_name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Scores as float64 ``[rows, classes]`` and truth as int64 ``[rows]``, or a ValueError saying what is wrong."""
    values = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(truth)
    if values.ndim != 2 or values.shape[1] != classes:
        raise ValueError(f"{name} must be [rows, {classes}] (one column per class name), got shape {values.shape}")
    if labels.ndim != 1 or labels.shape[0] != values.shape[0]:
        raise ValueError(
            f"{truth_name} must hold one class index per row of {name} ({values.shape[0]}), got {labels.shape}"
        )
    if labels.size == 0:
        raise ValueError(f"nothing to score: {name} has no rows")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{truth_name} must be class indices (integers), got {labels.dtype}")
    outside = labels[(labels < 0) | (labels >= classes)]
    if outside.size:
        raise ValueError(f"{truth_name} holds class {int(outside[0])}, outside 0..{classes - 1}")
    if not np.isfinite(values).all():
        raise ValueError(f"{name} holds values that are not finite")
    return values, labels.astype(np.int64)
