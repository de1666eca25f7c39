"""Benchmark: ``vidm embed``'s pipeline against the straightforward loop, at the real ViT-H/14 shape.

Plain script, not collected by pytest::

    .venv/bin/python tests/benchmarks/bench_embed.py [--videos 3] [--clips 2] [--batch-size 2] [--rounds 1] [--bf16]

Writes a folder of 1280x720 H.264 videos (6 s, ~4 Mbit/s, a keyframe every 250 frames) and
embeds ``--clips`` uniform clips of each (16 frames, every 8th at 30 fps, 224 px) with a
randomly initialised ViT-H/14 on the CPU, timing in one run:

- ``straightforward``: decode one video (``read_clips``), run its clips one at a time under
  ``torch.no_grad``, save its ``.npy``, repeat;
- ``vidm embed``: ``embed_videos`` (decoding in ``--workers`` processes while the model runs,
  clips batched across videos, ``inference_mode``, parts and manifest written);
- ``decode only``: the same decoding without the model (in ``--workers`` processes, and in
  process), i.e. the rate decoding alone could feed;
- ``model only``: forward passes on ready tensors, the ceiling any pipeline can reach;
- with ``--bf16``, ``vidm embed --dtype bfloat16`` as well (CPU autocast);
- with ``--evaluate``, a 174-class head on the model: ``vidm embed --logits`` against ``vidm
  evaluate`` (the same pipeline plus combining views and scoring), which must stay within 5%;
- with ``--threads``, only ``vidm embed`` (batch 1, the CPU default) with 0, 1 and 2 decoding
  workers and torch on every core or one fewer: whether decoding and the model fight over cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from textured_video import make_textured_video

import vidmenagerie as vm
from vidmenagerie.batch.clips import ClipPlan, iter_clip_batches
from vidmenagerie.feature_store import EmbedSettings
from vidmenagerie.tasks.embed import embed_videos
from vidmenagerie.video import read_clips

MODEL = "vit_s_none"  # only its catalogue entry is used (ViT-H/14 shape, 224 px preprocessing)
SAMPLING_RATE = 8


def make_video(path: Path, seed: int, seconds: int = 6, width: int = 1280, height: int = 720) -> Path:
    """A textured moving scene, H.264 at ~4 Mbit/s with one keyframe every 250 frames."""
    return make_textured_video(
        path, seconds=seconds, seed=seed, width=width, height=height, bit_rate=4_000_000, preset="veryfast"
    )


def straightforward(videos: list[Path], model: vm.VideoEncoder, windows: str, out: Path) -> int:
    """Decode one video, run one clip at a time, write, repeat."""
    pre = vm.get_model_entry(MODEL).preprocessing
    clips = 0
    for video in videos:
        features = []
        for clip in read_clips(video, windows, sampling_rate=SAMPLING_RATE, preprocessing=pre):
            with torch.no_grad():
                features.append(model.forward_features(clip.frames[None]).numpy())
            clips += 1
        np.save(out / f"{video.stem}.npy", np.concatenate(features))
    return clips


def decode_only(videos: list[Path], windows: str, batch_size: int, workers: int) -> int:
    """Every clip decoded as the pipeline decodes them, nothing else."""
    pre = vm.get_model_entry(MODEL).preprocessing
    plan = ClipPlan(windows, SAMPLING_RATE)
    return sum(len(b.clips) for b in iter_clip_batches(videos, pre, plan, batch_size=batch_size, workers=workers))


def model_only(model: vm.VideoEncoder, clips: int, batch_size: int) -> int:
    """Forward passes on ready input: the ceiling of any pipeline."""
    x = torch.randn(batch_size, 3, 16, 224, 224)
    done = 0
    with torch.inference_mode():
        while done < clips:
            n = min(batch_size, clips - done)
            model.forward_features(x[:n])
            done += n
    return done


def timed(label: str, run: Callable[[], int]) -> float:
    """Run once; print and return clips per second."""
    start = time.perf_counter()
    clips = run()
    seconds = time.perf_counter() - start
    print(f"  {label:<30} {clips:3d} clips {seconds:8.1f} s {clips / seconds:7.3f} clips/s", flush=True)
    return clips / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=3)
    parser.add_argument("--clips", type=int, default=2, help="uniform clips per video")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the model runs in rotating order; medians")
    parser.add_argument("--bf16", action="store_true", help="also time vidm embed with --dtype bfloat16")
    parser.add_argument("--evaluate", action="store_true", help="only: vidm evaluate against vidm embed --logits")
    parser.add_argument(
        "--threads",
        action="store_true",
        help="only: vidm embed with 0/1/2 workers and torch threads = cores, cores - 1",
    )
    parser.add_argument("--depth", type=int, default=32, help="blocks (32 = ViT-H/14; fewer shows a decode-bound case)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "vidm-bench-embed")
    args = parser.parse_args()
    folder = args.dir / "videos"
    folder.mkdir(parents=True, exist_ok=True)
    videos = [make_video(folder / f"v{i}.mp4", seed=i) for i in range(args.videos)]
    windows = f"uniform:{args.clips}"
    torch.manual_seed(0)
    model = vm.create_model("vit", depth=args.depth).eval()  # ViT-H/14 (or fewer blocks), random weights
    entry = vm.get_model_entry(MODEL)
    n = args.videos * args.clips
    runs_with = (
        "batch 1, 0/1/2 workers (threads study)" if args.threads else f"batch {args.batch_size}, {args.workers} workers"
    )
    print(f"ViT-H/14 with {args.depth} blocks (random weights), {torch.get_num_threads()} CPU threads; {n} clips "
          f"({args.videos} videos x {args.clips}); {runs_with}")  # fmt: skip
    model_only(model, 1, 1)  # warm-up: first-call allocations are nobody's cost
    if args.evaluate:
        evaluate_against_embed(videos, windows, args)
        return
    if args.threads:
        threads_study(videos, windows, model, args)
        return
    timed("decode only (in process)", lambda: decode_only(videos, windows, args.batch_size, 0))
    timed(f"decode only ({args.workers} workers)", lambda: decode_only(videos, windows, args.batch_size, args.workers))
    loop_out = args.dir / "loop"
    loop_out.mkdir(exist_ok=True)

    def ours(dtype: str) -> int:
        settings = EmbedSettings.for_model(entry, clips=windows, sampling_rate=SAMPLING_RATE, dtype=dtype)
        run = embed_videos(
            videos, args.dir / f"feats-{dtype}.npy", settings, model=model, resume=False,
            batch_size=args.batch_size, workers=args.workers, device="cpu",
        )  # fmt: skip
        assert run.complete and not run.failed
        return run.clips

    runs: dict[str, Callable[[], int]] = {
        "model only (ceiling)": lambda: model_only(model, n, args.batch_size),
        "straightforward loop": lambda: straightforward(videos, model, windows, loop_out),
        "vidm embed": lambda: ours("float32"),
    }
    if args.bf16:
        runs["vidm embed --dtype bfloat16"] = lambda: ours("bfloat16")
    rates: dict[str, list[float]] = {label: [] for label in runs}
    labels = list(runs)
    for r in range(args.rounds):  # rotate the order so load from elsewhere hits every path alike
        for label in labels[r % len(labels) :] + labels[: r % len(labels)]:
            rates[label].append(timed(label, runs[label]))
    rate = {label: statistics.median(values) for label, values in rates.items()}
    ratio = [o / b for o, b in zip(rates["vidm embed"], rates["straightforward loop"])]
    print(f"\nmedians over {args.rounds} round(s), clips/s: " + ", ".join(f"{k} {v:.4f}" for k, v in rate.items()))
    print(f"vidm embed / straightforward: {statistics.median(ratio):.2f}x (float32, per-round median)", end="")
    if args.bf16:
        bf16 = [o / b for o, b in zip(rates["vidm embed --dtype bfloat16"], rates["straightforward loop"])]
        print(f", {statistics.median(bf16):.2f}x (bfloat16 autocast)", end="")
    print(f"\nvidm embed / model-only ceiling: {rate['vidm embed'] / rate['model only (ceiling)']:.2f}")
    same = np.allclose(
        np.concatenate([np.load(args.dir / "loop" / f"{v.stem}.npy") for v in videos]),
        np.load(args.dir / "feats-float32.npy"),
        atol=1e-4,
    )
    print(f"same features as the loop (atol 1e-4): {same}")


def threads_study(videos: list[Path], windows: str, model: vm.VideoEncoder, args: argparse.Namespace) -> None:
    """``vidm embed`` clips/s with 0, 1 and 2 decoding workers, torch using every core or one fewer:
    whether decoding and the model fight over the cores (each setting timed once per round, rotated)."""
    cores = os.cpu_count() or 1
    entry = vm.get_model_entry(MODEL)
    settings = EmbedSettings.for_model(
        entry, clips=windows, sampling_rate=SAMPLING_RATE, dtype="bfloat16" if args.bf16 else "float32"
    )
    combos = [
        (workers, threads) for threads in sorted({cores, max(cores - 1, 1)}, reverse=True) for workers in (0, 1, 2)
    ]
    rates: dict[tuple[int, int], list[float]] = {c: [] for c in combos}
    for r in range(args.rounds):
        for workers, threads in combos[r % len(combos) :] + combos[: r % len(combos)]:
            torch.set_num_threads(threads)

            def run(w: int = workers) -> int:
                done = embed_videos(
                    videos, args.dir / f"threads-{w}.npy", settings, model=model, resume=False, batch_size=1,
                    workers=w, device="cpu",
                )  # fmt: skip
                return done.clips

            rates[(workers, threads)].append(timed(f"{workers} workers, torch {threads} threads", run))
    torch.set_num_threads(cores)
    best = max(rates, key=lambda c: statistics.median(rates[c]))
    print(f"\nmedians over {args.rounds} round(s), clips/s ({settings.dtype}, batch 1):")
    for combo in combos:
        print(f"  {combo[0]} workers, torch {combo[1]} threads: {statistics.median(rates[combo]):.4f}")
    print(f"fastest: {best[0]} workers with torch on {best[1]} threads")


def evaluate_against_embed(videos: list[Path], windows: str, args: argparse.Namespace) -> None:
    """``vidm evaluate`` (embed with logits + scoring) against ``vidm embed --logits``, rounds rotated."""
    from vidmenagerie.labelled import LabelledSample, LabelledSet
    from vidmenagerie.labels import load_labels
    from vidmenagerie.tasks.evaluate import evaluate_videos, view_settings

    entry = vm.get_model_entry("vit_s_ssv2-50shot")  # 174-class head, ssv2 labels, 224 px recipe
    torch.manual_seed(0)
    model = vm.create_model("vit", depth=args.depth, num_classes=174).eval()
    labelled = LabelledSet(
        args.dir, tuple(LabelledSample(v, i, "bench") for i, v in enumerate(videos)), (),
        load_labels("ssv2"), "indices", "bench",
    )  # fmt: skip
    settings = view_settings(entry, f"{args.clips}x1", sampling_rate=SAMPLING_RATE)
    common = {"model": model, "resume": False, "batch_size": args.batch_size, "workers": args.workers, "device": "cpu"}

    def embed_logits() -> int:
        run = embed_videos(videos, args.dir / "logits.npy", settings, **common)  # type: ignore[arg-type]
        return run.clips

    def evaluate() -> int:
        run = evaluate_videos(labelled, args.dir / "eval", settings, **common)  # type: ignore[arg-type]
        assert run.scores is not None
        return int(run.scores.clips or 0)

    rates: dict[str, list[float]] = {"vidm embed --logits": [], "vidm evaluate": []}
    runs = {"vidm embed --logits": embed_logits, "vidm evaluate": evaluate}
    for r in range(args.rounds):
        order = list(runs) if r % 2 == 0 else list(runs)[::-1]
        for label in order:
            rates[label].append(timed(label, runs[label]))
    ratio = [e / b for e, b in zip(rates["vidm evaluate"], rates["vidm embed --logits"])]
    print(f"\nvidm evaluate / vidm embed --logits: {statistics.median(ratio):.3f} (per-round median of "
          f"{args.rounds}; target >= 0.95)")  # fmt: skip


if __name__ == "__main__":
    main()
