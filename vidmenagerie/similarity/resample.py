"""Resampling inputs (stimuli): bootstrap draws with their intervals, and permutations with their p-values.

Bootstrap (as ``rsatoolbox.inference.bootstrap_sample_pattern``): ``n`` inputs are drawn with
replacement, the same draw for every representation, and each statistic is computed again on
the resampled inputs; the 95% interval is the 2.5th and 97.5th percentile of those values.

An input drawn twice is not a pair of inputs. rsatoolbox sets an RDM's diagonal to NaN before
resampling (``RDMs.subsample_pattern``), so the pairs of two copies of one input become NaN and
its comparisons drop them; we drop them the same way (``pair_index`` keeps only pairs of
distinct inputs). For CKA the resample's Gram matrix is gathered from the centred one: the
pairs of two copies of one input take the centred diagonal, so the plain estimator sees the
resample exactly as data, and the debiased estimator, whose U-centred matrix has a zero
diagonal, leaves those pairs out just as it leaves out each input's pair with itself.

Permutations (RSA against a user's RDM): the inputs' labels of the user's RDM are shuffled
(rows and columns together) and the comparison computed again; ``p = (1 + #{null >= observed})
/ (1 + permutations)``, one-sided (is the model's geometry more like the data's than chance?).

Everything draws from one ``numpy.random.Generator`` seeded by the user's seed, so equal seeds
give equal intervals and p-values.
"""

from __future__ import annotations

import numpy as np

INTERVAL = (2.5, 97.5)  # percentiles of the bootstrap distribution: a 95% interval


def generator(seed: int) -> np.random.Generator:
    """The one random stream of a comparison."""
    return np.random.default_rng(seed)


def bootstrap_draws(rng: np.random.Generator, n: int, count: int) -> np.ndarray:
    """``[count, n]`` input indices drawn with replacement, one row per resample."""
    return rng.integers(0, n, size=(count, n))


def permutations(rng: np.random.Generator, n: int, count: int) -> np.ndarray:
    """``[count, n]`` random orders of the ``n`` inputs."""
    return np.stack([rng.permutation(n) for _ in range(count)]) if count else np.zeros((0, n), dtype=np.int64)


def condensed_index(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Where the pair ``(i, j)``, ``i != j``, sits in a condensed ``n x n`` matrix (scipy's order)."""
    lo, hi = np.minimum(i, j).astype(np.int64), np.maximum(i, j).astype(np.int64)
    return lo * n - lo * (lo + 1) // 2 + (hi - lo - 1)


def pair_index(n: int, draw: np.ndarray) -> np.ndarray:
    """The condensed indices of the resample's pairs ``p < q`` of distinct inputs (``draw[p] != draw[q]``),
    in the resample's condensed order: its RDM is ``rdm[pair_index(n, draw)]``."""
    p, q = np.triu_indices(len(draw), 1)
    a, b = draw[p], draw[q]
    keep = a != b
    return condensed_index(n, a[keep], b[keep])


def permuted_index(n: int, order: np.ndarray) -> np.ndarray:
    """The condensed indices that relabel an RDM by ``order`` (input ``p`` takes input ``order[p]``'s place)."""
    p, q = np.triu_indices(n, 1)
    return condensed_index(n, order[p], order[q])


def packed_index(n: int, draw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices into a packed Gram matrix (``cka.pack``: diagonal, then sqrt(2) x upper triangle) that
    gather the resample's square ``[len(draw), len(draw)]`` matrix, and the factor each entry
    needs (1 on the diagonal of the original, 1/sqrt(2) off it)."""
    a, b = draw[:, None], draw[None, :]
    same = a == b
    index = np.where(same, a, n + condensed_index(n, np.where(same, 0, a), np.where(same, 1, b)))
    scale = np.where(same, 1.0, 1.0 / np.sqrt(2.0))
    return index, scale


def interval(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 95% percentile interval of bootstrap ``samples`` ``[count, ...]`` (NaN resamples ignored)."""
    if len(samples) == 0:
        nan = np.full(samples.shape[1:], np.nan)
        return nan, nan
    with np.errstate(invalid="ignore"):
        low, high = np.nanpercentile(samples, INTERVAL, axis=0)
    return low, high


def p_value(observed: np.ndarray, null: np.ndarray) -> np.ndarray:
    """One-sided permutation p-values: ``(1 + #{null >= observed}) / (1 + permutations)``."""
    return (1 + (null >= observed[None]).sum(axis=0)) / (1 + len(null))
