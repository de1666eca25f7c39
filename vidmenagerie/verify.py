"""Checking a checkpoint file once: its bytes are intact and its weights are finite, then remembered.

- Bytes: a zip checkpoint (torch's format since 1.6) stores a CRC-32 for each record; all of
  them are recomputed over the memory-mapped file in large slices, on two threads. A legacy
  (pickle) checkpoint carries no checksum, so its bytes can only be checked against a known
  hash: the Hub's SHA-256 right after a download (``hub.fetch_checkpoint``), never for a
  local legacy file.
- Values: every floating-point tensor must be finite (no NaN or inf).
- Memory: a file that passed is remembered by (resolved path, size, mtime_ns) in
  ``verified.json`` under :func:`cache_dir`, so later loads skip both passes. The memory is a
  convenience: when it cannot be read or written the checks simply run again next time.

This module only finds problems and describes them; ``checkpoint.py`` raises the errors. It
imports torch only to look at tensors, so the CLI can consult the memory and hash files lightly.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import Tensor

__all__ = [
    "CACHE_ENV",
    "FileStamp",
    "cache_dir",
    "hub_sha256",
    "non_finite_keys",
    "recall",
    "remember",
    "remembered_dtype",
    "sha256_of",
    "stored_dtype",
    "zip_crc_problem",
]

CACHE_ENV = "VIDM_CACHE_DIR"  # where vidmenagerie keeps small files of its own (not the Hub cache)
MEMORY_FILE = "verified.json"
SLICE = 16 << 20  # bytes per CRC / hash call: large enough that the per-call cost vanishes
THREADS = 2
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, 22 bytes we skip, name and extra-field lengths
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def cache_dir() -> Path:
    """``$VIDM_CACHE_DIR``, else ``$XDG_CACHE_HOME/vidmenagerie``, else ``~/.cache/vidmenagerie``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "vidmenagerie"


# --------------------------------------------------------------------------- memory of verified files
@dataclass(frozen=True)
class FileStamp:
    """One version of a file: its resolved path, size and modification time (ns)."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | Path) -> FileStamp:
        """The stamp of ``path`` now (symlinks resolved: a Hub snapshot entry is stamped as its blob)."""
        real = Path(os.path.realpath(path))
        stat = real.stat()
        return cls(str(real), stat.st_size, stat.st_mtime_ns)


def recall(stamp: FileStamp) -> dict[str, Any]:
    """What was verified about exactly this file version (empty when nothing, or when it changed)."""
    entry = _read_memory().get(stamp.path)
    if not isinstance(entry, dict) or entry.get("size") != stamp.size or entry.get("mtime_ns") != stamp.mtime_ns:
        return {}
    return entry


def remember(stamp: FileStamp, **facts: Any) -> None:
    """Add ``facts`` (e.g. ``sha256=``, ``dtype=``) to this file version's entry; never raises."""
    try:
        files = {p: e for p, e in _read_memory().items() if _still_there(p, e)}
        entry = recall(stamp) or {"size": stamp.size, "mtime_ns": stamp.mtime_ns}
        files[stamp.path] = {**entry, **facts}
        _write_atomically(cache_dir() / MEMORY_FILE, json.dumps({"version": 1, "files": files}, indent=1))
    except (OSError, TypeError, ValueError):
        pass  # an unwritable cache only costs a second check next time


def forget(path: str | Path) -> None:
    """Drop any entry for ``path`` (a file that was found damaged and removed); never raises."""
    real = os.path.realpath(path)
    try:
        files = _read_memory()
        if files.pop(real, None) is not None:
            _write_atomically(cache_dir() / MEMORY_FILE, json.dumps({"version": 1, "files": files}, indent=1))
    except (OSError, TypeError, ValueError):
        pass


def _read_memory() -> dict[str, Any]:
    try:
        data = json.loads((cache_dir() / MEMORY_FILE).read_text())
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) and data.get("version") == 1 else None
    return dict(files) if isinstance(files, dict) else {}


def _still_there(path: str, entry: Any) -> bool:
    """Whether an entry still describes the file on disk (stale entries are dropped on write)."""
    try:
        stat = os.stat(path)
    except OSError:
        return False
    return isinstance(entry, dict) and (entry.get("size"), entry.get("mtime_ns")) == (stat.st_size, stat.st_mtime_ns)


