"""Representational dissimilarity matrices (RDMs): how differently one representation treats every pair of inputs.

Distances are scipy's ``pdist`` (the field's reference implementation), on each input's row
flattened to one vector:

- ``correlation``: ``1 - r(x_i, x_j)``, one minus the Pearson correlation of the two rows (as
  ``rsatoolbox.rdm.calc_rdm(method="correlation")``);
- ``cosine``: ``1 - x_i . x_j / (|x_i| |x_j|)``;
- ``euclidean``: ``|x_i - x_j|``. rsatoolbox's ``euclidean`` is the *squared* distance divided by
  the number of features, a monotone transform of this one: rank comparisons (Spearman, Kendall)
  give the same values, Pearson does not.

An RDM is kept condensed (its upper triangle row by row, ``scipy.spatial.distance.squareform``'s
order, ``n(n-1)/2`` values); ``rdm`` returns the square matrix.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist, squareform  # type: ignore[import-untyped]

DISTANCES: tuple[str, ...] = ("correlation", "cosine", "euclidean")


def check_distance(distance: str) -> str:
    """``distance`` when it is one of ``DISTANCES``, else a ValueError naming them."""
    if distance not in DISTANCES:
        raise ValueError(f"RDM distance: use one of {', '.join(DISTANCES)}, not {distance!r}")
    return distance


def condensed_rdm(features: np.ndarray, distance: str = "correlation") -> np.ndarray:
    """The upper triangle ``[n(n-1)/2]`` (float64) of the RDM of ``features`` ``[n, ...]``."""
    x = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    return pdist(x, metric=check_distance(distance))


def rdm(features: np.ndarray, *, distance: str = "correlation") -> np.ndarray:
    """The ``[n, n]`` dissimilarity matrix of ``features`` ``[n, ...]`` (one row per input), from
    scipy's ``pdist``: ``correlation`` ``1 - pearson(x_i, x_j)`` (default), ``cosine``
    ``1 - cos(x_i, x_j)`` or ``euclidean`` ``|x_i - x_j|``. Symmetric, 0 on the diagonal; a row
    with no variance has no correlation distance (NaN)."""
    return squareform(condensed_rdm(features, distance), checks=False)
