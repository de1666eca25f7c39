"""Benchmark: training-exact clips, ours against the straightforward way and torchcodec, in one run.

Plain script, not collected by pytest::

    .venv/bin/python tests/benchmarks/bench_decode.py [--rounds 3] [--reads 1000] [--images 400]

It writes a 10 s 1280x720 H.264 file (~5 Mbit/s, one keyframe every 250 frames) and times one
16-frame clip of the published models' recipe (sampling rate 8, short side 256, 224 crop)
starting at 0, 2, 4, 6 and 7.9 s:

- "straightforward": decode every frame of the file, convert each to RGB at full size (what
  ``torchvision.io.read_video`` does), take the clip's frames by the training rule, then a
  float resize (bilinear, antialiased) to short side 256, centre crop and normalize;
- "ours": ``read_clip`` (frames by the rule, only the needed part decoded, each chosen frame
  converted and scaled in one swscale call, as the training loader's reader did);
- "torchcodec": its decoder-side ``Resize`` to the same size (``transforms=``), the same
  frames by index, then crop and normalize (skipped with a message when torchcodec is missing).

Then what finding the training loader's frames costs (the packet table of each clip's pts
window, ``frame_rule``) against decoding the clip, sliding clips over the whole file in one
pass against one ``read_clip`` per clip, the
resident memory over many reads of a short file, and still images: ``ClipDataset`` over JPEGs
(ImageNet-sized, ``vit_*_imagenet-2pt`` recipe) with 2 workers against the straightforward
PIL + torchvision transforms loop. Medians of ``--rounds`` rounds, rounds interleaved.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import TypeVar

import av
import numpy as np
import torch
import torch.nn.functional as F
from machine import cpu_line
from PIL import Image
from textured_video import make_textured_video
from torch.utils.data import DataLoader

from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video import ClipDataset, collate, read_clip, read_clips
from vidmenagerie.video.sampling import ClipSampling, Windows
from vidmenagerie.video.transform import crop_offsets, scaled_size

K = TypeVar("K")
STARTS = (0.0, 2.0, 4.0, 6.0, 7.9)
PRE = Preprocessing.for_video(224)  # sampling rate 8, short side 256: the published video models' recipe
SAMPLING = ClipSampling(PRE.num_frames, PRE.sampling_rate, PRE.fps)


def make_short_video(path: Path) -> Path:
    """One second of 160x120 H.264, for the memory check."""
    if path.exists():
        return path
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(30):
            image = np.full((120, 160, 3), (i * 8) % 256, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


def clip_indices(start: float, fps: Fraction, count: int) -> list[int]:
    """The training rule's frame indices of a clip starting at ``start`` seconds."""
    first = math.floor(Fraction(start).limit_denominator(10**6) * fps)
    return [min(first + k, count - 1) for k in SAMPLING.offsets(fps)]


def normalize_crop(frames: torch.Tensor) -> torch.Tensor:
    """Float frames [T, 3, H, W] in [0, 1] at the scaled size -> the centre crop, normalized, [3, T, S, S]."""
    (top, left), s = crop_offsets(frames.shape[2], frames.shape[3], PRE.img_size)[0], PRE.img_size
    crop = frames[:, :, top : top + s, left : left + s]
    mean, std = torch.tensor(PRE.mean).view(1, 3, 1, 1), torch.tensor(PRE.std).view(1, 3, 1, 1)
    return ((crop - mean) / std).permute(1, 0, 2, 3)


