"""The best labels of each video from its rows' class scores (``--top-k``), and ``topk.csv``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..batch.outputs import write_csv
from ..scoring.views import softmax


@dataclass(frozen=True)
class TopK:
    """One of a video's best classes: its rank (1 = best), index, name and probability."""

    rank: int
    index: int
    label: str
    score: float


def top_labels(logits: np.ndarray, labels: Sequence[str] | None, k: int) -> list[TopK]:
    """The ``k`` most probable classes of a video: the mean of its rows' softmax probabilities, as
    ``vidm evaluate`` and ``classify`` combine views (mae_st / SlowFast multi-view testing)."""
    probs = softmax(logits).mean(axis=0)  # logits: [rows, classes]
    order = np.argsort(-probs, kind="stable")[:k]
    return [
        TopK(rank, int(i), labels[i] if labels is not None and i < len(labels) else str(int(i)), float(probs[i]))
        for rank, i in enumerate(order, start=1)
    ]


def write_topk(path: Path, best: Mapping[str, Sequence[TopK]]) -> None:
    """``topk.csv``: ``video, rank, class, label, score`` (probability), best first."""
    with write_csv(path, ["video", "rank", "class", "label", "score"]) as write:
        for video, items in best.items():
            for item in items:
                write([video, item.rank, item.index, item.label, f"{item.score:.6f}"])
