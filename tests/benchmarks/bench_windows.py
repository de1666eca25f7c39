"""Benchmark: memory and time to produce every window start of a 1-hour video, the old full list
against the lazy ``Windows.positions``, in one run (issue 11, item 5).

Plain script, not collected by pytest::

    .venv/bin/python tests/benchmarks/bench_windows.py [--cap-gb 4] [--limit-s 120]

A 3600 s, 30 fps video and the published recipe's clip (16 frames every 8th: 128 / 30 s); no
video is decoded, only the starts a batch run would stream. "before" builds the list the old
``Windows.starts`` built (copied below: every start, duplicates kept); "after" walks
``positions`` in pieces of 16 windows as ``iter_clip_chunks`` does. Each case runs in a
fresh process; how far it raises the process's peak resident memory above that of the imports
is reported. A case
past ``--cap-gb`` or ``--limit-s`` is stopped and reported as such.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import time
from fractions import Fraction

DURATION = Fraction(3600)
FPS = Fraction(30)
SPAN = Fraction(16 * 8, 30)
CASES = ("sliding:0.001", "uniform:100000", "uniform:1000000", "uniform:10000000", "sliding:0.000001")


def old_starts(spec: str) -> list[Fraction]:
    """The old ``Windows.starts``: a full list of every start (no bound on the count or stride)."""
    from vidmenagerie.video.sampling import to_fraction

    kind, _, arg = spec.partition(":")
    room = DURATION - SPAN
    if kind == "uniform":
        count = int(arg)
        return [room * k / (count - 1) for k in range(count)]
    if kind == "random":
        rng = random.Random(0)
        return sorted(room * to_fraction(rng.random()) for _ in range(int(arg)))
    stride = to_fraction(float(arg))
    starts = [stride * k for k in range(int(room // stride) + 1)]
    if starts[-1] < room:
        starts.append(room)
    return starts


def new_starts(spec: str) -> int:
    """Every position of ``Windows.positions``, taken 16 windows at a time; the number of windows."""
    from vidmenagerie.video.sampling import Windows

    starts = Windows.parse(spec).positions(float(DURATION * FPS), float(SPAN * FPS), float(FPS))
    for first in range(0, len(starts), 16):
        starts[first : first + 16]
    return len(starts)


def child(way: str, spec: str) -> None:
    """Run one case and print 'windows seconds peak_mb' (or 'refused: why')."""
    import vidmenagerie.video.sampling  # noqa: F401  (imports torch: part of the baseline)

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB: the peak so far, imports included
    began = time.perf_counter()
    try:
        count = len(old_starts(spec)) if way == "before" else new_starts(spec)
    except ValueError as err:
        print(f"refused: {err}")
        return
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{count} {seconds:.2f} {(peak - base) / 1024:.1f}")


def run_case(way: str, spec: str, cap_kb: int, limit_s: float) -> str:
    """One case in a fresh process, stopped past the memory cap or the time limit."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", way, spec], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    began, peak = time.perf_counter(), 0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as status:
                peak = max(peak, next(int(x.split()[1]) for x in status if x.startswith("VmRSS:")))
        except (OSError, StopIteration):
            pass
        elapsed = time.perf_counter() - began
        if peak > cap_kb or elapsed > limit_s:
            proc.kill()
            proc.wait()
            return f"stopped after {elapsed:.0f} s at {peak / 2**20:.1f} GB resident, not finished"
        time.sleep(0.05)
    out, err = proc.communicate()
    if proc.returncode:
        return f"failed: {err.strip().splitlines()[-1] if err.strip() else proc.returncode}"
    line = out.strip()
    if line.startswith("refused"):
        return line
    count, seconds, mb = line.split()
    return f"{int(count):>13,} windows {float(seconds):8.2f} s {float(mb):9.1f} MB"


def main() -> None:
    """Every case before and after, one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap-gb", type=float, default=4.0, help="stop a case past this resident memory")
    parser.add_argument("--limit-s", type=float, default=120.0, help="stop a case past this many seconds")
    parser.add_argument("--child", nargs=2, metavar=("WAY", "SPEC"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"{os.cpu_count()} cores; 3600 s at 30 fps, clip {float(SPAN):.3f} s; peak memory above that of the imports")
    for spec in CASES:
        for way in ("before", "after"):
            print(f"{spec:>18} {way:>6}: {run_case(way, spec, int(args.cap_gb * 2**20), args.limit_s)}", flush=True)


if __name__ == "__main__":
    main()
