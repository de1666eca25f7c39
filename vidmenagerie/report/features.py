"""The numbers behind the embedding section, in bounded memory: each video's mean feature, a 2-D
PCA of at most a few thousand rows, and each video's nearest neighbours by cosine similarity.

Rows of more than one axis (``--pool none``: tokens x channels) are averaged to their last axis.
Features are read memory-mapped, one video at a time; the similarity is computed in blocks of
queries, so neither step holds more than one block of ``queries x videos`` numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..scoring.views import softmax

MAX_POINTS = 5000
NEIGHBOURS = 5
BLOCK = 1 << 22  # similarities per block of queries (16 MB of float32)


@dataclass(frozen=True)
class Segment:
    """Rows ``[first, first + count)`` of one ``.npy`` file: one video's rows."""

    path: Path
    first: int
    count: int


class Arrays:
    """Memory-mapped ``.npy`` files, each opened once."""

    def __init__(self) -> None:
        self._open: dict[Path, np.ndarray] = {}

    def rows(self, segment: Segment, picks: np.ndarray | slice | None = None) -> np.ndarray:
        """The segment's rows (``picks``: positions within it) as ``[n, channels]`` float32."""
        if segment.path not in self._open:
            self._open[segment.path] = np.load(segment.path, mmap_mode="r")
        rows = self._open[segment.path][segment.first : segment.first + segment.count]
        if picks is not None:
            rows = rows[picks]
        rows = np.asarray(rows, dtype=np.float32)
        return rows.reshape(rows.shape[0], -1, rows.shape[-1]).mean(axis=1) if rows.ndim > 2 else rows


def video_means(segments: Sequence[Segment], arrays: Arrays) -> np.ndarray:
    """``[videos, channels]``: the mean of each video's rows."""
    return np.stack([arrays.rows(s).mean(axis=0, dtype=np.float64).astype(np.float32) for s in segments])


def mean_probabilities(segments: Sequence[Segment], arrays: Arrays) -> np.ndarray:
    """``[videos, classes]``: the mean softmax of each video's class scores."""
    return np.stack([softmax(arrays.rows(s)).mean(axis=0) for s in segments])


def sample_rows(total: int, limit: int = MAX_POINTS) -> np.ndarray:
    """At most ``limit`` row numbers spread evenly over ``total`` rows (all of them when fewer)."""
    if total <= limit:
        return np.arange(total)
    return np.unique(np.linspace(0, total - 1, limit).round().astype(np.int64))


def gather(segments: Sequence[Segment], arrays: Arrays, picks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows numbered ``picks`` (sorted, over the segments laid end to end), and the segment of each."""
    starts = np.cumsum([0] + [s.count for s in segments])
    owner = np.searchsorted(starts, picks, side="right") - 1
    parts = []
    for index in np.unique(owner):
        within = picks[owner == index] - starts[index]
        parts.append(arrays.rows(segments[index], within))
    return (np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)), owner


def pca_2d(rows: np.ndarray, seed: int = 0) -> np.ndarray:
    """``[n, 2]``: the rows on their first two principal axes (randomized range finder, so the cost
    grows with rows x channels, not channels squared)."""
    x = rows.astype(np.float64) - rows.mean(axis=0, dtype=np.float64)
    n, d = x.shape
    if n < 2 or d < 1:
        return np.zeros((n, 2))
    width = min(d, n, 12)
    basis = np.random.default_rng(seed).standard_normal((d, width))
    q, _ = np.linalg.qr(x @ basis)
    for _ in range(4):  # power iterations sharpen the leading axes
        q, _ = np.linalg.qr(x @ (x.T @ q))
    _, _, vt = np.linalg.svd(q.T @ x, full_matrices=False)
    axes = vt[:2]
    # A fixed sign for each axis (largest loading positive) keeps the map the same between builds.
    axes *= np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])[:, None]
    xy = x @ axes.T
    return xy if xy.shape[1] == 2 else np.pad(xy, ((0, 0), (0, 2 - xy.shape[1])))


def variance_shares(rows: np.ndarray, xy: np.ndarray) -> tuple[float, float]:
    """The share of the rows' total variance that each of the map's two axes holds."""
    centred = rows.astype(np.float64) - rows.mean(axis=0, dtype=np.float64)
    total = float((centred**2).sum())
    if total <= 0:
        return (0.0, 0.0)
    shares = (np.asarray(xy, dtype=np.float64) ** 2).sum(axis=0) / total
    return (float(shares[0]), float(shares[1]))


def nearest(means: np.ndarray, k: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """Each video's ``k`` most similar other videos by cosine similarity: ``(index, similarity)``,
    both ``[videos, k]``, best first; computed in blocks of queries."""
    v = len(means)
    k = min(k, v - 1)
    if k <= 0:
        return np.zeros((v, 0), np.int64), np.zeros((v, 0), np.float32)
    unit = torch.nn.functional.normalize(torch.from_numpy(np.asarray(means, dtype=np.float32)), dim=1)
    index = np.empty((v, k), np.int64)
    score = np.empty((v, k), np.float32)
    step = max(1, BLOCK // v)
    with torch.no_grad():
        for a in range(0, v, step):
            sims = unit[a : a + step] @ unit.T
            sims[torch.arange(len(sims)), torch.arange(a, a + len(sims))] = -torch.inf  # not its own neighbour
            top = sims.topk(k, dim=1)
            index[a : a + step] = top.indices.numpy()
            score[a : a + step] = top.values.numpy()
    return index, score
