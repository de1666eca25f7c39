"""Benchmark: the one-time checkpoint check (zip CRC-32s + finite weights) against the straightforward ways.

Writes a published-format ViT-H/14 MAE checkpoint (``{"model": state_dict}``, random float32
weights, ~2.6 GB), reads it once to warm the page cache, then times (best of ``--repeats``):

- ``crc``: ``verify.zip_crc_problem`` (memory-mapped records, 16 MiB slices, two threads);
- ``crc-stdlib``: ``zipfile.ZipFile.testzip()`` (what the standard library offers);
- ``finite``: ``verify.non_finite_keys`` over the memory-mapped state dict;
- ``first-load``: ``vm.load_checkpoint`` into a meta-device ViT-H with an empty memory (CRC +
  finite + load), and ``second-load``: the same file again (remembered: no check);
- baselines: ``sha256`` (hashlib over the file) and ``torch.load`` (plain, whole file into memory).

Run: ``python tests/benchmarks/bench_verify.py [--dir /tmp/vidm-bench] [--repeats 3] [--keep]``.
The checkpoint is deleted afterwards unless ``--keep``. Figures are for a warm page cache: a
cold read is bounded by the disk for every method alike.

Measured on the project's 2-core machine (shared, two runs): crc 0.78-0.98 s (2.6-3.3 GB/s),
testzip 0.97-1.41 s, finite 0.66-1.60 s, first load 2.0-2.5 s, second load 0.15-0.24 s,
sha256 2.0-3.0 s (0.85-1.3 GB/s), plain torch.load 0.55 s.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path


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


def sha256(path: Path) -> None:
    digest = hashlib.sha256()
    with path.open("rb", buffering=0) as f:
        while chunk := f.read(16 << 20):
            digest.update(chunk)


def best(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "vidm-bench")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the checkpoint for the next run")
    args = parser.parse_args()
    memory = Path(tempfile.mkdtemp(prefix="vidm-cache-"))
    os.environ["VIDM_CACHE_DIR"] = str(memory)  # an empty memory of verified files, thrown away after

    import torch

    import vidmenagerie as vm
    from vidmenagerie import verify

    torch.set_num_threads(2)
    path = args.dir / "vit_h_mae.pth"
    if not path.exists():
        print(f"writing {path} ...", flush=True)
        write_checkpoint(path)
    size_gb = path.stat().st_size / 1e9
    try:
        sha256(path)  # warm the page cache
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)["model"]

        def first_load() -> None:
            verify.forget(path)
            with torch.device("meta"):
                model = vm.create_model("mae")
            vm.load_checkpoint(model, path)

        def second_load() -> None:
            with torch.device("meta"):
                model = vm.create_model("mae")
            vm.load_checkpoint(model, path)

        def testzip() -> None:
            with zipfile.ZipFile(path) as archive:
                assert archive.testzip() is None

        rows = {
            "crc": best(lambda: verify.zip_crc_problem(path), args.repeats),
            "crc-stdlib": best(testzip, args.repeats),
            "finite": best(lambda: verify.non_finite_keys(state), args.repeats),
            "first-load": best(first_load, args.repeats),
            "second-load": best(second_load, args.repeats),
            "sha256": best(lambda: sha256(path), args.repeats),
            "torch.load": best(lambda: torch.load(path, map_location="cpu", weights_only=True), 1),
        }
    finally:
        shutil.rmtree(memory, ignore_errors=True)
        if not args.keep:
            path.unlink(missing_ok=True)
    print(f"checkpoint: {size_gb:.2f} GB, warm page cache, best of {args.repeats}")
    for name, seconds in rows.items():
        print(f"{name:12s} {seconds:7.3f} s  {size_gb / seconds:6.2f} GB/s")
    crc, check = rows["crc"], rows["crc"] + rows["finite"]
    print(f"crc vs torch.load: {crc / rows['torch.load']:.2f}x the time; vs sha256: {crc / rows['sha256']:.2f}x")
    print(f"crc vs zipfile.testzip: {rows['crc-stdlib'] / crc:.2f}x faster")
    print(f"whole first check (crc + finite) vs torch.load: {check / rows['torch.load']:.2f}x the time")


if __name__ == "__main__":
    main()
