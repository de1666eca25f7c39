"""Benchmark: ``vm.attention`` against the full-matrix way, at ViT-H/14 shapes, 224 and 448 px, 16 frames.

Random weights with the real width (1280), heads (16 of 80) and token counts (2,049 at 224 px,
8,193 at 448 px), but only ``--depth`` blocks (default 2): a full 32-block forward at 448 px
takes many minutes on a laptop CPU, and every block but the last runs the same fused
attention in both ways, so depth only adds the same time and weights to both.

Ways, each measured in a fresh subprocess (peak RSS from ``VmHWM``, reset through
``/proc/self/clear_refs`` before the measured part; glibc's mmap threshold is pinned so freed
tensors leave the resident set at once):

- ``full``: the reference scripts' way: blocks up to the last, then the last block's whole
  softmax(q k^T / sqrt(d)) ``[heads, N, N]``, row 0 read out;
- ``vidm``: ``vm.attention`` (CLS query only, key projection folded into it).

Scopes: ``call`` is the whole call from frames (peak RSS of the process while it runs, weights
included); ``step`` is the last block's attention alone, given its normed input tokens, after one
warm-up run (peak RSS above what was resident before it, i.e. what the step itself allocates).

Run: ``python tests/benchmarks/bench_attention.py [--sizes 224 448] [--depth 2] [--repeats 3]``.
Targets (issue 5): at 448 px, at most 0.5x the full-matrix way's peak memory and no slower;
the step itself within a few MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, os, sys, time

def status_mb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} in /proc/self/status")

def reset_peak():
    with open("/proc/self/clear_refs", "w") as fh:  # "5": reset VmHWM to the current RSS
        fh.write("5")

import torch
torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
import vidmenagerie as vm

def full_attention(attn, x):  # the straightforward way: the whole softmax(q k^T) matrix
    b, n, c = x.shape
    q = attn.q(x).view(b, n, attn.num_heads, c // attn.num_heads).transpose(1, 2)
    k = attn.k(x).view(b, n, attn.num_heads, c // attn.num_heads).transpose(1, 2)
    return ((q.float() * attn.scale) @ k.float().transpose(-2, -1)).softmax(dim=-1)

way, scope, size, depth, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.manual_seed(0)
model = vm.create_model("vit", img_size=size, depth=depth).eval()
frames = torch.randn(1, 3, 16, size, size)
last = model.blocks[-1]

def full_call():
    with torch.inference_mode():
        tokens = model.forward_tokens(frames, layer=-2)
        return full_attention(last.attn, last.norm1(tokens))[:, :, 0, 1:]

with torch.inference_mode():
    if scope == "step":
        normed = last.norm1(model.forward_tokens(frames, layer=-2))
        run = {
            "full": lambda: full_attention(last.attn, normed)[:, :, 0, 1:],
            "vidm": lambda: last.attn.cls_attention(normed)[:, :, 1:],
        }[way]
        run()  # warm-up: the first matrix product of a shape allocates the BLAS library's buffers
    else:
        run = {
            "full": full_call,
            "vidm": lambda: vm.attention(model, frames),
        }[way]
    seconds = []
    reset_peak()
    before = status_mb("VmRSS")
    for _ in range(repeats):
        start = time.perf_counter()
        out = run()
        seconds.append(time.perf_counter() - start)
        del out
    peak = status_mb("VmHWM")
print(json.dumps({"way": way, "scope": scope, "size": size, "seconds": min(seconds), "peak_mb": peak,
                  "above_mb": peak - before}))
"""


def measure(way: str, scope: str, size: int, depth: int, repeats: int) -> dict:
    """One way in a fresh process; returns its JSON line."""
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}
    args = [sys.executable, "-c", CHILD, way, scope, str(size), str(depth), str(repeats)]
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    if proc.returncode:
        raise SystemExit(f"{way} {scope} {size} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[224, 448])
    parser.add_argument("--depth", type=int, default=2, help="blocks (ViT-H/14 has 32)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per way (best is shown)")
    parser.add_argument("--ways", nargs="+", default=["full", "vidm"])
    args = parser.parse_args()
    print(f"ViT-H/14 shapes (width 1280, 16 heads), 16 frames, depth {args.depth}, random weights, 1 clip")
    print(f"torch threads: {os.environ.get('BENCH_THREADS', '2')}\n")
    print(
        f"{'px':>4} {'tokens':>6} {'scope':<5} {'way':<5} {'seconds':>8} {'peak MB':>8} {'above MB':>9} {'vs full':>16}"
    )
    for size in args.sizes:
        tokens = 8 * (size // 14) ** 2 + 1
        for scope in ("call", "step"):
            results = {w: measure(w, scope, size, args.depth, args.repeats) for w in args.ways}
            ref = results.get("full")
            for way, r in results.items():
                versus = ""
                if ref and way != "full":
                    mem = r["peak_mb"] / ref["peak_mb"] if scope == "call" else r["above_mb"] / ref["above_mb"]
                    versus = f"{mem:.2g}x mem {ref['seconds'] / r['seconds']:.0f}x fast"
                print(
                    f"{size:>4} {tokens:>6} {scope:<5} {way:<5} {r['seconds']:>8.3f} {r['peak_mb']:>8.0f} "
                    f"{r['above_mb']:>9.1f} {versus:>16}",
                    flush=True,
                )
    print(
        "\ncall: peak RSS of the process during the call (weights included); step: the last block's attention "
        "alone, 'above MB' = peak RSS above what was resident before it.\nTargets at 448 px: vidm at most 0.5x "
        "the full way's peak memory, no slower; the step within a few MB."
    )


if __name__ == "__main__":
    main()
