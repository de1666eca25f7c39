"""Benchmark: how fast the light commands answer, against ``python -c "import torch"``, in one run.

Plain script, not collected by pytest::

    .venv/bin/python tests/benchmarks/bench_startup.py [--rounds 5]

Each command runs as a fresh process (the way a user types it), rounds interleaved so that
load from other processes falls on all of them alike; medians. Target: every command within
0.25x the time of importing torch.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS: dict[str, list[str]] = {
    "import torch": [sys.executable, "-c", "import torch"],
    "vidm --help": [sys.executable, "-m", "vidmenagerie", "--help"],
    "vidm list": [sys.executable, "-m", "vidmenagerie", "list"],
    "vidm info": [sys.executable, "-m", "vidmenagerie", "info", "vit_hvm1@448_ssv2-50shot"],
    "vidm download (offline)": [sys.executable, "-m", "vidmenagerie", "download", "vit_s_none"],
}


def timed(command: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one run of ``command``."""
    start = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    """Time every command, print the medians and the ratios to ``import torch``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each command (median)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="vidm-bench-home-"))
    # An empty cache, offline: download answers with its one-line error without touching a network.
    env = dict(os.environ, HF_HOME=str(home), HF_HUB_OFFLINE="1", NO_COLOR="1")
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    try:
        for command in COMMANDS.values():  # warm the file cache
            timed(command, env)
        for _ in range(args.rounds):
            for name, command in COMMANDS.items():
                times[name].append(timed(command, env))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    torch_time = statistics.median(times["import torch"])
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, {args.rounds} rounds (medians)")
    for name, values in times.items():
        seconds = statistics.median(values)
        verdict = "" if name == "import torch" else f"  {seconds / torch_time:.2f}x import torch (target <= 0.25x)"
        print(f"{name:>24}: {seconds:.3f} s{verdict}")


if __name__ == "__main__":
    main()
