"""Benchmark: ``vidm embed --layer all`` (every block from one pass) against ``--layer -1``, at ViT-H/14 scale.

Plain script, not collected by pytest::

    .venv/bin/python tests/benchmarks/bench_layers.py [--videos 2] [--clips 1] [--rounds 2] [--check 32]

Writes 1280x720 H.264 videos and embeds ``--clips`` uniform clips of each (16 frames, 224 px)
with a randomly initialised ViT-H/14 on the CPU through ``embed_videos`` (decoding workers,
parts, manifests, one array per block), timing in one run, rotated over ``--rounds``:

- ``--layer -1``: the last block's CLS feature, one array;
- ``--layer all``: all 32 blocks' CLS features from the same single pass, 32 arrays.

The target is at most 1.1x the time of ``--layer -1``. Then, on the first video's centre clip,
``--layer all`` is checked against ``--check`` single-layer runs (``--layer 0``, ``--layer 1``,
...; all 32 by default, about 16.5 forward passes): the arrays must be identical.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from machine import cpu_line
from textured_video import make_textured_video

import vidmenagerie as vm
from vidmenagerie.feature_store import EmbedSettings, load_features
from vidmenagerie.tasks.embed import embed_videos

MODEL = "vit_s_none"  # only its catalogue entry is used (ViT-H/14 shape, 224 px preprocessing)


def run(videos: list[Path], out: Path, model: vm.VideoEncoder, layer: str, clips: str, workers: int) -> float:
    """Seconds ``embed_videos`` takes for ``videos`` at ``layer`` (a fresh output each time)."""
    settings = EmbedSettings.for_model(vm.get_model_entry(MODEL), layer=layer, clips=clips)
    start = time.perf_counter()
    done = embed_videos(videos, out, settings, model=model, resume=False, batch_size=1, workers=workers, device="cpu")
    seconds = time.perf_counter() - start
    assert done.complete and not done.failed
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=2)
    parser.add_argument("--clips", type=int, default=1, help="uniform clips per video")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--check", type=int, default=32, help="single-layer runs to compare (blocks 0..N-1)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "vidm-bench-layers")
    args = parser.parse_args()
    print(cpu_line())
    folder = args.dir / "videos"
    folder.mkdir(parents=True, exist_ok=True)
    videos = [
        make_textured_video(folder / f"v{i}.mp4", seconds=6, seed=i, bit_rate=4_000_000, preset="veryfast")
        for i in range(args.videos)
    ]
    torch.manual_seed(0)
    model = vm.create_model("vit").eval()  # ViT-H/14, random weights
    print(f"ViT-H/14 (random weights), {torch.get_num_threads()} threads; {args.videos} videos x {args.clips} clips")
    clips = "center" if args.clips == 1 else f"uniform:{args.clips}"
    with torch.inference_mode():
        model.forward_features(torch.randn(1, 3, 16, 224, 224))  # warm-up
    times: dict[str, list[float]] = {"-1": [], "all": []}
    for r in range(args.rounds):  # rotate the order so load from elsewhere hits both alike
        for layer in ["-1", "all"] if r % 2 == 0 else ["all", "-1"]:
            seconds = run(videos, args.dir / f"feats{layer}.npy", model, layer, clips, args.workers)
            times[layer].append(seconds)
            print(f"  round {r + 1}: --layer {layer:>3}: {seconds:7.1f} s")
    ratios = [a / b for a, b in zip(times["all"], times["-1"])]
    print(
        f"--layer all / --layer -1: {statistics.median(ratios):.3f}x (per-round median; rounds: "
        f"{', '.join(f'{x:.3f}' for x in ratios)}; target <= 1.1x)"
    )
    check = args.dir / "check"
    check.mkdir(exist_ok=True)
    run(videos[:1], check / "all.npy", model, "all", "center", args.workers)
    every = load_features(check / "all.npy")
    same = []
    for block in range(args.check):
        run(videos[:1], check / "one.npy", model, str(block), "center", args.workers)
        same.append(np.array_equal(every.layer_features(block), load_features(check / "one.npy").features))
    print(f"--layer all equals {sum(same)} of {len(same)} single-layer runs exactly (blocks 0-{args.check - 1})")


if __name__ == "__main__":
    main()
