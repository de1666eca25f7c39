"""The files of a comparison: ``compare.json`` (every pair), ``compare.<metric>.matrix.csv``,
``compare.inputs.csv``, ``rdms/*.npy`` and ``run.json``; each written atomically, after every
number is computed, so a comparison that fails leaves nothing that looks like a result.

- ``compare.json``: the representations (name, kind, output, model, layer, block), the estimator,
  n, and every pair of each metric: ``a``, ``b``, ``metric``, ``value``, ``low``, ``high`` (the
  bootstrap 95% interval), ``p`` (permutation p-value, RSA against a user RDM), ``n``; null where
  there is none.
- ``compare.cka.matrix.csv`` / ``compare.rsa.matrix.csv``: the square matrix, its first row and
  column the representations (models by layer, in the outputs' order; user RDMs last).
- ``compare.inputs.csv``: the inputs compared, in the RDMs' row order (``row, input``), and the
  picture order (``shown``).
- ``rdms/NAME.npy``: each RDM, square float32, rows in ``compare.inputs.csv`` order; ``rdms/NAME.png``
  its picture: inputs in the shown order, each dissimilarity as its percentile among the RDM's
  (so RDMs of any scale read alike), viridis from dark (most similar) to yellow (most dissimilar),
  averaged over blocks of inputs above ``PICTURE`` inputs a side.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..batch.outputs import atomic_path, versions, write_csv, write_json
from .run import Comparison

PICTURE = 256  # most pixels a side of an RDM's picture: larger RDMs are averaged over blocks of inputs
FILES = {"json": "compare.json", "inputs": "compare.inputs.csv", "run": "run.json", "rdms": "rdms"}


def matrix_file(metric: str) -> str:
    """``compare.cka.matrix.csv``, ``compare.rsa.matrix.csv``."""
    return f"compare.{metric}.matrix.csv"


def rdm_file(name: str) -> str:
    """``rdms/<name>.npy`` with every character a file name should not hold replaced by ``_``."""
    return f"{FILES['rdms']}/{re.sub(r'[^A-Za-z0-9@._-]+', '_', name).strip('_') or 'rdm'}.npy"


def write_comparison(result: Comparison, out: str | Path) -> dict[str, Path]:
    """Write every file of ``result`` into ``out``; returns them by kind."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for metric, scores in result.scores.items():
        path = folder / matrix_file(metric)
        names = result.names(metric)
        with write_csv(path, ["", *names]) as write:
            for name, row in zip(names, scores.value):
                write([name, *(f"{v:.6f}" if np.isfinite(v) else "" for v in row)])
        files[metric] = path
    rdm_paths: dict[str, str] = {}
    for index, square in result.rdms.items():
        name = result.representations[index].name
        relative = rdm_file(name)
        if relative in rdm_paths.values():
            relative = relative.removesuffix(".npy") + f"-{index}.npy"
        rdm_paths[name] = relative
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp, tmp.open("wb") as handle:
            np.save(handle, square.astype(np.float32))
        with atomic_path(target.with_suffix(".png")) as tmp:
            rdm_picture(square, result.order).save(tmp, format="PNG")
    files["inputs"] = folder / FILES["inputs"]
    shown = {row: position for position, row in enumerate(result.order)}
    with write_csv(files["inputs"], ["row", "input", "shown"]) as write:
        for row, name in enumerate(result.inputs):
            write([row, name, shown.get(row, "")])
    files["json"] = folder / FILES["json"]
    write_json(files["json"], comparison_record(result, rdm_paths))
    files["run"] = folder / FILES["run"]
    write_json(files["run"], run_record(result))
    return files


def rdm_picture(square: np.ndarray, order: list[int]) -> Image.Image:
    """An RDM as a picture: rows and columns in ``order``, each value its percentile in the RDM, on
    viridis; block means when larger than ``PICTURE``, enlarged to at least 128 pixels when small."""
    from scipy.stats import rankdata  # type: ignore[import-untyped]

    from ..heatmap import colormap_table

    n = len(square)
    arranged = square[np.ix_(order, order)] if len(order) == n else square
    rows, cols = np.triu_indices(n, 1)
    shares = np.zeros((n, n))
    if len(rows):
        ranks = (rankdata(arranged[rows, cols]) - 1) / max(len(rows) - 1, 1)
        shares[rows, cols] = shares[cols, rows] = ranks
    step = -(-n // PICTURE)
    if step > 1:
        size = -(-n // step)
        padded = np.full((size * step, size * step), np.nan)
        padded[:n, :n] = shares
        shares = np.nanmean(padded.reshape(size, step, size, step), axis=(1, 3))
    levels = np.clip(np.round(np.nan_to_num(shares) * 255), 0, 255).astype(np.uint8)
    picture = Image.fromarray(colormap_table("viridis")[levels].astype(np.uint8), mode="RGB")
    grow = max(1, -(-128 // len(levels))) if len(levels) else 1
    return picture.resize((len(levels) * grow,) * 2, Image.Resampling.NEAREST) if grow > 1 else picture


def _representations(result: Comparison, rdm_paths: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"name": r.name, "kind": r.kind, "output": r.path, "model": r.model, "layer": r.layer, "block": r.block,
         "rdm": rdm_paths.get(r.name)}
        for r in result.representations
    ]  # fmt: skip


def comparison_record(result: Comparison, rdm_paths: dict[str, str] | None = None) -> dict[str, Any]:
    """What ``compare.json`` holds."""
    settings = result.settings
    return {
        "command": "vidm compare",
        "n": result.n,
        "estimator": result.estimator,
        "metrics": {metric: {"members": result.names(metric), **_describe(metric, result)} for metric in result.scores},
        "bootstrap": settings.bootstrap,
        "permutations": settings.permutations,
        "seed": settings.seed,
        "representations": _representations(result, rdm_paths or {}),
        "pairs": result.pairs(),
        "order": result.order,
    }


def _describe(metric: str, result: Comparison) -> dict[str, Any]:
    """How ``metric``'s values were computed, in words and settings."""
    if metric == "cka":
        what = (
            "linear CKA, debiased (unbiased HSIC of Song et al. 2012)"
            if result.estimator == "debiased"
            else "linear CKA, plain (Kornblith et al. 2019)"
        )
        return {"description": what, "estimator": result.estimator, "file": matrix_file(metric)}
    s = result.settings
    return {
        "description": f"{s.rsa_compare} correlation of {s.rsa_distance}-distance RDMs (upper triangles)",
        "distance": s.rsa_distance,
        "compare": s.rsa_compare,
        "file": matrix_file(metric),
    }


def run_record(result: Comparison) -> dict[str, Any]:
    """What ``run.json`` holds: the command, settings, outputs compared, inputs, timing and versions."""
    return {
        "command": "vidm compare",
        "settings": result.settings.to_dict(),
        "estimator": result.estimator,
        "outputs": [
            {
                "path": str(s.path),
                "label": s.label,
                "model": s.model,
                "layers": list(s.layers),
                "blocks": list(s.blocks),
                "pool": s.output.settings.pool,
                "reduce": s.output.settings.reduce,
                "checkpoint": s.output.settings.checkpoint,
            }
            for s in result.sources
        ],  # fmt: skip
        "rdms": [r.path for r in result.representations if r.kind == "rdm"],
        "inputs": {"compared": result.n, "left_out": [{"input": i, "reason": r} for i, r in result.missing]},
        "started": result.started,
        "seconds": round(result.seconds, 3),
        "versions": versions(),
    }
