"""Benchmark: fitting ``vidm probe`` (linear + k-NN) on 10,000 inputs x 1,280 dims x 33 layers, 10 classes.

Synthetic features (class centres plus noise, the classes further apart in later layers) are written
as two ``vidm embed`` outputs of every block of a ViT-H-wide model with 33 blocks (TRAIN: 8,000
inputs, VAL: 2,000; ``train.layer00.npy`` ... ``train.layer32.npy`` with their manifests), then probed
each way in a fresh subprocess, so its peak RSS (``VmHWM``) and CPU time are its own:

- ``vidm``: ``vm.probe(TRAIN, val=VAL, features=..., layers="all")``: one layer at a time read from its
  memory-mapped file, the linear probe's strength chosen by an inner 3-fold CV whose fits warm-start
  along the C grid, k-NN in blocks of 1,024 queries with ``argpartition``; every file written;
- ``straightforward``: every layer loaded into memory first (float64), then per layer scikit-learn's
  ``GridSearchCV`` over the same C grid (``StandardScaler`` + ``LogisticRegression`` pipeline, 3 folds,
  each fit from scratch, then a refit) and k-NN by a full sort of every query's similarities. It runs
  on ``--compare-layers`` layers (default 3) and its time is scaled to 33 layers; its memory is real.

Run: ``python tests/benchmarks/bench_probe.py [--small] [--dir /tmp/vidm-bench-probe]``.
Targets (issue 21): under 10 minutes and 4 GB on this 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import cpu_line  # noqa: E402

C_GRID = (0.001, 0.01, 0.1, 1.0, 10.0)
MODEL = "bench_vit"


def peak_rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def sizes(small: bool) -> dict[str, int]:
    return {"inputs": 1000, "dim": 256, "layers": 5, "classes": 10} if small else {
        "inputs": 10_000, "dim": 1280, "layers": 33, "classes": 10}  # fmt: skip


def write_data(folder: Path, size: dict[str, int]) -> None:
    """The catalogue entry, TRAIN and VAL outputs of every block, and their label tables."""
    from probe_data import labelled_table, store_files, write_manifests

    from vidmenagerie.catalog import register_catalog

    folder.mkdir(parents=True, exist_ok=True)
    catalog = folder / "catalog.toml"
    catalog.write_text(f'[models.{MODEL}]\nkind = "vit"\ncheckpoint = "none.pth"\nembed_dim = {size["dim"]}\n'
                       f'num_heads = 16\ndepth = {size["layers"]}\n')  # fmt: skip
    register_catalog(catalog)
    rng = np.random.default_rng(0)
    labels = np.arange(size["inputs"]) % size["classes"]
    rng.shuffle(labels)
    n_train = int(0.8 * len(labels))
    blocks = list(range(size["layers"]))
    for side, rows in (("train", np.arange(n_train)), ("val", np.arange(n_train, len(labels)))):
        videos = [str(folder / "inputs" / f"{i:05d}.mp4") for i in rows]
        labelled_table(folder / f"{side}.csv", videos, [f"class{c}" for c in labels[rows]])
        write_manifests(folder / f"{side}.npy", videos, blocks, size["dim"], model=MODEL)
    centres = rng.normal(size=(size["layers"], size["classes"], size["dim"]))
    for block in blocks:
        spread = 0.02 + 0.08 * block / size["layers"]
        for side, rows in (("train", np.arange(n_train)), ("val", np.arange(n_train, len(labels)))):
            path = store_files(folder / f"{side}.npy", blocks, model=MODEL)[block]
            out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(len(rows), size["dim"]))
            for start in range(0, len(rows), 2000):
                part = labels[rows[start : start + 2000]]
                out[start : start + len(part)] = spread * centres[block, part] + rng.normal(
                    size=(len(part), size["dim"])
                )
            out.flush()
            del out
    np.save(folder / "labels.npy", labels)


def run_vidm(folder: Path, size: dict[str, int]) -> dict[str, float]:
    """``vm.probe`` on the written outputs, every block."""
    import vidmenagerie as vm

    vm.register_catalog(folder / "catalog.toml")
    clock = time.perf_counter()
    run = vm.probe(folder / "train.csv", val=folder / "val.csv", features=folder / "train.npy",
                   val_features=folder / "val.npy", layers="all", out=folder / "out")  # fmt: skip
    seconds = time.perf_counter() - clock
    return {"seconds": seconds, "cpu": cpu_seconds(), "peak_mb": peak_rss_mb(), "best_acc1": run.best["acc1"]["mean"],
            "best_layer": run.best["layer"], "per_layer": seconds / size["layers"]}  # fmt: skip


def run_plain(folder: Path, size: dict[str, int], layers: int) -> dict[str, float]:
    """Every layer in memory, GridSearchCV per layer, k-NN by full sorts: on ``layers`` layers."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = np.load(folder / "labels.npy")
    n_train = int(0.8 * len(labels))
    name = "layer{:02d}.npy"
    train = np.stack([np.load(folder / f"train.{name.format(i)}").astype(np.float64) for i in range(size["layers"])])
    val = np.stack([np.load(folder / f"val.{name.format(i)}").astype(np.float64) for i in range(size["layers"])])
    clock = time.perf_counter()
    for layer in range(size["layers"] - layers, size["layers"]):
        x, xv, y = train[layer], val[layer], labels[:n_train]
        search = GridSearchCV(
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
            {"logisticregression__C": list(C_GRID)},
            cv=StratifiedKFold(3, shuffle=True, random_state=0),
        ).fit(x, y)
        search.predict(xv)
        a = x / np.linalg.norm(x, axis=1, keepdims=True)
        b = xv / np.linalg.norm(xv, axis=1, keepdims=True)
        sims = b @ a.T
        nearest = np.argsort(-sims, axis=1)[:, :20]
        weights = np.exp(np.take_along_axis(sims, nearest, axis=1) / 0.07)
        scores = np.zeros((len(b), size["classes"]))
        np.add.at(scores, (np.arange(len(b))[:, None], y[nearest]), weights)
    seconds = time.perf_counter() - clock
    return {"seconds": seconds, "cpu": cpu_seconds(), "peak_mb": peak_rss_mb(), "per_layer": seconds / layers,
            "layers_run": layers}  # fmt: skip


