"""Benchmark: one ViT-H/14 forward pass as ``load_model`` returns the model (frozen) against the
same model with trainable parameters (what the README example did before), in one run.

Plain script, not collected by pytest::

    .venv/bin/python tests/benchmarks/bench_inference.py

Each way runs in a fresh process (random weights, one 16-frame 224-pixel clip, CPU), so the
peak resident memory (``ru_maxrss``) is its own.
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time, torch
import vidmenagerie as vm
torch.manual_seed(0)
model = vm.create_model("vit", num_classes=174).eval()
if sys.argv[1] == "frozen":
    model.requires_grad_(False)  # what vm.load_model returns
x = torch.randn(1, 3, 16, 224, 224)
start = time.perf_counter()
model(x)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}))
"""


def run(way: str) -> dict[str, float]:
    """One forward pass in a fresh process."""
    out = subprocess.run([sys.executable, "-c", CHILD, way], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    """Both ways, then the ratios."""
    trainable, frozen = run("trainable"), run("frozen")
    for name, r in (("trainable parameters", trainable), ("frozen (load_model)", frozen)):
        print(f"{name:>22}: {r['seconds']:.1f} s, peak RSS {r['peak_gb']:.2f} GB")
    print(
        f"frozen: {trainable['seconds'] / frozen['seconds']:.2f}x faster, "
        f"{frozen['peak_gb'] / trainable['peak_gb']:.2f}x the peak memory"
    )


if __name__ == "__main__":
    main()
