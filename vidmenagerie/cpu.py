"""What CPU this is, and whether it computes bfloat16 in hardware.

A CPU with bfloat16 instructions (Intel AMX or AVX512-BF16, AMD AVX512-BF16 from Zen 4, Arm
cores with the BF16 extension) runs a ViT-H in bfloat16 several times faster than in float32;
one without them emulates bfloat16 and gains nothing. Read from the kernel's CPU flags (Linux
``/proc/cpuinfo``), so nothing here imports torch.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Flags that name bfloat16 arithmetic in hardware: x86 (AMX tiles, AVX-512 dot products) and Arm
# (FEAT_BF16, listed as "bf16" in the Features line; SVE's "svebf16").
BF16_FLAGS: tuple[str, ...] = ("amx_bf16", "avx512_bf16", "bf16", "svebf16")
# Other flags that decide how fast the matrix work runs, shown beside them.
SPEED_FLAGS: tuple[str, ...] = ("avx2", "avx512f", "amx_tile", "neon", "asimd", "sve")
# What --dtype bfloat16 gained where tests/benchmarks/bench_precision.py measured it (README: Performance):
# ViT-H/14 embed on 2 cores of an AMD EPYC with AVX512-BF16, features at cosine >= 0.999978 to float32's.
BF16_GAIN = "--dtype bfloat16 ran ViT-H 2x faster on an AVX512-BF16 EPYC, features at cosine >= 0.99997"


@dataclass(frozen=True)
class CpuInfo:
    """The CPU's model name and the flags of ``BF16_FLAGS`` and ``SPEED_FLAGS`` it has."""

    name: str
    flags: frozenset[str]

    @property
    def bf16(self) -> bool:
        """Whether it computes bfloat16 in hardware."""
        return native_bf16(self.flags)

    def describe(self) -> str:
        """One line for ``run.json`` and the pages: name, bf16 in hardware or not, the flags that matter."""
        known = [f for f in (*SPEED_FLAGS, *BF16_FLAGS) if f in self.flags]
        hardware = "bfloat16 in hardware" if self.bf16 else "no bfloat16 hardware"
        return f"{self.name} ({hardware}; {', '.join(known) or 'no vector flags read'})"


def native_bf16(flags: frozenset[str] | set[str]) -> bool:
    """Whether a CPU with these flags computes bfloat16 in hardware (a pure function of the flags)."""
    return any(flag in flags for flag in BF16_FLAGS)


def parse_cpuinfo(text: str) -> CpuInfo:
    """The first processor's model name and flags from ``/proc/cpuinfo`` text (x86 ``flags``, Arm ``Features``)."""
    name, flags = "", frozenset[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "cpu model", "hardware") and not name:
            name = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = frozenset(value.split())
    return CpuInfo(name or platform.processor() or platform.machine() or "unknown CPU", flags)


@lru_cache(maxsize=1)
def this_cpu() -> CpuInfo:
    """This machine's CPU (read once); flags are empty where ``/proc/cpuinfo`` does not exist."""
    try:
        return parse_cpuinfo(Path("/proc/cpuinfo").read_text(errors="replace"))
    except OSError:
        return CpuInfo(platform.processor() or platform.machine() or "unknown CPU", frozenset())