def _write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path``, then rename it over: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- bytes
def zip_crc_problem(path: str | Path) -> str | None:
    """What is wrong with a zip checkpoint (``corrupt: record R fails its CRC-32 check``...), or None.

    Records written without a CRC (torch's ``compute_crc32 = False`` stores 0) cannot be
    checked and are skipped.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive, path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            infos = archive.infolist()
            if any(info.compress_type != zipfile.ZIP_STORED for info in infos):
                return _stdlib_crc_problem(archive)  # torch never compresses; other zips take the slow path
            spans = [(info.filename, _data_start(f, info, size), info.compress_size, info.CRC) for info in infos]
            if size == 0 or not spans:
                return None
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped, ThreadPoolExecutor(THREADS) as pool:
                failed = [
                    span[0] for span, ok in zip(spans, pool.map(lambda s: _crc_ok(mapped, *s[1:]), spans)) if not ok
                ]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, struct.error) as exc:
        return f"truncated or corrupt: its zip index cannot be read ({_first_line(exc)})"
    if failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return f"corrupt: record {failed[0]}{more} fails its CRC-32 check"
    return None


def _data_start(f: Any, info: zipfile.ZipInfo, size: int) -> int:
    """Where a record's data begins: after its local header, whose name and extra field vary in length."""
    f.seek(info.header_offset)
    signature, name_len, extra_len = _LOCAL_HEADER.unpack(f.read(_LOCAL_HEADER.size))
    if signature != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"record {info.filename} has no local header")
    start = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
    if start + info.compress_size > size:
        raise zipfile.BadZipFile(f"record {info.filename} runs past the end of the file")
    return start


def _crc_ok(mapped: mmap.mmap, start: int, length: int, expected: int) -> bool:
    """Whether the CRC-32 of ``mapped[start:start + length]`` is ``expected`` (0: none recorded)."""
    if expected == 0:
        return True
    crc = 0
    with memoryview(mapped) as view:  # zlib.crc32 releases the GIL on large slices: threads overlap
        for offset in range(start, start + length, SLICE):
            crc = zlib.crc32(view[offset : min(offset + SLICE, start + length)], crc)
    return crc == expected


def _stdlib_crc_problem(archive: zipfile.ZipFile) -> str | None:
    """zipfile's own check (reads each record through its decompressor), for compressed archives."""
    for info in archive.infolist():
        try:
            with archive.open(info) as record:
                while record.read(SLICE):
                    pass
        except zipfile.BadZipFile:
            if info.CRC == 0:
                continue
            return f"corrupt: record {info.filename} fails its CRC-32 check"
    return None


def sha256_of(path: str | Path) -> str:
    """The SHA-256 of a file, read in large slices."""
    digest = hashlib.sha256()
    buffer = bytearray(SLICE)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        while read := f.readinto(buffer):
            digest.update(view[:read])
    return digest.hexdigest()


def hub_sha256(path: str | Path) -> str | None:
    """The SHA-256 the Hub published for a file in its cache (an LFS blob is named by it), or None."""
    path = Path(path)
    blob = Path(os.path.realpath(path)).name
    return blob if path.is_symlink() and _SHA256.match(blob) else None


# --------------------------------------------------------------------------- values
def non_finite_keys(state_dict: Mapping[str, Tensor]) -> list[str]:
    """Keys of the floating-point tensors holding NaN or inf, in order.

    A float32 sum per tensor finds them (NaN and inf survive a sum) about 8x faster than
    ``isfinite(t).all()``, which only confirms a suspect (a sum of finite values can overflow).
    """
    import torch

    bad = []
    for key, tensor in state_dict.items():
        if not tensor.is_floating_point() or tensor.is_meta or tensor.numel() == 0:
            continue
        total = tensor.sum(dtype=torch.float64 if tensor.dtype == torch.float64 else torch.float32)
        if not bool(torch.isfinite(total)) and not bool(torch.isfinite(tensor).all()):
            bad.append(key)
    return bad


def stored_dtype(state_dict: Mapping[str, Tensor]) -> str | None:
    """The floating-point dtype holding most of the weights (``float32``, ``float16``...), None if none."""
    counts: dict[str, int] = {}
    for tensor in state_dict.values():
        if tensor.is_floating_point():
            name = str(tensor.dtype).removeprefix("torch.")
            counts[name] = counts.get(name, 0) + tensor.numel()
    return max(counts, key=lambda d: counts[d]) if counts else None


def remembered_dtype(path: str | Path) -> str | None:
    """The stored dtype remembered from an earlier load of exactly this file version, without torch."""
    try:
        dtype = recall(FileStamp.of(path)).get("dtype")
    except OSError:
        return None
    return dtype if isinstance(dtype, str) else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]
