"""``run_probe``: features (embedded or given), the sweep, and the files of ``DIR``.

Everything that can be refused is refused before the model runs (classes, cross-validation, settings,
given features, the output folder); results are written only once every probe is fitted, so a run
that stops leaves nothing that looks like a result (``DIR/features/`` is kept: the next run resumes it).

Files: ``probe.json`` (settings, classes, every row, the summaries, the best; no clock time, so two
runs with the same seed write the same bytes), ``probe.predictions.csv`` and ``probe.per_class.csv``
(the best probe's, in ``eval.*``'s format), ``probe.confusion.png``, ``run.json`` (timing, versions)
and ``head/`` (the best linear probe as a model).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..batch.outputs import check_writable, versions, write_json
from ..catalog import get_model_entry
from ..errors import ProbeError
from ..feature_store import FeatureOutput
from ..scoring import write_per_class, write_predictions
from .data import Labels, Side, check_cross_validation, match
from .features import Embedding, check_blocks, embed_features, given_features
from .head import HEAD_DIR, export_head, head_name
from .layers import model_depth, stored_blocks, wanted_blocks
from .results import best_summary, outcome_of, result_rows, summaries
from .settings import ProbeSettings, shots_label
from .sweep import BlockDone, Sweep, head_fit, run_sweep

FILES = {
    "probe": "probe.json",
    "predictions": "probe.predictions.csv",
    "per_class": "probe.per_class.csv",
    "confusion": "probe.confusion.png",
    "run": "run.json",
}


@dataclass(frozen=True)
class ProbeRun:
    """What a probe found: the classes, every row, the summaries, the best, the head and the files."""

    out: Path
    classes: tuple[str, ...]
    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    best: dict[str, Any]
    head: dict[str, Any] | None
    notes: list[str]
    excluded: list[tuple[str, str]]
    files: dict[str, Path]


def run_probe(
    labels: Labels,
    out: str | Path,
    settings: ProbeSettings,
    *,
    layers: int | Sequence[int] | str = -1,
    pool: str = "cls",
    embedding: Embedding | None = None,
    features: str | Path | None = None,
    val_features: str | Path | None = None,
    model: str | None = None,
    head: bool = True,
    name: str | None = None,
    on_block: BlockDone | None = None,
) -> ProbeRun:
    """Probe ``labels`` at ``layers`` of the features ``embedding`` makes (or ``features`` holds)."""
    started, clock = datetime.now(timezone.utc), time.perf_counter()
    folder = Path(out)
    check_cross_validation(labels)
    if pool not in ("cls", "mean"):
        raise ProbeError(f"--pool {pool}: a probe reads the cls or mean feature", problem="settings")
    _check_folder(folder)
    if features is not None:
        train_out, val_out = given_features(features, val_features, labels=labels, model=model, pool=pool)
        blocks = wanted_blocks(layers, model_depth(train_out))
        for output in (train_out, val_out):
            if output is not None:
                check_blocks(output, blocks)
    else:
        if embedding is None:
            raise ProbeError("give the features (--features) or the model to embed with", problem="settings")
        train_out, val_out = embed_features(labels, folder, embedding)
        blocks = stored_blocks(train_out)
    strict = features is not None
    train = match(train_out, labels.train, strict=strict)
    val = match(val_out, labels.val, strict=strict) if val_out is not None and labels.val is not None else None
    _check_matched(train, val, labels)
    sweep = run_sweep(train, val, labels.names, blocks, settings, on_block=on_block)
    folder.mkdir(parents=True, exist_ok=True)
    return _write(folder, labels, settings, train, val, train_out, sweep, head=head, name=name,
                  started=started, seconds=time.perf_counter() - clock)  # fmt: skip


def _check_folder(folder: Path) -> None:
    """The output folder can be written, and its page is vidm's (checked before any work)."""
    from ..report.build import PAGE, check_page

    if folder.exists() and not folder.is_dir():
        raise ProbeError(f"{folder}: --out must be a folder, this is a file", path=str(folder), problem="settings")
    check_writable(folder)
    check_page(folder / PAGE)


def _check_matched(train: Side, val: Side | None, labels: Labels) -> None:
    """After inputs that failed to embed are left out: still 2 classes, and 2 inputs a class without VAL."""
    present = np.unique(train.labels)
    if len(present) < 2:
        raise ProbeError(f"{labels.train.source}: fewer than 2 classes have features", problem="classes")
    if val is None:
        counts = np.bincount(train.labels, minlength=len(labels.names))
        single = [labels.names[c] for c in np.flatnonzero(counts == 1)]
        if single:
            raise ProbeError(
                f"{labels.train.source}: class {single[0]!r} has one example with features: cross-validation needs "
                "at least 2 per class",
                problem="classes",
            )
    elif not len(val.inputs):
        raise ProbeError(f"{labels.val.source if labels.val else 'VAL'}: no VAL input has features", problem="labels")


def _relative(path: Path, folder: Path) -> str:
    """``path`` relative to ``folder`` when inside it (so a moved folder's record still holds)."""
    try:
        return (
            os.path.relpath(path.resolve(), folder.resolve())
            if path.resolve().is_relative_to(folder.resolve())
            else str(path.resolve())
        )
    except ValueError:
        return str(path)


