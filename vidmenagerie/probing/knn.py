"""The k-NN probe: cosine similarity to every TRAIN row, and DINO's temperature-weighted vote of the k nearest.

For a query row q and TRAIN rows x_i with labels y_i (all L2-normalised), ``s_i = q . x_i``; over the k
rows with the largest ``s_i``::

    score_c = sum_i exp(s_i / T) * [y_i = c]        (k = 20, T = 0.07: DINO's eval_knn.py)

and the row's class shares are ``score_c / sum_c score_c``. Queries go through in blocks, so memory is
``block x TRAIN rows`` whatever the number of queries.
"""

from __future__ import annotations

import numpy as np

BLOCK = 1024  # query rows per block


def normalized(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero), float32."""
    x = np.asarray(features, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def knn_shares(
    train: np.ndarray,
    labels: np.ndarray,
    queries: np.ndarray,
    *,
    classes: int,
    k: int,
    temperature: float,
    normalised: bool = False,
) -> np.ndarray:
    """Each query row's vote shares ``[queries, classes]`` (rows sum to 1), float64; ``normalised``: both
    arrays are unit rows already."""
    x = train if normalised else normalized(train)
    q = queries if normalised else normalized(queries)
    y = np.asarray(labels, dtype=np.int64)
    k = min(k, x.shape[0])
    shares = np.zeros((q.shape[0], classes), dtype=np.float64)
    for start in range(0, q.shape[0], BLOCK):
        sims = q[start : start + BLOCK] @ x.T  # [block, train]
        nearest = (
            np.argpartition(-sims, k - 1, axis=1)[:, :k]
            if k < x.shape[0]
            else np.tile(np.arange(x.shape[0]), (sims.shape[0], 1))
        )
        picked = np.take_along_axis(sims, nearest, axis=1).astype(np.float64)
        weights = np.exp(picked / temperature)
        block = shares[start : start + BLOCK]
        np.add.at(block, (np.arange(block.shape[0])[:, None], y[nearest]), weights)
    return shares / shares.sum(axis=1, keepdims=True)
