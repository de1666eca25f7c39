"""Benchmark: ``vm.load_model`` against the straightforward way on a full-size ViT-H/14 MAE checkpoint.

Writes a published-format checkpoint (``{"model": state_dict}``, random weights, ~2.6 GB)
and measures, each in a fresh subprocess so peak RSS is clean:

- ``straightforward``: construct the model with normal random initialisation, ``torch.load``
  the whole file, ``load_state_dict`` (what the seed scripts do);
- ``vidm``: ``vm.load_model(name, checkpoint=PATH)`` (meta-device build, memory-mapped
  weights-only load, ``assign=True``);
- ``vidm+touch``: the same, then reading every parameter once, so the whole file is paged in
  (what the first forward pass costs), to show the memory figure is not an artefact of laziness.

Run: ``python tests/benchmarks/bench_load.py [--dir /tmp/vidm-bench] [--repeats 1]``.
Targets (issue 2): at least 5x faster, at most 0.6x the peak memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

# Peak RSS from /proc (VmHWM): ru_maxrss survives exec and would include the parent's peak.
PEAK = r"""
def peak_rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")
"""

CHILD = (
    PEAK
    + r"""
import json, sys, time
t0 = time.perf_counter()
import torch
torch.set_num_threads(2)
import vidmenagerie as vm
mode, path = sys.argv[1], sys.argv[2]
t_import = time.perf_counter()
if mode == "straightforward":
    model = vm.create_model("mae")                      # normal random initialisation
    state = torch.load(path, map_location="cpu", weights_only=True)["model"]
    model.load_state_dict(state)
    del state
else:
    model = vm.load_model("mae_s_none", checkpoint=path, device="cpu")
    if mode == "vidm+touch":
        total = sum(float(p.detach().float().sum()) for p in model.parameters())
model.eval()
t_end = time.perf_counter()
rss_mb = peak_rss_mb()
print(json.dumps({"mode": mode, "seconds": t_end - t_import, "import_s": t_import - t0, "peak_rss_mb": rss_mb}))
"""
)


def write_checkpoint(path: Path) -> None:
    """A full-size ViT-H/14 MAE checkpoint in the published format, random weights."""
    import torch

    import vidmenagerie as vm

    with torch.device("meta"):
        model = vm.create_model("mae")
    generator = torch.Generator().manual_seed(0)
    state = {k: torch.randn(v.shape, generator=generator) * 0.02 for k, v in model.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": state, "epoch": 0}, path)


def baseline_rss_mb() -> float:
    """Peak RSS of a process that only imports torch and vidmenagerie (subtracted for context)."""
    code = PEAK + "import torch, vidmenagerie\nprint(peak_rss_mb())"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def run(mode: str, path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{mode} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/vidm-bench"))
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    path = args.dir / "mae_vith14_random.pth"
    if not path.exists():
        print(f"writing {path} ...", file=sys.stderr)
        write_checkpoint(path)
    print(f"checkpoint: {path} ({path.stat().st_size / 1e9:.2f} GB)")
    base = baseline_rss_mb()
    print(f"import torch + vidmenagerie alone: peak RSS {base:.0f} MB")
    results: dict[str, list[dict]] = {}
    for _ in range(args.repeats):
        for mode in ("straightforward", "vidm", "vidm+touch"):
            results.setdefault(mode, []).append(run(mode, path))
    best = {m: min(r, key=lambda x: x["seconds"]) for m, r in results.items()}
    ref = best["straightforward"]
    print(f"\n{'way':<16} {'load s':>8} {'peak RSS MB':>12} {'speedup':>8} {'memory':>8}")
    for mode, r in best.items():
        print(
            f"{mode:<16} {r['seconds']:>8.2f} {r['peak_rss_mb']:>12.0f} "
            f"{ref['seconds'] / r['seconds']:>7.1f}x {r['peak_rss_mb'] / ref['peak_rss_mb']:>7.2f}x"
        )
    print("\nTargets: vidm at least 5x faster, at most 0.6x the peak memory of the straightforward way.")


if __name__ == "__main__":
    main()
