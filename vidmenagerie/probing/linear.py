"""The linear probe: multinomial logistic regression (scikit-learn, lbfgs) on features standardized
with the TRAIN statistics, its L2 strength chosen by an inner stratified cross-validation on TRAIN.

Standardizing with the training mean and standard deviation is what MAE's ``main_linprobe.py`` does
with a BatchNorm without affine before the head. The inner folds split inputs (videos), not rows, so
the clips of one video never sit on both sides; the strengths are tried smallest first, each fold's
fit warm-starting from the previous strength (as ``LogisticRegressionCV`` walks its path), and the
best mean fold accuracy wins (ties: the smaller C, the stronger penalty). The final model is a plain
``LogisticRegression(C=chosen)`` on all of TRAIN, so it equals scikit-learn's on the same split and C.

Fits run with one BLAS/OpenMP thread (``threadpoolctl``): lbfgs makes many small products, and
on 2 shared cores their threads mostly wait on each other (an 8,000 x 1,280, 10-class fit: 1.1 s
with one thread, 6.4 s with two; 800 x 256: 0.02-0.05 s against 0.4-1.9 s).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .settings import C_FIXED

MAX_ITER = 1000
TOL = 1e-4


@dataclass(frozen=True)
class LinearFit:
    """A fitted probe: ``mean``/``scale`` (TRAIN statistics), ``coef`` ``[classes, dim]``, ``intercept``,
    the chosen ``c`` and how (``"cv"``, or ``"fixed"`` when TRAIN had too few examples per class)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    c: float
    chosen_by: str

    def logits(self, features: np.ndarray) -> np.ndarray:
        """Class scores ``[rows, classes]`` of raw (unstandardized) features."""
        return ((np.asarray(features, dtype=np.float64) - self.mean) / self.scale) @ self.coef.T + self.intercept

    def folded(self) -> tuple[np.ndarray, np.ndarray]:
        """The standardization folded into the layer: ``W' = W / sigma``, ``b' = b - W' mu`` (float64)."""
        weight = self.coef / self.scale
        return weight, self.intercept - weight @ self.mean


def _model(c: float, seed: int, warm: bool = False):  # noqa: ANN202 - sklearn is imported here, lazily
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    return LogisticRegression(C=c, solver="lbfgs", max_iter=MAX_ITER, tol=TOL, random_state=seed, warm_start=warm)


def standardize(features: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features standardized with their own mean and standard deviation (a constant feature keeps scale 1),
    as scikit-learn's ``StandardScaler``; returns ``(standardized, mean, scale)``."""
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

    scaler = StandardScaler().fit(features)
    return scaler.transform(features), scaler.mean_, scaler.scale_


def fit_linear(
    features: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    *,
    classes: int,
    c_grid: Sequence[float],
    inner_folds: int,
    seed: int,
) -> LinearFit:
    """Fit the probe on rows ``features`` ``[rows, dim]`` with ``labels`` ``[rows]`` (of ``classes``);
    ``groups`` names each row's input, so the inner folds split inputs."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    x, mean, scale = standardize(np.asarray(features, dtype=np.float64))
    y = np.asarray(labels)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: MAX_ITER is far beyond what these fits need
        c, how = choose_c(x, y, groups, c_grid=c_grid, inner_folds=inner_folds, seed=seed)
        model = _model(c, seed).fit(x, y)
    coef, intercept = _full_coef(model, classes)
    return LinearFit(mean, scale, coef, intercept, c, how)


def _full_coef(model: object, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The fitted weights as ``[classes, dim]``: two classes become the softmax pair ``[-w/2, w/2]`` of
    sklearn's one row; a class absent from this TRAIN part gets no weight and an intercept of -inf."""
    seen = np.asarray(model.classes_)  # type: ignore[attr-defined]
    coef = np.asarray(model.coef_, dtype=np.float64)  # type: ignore[attr-defined]
    intercept = np.asarray(model.intercept_, dtype=np.float64)  # type: ignore[attr-defined]
    if len(seen) == 2 and coef.shape[0] == 1:
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    full = np.zeros((classes, coef.shape[1]))
    bias = np.full(classes, -np.inf)
    full[seen], bias[seen] = coef, intercept
    return full, bias


def choose_c(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, *, c_grid: Sequence[float], inner_folds: int, seed: int
) -> tuple[float, str]:
    """The strength with the best mean accuracy over stratified inner folds of the inputs (see the module doc)."""
    from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]

    inputs, first = np.unique(groups, return_index=True)
    input_labels = y[first]
    smallest = int(np.unique(input_labels, return_counts=True)[1].min())
    folds = min(inner_folds, smallest)
    if folds < 2 or len(c_grid) == 1:
        return (float(c_grid[0]) if len(c_grid) == 1 else C_FIXED), "fixed"
    grid = sorted(float(c) for c in c_grid)
    correct = np.zeros(len(grid))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train_inputs, test_inputs in splitter.split(inputs, input_labels):
        train = np.isin(groups, inputs[train_inputs])
        test = np.isin(groups, inputs[test_inputs])
        model = _model(grid[0], seed, warm=True)
        for i, c in enumerate(grid):
            model.set_params(C=c)
            model.fit(x[train], y[train])
            correct[i] += np.sum(model.predict(x[test]) == y[test])
    return grid[int(np.argmax(correct))], "cv"