def _write(
    folder: Path,
    labels: Labels,
    settings: ProbeSettings,
    train: Side,
    val: Side | None,
    train_out: FeatureOutput,
    sweep: Sweep,
    *,
    head: bool,
    name: str | None,
    started: datetime,
    seconds: float,
) -> ProbeRun:
    """Choose the best probe, export the head, and write every file."""
    classes = len(labels.names)
    rows = result_rows(sweep.outcomes, classes)
    found = summaries(sweep.outcomes, classes)
    largest = settings.shots[-1]
    best = best_summary(found, largest)
    assert best is not None
    kept = outcome_of(sweep.outcomes, best)
    files = {key: folder / file for key, file in FILES.items()}
    head_record = None
    best_linear = best_summary(found, largest, "linear")
    embedded = train_out.settings
    if head and best_linear is not None:
        fit = head_fit(train, best_linear["layer"], settings, classes, sweep)
        entry = get_model_entry(embedded.model)
        label = name or head_name(embedded.model, best_linear["layer"], embedded.pool)
        toml = export_head(
            folder, fit, name=label, entry=entry, settings=embedded, block=best_linear["layer"],
            class_names=labels.names, description=f"{classes} classes from {Path(labels.train.source).name}",
        )  # fmt: skip
        trained_on = len(train.inputs) if largest is None else f"{shots_label(largest)} per class"
        head_record = {"name": label, "catalog": f"{HEAD_DIR}/catalog.toml", "layer": best_linear["layer"],
                       "pool": embedded.pool, "c": fit.c, "c_chosen_by": fit.chosen_by,
                       "trained_on": trained_on}  # fmt: skip
        files["head"] = toml
    assert kept.shares is not None and kept.pooled is not None
    write_predictions(files["predictions"], list(sweep.scored), kept.shares, sweep.truth, labels.names)
    write_per_class(files["per_class"], kept.pooled.per_class)
    from ..scoring import write_confusion_picture  # pulls in the renderer

    write_confusion_picture(files["confusion"], sweep.truth, kept.shares.argmax(axis=1), labels.names)
    record = _record(folder, labels, settings, train, val, train_out, sweep, rows, found, best, head_record)
    write_json(files["probe"], record)
    write_json(files["run"], {
        "command": "vidm probe", "started": started.isoformat(timespec="seconds"), "seconds": round(seconds, 3),
        "seconds_per_layer": {str(b): round(s, 3) for b, s in sweep.seconds.items()},
        "model": embedded.model, "settings": settings.to_dict(), "versions": versions(),
    })  # fmt: skip
    excluded = [*train.excluded, *(val.excluded if val else ())]
    return ProbeRun(folder, labels.names, rows, found, best, head_record, sweep.notes, excluded, files)


def _record(
    folder: Path,
    labels: Labels,
    settings: ProbeSettings,
    train: Side,
    val: Side | None,
    train_out: FeatureOutput,
    sweep: Sweep,
    rows: list[dict[str, Any]],
    found: list[dict[str, Any]],
    best: dict[str, Any],
    head: dict[str, Any] | None,
) -> dict[str, Any]:
    """``probe.json``: what was probed, how, and every number (see the module doc)."""
    embedded = train_out.settings

    def side(labelled: Any, matched: Side | None, output: FeatureOutput | None) -> dict[str, Any] | None:
        if labelled is None or matched is None or output is None:
            return None
        return {"source": str(labelled.source), "rule": labelled.rule, "description": labelled.description,
                "inputs": len(matched.inputs), "rows": int(matched.count.sum()),
                "features": _relative(output.layout.out, folder),
                "excluded": [{"input": v, "reason": r} for v, r in matched.excluded]}  # fmt: skip

    return {
        "command": "vidm probe",
        "model": embedded.model,
        "checkpoint": embedded.checkpoint,
        "pool": embedded.pool,
        "layers": sorted({o.block for o in sweep.outcomes}),
        "depth": model_depth(train_out),
        "features": {"clips": embedded.clips, "crops": embedded.crops, "reduce": embedded.reduce,
                     "dtype": embedded.dtype, "preprocessing": embedded.preprocessing.to_dict()},
        "protocol": "val" if val is not None else f"{settings.folds}-fold cross-validation on TRAIN",
        "settings": settings.to_dict(),
        "classes": list(labels.names),
        "train": side(labels.train, train, train_out),
        "val": side(labels.val, val, val.output if val else None),
        "interval": {"per_row": "wilson, 95%", "over_seeds": "student t, 95%, of the mean"},
        "knn": {"score": "score_c = sum over the k nearest (cosine) of exp(sim / T) * [label = c]",
                "k": settings.k, "temperature": settings.temperature},
        "notes": sweep.notes,
        "rows": rows,
        "summary": found,
        "best": best,
        "predictions": {"layer": best["layer"], "probe": best["probe"], "shots": best["shots"],
                        "seed": outcome_of(sweep.outcomes, best).seed},
        "head": head,
    }  # fmt: skip
