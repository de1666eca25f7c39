"""The numbers a sweep gives, as ``probe.json`` holds them: a row per fitted probe, a summary per
(layer, probe, shots) over seeds, and the best probe.

Over seeds, Acc@1 is summarised by its mean, sample standard deviation and a 95% Student-t interval
of the mean (``mean +- t(0.975, n - 1) * sd / sqrt(n)``, clipped to [0, 1]); with one draw (shots
``all``) the interval is the pooled Acc@1's 95% Wilson interval. Each seed's pooled Acc@1 keeps its
own Wilson interval. Acc@5 is reported only with more than 5 classes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from ..scoring import Accuracy, EvalScores
from .settings import Shots, shots_label
from .sweep import Outcome

TOP5_FROM = 6  # classes needed before Acc@5 says anything Acc@1 does not


def _accuracy(acc: Accuracy) -> dict[str, Any]:
    return asdict(acc)


def _acc5(scores: EvalScores, classes: int) -> dict[str, Any] | None:
    return _accuracy(scores.acc5_video) if classes >= TOP5_FROM else None


def result_rows(outcomes: Sequence[Outcome], classes: int) -> list[dict[str, Any]]:
    """One row per fitted probe: layer, probe, shots, seed, fold, Acc@1/5, mean per-class accuracy, counts, C."""
    rows = []
    for o in outcomes:
        for f in o.folds:
            rows.append({
                "layer": o.block, "probe": o.probe, "shots": shots_label(o.shots), "seed": o.seed, "fold": f.fold,
                "acc1": _accuracy(f.scores.acc1_video), "acc5": _acc5(f.scores, classes),
                "mean_class_accuracy": f.scores.mean_class_accuracy, "n_train": f.n_train, "n_val": f.n_val,
                "c": f.c, "c_chosen_by": f.chosen_by,
            })  # fmt: skip
    return rows


def over_seeds(values: Sequence[float], pooled: Accuracy | None = None) -> dict[str, Any]:
    """Mean, sd and 95% interval of per-seed values (one value: the pooled Wilson interval, when given)."""
    data = np.asarray(values, dtype=np.float64)
    mean = float(data.mean())
    if len(data) < 2:
        low, high = (pooled.low, pooled.high) if pooled is not None else (mean, mean)
        return {"mean": mean, "sd": None, "low": low, "high": high, "n": len(data), "interval": "wilson"}
    from scipy.stats import t  # type: ignore[import-untyped]

    sd = float(data.std(ddof=1))
    half = float(t.ppf(0.975, len(data) - 1)) * sd / math.sqrt(len(data))
    return {"mean": mean, "sd": sd, "low": max(0.0, mean - half), "high": min(1.0, mean + half), "n": len(data),
            "interval": "t over seeds"}  # fmt: skip


def summaries(outcomes: Sequence[Outcome], classes: int) -> list[dict[str, Any]]:
    """One summary per (layer, probe, shots): Acc@1 over seeds, each seed's pooled Acc@1, Acc@5 and mean
    per-class accuracy over seeds, the strengths chosen."""
    groups: dict[tuple[int, str, Shots], list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault((o.block, o.probe, o.shots), []).append(o)
    found = []
    for (block, probe, shots), members in groups.items():
        pooled = [o.pooled for o in members if o.pooled is not None]
        acc1 = [p.acc1_video for p in pooled]
        strengths = sorted({f.c for o in members for f in o.folds if f.c is not None})
        found.append({
            "layer": block, "probe": probe, "shots": shots_label(shots),
            "acc1": over_seeds([a.value for a in acc1], acc1[0] if len(acc1) == 1 else None),
            "acc1_per_seed": [{"seed": o.seed, **_accuracy(p.acc1_video)} for o, p in zip(members, pooled)],
            "acc5": over_seeds([p.acc5_video.value for p in pooled], pooled[0].acc5_video if len(pooled) == 1 else None)
            if classes >= TOP5_FROM else None,
            "mean_class_accuracy": over_seeds([p.mean_class_accuracy for p in pooled]),
            "n_val": acc1[0].total, "c": strengths,
        })  # fmt: skip
    return found


def best_summary(found: Sequence[dict[str, Any]], largest: Shots, probe: str | None = None) -> dict[str, Any] | None:
    """The summary with the highest mean Acc@1 at the largest shots value (of ``probe``, when given);
    ties go to the earlier one (lower layer, then the probes' order)."""
    label = shots_label(largest)
    candidates = [s for s in found if s["shots"] == label and (probe is None or s["probe"] == probe)]
    if not candidates:
        return None
    top = max(s["acc1"]["mean"] for s in candidates)
    return next(s for s in candidates if s["acc1"]["mean"] == top)


def outcome_of(outcomes: Sequence[Outcome], summary: dict[str, Any]) -> Outcome:
    """The kept outcome (first seed) behind a summary."""
    return next(
        o for o in outcomes
        if o.block == summary["layer"] and o.probe == summary["probe"] and shots_label(o.shots) == summary["shots"]
        and o.shares is not None
    )  # fmt: skip
