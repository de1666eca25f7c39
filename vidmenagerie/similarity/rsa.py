"""Comparing RDMs (representational similarity analysis): a correlation of their upper triangles.

- ``spearman`` (default): Pearson's correlation of the ranks (ties get their average rank), as
  ``scipy.stats.spearmanr`` and ``rsatoolbox.rdm.compare(method="spearman")``;
- ``pearson``: Pearson's correlation of the dissimilarities (``scipy.stats.pearsonr``);
- ``kendall``: Kendall's tau-a, ``(concordant - discordant) / (m(m-1)/2)`` over the ``m`` pairs of
  inputs, ties counting as neither, as ``rsatoolbox.rdm.compare_kendall_tau_a`` (Nili et al. 2014
  recommend it when a model RDM predicts ties). scipy offers tau-b and tau-c only; tau-a is
  tau-b times ``sqrt((m0 - t_x)(m0 - t_y)) / m0`` with ``m0 = m(m-1)/2`` and ``t_x``, ``t_y`` the
  pairs tied in each vector, so scipy's count of concordant and discordant pairs is reused.

Spearman and Pearson reduce each RDM once to a centred unit vector (of ranks, or of values): a
comparison is then a dot product, and all pairs one matrix product. Kendall's tau is computed
pair by pair (``O(m log m)`` each).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import kendalltau, rankdata  # type: ignore[import-untyped]

METHODS: tuple[str, ...] = ("spearman", "pearson", "kendall")


def check_method(method: str) -> str:
    """``method`` when it is one of ``METHODS``, else a ValueError naming them."""
    if method not in METHODS:
        raise ValueError(f"RDM comparison: use one of {', '.join(METHODS)}, not {method!r}")
    return method


def _tied_pairs(values: np.ndarray) -> int:
    """How many pairs of ``values`` are equal."""
    _, counts = np.unique(values, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def tau_a(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-a of two vectors (ties count as neither concordant nor discordant), from
    scipy's tau-b; 0 where either vector is constant (no pair is concordant or discordant)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    m0 = len(x) * (len(x) - 1) // 2
    untied_x, untied_y = m0 - _tied_pairs(x), m0 - _tied_pairs(y)
    if m0 == 0 or untied_x == 0 or untied_y == 0:
        return 0.0
    tau_b = float(kendalltau(x, y, variant="b").statistic)
    return float(np.clip(tau_b * np.sqrt(float(untied_x) * float(untied_y)) / m0, -1.0, 1.0))


def unit_vector(values: np.ndarray, method: str) -> np.ndarray:
    """An RDM's upper triangle as the centred unit vector whose dot products are its Spearman
    (ranks) or Pearson (values) correlations; all zeros for a constant RDM."""
    v = rankdata(values) if check_method(method) == "spearman" else np.asarray(values, dtype=np.float64)
    v = v - v.mean()
    norm = np.sqrt(v @ v)
    return v / norm if norm > 0 else v


def compare_rdms(a: np.ndarray, b: np.ndarray, method: str = "spearman") -> float:
    """The similarity of two RDMs given as their upper triangles (or square matrices, whose upper
    triangles are taken): Spearman's rho, Pearson's r or Kendall's tau-a."""
    a, b = _triangle(a), _triangle(b)
    if a.shape != b.shape:
        raise ValueError(f"RDMs of different sizes: {a.size} and {b.size} pairs")
    if check_method(method) == "kendall":
        return tau_a(a, b)
    ua, ub = unit_vector(a, method), unit_vector(b, method)
    if not ua.any() or not ub.any():
        return float("nan")
    return float(np.clip(ua @ ub, -1.0, 1.0))


def comparison_matrix(triangles: Sequence[np.ndarray], method: str) -> np.ndarray:
    """``[K, K]`` similarities of every pair of ``triangles`` (each an RDM's upper triangle)."""
    k = len(triangles)
    if check_method(method) == "kendall":
        result = np.eye(k)
        for i in range(k):
            for j in range(i + 1, k):
                result[i, j] = result[j, i] = tau_a(triangles[i], triangles[j])
        return result
    units = np.stack([unit_vector(t, method) for t in triangles])
    result = np.clip(units @ units.T, -1.0, 1.0)
    constant = ~units.any(axis=1)
    result[constant, :] = np.nan
    result[:, constant] = np.nan
    return result


def _triangle(rdm: np.ndarray) -> np.ndarray:
    """An RDM's upper triangle: a vector as given, or the part above the diagonal of a square matrix."""
    values = np.asarray(rdm, dtype=np.float64)
    if values.ndim == 2:
        rows, cols = np.triu_indices(len(values), 1)
        return values[rows, cols]
    return values
