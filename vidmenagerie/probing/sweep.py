"""The sweep: every asked layer, one at a time (its rows read from the memory-mapped file once), every
split, shots value and seed, every probe; each input's clips averaged as ``evaluate`` averages views
(the mean of the rows' class shares), then scored.

Per (layer, probe, shots, seed) the folds' predictions are pooled (every scored input is predicted
once, by a model that never saw it); only the pooled shares of the first seed at the largest shots
are kept in memory (the ones a best probe is picked from), the rest are kept as scores.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..scoring import EvalScores, score
from ..scoring.views import softmax
from .data import Side
from .knn import knn_shares, normalized
from .linear import LinearFit, fit_linear
from .settings import ProbeSettings, Shots
from .splits import Split, draw_shots, short_classes, splits


@dataclass(frozen=True)
class FoldResult:
    """One fitted probe on one split: inputs trained on and scored, the strength chosen, the scores."""

    fold: int | None
    n_train: int
    n_val: int
    c: float | None
    chosen_by: str | None
    scores: EvalScores


@dataclass
class Outcome:
    """One (block, probe, shots, seed): its folds and the pooled scores (``shares`` kept for the largest shots'
    first seed: ``[scored inputs, classes]``, in the order of ``Sweep.scored``)."""

    block: int
    probe: str
    shots: Shots
    seed: int | None
    folds: list[FoldResult] = field(default_factory=list)
    pooled: EvalScores | None = None
    shares: np.ndarray | None = None


@dataclass
class Sweep:
    """Everything fitted: the outcomes in order, the scored side's truth, the linear fits on the whole of
    TRAIN kept for the head, and the notes (classes short of a shots value)."""

    outcomes: list[Outcome]
    truth: np.ndarray
    scored: tuple[str, ...]
    fits: dict[int, LinearFit]
    notes: list[str]
    seconds: dict[int, float]


BlockDone = Callable[[int, float], None]


def run_sweep(
    train: Side,
    val: Side | None,
    names: Sequence[str],
    blocks: Sequence[int],
    settings: ProbeSettings,
    *,
    on_block: BlockDone | None = None,
) -> Sweep:
    """Fit and score every probe at every block (see the module doc)."""
    classes = len(names)
    parts = splits(train.labels, val_inputs=None if val is None else len(val.inputs), folds=settings.folds,
                   seed=settings.seed)  # fmt: skip
    scored_side = val if val is not None else train
    truth = scored_side.labels
    largest = settings.shots[-1]
    notes = _shortages(train, names, parts, settings)
    outcomes: list[Outcome] = []
    fits: dict[int, LinearFit] = {}
    seconds: dict[int, float] = {}
    for block in blocks:
        clock = time.perf_counter()
        x_train = train.block(block)
        x_val = val.block(block) if val is not None else x_train
        unit_train = normalized(x_train) if "knn" in settings.probes else None
        unit_val = (normalized(x_val) if val is not None else unit_train) if unit_train is not None else None
        for shots in settings.shots:
            for seed in settings.seed_list(shots):
                keep = shots == largest and seed == settings.seed_list(shots)[0]
                found = {p: Outcome(block, p, shots, seed) for p in settings.probes}
                pooled = {p: np.zeros((len(truth), classes)) for p in settings.probes}
                for part in parts:
                    chosen = part.train if shots is None else draw_shots(train.labels, part.train, shots,
                                                                         seed or 0, part.fold)  # fmt: skip
                    train_rows, groups = train.rows(chosen), train.groups(chosen)
                    val_rows = scored_side.rows(part.val)
                    val_groups = scored_side.groups(part.val)
                    for probe in settings.probes:
                        if probe == "linear":
                            fit = fit_linear(
                                x_train[train_rows], train.labels[groups], groups, classes=classes,
                                c_grid=settings.c_grid, inner_folds=settings.inner_folds, seed=settings.seed,
                            )  # fmt: skip
                            if keep and part.fold is None:
                                fits[block] = fit
                            row_shares = softmax(fit.logits(x_val[val_rows]))
                            c, how = fit.c, fit.chosen_by
                        else:
                            assert unit_train is not None and unit_val is not None
                            row_shares = knn_shares(
                                unit_train[train_rows], train.labels[groups], unit_val[val_rows], classes=classes,
                                k=settings.k, temperature=settings.temperature, normalised=True,
                            )  # fmt: skip
                            c, how = None, None
                        shares = per_input(row_shares, val_groups, part.val)
                        pooled[probe][part.val] = shares
                        found[probe].folds.append(FoldResult(
                            part.fold, len(chosen), len(part.val), c, how, score(shares, truth[part.val], names)
                        ))  # fmt: skip
                for probe in settings.probes:
                    outcome = found[probe]
                    outcome.pooled = score(pooled[probe], truth, names)
                    outcome.shares = pooled[probe] if keep else None
                    outcomes.append(outcome)
        seconds[block] = time.perf_counter() - clock
        if on_block is not None:
            on_block(block, seconds[block])
    return Sweep(outcomes, truth, scored_side.inputs, fits, notes, seconds)


def per_input(row_shares: np.ndarray, groups: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """The mean of each input's rows' shares, ``[len(inputs), classes]`` in the order of ``inputs``."""
    position = {int(v): i for i, v in enumerate(inputs)}
    where = np.fromiter((position[int(g)] for g in groups), dtype=np.int64, count=len(groups))
    sums = np.zeros((len(inputs), row_shares.shape[1]))
    np.add.at(sums, where, row_shares)
    counts = np.bincount(where, minlength=len(inputs)).astype(np.float64)
    return sums / counts[:, None]


def _shortages(train: Side, names: Sequence[str], parts: Sequence[Split], settings: ProbeSettings) -> list[str]:
    """One line per (shots, class) where a class has fewer TRAIN inputs than the shots value."""
    notes = []
    for shots in settings.shots:
        if shots is None:
            continue
        short: dict[int, int] = {}
        for part in parts:
            for c, n in short_classes(train.labels, part.train, shots).items():
                short[c] = min(n, short.get(c, n))
        for c, n in sorted(short.items()):
            where = "in a fold's TRAIN part" if len(parts) > 1 else "in TRAIN"
            notes.append(f"class {names[c]!r} has {n} example{'s' if n != 1 else ''} {where}, fewer than "
                         f"{shots} shots: all {n} used")  # fmt: skip
    return notes


def head_fit(train: Side, block: int, settings: ProbeSettings, classes: int, sweep: Sweep) -> LinearFit:
    """The linear probe on all of TRAIN at ``block`` (the largest shots' first draw): the sweep's own fit
    when it made one (with a VAL set), else fitted now."""
    if block in sweep.fits:
        return sweep.fits[block]
    shots = settings.shots[-1]
    everything = np.arange(len(train.inputs))
    seed = settings.seed_list(shots)[0]
    chosen = everything if shots is None else draw_shots(train.labels, everything, shots, seed or 0, None)
    x = train.block(block)
    rows, groups = train.rows(chosen), train.groups(chosen)
    return fit_linear(x[rows], train.labels[groups], groups, classes=classes, c_grid=settings.c_grid,
                      inner_folds=settings.inner_folds, seed=settings.seed)  # fmt: skip
