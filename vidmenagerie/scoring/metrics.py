"""The numbers of an evaluation: ranked classes, top-k hits, accuracy with a Wilson interval, cross-entropy.

Ties between equal scores are broken by the lower class index (a stable argsort of ``-score``),
so the same scores always give the same ranking, top-k and predictions file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z_95 = 1.959963984540054  # the 97.5% point of the standard normal: a two-sided 95% interval
PROB_FLOOR = 1e-12  # probabilities are clipped here before the log, so one sure miss is not infinite


@dataclass(frozen=True)
class Accuracy:
    """``correct`` of ``total`` right, the rate and its 95% Wilson score interval ``[low, high]``."""

    correct: int
    total: int
    value: float
    low: float
    high: float


def wilson_interval(correct: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion, which stays inside [0, 1] and behaves at 0/n and n/n.

    With ``p = correct / total`` and ``n = total``::

        centre = (p + z^2 / (2n)) / (1 + z^2 / n)
        half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))
        [low, high] = [centre - half, centre + half]

    E.g. 8 of 10 gives [0.4902, 0.9433] at z = 1.96 (Wilson 1927; Brown, Cai and DasGupta 2001).
    """
    if total < 1:
        raise ValueError(f"an interval needs at least one trial (got {total})")
    if not 0 <= correct <= total:
        raise ValueError(f"correct must be between 0 and {total} (got {correct})")
    p, n, z2 = correct / total, total, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy(hits: np.ndarray) -> Accuracy:
    """Accuracy of a boolean hit per item, with its Wilson interval."""
    flags = np.asarray(hits, dtype=bool)
    correct, total = int(flags.sum()), int(flags.size)
    low, high = wilson_interval(correct, total)
    return Accuracy(correct, total, correct / total, low, high)


def ranked(scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best class indices of each row ``[rows, k]``, best first, ties to the lower index."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), axis=1, kind="stable")[:, :k]


def top_k_hits(scores: np.ndarray, truth: np.ndarray, k: int) -> np.ndarray:
    """Whether each row's true class is among its ``k`` best (``k`` capped at the number of classes)."""
    best = ranked(scores, min(k, np.asarray(scores).shape[1]))
    return (best == np.asarray(truth)[:, None]).any(axis=1)


def cross_entropy(probs: np.ndarray, truth: np.ndarray) -> float:
    """Mean of ``-log p(true class)`` over rows, probabilities clipped at ``PROB_FLOOR``."""
    values = np.asarray(probs, dtype=np.float64)
    picked = values[np.arange(values.shape[0]), np.asarray(truth)]
    return float(-np.log(np.clip(picked, PROB_FLOOR, 1.0)).mean())
