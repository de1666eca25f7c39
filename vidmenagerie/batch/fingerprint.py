"""Cheap fingerprints that tell a resumed run whether an input or a checkpoint changed.

A file is known by its size and modification time (nanoseconds): replacing a video at the
same path changes one of them. A frame folder is known by its frame count, total size and
newest modification time. A checkpoint in the Hub cache is known by its LFS hash (the blob's
name), which survives a re-download of the same file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def input_fingerprint(path: str | Path) -> str:
    """``size:mtime_ns`` of a file, ``frames:size:mtime_ns`` of a folder, ``missing`` if it is gone."""
    path = Path(path)
    try:
        if path.is_dir():
            stats = [e.stat() for e in os.scandir(path) if e.is_file() and not e.name.startswith(".")]
            newest = max([s.st_mtime_ns for s in stats] + [path.stat().st_mtime_ns])
            return f"{len(stats)}:{sum(s.st_size for s in stats)}:{newest}"
        stat = path.stat()
    except OSError:
        return "missing"
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def checkpoint_fingerprint(path: str | Path | None) -> dict[str, Any] | None:
    """Size, mtime and (for a Hub-cache file) the LFS SHA-256 of a checkpoint; None if absent."""
    if path is None:
        return None
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return None
    found: dict[str, Any] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    blob = Path(os.path.realpath(path)).name
    if path.is_symlink() and _SHA256.match(blob):  # huggingface_hub: snapshots/<rev>/<file> -> blobs/<sha256>
        found["sha256"] = blob
    return found


def same_checkpoint(before: dict[str, Any] | None, now: dict[str, Any] | None) -> bool:
    """Whether two fingerprints name the same file contents (unknown on either side counts as same)."""
    if not before or not now:
        return True
    if "sha256" in before and "sha256" in now:
        return bool(before["sha256"] == now["sha256"])
    return bool(before.get("size") == now.get("size") and before.get("mtime_ns") == now.get("mtime_ns"))


def describe_change(before: dict[str, Any], now: dict[str, Any]) -> str:
    """What differs between two checkpoint fingerprints, in words."""
    if "sha256" in before and "sha256" in now:
        return f"its SHA-256 was {before['sha256'][:12]}..., now {now['sha256'][:12]}..."
    if before.get("size") != now.get("size"):
        return f"its size was {before.get('size')} bytes, now {now.get('size')}"
    return "it was modified since (its modification time differs)"
