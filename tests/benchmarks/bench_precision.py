"""Benchmark: float32 against bfloat16 autocast for ViT-H/14 on this CPU, speed and agreement, in one run.

Plain script, not collected by pytest::

    .venv/bin/python tests/benchmarks/bench_precision.py [--clips 2] [--rounds 1]

Random weights in the published layout (the numbers a real checkpoint gives differ, the cost does
not), inputs read as the commands read them: the demo clip, two generated test videos and two
stills, 16 frames at 224 px. For ``embed`` (a finetuned ``vit`` with a 174-class head: CLS
features and logits in one pass), ``complete`` (the MAE, centre mask 0.25) and ``attend`` (the
last block's CLS attention per head), it reports clips/s in each precision (the same clips, the
two precisions interleaved) and how far bfloat16 lands from float32: feature cosine (min and
mean), top-1 agreement and top-5 overlap of the logits, the completion's PSNR difference on the
hidden pixels, and the attention maps' correlation per head (min and mean). The CPU's name and its
bfloat16 hardware (``vidmenagerie.cpu``) are printed first: the speed-up needs that hardware.

``--without-bf16`` measures a CPU without bfloat16 hardware on this one: the script runs again
with oneDNN and ATen's kernels held to AVX2 (``ONEDNN_MAX_CPU_ISA=AVX2``,
``ATEN_CPU_CAPABILITY=avx2``, read when torch loads), the instruction set of an AVX2-only CPU
such as a Zen 2/3 EPYC, where bfloat16 matrix products are converted and computed in float32.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import vidmenagerie as vm
from vidmenagerie.cpu import this_cpu
from vidmenagerie.ops.attention import attention
from vidmenagerie.ops.complete import complete, psnr
from vidmenagerie.ops.embed import embed_batch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ for videos.py
from videos import gradient_frames, moving_frames, write_video  # noqa: E402

AVX2_ONLY = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}  # no AVX-512, so no AVX512-BF16 or AMX

PRE = vm.Preprocessing.for_video(224)


def inputs(folder: Path) -> list[torch.Tensor]:
    """The demo clip, two generated videos and two stills, as ``[3, 16, 224, 224]`` model inputs."""
    from PIL import Image

    paths = [vm.demo_video_path()]
    paths.append(write_video(folder / "moving.mp4", moving_frames(150, 240, 320), codec="libx264"))
    paths.append(write_video(folder / "gradient.mp4", gradient_frames(150, 360, 480), codec="libx264"))
    for k, size in enumerate(((300, 400), (480, 360))):
        still = folder / f"still{k}.png"
        Image.fromarray(gradient_frames(1, *size)[0]).save(still)
        paths.append(still)
    return [vm.read_clip(p, preprocessing=PRE).frames for p in paths]


def timed(run: Callable[[], object], dtype: torch.dtype) -> tuple[object, float]:
    """``run()`` under the precision's autocast; its result and seconds."""
    context = (
        torch.autocast("cpu", dtype=torch.bfloat16) if dtype == torch.bfloat16 else torch.autocast("cpu", enabled=False)
    )
    began = time.perf_counter()
    with context:
        result = run()
    return result, time.perf_counter() - began


def compare(name: str, runs: Callable[[torch.Tensor], object], clips: list[torch.Tensor], rounds: int):
    """Each clip through ``runs`` in float32 then bfloat16, ``rounds`` times; results of the last round and clips/s."""
    seconds: dict[torch.dtype, list[float]] = {torch.float32: [], torch.bfloat16: []}
    results: dict[torch.dtype, list[object]] = {torch.float32: [], torch.bfloat16: []}
    for _ in range(rounds):
        for dtype in results:
            results[dtype] = []
        for clip in clips:
            for dtype in (torch.float32, torch.bfloat16):  # interleaved: load drifts hit both alike
                out, took = timed(lambda c=clip: runs(c), dtype)
                seconds[dtype].append(took)
                results[dtype].append(out)
    rate = {d: 1 / statistics.median(s) for d, s in seconds.items()}
    print(
        f"{name:>9}: float32 {rate[torch.float32]:.3f} clips/s, bfloat16 {rate[torch.bfloat16]:.3f} clips/s "
        f"({rate[torch.bfloat16] / rate[torch.float32]:.2f}x)"
    )
    return results[torch.float32], results[torch.bfloat16]


