"""Benchmark: the full CKA matrix of ``vm.compare`` against recomputing CKA from the features for every pair.

Synthetic features in real feature-store outputs (``tests/stores.py``): ``--models`` models x
``--layers`` layers, ``--inputs`` inputs, width ``--dim`` (ViT-H/14's 1280), each layer a noisy
mix of the one before, so the CKA values range from near 1 (neighbouring layers) to near 0
(other models). Each model is one multi-layer output (``vidm embed --layer all``: one
``NAME.layerNN.npy`` per layer), its model given ``--layers`` blocks.

Ways, each in a fresh subprocess (peak RSS from ``VmHWM``; the features are memory-mapped files,
so the resident set counts what a way touches):

- ``vidm``: ``vm.compare(..., metrics=("cka",), bootstrap=0)``: each layer read once, its centred
  Gram matrix cached (packed upper triangle, float32), all pairs as one product of those;
- ``naive``: for each pair, both layers read and ``vm.cka(x, y)`` (two Gram matrices, centred, two
  inner products). Its time is measured on ``--naive-pairs`` pairs spread over the matrix and
  scaled to all pairs (all 8,646 would take close to an hour on 2 cores), its memory as measured.

Also: the time of one bootstrap resample of the whole matrix (``--resamples``, in the ``vidm`` way).

Run: ``python tests/benchmarks/bench_compare.py`` (33 layers x 4 models x 2,000 inputs, dim 1280:
about 1.4 GB of features in a temporary folder) or ``--small`` for a quick check.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from machine import cpu_line  # noqa: E402

MODELS = ("vit_s_none", "vit_say_none", "vit_kinetics_none", "vit_hvm1_none")

CHILD = r"""
import json, sys, time
from pathlib import Path
import numpy as np

def status_mb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024

def peak_mb():
    return status_mb("VmHWM")

way, listing, pairs, resamples = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
paths = json.loads(listing.read_text())
import vidmenagerie as vm
import vidmenagerie.feature_store  # imports (torch) are no part of either way's time
from vidmenagerie.similarity import CompareSettings
base = status_mb("VmRSS")  # the interpreter, numpy, scipy and torch (imported by the feature store)
start = time.perf_counter()
if way == "vidm":
    result = vm.compare(paths, settings=CompareSettings(metrics=("cka",), bootstrap=0))
    seconds = time.perf_counter() - start
    peak = peak_mb()  # before any resample
    matrix = result.scores["cka"].value
    extra = {}
    if resamples:
        began = time.perf_counter()
        vm.compare(paths, settings=CompareSettings(metrics=("cka",), bootstrap=20, seed=1))
        extra["bootstrap20_seconds"] = time.perf_counter() - began - seconds
    k = len(matrix)
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "base_mb": base, "pairs": k * (k - 1) // 2,
                      "sample": [float(matrix[0, 1]), float(matrix[0, -1])], **extra}))
else:
    outputs = [(out, layer) for out in map(vm.load_features, paths) for layer in out.layers]
    k = len(outputs)
    everything = [(i, j) for i in range(k) for j in range(i + 1, k)]
    chosen = everything[:: max(1, len(everything) // pairs)][:pairs]
    values = []
    for i, j in chosen:
        x = np.asarray(outputs[i][0].layer_features(outputs[i][1]), dtype=np.float64)
        y = np.asarray(outputs[j][0].layer_features(outputs[j][1]), dtype=np.float64)
        values.append(vm.cka(x, y, debiased=False))
        del x, y
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "base_mb": base, "pairs": len(chosen),
                      "per_pair": seconds / len(chosen), "all_pairs_seconds": seconds / len(chosen) * len(everything),
                      "sample": values[:2]}))
"""


def write_outputs(folder: Path, models: int, layers: int, inputs: int, dim: int) -> list[str]:
    """One multi-layer output per model: its first layer random, each next layer a noisy random mix
    of the one before."""
    import numpy as np

    from stores import write_output

    rng = np.random.default_rng(0)
    videos = [f"/stimuli/clip_{i:05d}.mp4" for i in range(inputs)]
    paths = []
    for m in range(models):
        stack = np.empty((layers, inputs, dim), np.float32)
        x = rng.standard_normal((inputs, dim)).astype(np.float32)
        for layer in range(layers):
            if layer:
                mix = (rng.standard_normal((dim, dim)) / np.sqrt(dim)).astype(np.float32)
                x = 0.8 * x + 0.6 * (x @ mix) + 0.3 * rng.standard_normal((inputs, dim)).astype(np.float32)
            stack[layer] = x
        path = folder / f"model{m}.npy"
        write_output(path, stack, videos, model=MODELS[m % len(MODELS)], layers=tuple(range(layers)), depth=layers)
        paths.append(str(path))
        del stack
    return paths


def run(way: str, listing: Path, pairs: int, resamples: int) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parents[1]), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", CHILD, way, str(listing), str(pairs), str(resamples)],
                          capture_output=True, text=True, env=env, check=False)  # fmt: skip
    if done.returncode:
        raise SystemExit(f"{way} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="3 layers x 2 models x 300 inputs, dim 256")
    parser.add_argument("--models", type=int, default=4)
    parser.add_argument("--layers", type=int, default=33)
    parser.add_argument("--inputs", type=int, default=2000)
    parser.add_argument("--dim", type=int, default=1280)
    parser.add_argument("--naive-pairs", type=int, default=24, help="pairs the naive way is timed on")
    parser.add_argument("--resamples", action="store_true", help="also time 20 bootstrap resamples of the matrix")
    args = parser.parse_args()
    if args.small:
        args.models, args.layers, args.inputs, args.dim = 2, 3, 300, 256
    print(cpu_line())
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as folder:
        began = time.perf_counter()
        paths = write_outputs(Path(folder), args.models, args.layers, args.inputs, args.dim)
        listing = Path(folder) / "paths.json"
        listing.write_text(json.dumps(paths))
        k = args.models * args.layers
        written = time.perf_counter() - began
        print(f"{args.models} models x {args.layers} layers = {k} representations, {args.inputs} inputs, "
              f"dim {args.dim}: {k * (k - 1) // 2} pairs (outputs written in {written:.0f} s)")  # fmt: skip
        ours = run("vidm", listing, 0, int(args.resamples))
        naive = run("naive", listing, args.naive_pairs, 0)
    print(
        f"vidm compare (cached Gram matrices): {ours['seconds']:.1f} s, peak RSS {ours['peak_mb']:.0f} MB "
        f"({ours['peak_mb'] - ours['base_mb']:.0f} MB above the imports' {ours['base_mb']:.0f} MB)"
    )
    if "bootstrap20_seconds" in ours:
        print(f"  bootstrap: {ours['bootstrap20_seconds'] / 20:.1f} s per resample of the whole matrix")
    print(
        f"naive (features again for every pair): {naive['per_pair']:.2f} s a pair, measured on "
        f"{naive['pairs']} pairs; all pairs {naive['all_pairs_seconds']:.0f} s; peak RSS {naive['peak_mb']:.0f} MB"
    )
    speed, memory = naive["all_pairs_seconds"] / ours["seconds"], ours["peak_mb"] / naive["peak_mb"]
    print(f"speed: {speed:.0f}x; peak memory {memory:.1f}x the naive way's")


if __name__ == "__main__":
    main()
