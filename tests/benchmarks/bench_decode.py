"""Benchmark: clip decoding, ours against the straightforward way (and torchcodec), in one run.

Plain script, not collected by pytest::

    .venv/bin/python tests/benchmarks/bench_decode.py [--rounds 3] [--reads 1000]

It writes a 10 s 1280x720 H.264 file (~5 Mbit/s, one keyframe every 250 frames) and times
16-frame clips (every 4th frame at 30 fps, 224 crops) starting at 0, 2, 4, 6 and 7.9 s:

- "straightforward": the seed scripts' way: seek with a 1024-tick margin, decode every frame up
  to the clip end, ``to_rgb().to_ndarray()`` every frame of the window, stack, pick 16, then the
  float pipeline;
- "ours": ``read_clip``;
- "torchcodec": exact seek mode, all cores, then the same resize/crop/normalize code as ours
  (skipped with a message when torchcodec is missing).

Then sliding clips over the whole file in one pass against one ``read_clip`` per clip, and the
resident memory over many reads of a short file. Medians of ``--rounds`` rounds.
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
from textured_video import make_textured_video

from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video import float_pipeline, read_clip, read_clips
from vidmenagerie.video.sampling import ClipSampling, Windows
from vidmenagerie.video.transform import CropResizer

K = TypeVar("K")
STARTS = (0.0, 2.0, 4.0, 6.0, 7.9)
PRE = Preprocessing.for_size(224)
SAMPLING = ClipSampling(num_frames=16, sampling_rate=4)


def make_video(path: Path, *, seconds: int = 10, width: int = 1280, height: int = 720) -> Path:
    """A textured moving scene, H.264 at ~5 Mbit/s with one keyframe every 250 frames."""
    return make_textured_video(path, seconds=seconds, width=width, height=height)


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


def straightforward(path: Path, start: float) -> torch.Tensor:
    """The seed scripts' way: margin seek, decode to the clip end, convert the whole window."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = stream.time_base
        begin = Fraction(start).limit_denominator(10**6)
        first, last = begin / tb, (begin + SAMPLING.span) / tb
        container.seek(max(int(first) - 1024, 0), stream=stream)
        frames, stamps = [], []
        for frame in container.decode(stream):
            if frame.pts > last:
                break
            if frame.pts + Fraction(1, 2) >= first or not frames:
                frames.append(frame.to_rgb().to_ndarray())
                stamps.append(frame.pts)
        video = np.stack(frames)
    wanted = [t / tb + Fraction(1, 2) for t in SAMPLING.times(begin)]
    index = [max(i for i, p in enumerate(stamps) if p <= w) if stamps[0] <= w else 0 for w in wanted]
    return float_pipeline(video[index], PRE)[0]


def with_torchcodec(path: Path) -> Callable[[Path, float], torch.Tensor] | None:
    """torchcodec's exact-seek decoding plus our resize and crop, or None when it cannot run."""
    resize = CropResizer(PRE)

    def run(path: Path, start: float) -> torch.Tensor:
        decoder = VideoDecoder(str(path), seek_mode="exact", num_ffmpeg_threads=0, dimension_order="NHWC")
        times = [float(t) for t in SAMPLING.times(Fraction(start).limit_denominator(10**6))]
        batch = decoder.get_frames_played_at(times).data
        return torch.stack([resize(f.numpy()) for f in batch], dim=2)[0]

    try:
        from torchcodec.decoders import VideoDecoder

        run(path, 0.0)
    except Exception as err:  # not installed, or its FFmpeg libraries cannot be loaded
        print(f"torchcodec skipped ({type(err).__name__}: {str(err).splitlines()[0]})", file=sys.stderr)
        print("  pip install torchcodec to compare; this script lends it PyAV's FFmpeg", file=sys.stderr)
        return None
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


def bench_clips(path: Path, rounds: int) -> None:
    """Per-clip milliseconds of each way, and the geometric-mean speedups."""
    peer = with_torchcodec(path)
    ways: dict[str, Callable[[Path, float], torch.Tensor]] = {
        "straightforward": straightforward,
        "ours": lambda p, s: read_clip(p, start=s, preprocessing=PRE).frames,
    }
    if peer is not None:
        ways["torchcodec"] = peer
    for name, fn in ways.items():  # warm up, and check that every way gives the same pixels
        error = (fn(path, 4.0) - straightforward(path, 4.0)).abs().mean().item() * PRE.std[0] * 255
        print(f"{name:>16}: mean abs difference to the float pipeline {error:.3f}/255")
    jobs = {(name, start): partial(fn, path, start) for start in STARTS for name, fn in ways.items()}
    medians = interleaved(jobs, rounds)
    results = {name: [medians[(name, start)] for start in STARTS] for name in ways}
    print(f"\n{'start (s)':>16} " + " ".join(f"{s:>8.1f}" for s in STARTS) + f" {'geomean':>8}")
    for name, values in results.items():
        print(f"{name + ' ms':>16} " + " ".join(f"{v:>8.0f}" for v in values) + f" {geomean(values):>8.0f}")
    base = results["straightforward"]
    for name in ways:
        if name != "straightforward":
            speedup = geomean([b / v for b, v in zip(base, results[name])])
            print(f"{'speedup ' + name:>16}: {speedup:.2f}x geometric mean over the straightforward way")
    if "torchcodec" in results:
        ratio = geomean([t / o for t, o in zip(results["torchcodec"], results["ours"])])
        print(f"{'vs torchcodec':>16}: ours is {ratio:.2f}x torchcodec's speed (geometric mean)")


def bench_sliding(path: Path, rounds: int, spec: str) -> None:
    """Sliding clips over the whole file: one decoding pass against one read per clip."""
    starts = Windows.parse(spec).starts(Fraction(10), SAMPLING.span)
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


def bench_memory(path: Path, reads: int) -> None:
    """Resident memory over many reads of a short file: it should stay flat."""
    marks = {}
    for i in range(1, reads + 1):
        read_clip(path, num_frames=16, sampling_rate=4, img_size=224)
        if i in (10, reads // 10, reads // 2, reads):
            marks[i] = rss_mb()
    print(
        f"\nRSS over {reads} reads of a 1 s file: "
        + ", ".join(f"after {i}: {mb:.0f} MB" for i, mb in marks.items())
        + f" (growth after read {reads // 10}: {marks[reads] - marks[reads // 10]:+.1f} MB)"
    )


def main() -> None:
    """Parse options, make the files, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per measurement (median)")
    parser.add_argument("--reads", type=int, default=1000, help="reads of a short file for the memory check")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "vidm-bench",
        help="where the generated videos are kept between runs",
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    relaunch_with_pyav_ffmpeg(args.workdir)
    print(
        f"PyAV {av.__version__}, torch {torch.__version__}, {os.cpu_count()} cores, torch threads "
        f"{torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}"
    )
    video = make_video(args.workdir / "bench_720p_gop250.mp4")
    print(f"video: {video} ({video.stat().st_size / 1e6:.1f} MB, 10 s 1280x720 H.264, keyframe every 250)")
    bench_clips(video, args.rounds)
    bench_sliding(video, args.rounds, "sliding")
    bench_sliding(video, args.rounds, "sliding:1")
    bench_memory(make_short_video(args.workdir / "short_1s.mp4"), args.reads)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (other processes skew timings)")


if __name__ == "__main__":
    main()
