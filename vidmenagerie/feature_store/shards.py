"""Scale-out: which deterministic part of the input list one process takes (``--shard INDEX/COUNT``).

Shard ``i`` of ``n`` takes a contiguous block of the input list, so joining the shards in order
gives back exactly the rows one process would have written. Defaults come from ``torchrun``
(``RANK``/``WORLD_SIZE``) or a Slurm job array (``SLURM_ARRAY_TASK_ID``/``SLURM_ARRAY_TASK_COUNT``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..errors import InvalidSetting

T = TypeVar("T")
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """Part ``index`` (0-based) of ``count``, and where that came from (for messages)."""

    index: int
    count: int
    origin: str = "--shard"

    def __post_init__(self) -> None:
        """Refuse counts below 1 and indexes outside ``0..count-1``."""
        if self.count < 1 or not 0 <= self.index < self.count:
            raise InvalidSetting("shard", f"must be INDEX/COUNT with 0 <= INDEX < COUNT, got {self.index}/{self.count}")

    @classmethod
    def parse(cls, spec: str) -> Shard:
        """``"2/8"`` -> shard 2 of 8."""
        match = _SPEC.match(spec)
        if match is None:
            raise InvalidSetting("shard", f"must look like INDEX/COUNT (e.g. 0/4), got {spec!r}")
        return cls(int(match[1]), int(match[2]))

    @property
    def label(self) -> str:
        """``shard-2-of-8`` (the index zero-padded to the width of the count), used in file names."""
        width = len(str(self.count))
        return f"shard-{self.index:0{width}d}-of-{self.count}"

    def select(self, items: Sequence[T]) -> list[T]:
        """This shard's contiguous block of ``items`` (sizes differ by at most one)."""
        n = len(items)
        return list(items[self.index * n // self.count : (self.index + 1) * n // self.count])


def shard_from_env(environ: Mapping[str, str] | None = None) -> Shard | None:
    """The shard ``torchrun`` or a Slurm array asks for, or None when neither does (or the count is 1)."""
    env = os.environ if environ is None else environ
    if "RANK" in env and "WORLD_SIZE" in env:
        return _shard(env["RANK"], env["WORLD_SIZE"], "0", "RANK/WORLD_SIZE (torchrun)")
    if "SLURM_ARRAY_TASK_ID" in env and "SLURM_ARRAY_TASK_COUNT" in env:
        first = env.get("SLURM_ARRAY_TASK_MIN", "0")
        return _shard(
            env["SLURM_ARRAY_TASK_ID"], env["SLURM_ARRAY_TASK_COUNT"], first, "SLURM_ARRAY_TASK_ID (Slurm array)"
        )
    return None


def _shard(index: str, count: str, first: str, origin: str) -> Shard | None:
    """A shard from environment strings, or None for a single task; bad values name the variables."""
    try:
        shard = Shard(int(index) - int(first), int(count), origin)
    except ValueError:
        raise InvalidSetting("shard", f"{origin}: cannot make a shard of {index} (first {first}) of {count}") from None
    return shard if shard.count > 1 else None
