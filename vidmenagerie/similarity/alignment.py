"""Linear centred kernel alignment (CKA, Kornblith et al. 2019), plain and debiased, from Gram matrices.

For features ``X`` ``[n, p]`` and ``Y`` ``[n, q]`` of the same ``n`` inputs, with linear Gram
matrices ``K = X X^T`` and ``L = Y Y^T``:

    CKA(K, L) = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))

- plain: ``HSIC(K, L) = tr(K H L H) / (n - 1)^2`` with the centring matrix ``H = I - 11^T / n``
  (Gretton et al. 2005; Kornblith et al. 2019, eq. 3). It is biased upwards when ``n`` is small
  next to the features' dimension: two independent random matrices score well above 0.
- debiased: the unbiased HSIC estimator of Song et al. (2012), as Nguyen et al. (2021) use it,
  ``HSIC_1(K, L) = [tr(K~ L~) + 1^T K~ 1 1^T L~ 1 / ((n-1)(n-2)) - 2/(n-2) 1^T K~ L~ 1] / (n(n-3))``
  with ``K~`` = ``K`` with its diagonal set to 0. It equals ``<U(K), U(L)>_F / (n(n-3))`` where ``U``
  is the U-centring of Székely and Rizzo (2014), so each Gram matrix is centred once and every
  pair is one inner product (the normalisation cancels in the ratio).

Every pair of representations is then an inner product of two centred Gram matrices: a
``[K, n(n+1)/2]`` matrix of their upper triangles gives all ``K x K`` values in one product.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np

Estimator = Literal["debiased", "plain"]
ESTIMATORS: tuple[str, ...] = ("debiased", "plain")
DEBIASED_BELOW = 1000  # ``auto``: the debiased estimator below this many inputs, the plain one from here on


def choose_estimator(choice: str, n: int) -> Estimator:
    """``debiased`` or ``plain`` for ``n`` inputs; ``auto`` takes the debiased one below ``DEBIASED_BELOW``."""
    if choice == "auto":
        return "debiased" if n < DEBIASED_BELOW else "plain"
    if choice not in ESTIMATORS:
        raise ValueError(f"CKA estimator: use auto, debiased or plain, not {choice!r}")
    return choice  # type: ignore[return-value]


def gram(features: np.ndarray) -> np.ndarray:
    """The linear Gram matrix ``X X^T`` ``[n, n]`` in float64, rows flattened (a token output's
    rows are one long vector each)."""
    x = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    return x @ x.T


def center_gram(k: np.ndarray, estimator: Estimator) -> np.ndarray:
    """``H K H`` (plain), or the U-centred ``K`` (debiased: diagonal 0, off-diagonal
    ``K_ij - r_i/(n-2) - r_j/(n-2) + s/((n-1)(n-2))`` with the row sums ``r`` and total ``s`` of ``K``
    without its diagonal). A new float64 array; ``k`` is left as it is."""
    k = np.array(k, dtype=np.float64)
    n = len(k)
    if estimator == "plain":
        means = k.mean(axis=0)
        k -= means[None, :]
        k -= means[:, None]
        k += means.mean()
        return k
    if n < 4:
        raise ValueError(f"the debiased CKA estimator needs at least 4 inputs, got {n}")
    np.fill_diagonal(k, 0.0)
    means = k.sum(axis=0) / (n - 2)
    means -= means.sum() / (2 * (n - 1))
    k -= means[None, :]
    k -= means[:, None]
    np.fill_diagonal(k, 0.0)
    return k


def pack(centred: np.ndarray) -> np.ndarray:
    """The upper triangle of a symmetric matrix as a vector whose dot products are Frobenius inner
    products: the diagonal as is, each off-diagonal entry times sqrt(2) (it stands for two)."""
    rows, cols = upper_triangle(len(centred))
    return np.concatenate([np.diagonal(centred), np.sqrt(2.0) * centred[rows, cols]])


@lru_cache(maxsize=4)
def upper_triangle(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.triu_indices(n, 1)``, computed once per size (every Gram matrix of a comparison has one)."""
    return np.triu_indices(n, 1)


def cka_from_inner(inner: np.ndarray) -> np.ndarray:
    """CKA for every pair from the ``[K, K]`` matrix of inner products of centred Gram matrices;
    NaN where a representation is constant (its centred Gram matrix is 0)."""
    norms = np.sqrt(np.clip(np.diagonal(inner), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        result = inner / np.outer(norms, norms)
    result[np.outer(norms, norms) == 0] = np.nan
    return result


def inner_products(vectors: np.ndarray, *, chunk: int = 1 << 16) -> np.ndarray:
    """``V V^T`` in float64 for ``vectors`` ``[K, m]`` (float32 or float64), a column block at a time,
    so the float64 copy in memory is ``K x chunk``."""
    k, m = vectors.shape
    total = np.zeros((k, k))
    for start in range(0, m, chunk):
        block = np.asarray(vectors[:, start : start + chunk], dtype=np.float64)
        total += block @ block.T
    return total


def cka(x: np.ndarray, y: np.ndarray, *, debiased: bool = True) -> float:
    """Linear CKA of two feature matrices of the same inputs (rows): ``x`` ``[n, p]``, ``y`` ``[n, q]``.

    ``CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))`` with ``K = x x^T``, ``L = y y^T``; HSIC is
    the unbiased estimator of Song et al. (2012) when ``debiased`` (the default; needs n >= 4),
    else ``tr(K H L H) / (n-1)^2`` with ``H = I - 11^T/n`` (Kornblith et al. 2019). 1 for ``y = x``,
    for an orthogonal rotation of ``x`` or ``x`` scaled by a number; the debiased value is near 0
    for independent random features (the plain one is not when n is small next to p and q).
    """
    if len(x) != len(y):
        raise ValueError(f"x and y must describe the same inputs: {len(x)} rows against {len(y)}")
    estimator: Estimator = "debiased" if debiased else "plain"
    kx, ky = center_gram(gram(x), estimator), center_gram(gram(y), estimator)
    inner = np.array([[np.vdot(kx, kx), np.vdot(kx, ky)], [np.vdot(ky, kx), np.vdot(ky, ky)]])
    return float(cka_from_inner(inner)[0, 1])