def main() -> None:
    """Build the models, read the inputs, time and compare each task."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=5, help="inputs to use (at most 5)")
    parser.add_argument("--rounds", type=int, default=1, help="timed passes over the inputs")
    parser.add_argument(
        "--without-bf16", action="store_true", help="hold torch's kernels to AVX2: a CPU without bfloat16 hardware"
    )
    args = parser.parse_args()
    if args.without_bf16 and any(os.environ.get(k) != v for k, v in AVX2_ONLY.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **AVX2_ONLY})  # before torch loads
    cpu = this_cpu()
    print(f"CPU: {cpu.describe()}")
    if args.without_bf16:
        print(f"emulating a CPU without bfloat16 hardware: {', '.join(f'{k}={v}' for k, v in AVX2_ONLY.items())}; "
              f"torch's CPU capability: {torch.backends.cpu.get_cpu_capability()}")  # fmt: skip
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        clips = [c.unsqueeze(0) for c in inputs(Path(folder))[: args.clips]]
    bench_vit(clips, args.rounds)
    bench_mae(clips, args.rounds)


def bench_vit(clips: list[torch.Tensor], rounds: int) -> None:
    """``embed`` (features and logits of a 174-class head) and ``attend`` with one ViT-H."""
    vit = vm.create_model("vit", num_classes=174).eval().requires_grad_(False)
    full32, full16 = compare("embed", lambda x: embed_batch(vit, x, "cls", logits=True), clips, rounds)
    cos = [F.cosine_similarity(a.features.float(), b.features.float()).item() for a, b in zip(full32, full16)]
    top1 = [int(a.logits.argmax()) == int(b.logits.argmax()) for a, b in zip(full32, full16)]
    top5 = [
        len(set(a.logits.topk(5).indices[0].tolist()) & set(b.logits.topk(5).indices[0].tolist())) / 5
        for a, b in zip(full32, full16)
    ]
    print(
        f"           features cosine min {min(cos):.6f} mean {statistics.mean(cos):.6f}; "
        f"top-1 agreement {sum(top1)}/{len(top1)}, top-5 overlap {statistics.mean(top5):.2f}"
    )
    heads32, heads16 = compare("attend", lambda x: attention(vit, x), clips, rounds)
    corr = []
    for a, b in zip(heads32, heads16):
        for head in range(a.shape[1]):
            x, y = a[0, head].flatten().double().numpy(), b[0, head].float().flatten().double().numpy()
            corr.append(float(np.corrcoef(x, y)[0, 1]))
    print(f"           attention maps' correlation per head: min {min(corr):.6f}, mean {statistics.mean(corr):.6f}")


def bench_mae(clips: list[torch.Tensor], rounds: int) -> None:
    """``complete`` (centre mask 0.25) with one ViT-H MAE: speed and the PSNR it reaches in each precision."""
    mae = vm.create_model("mae").eval().requires_grad_(False)
    done32, done16 = compare("complete", lambda x: complete(mae, x, "center", 0.25), clips, rounds)
    gaps = []
    for a, b in zip(done32, done16):
        hidden = a.pixel_mask.unsqueeze(1).expand_as(a.original)
        target = (a.original * 0.225 + 0.45)[hidden]
        mse = [float((((r.prediction * 0.225 + 0.45).clamp(0, 1)[hidden] - target) ** 2).mean()) for r in (a, b)]
        gaps.append(psnr(mse[0]) - psnr(mse[1]))
    print(f"           completion PSNR float32 - bfloat16: max |difference| {max(abs(g) for g in gaps):.4f} dB")


if __name__ == "__main__":
    main()
