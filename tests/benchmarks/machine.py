"""What machine a benchmark ran on: the CPU's name and the instruction sets the numbers depend on."""

from __future__ import annotations

import os
import platform
from pathlib import Path

FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")  # vector and bf16 units that move timings


def cpu_line() -> str:
    """One line: CPU model, cores, and which of ``FLAGS`` it has."""
    name, flags = platform.processor() or "unknown CPU", set()
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and name in ("unknown CPU", platform.processor()):
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    have = [f for f in FLAGS if f in flags]
    return f"CPU: {name}, {os.cpu_count()} cores; flags: {', '.join(have) or 'none of ' + ', '.join(FLAGS)}"