def child(way: str, folder: Path, small: bool, layers: int) -> dict[str, float]:
    """Run one way in a fresh process; its figures as a dict."""
    code = (
        f"import sys, json; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); import bench_probe as b;"
        f" from pathlib import Path; size = b.sizes({small});"
        + (f" print(json.dumps(b.run_vidm(Path({str(folder)!r}), size)))" if way == "vidm" else
           f" print(json.dumps(b.run_plain(Path({str(folder)!r}), size, {layers})))")
    )  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{way} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="1,000 inputs x 256 dims x 5 layers: a quick run")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/vidm-bench-probe"))
    parser.add_argument("--compare-layers", type=int, default=3, help="layers the straightforward way runs")
    args = parser.parse_args()
    size = sizes(args.small)
    folder = args.dir / ("small" if args.small else "full")
    print(cpu_line())
    print(f"{size['inputs']:,} inputs (80% TRAIN, 20% VAL) x {size['dim']} dims x {size['layers']} layers, "
          f"{size['classes']} classes, linear + knn")  # fmt: skip
    clock = time.perf_counter()
    if not (folder / "labels.npy").is_file():
        write_data(folder, size)
    print(f"features written in {time.perf_counter() - clock:.1f} s to {folder}")
    ours = child("vidm", folder, args.small, 0)
    best = f"best Acc@1 {ours['best_acc1']:.3f} at layer {ours['best_layer']:.0f}"
    print(f"vidm:            {ours['seconds']:.1f} s ({ours['per_layer']:.2f} s a layer; CPU {ours['cpu']:.0f} s), "
          f"peak RSS {ours['peak_mb']:.0f} MB; {best}")  # fmt: skip
    layers = min(args.compare_layers, size["layers"])
    plain = child("plain", folder, args.small, layers)
    total = plain["per_layer"] * size["layers"]
    print(f"straightforward: {plain['seconds']:.1f} s for the last {layers} layers ({plain['per_layer']:.2f} s a "
          f"layer, {total:.0f} s for {size['layers']} scaled; CPU {plain['cpu']:.0f} s), peak RSS "
          f"{plain['peak_mb']:.0f} MB")  # fmt: skip
    print(f"ratio: time {ours['per_layer'] / plain['per_layer']:.2f}x, peak memory "
          f"{ours['peak_mb'] / plain['peak_mb']:.2f}x; load average {os.getloadavg()[0]:.1f} at the end")  # fmt: skip


if __name__ == "__main__":
    main()
