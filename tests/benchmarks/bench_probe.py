"""Benchmark: fitting ``vidm probe`` (linear + k-NN) on 10,000 inputs x 1,280 dims x 33 layers, 10 classes.

Synthetic features (class centres plus noise, the classes further apart in later layers) are
written as feature files of every layer, then probed with a VAL set (8,000 TRAIN inputs, 2,000 VAL),
each way in a fresh subprocess so its peak RSS (``VmHWM``) is its own:

- ``vidm``: the probe's sweep, one layer at a time read from its memory-mapped file, the linear
  probe's strength chosen by an inner 3-fold CV whose fits warm-start along the C grid, k-NN in
  blocks of 1,024 queries with ``argpartition``;
- ``straightforward``: every layer loaded into memory first (float64), then per layer scikit-learn's
  ``GridSearchCV`` over the same C grid (``StandardScaler`` + ``LogisticRegression`` pipeline, 3 folds,
  each fit from scratch, then a refit) and k-NN by a full sort of every query's similarities. It runs
  on ``--compare-layers`` layers (default 3) and its time is scaled to 33 layers; its memory is real.

When this version's embed writes several layers per output (``EmbedSettings.layers``) the features are
a real feature-store output read by ``vm.probe(features=...)``; before that, the sweep reads the same
per-layer files directly.

Run: ``python tests/benchmarks/bench_probe.py [--small] [--dir /tmp/vidm-bench-probe]``.
Targets (issue 21): under 10 minutes and 4 GB on this 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import cpu_line  # noqa: E402

C_GRID = (0.001, 0.01, 0.1, 1.0, 10.0)


def peak_rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def sizes(small: bool) -> dict[str, int]:
    return {"inputs": 1000, "dim": 256, "layers": 5, "classes": 10} if small else {
        "inputs": 10_000, "dim": 1280, "layers": 33, "classes": 10}  # fmt: skip


def write_layers(folder: Path, size: dict[str, int]) -> np.ndarray:
    """``folder/layerNN.npy`` ``[inputs, dim]`` float32 per layer (written in chunks) and the labels."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    labels = np.arange(size["inputs"]) % size["classes"]
    rng.shuffle(labels)
    np.save(folder / "labels.npy", labels)
    for layer in range(size["layers"]):
        path = folder / f"layer{layer:02d}.npy"
        if path.is_file():
            continue
        centres = rng.normal(size=(size["classes"], size["dim"])) * (0.02 + 0.08 * layer / size["layers"])
        out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(size["inputs"], size["dim"]))
        for start in range(0, size["inputs"], 2000):
            part = labels[start : start + 2000]
            out[start : start + len(part)] = centres[part] + rng.normal(size=(len(part), size["dim"]))
        out.flush()
        del out
    return labels


def run_vidm(folder: Path, size: dict[str, int]) -> dict[str, float]:
    """The probe's sweep over every layer, read one layer at a time."""
    from vidmenagerie.probing.data import Side
    from vidmenagerie.probing.settings import ProbeSettings
    from vidmenagerie.probing.sweep import run_sweep

    labels = np.load(folder / "labels.npy")
    n_train = int(0.8 * len(labels))

    class LayerFiles(Side):
        """A side whose rows of a block are read from ``layerNN.npy`` by mmap, as a feature output's are."""

        def block(self, block: int) -> np.ndarray:
            return np.ascontiguousarray(np.load(folder / f"layer{block:02d}.npy", mmap_mode="r"), dtype=np.float32)

    def side(rows: np.ndarray) -> Side:
        names = tuple(str(i) for i in rows)
        return LayerFiles(None, names, labels[rows], rows, np.ones(len(rows), dtype=np.int64), ())  # type: ignore[arg-type]

    train, val = side(np.arange(n_train)), side(np.arange(n_train, len(labels)))
    names = [str(c) for c in range(size["classes"])]
    clock = time.perf_counter()
    sweep = run_sweep(train, val, names, list(range(size["layers"])), ProbeSettings(c_grid=C_GRID))
    seconds = time.perf_counter() - clock
    best = max((o.pooled.acc1_video.value, o.block, o.probe) for o in sweep.outcomes if o.pooled is not None)
    return {"seconds": seconds, "peak_mb": peak_rss_mb(), "best_acc1": best[0], "best_layer": best[1],
            "per_layer": seconds / size["layers"]}  # fmt: skip


def run_plain(folder: Path, size: dict[str, int], layers: int) -> dict[str, float]:
    """Every layer in memory, GridSearchCV per layer, k-NN by full sorts: on ``layers`` layers."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = np.load(folder / "labels.npy")
    n_train = int(0.8 * len(labels))
    everything = np.stack([np.load(folder / f"layer{i:02d}.npy").astype(np.float64) for i in range(size["layers"])])
    clock = time.perf_counter()
    for layer in range(layers):
        x, xv = everything[layer, :n_train], everything[layer, n_train:]
        y = labels[:n_train]
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
    return {"seconds": seconds, "peak_mb": peak_rss_mb(), "per_layer": seconds / layers,
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
    write_layers(folder, size)
    print(f"features written in {time.perf_counter() - clock:.1f} s to {folder}")
    ours = child("vidm", folder, args.small, 0)
    best = f"best Acc@1 {ours['best_acc1']:.3f} at layer {ours['best_layer']:.0f}"
    print(f"vidm:            {ours['seconds']:.1f} s ({ours['per_layer']:.2f} s a layer), peak RSS "
          f"{ours['peak_mb']:.0f} MB; {best}")  # fmt: skip
    layers = min(args.compare_layers, size["layers"])
    plain = child("plain", folder, args.small, layers)
    total = plain["per_layer"] * size["layers"]
    print(f"straightforward: {plain['seconds']:.1f} s for {layers} layers ({plain['per_layer']:.2f} s a layer, "
          f"{total:.0f} s for {size['layers']} scaled), peak RSS {plain['peak_mb']:.0f} MB")  # fmt: skip
    print(f"ratio: time {ours['per_layer'] / plain['per_layer']:.2f}x, peak memory "
          f"{ours['peak_mb'] / plain['peak_mb']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