def straightforward(path: Path, start: float) -> torch.Tensor:
    """Decode everything, convert every frame at full size, pick the clip, float resize."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = Fraction(stream.average_rate)
        video = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)])
    chosen = torch.from_numpy(video[clip_indices(start, fps, len(video))]).permute(0, 3, 1, 2).float() / 255
    size = scaled_size(chosen.shape[2], chosen.shape[3], PRE.short_side)
    return normalize_crop(F.interpolate(chosen, size=size, mode="bilinear", antialias=True, align_corners=False))


def ours(path: Path, start: float) -> torch.Tensor:
    """``read_clip`` with the published video recipe."""
    return read_clip(path, start=start, preprocessing=PRE).frames


def with_torchcodec() -> Callable[[Path, float], torch.Tensor] | None:
    """torchcodec decoding with its decoder-side resize, or None when it cannot run."""
    try:
        from torchcodec.decoders import VideoDecoder
        from torchcodec.transforms import Resize
    except Exception as err:  # not installed, or its FFmpeg libraries cannot be loaded
        print(f"torchcodec skipped ({type(err).__name__}: {str(err).splitlines()[0]})", file=sys.stderr)
        print("  pip install torchcodec to compare; this script lends it PyAV's FFmpeg", file=sys.stderr)
        return None

    def run(path: Path, start: float) -> torch.Tensor:
        probe = VideoDecoder(str(path), seek_mode="approximate")
        meta = probe.metadata
        size = scaled_size(meta.height, meta.width, PRE.short_side)
        decoder = VideoDecoder(
            str(path), seek_mode="approximate", num_ffmpeg_threads=0, transforms=[Resize(size)], dimension_order="NCHW"
        )
        fps = Fraction(meta.average_fps).limit_denominator(1001)
        batch = decoder.get_frames_at(clip_indices(start, fps, meta.num_frames)).data
        return normalize_crop(batch.float() / 255)

    return run


def relaunch_with_pyav_ffmpeg(workdir: Path) -> None:
    """Re-run this script once with PyAV's FFmpeg libraries on LD_LIBRARY_PATH, under the names
    torchcodec looks for: a pip torchcodec brings no FFmpeg, and with PyAV's both peers decode
    with the same FFmpeg build, so the comparison is like for like."""
    if os.environ.get("VIDM_BENCH_RELAUNCHED") or importlib.util.find_spec("torchcodec") is None:
        return
    links = workdir / "ffmpeg-libs"
    links.mkdir(exist_ok=True)
    for lib in (Path(av.__file__).parent.parent / "av.libs").glob("lib*-*.so.*"):
        match = re.match(r"(lib\w+)-[0-9a-f]{8}(\.so\.\d+)", lib.name)  # libavutil-5809ad29.so.60.26
        if match and not (links / (match[1] + match[2])).exists():
            (links / (match[1] + match[2])).symlink_to(lib)
    env = dict(os.environ, VIDM_BENCH_RELAUNCHED="1")
    env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(links), env.get("LD_LIBRARY_PATH")]))
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def interleaved(jobs: Mapping[K, Callable[[], object]], rounds: int) -> dict[K, float]:
    """Median wall time of each job in milliseconds; rounds alternate between the jobs, so load
    from other processes falls on all of them alike."""
    times: dict[K, list[float]] = {name: [] for name in jobs}
    for _ in range(rounds):
        for name, job in jobs.items():
            gc.collect()
            t0 = time.perf_counter()
            job()
            times[name].append((time.perf_counter() - t0) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def geomean(values: list[float]) -> float:
    """Geometric mean."""
    return math.exp(sum(math.log(v) for v in values) / len(values))


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def levels(a: torch.Tensor, b: torch.Tensor) -> str:
    """Mean and max absolute difference of two normalized clips, in 0..255 levels."""
    diff = (a - b).abs() * PRE.std[0] * 255
    return f"mean {diff.mean().item():.2f}/255, max {diff.max().item():.0f}/255"


def bench_clips(path: Path, rounds: int) -> None:
    """Per-clip milliseconds of each way, and the geometric-mean speedups."""
    peer = with_torchcodec()
    ways: dict[str, Callable[[Path, float], torch.Tensor]] = {"straightforward": straightforward, "ours": ours}
    if peer is not None:
        ways["torchcodec"] = peer
    reference = ours(path, 4.0)
    for name, fn in ways.items():  # warm up, and say how far each way's pixels are from the training ones
        print(f"{name:>16}: pixels vs the training pipeline (ours): {levels(fn(path, 4.0), reference)}")
    jobs = {(name, start): partial(fn, path, start) for start in STARTS for name, fn in ways.items()}
    medians = interleaved(jobs, rounds)
    results = {name: [medians[(name, start)] for start in STARTS] for name in ways}
    print(f"\n{'start (s)':>16} " + " ".join(f"{s:>8.1f}" for s in STARTS) + f" {'geomean':>8}")
    for name, values in results.items():
        print(f"{name + ' ms':>16} " + " ".join(f"{v:>8.0f}" for v in values) + f" {geomean(values):>8.0f}")
    base = results["straightforward"]
    speedup = geomean([b / v for b, v in zip(base, results["ours"])])
    print(f"{'ours':>16}: {speedup:.2f}x the straightforward way's speed (geometric mean; target >= 2.5x)")
    if "torchcodec" in results:
        ratio = geomean([t / o for t, o in zip(results["torchcodec"], results["ours"])])
        print(f"{'ours':>16}: {ratio:.2f}x torchcodec's speed with its decoder-side resize (target >= 1.3x)")


def bench_sliding(path: Path, rounds: int, spec: str) -> None:
    """Sliding clips over the whole file: one decoding pass against one read per clip."""
    positions = Windows.parse(spec).positions(10 * 30.0, SAMPLING.clip_size(30.0), 30.0)  # the 10 s, 30 fps file
    starts = [Fraction(p.start(10 * 30.0, SAMPLING.clip_size(30.0)), 30) for p in positions]
    medians = interleaved(
        {
            "one pass": lambda: read_clips(path, spec, preprocessing=PRE),
            "separate": lambda: [read_clip(path, start=float(s), preprocessing=PRE) for s in starts],
        },
        rounds,
    )
    one_pass, separate = medians["one pass"], medians["separate"]
    print(
        f"\nsliding '{spec}' ({len(starts)} clips): one pass {one_pass:.0f} ms, one read per clip "
        f"{separate:.0f} ms: {separate / one_pass:.2f}x"
    )


def bench_frame_table(path: Path, rounds: int) -> None:
    """What finding the loader's frames costs: the packet-table read of a clip's window against decoding it."""
    from vidmenagerie.video.frame_rule import FrameRule
    from vidmenagerie.video.read import sampling_of
    from vidmenagerie.video.sampling import Position
    from vidmenagerie.video.sources import open_source
    from vidmenagerie.video.transform import FramePixels

    sampling, table_ms, decode_ms = sampling_of(PRE), [], []
    for start in STARTS:
        times: dict[str, list[float]] = {"table": [], "decode": []}
        for _ in range(rounds):
            with open_source(path, FramePixels(PRE)) as source:
                assert source.timeline is not None
                rule = FrameRule(source.timeline, sampling.clip_size(float(source.fps)), sampling.num_frames)
                began = time.perf_counter()
                [chosen] = rule.frames([Position(frame=math.floor(start * float(source.fps)))])
                read = time.perf_counter()
                source.pick([source.seconds(i) for i in sorted(set(chosen.ids))])
                times["table"].append(read - began)
                times["decode"].append(time.perf_counter() - read)
        table_ms.append(1000 * statistics.median(times["table"]))
        decode_ms.append(1000 * statistics.median(times["decode"]))
    print(
        f"\nfinding the loader's frames (packet table of the window): {geomean(table_ms):.1f} ms per clip "
        f"against {geomean(decode_ms):.0f} ms of decoding ({geomean(table_ms) / geomean(decode_ms):.1%})"
    )


def bench_memory(path: Path, reads: int) -> None:
    """Resident memory over many reads of a short file: it should stay flat."""
    marks = {}
    for i in range(1, reads + 1):
        read_clip(path, preprocessing=PRE)
        if i in (10, reads // 10, reads // 2, reads):
            marks[i] = rss_mb()
    print(
        f"RSS over {reads} reads of a 1 s file: "
        + ", ".join(f"after {i}: {mb:.0f} MB" for i, mb in marks.items())
        + f" (growth after read {reads // 10}: {marks[reads] - marks[reads // 10]:+.1f} MB)"
    )


def make_images(folder: Path, count: int) -> list[Path]:
    """``count`` ImageNet-sized JPEGs (500x375 and 375x500, textured)."""
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        path = folder / f"{i:05d}.jpg"
        if not path.exists():
            height, width = (375, 500) if i % 3 else (500, 375)
            y, x = np.mgrid[0:height, 0:width]
            image = np.stack([(x + 3 * i) % 256, (y * 2) % 256, (x * y // 97) % 256], -1).astype(np.uint8)
            image = np.clip(image + rng.integers(0, 30, image.shape), 0, 255).astype(np.uint8)
            Image.fromarray(image).save(path, quality=90)
        paths.append(path)
    return paths


def bench_images(folder: Path, count: int, rounds: int) -> None:
    """Images per second of the ImageNet recipe: ``ClipDataset`` with 2 workers vs a plain loop."""
    from torchvision.transforms import CenterCrop, Compose, Normalize, Resize, ToTensor

    paths = make_images(folder, count)
    pre = Preprocessing.for_images(224)
    transform = Compose([Resize(256, interpolation=3), CenterCrop(224), ToTensor(), Normalize(pre.mean, pre.std)])

    def plain() -> None:
        for path in paths:
            with Image.open(path) as image:
                transform(image.convert("RGB")).unsqueeze(1).repeat(1, 16, 1, 1)

    def ours_two_workers() -> None:
        loader = DataLoader(ClipDataset(paths, preprocessing=pre), batch_size=8, num_workers=2, collate_fn=collate)
        for batch in loader:
            assert all(item.frames.shape == (1, 3, 16, 224, 224) for item in batch)

    medians = interleaved({"plain": plain, "ours": ours_two_workers}, rounds)
    rate = {name: count / (ms / 1000) for name, ms in medians.items()}
    print(
        f"\nstill images ({count} JPEGs, 224 px ImageNet recipe, 16 frames each): plain loop "
        f"{rate['plain']:.0f} images/s, ClipDataset with 2 workers {rate['ours']:.0f} images/s "
        f"({rate['ours'] / rate['plain']:.2f}x; target >= 200 images/s)"
    )


def main() -> None:
    """Parse options, make the files, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per measurement (median)")
    parser.add_argument("--reads", type=int, default=1000, help="reads of a short file for the memory check")
    parser.add_argument("--images", type=int, default=400, help="still images for the image rate")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "vidm-bench",
        help="where the generated files are kept between runs",
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    relaunch_with_pyav_ffmpeg(args.workdir)
    print(cpu_line())
    print(
        f"PyAV {av.__version__}, torch {torch.__version__}, {os.cpu_count()} cores, torch threads "
        f"{torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}"
    )
    video = make_textured_video(args.workdir / "bench_720p_gop250.mp4")
    print(f"video: {video} ({video.stat().st_size / 1e6:.1f} MB, 10 s 1280x720 H.264, keyframe every 250)")
    bench_memory(make_short_video(args.workdir / "short_1s.mp4"), args.reads)  # first: a clean baseline
    bench_clips(video, args.rounds)
    bench_frame_table(video, args.rounds)
    bench_sliding(video, args.rounds, "sliding")
    bench_sliding(video, args.rounds, "sliding:1")
    bench_images(args.workdir / "images", args.images, args.rounds)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (other processes skew timings)")


if __name__ == "__main__":
    main()
