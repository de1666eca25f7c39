"""Bookkeeping shared by the batch commands: which videos, where outputs go, and what was run.

Output names mirror the inputs' paths relative to their common folder, so two ``clip.mp4``
in different folders never overwrite each other. Files are written atomically (temporary
file, then rename), so an interrupted run never leaves a half-written result behind.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import platform
import random
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from importlib import metadata
from pathlib import Path, PurePath
from typing import Any

from ..errors import InvalidSetting, OutputError

_PACKAGES = ("vidmenagerie", "torch", "torchvision", "timm", "av", "huggingface_hub", "numpy", "pillow")


def versions() -> dict[str, str]:
    """Versions of Python and every package that shapes the numbers, and the CPU (its name and
    whether it computes bfloat16 in hardware, which decides what ``--dtype bfloat16`` gains), for ``run.json``."""
    from ..cpu import this_cpu

    found = {"python": platform.python_version(), "cpu": this_cpu().describe()}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def select_videos(videos: Sequence[Path], num_vids: int | None, seed: int | None) -> list[Path]:
    """``num_vids`` videos drawn at random (seeded) and returned in sorted order; all when ``None``."""
    ordered = sorted(videos)
    if num_vids is None or num_vids >= len(ordered):
        return ordered
    if num_vids <= 0:
        raise ValueError("--num-vids must be at least 1")
    return sorted(random.Random(seed).sample(ordered, num_vids))


def output_stems(videos: Sequence[Path]) -> dict[Path, Path]:
    """A relative output stem per video that mirrors its path below the inputs' common folder;
    inputs that share no folder below the filesystem's root (``~/a.mp4`` and ``/data/b.mp4``) are
    named by the shortest ending of their path no other input shares (``a``, ``b``), not mirrored
    from ``/`` (the pages name them the same way: ``report.paths.Names``).

    The extension is dropped (``a/clip.mp4`` -> ``a/clip``) unless two inputs would then
    collide (``clip.mp4`` and ``clip.webm``), in which case it is kept (``clip.mp4``).
    """
    if not videos:
        return {}
    resolved = [Path(os.path.abspath(v)) for v in videos]
    root = common_folder([str(p) for p in resolved])
    if root:
        relative = [p.relative_to(root) for p in resolved]
    else:
        tails = distinct_tails([str(p) for p in resolved])
        relative = [Path(tails[str(p)]) for p in resolved]
    stems = [r.with_suffix("") for r in relative]
    counts: dict[Path, int] = {}
    for stem in stems:
        counts[stem] = counts.get(stem, 0) + 1
    return {video: (rel if counts[stem] > 1 else stem) for video, rel, stem in zip(videos, relative, stems)}


def common_folder(paths: Sequence[str]) -> str:
    """The deepest folder holding every path (absolute), or "" when that is only the filesystem's
    root ("/", "C:\\") or the paths are on different drives."""
    try:
        root = os.path.commonpath([os.path.dirname(p) for p in paths]) if paths else ""
    except ValueError:  # paths on different drives
        return ""
    return root if root and root != os.path.dirname(root) else ""


def distinct_tails(paths: Sequence[str]) -> dict[str, str]:
    """Each path's shortest trailing part (file name, then parent/file name, ...) that no other
    path ends with."""
    parts = {p: PurePath(p).parts for p in dict.fromkeys(paths)}
    tails: dict[str, str] = {}
    for path, mine in parts.items():
        for n in range(1, len(mine) + 1):
            tail = mine[-n:]
            if not any(other[-n:] == tail for q, other in parts.items() if q != path):
                break
        tails[path] = str(PurePath(*tail))
    return tails


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    A failure to write (disk full, permission denied) is re-raised naming ``path``, never the
    temporary name, which means nothing to the user.
    """
    tmp_path: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; results are ordinary files
        os.replace(tmp_path, path)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write: {exc.strerror or exc}", str(path)) from exc
    finally:
        if tmp_path is not None and tmp_path.exists():
            tmp_path.unlink()


def reserve_space(path: Path) -> None:
    """Give the (sparse) file at ``path`` real blocks for its whole length before anything is
    written into it through a memory map: a full disk is then this one ``ENOSPC`` error, naming
    the space needed, instead of a SIGBUS in the middle of the copy."""
    size = path.stat().st_size
    free = shutil.disk_usage(path.parent).free
    short = OSError(
        errno.ENOSPC, f"No space left on device (it needs {human_size(size)}, {human_size(free)} free)", str(path)
    )
    if size > free:
        raise short
    if not hasattr(os, "posix_fallocate"):  # not on macOS: the free-space check above is all there is
        return
    with path.open("rb+") as handle:
        try:
            os.posix_fallocate(handle.fileno(), 0, size)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):  # a quota, or another writer got there first
                raise short from exc
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # a filesystem that cannot preallocate
                raise


def human_size(num_bytes: int | None) -> str:
    """``1.2 GB`` style sizes (decimal units, as the Hub shows them)."""
    if num_bytes is None:
        return ""
    size = float(num_bytes)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


def check_writable(folder: Path) -> None:
    """Refuse, before any work, an output folder that cannot be made or written in."""
    probe = Path(os.path.abspath(folder))
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise InvalidSetting("out", f"{folder}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InvalidSetting("out", f"{folder}: cannot write in {probe} (permission denied)")


def check_targets(targets: Iterable[Path], inputs: Iterable[str | Path]) -> None:
    """Refuse to write any file that is a folder, or is (or is inside a frame folder that is) one of the inputs."""
    real = {Path(os.path.realpath(i)) for i in inputs}
    for target in targets:
        if target.is_dir():
            raise InvalidSetting("out", f"{target} is a folder where a file must go: remove it or choose another --out")
        where = Path(os.path.realpath(target))
        hit = next((p for p in (where, *where.parents) if p in real), None)
        if hit is not None:
            raise OutputError(
                f"{target} would overwrite the input {hit}: choose another --out", path=str(target), problem="input"
            )


# A file name's undecodable bytes, as Python holds them (os.fsdecode's surrogateescape), and backslashes.
_TO_ESCAPE = re.compile(r"[\\\udc80-\udcff]")
_ESCAPED = re.compile(r"\\(\\|x[89a-f][0-9a-f])")


def to_text(name: str) -> str:
    """``name`` as UTF-8-safe text, reversibly (``from_text`` undoes it): each byte of a file name
    that is not UTF-8 becomes ``\\xNN`` and a backslash is doubled; anything else is unchanged."""
    return _TO_ESCAPE.sub(lambda m: "\\\\" if m.group() == "\\" else f"\\x{ord(m.group()) - 0xDC00:02x}", name)


def from_text(text: str) -> str:
    """The name ``to_text`` wrote (text without escapes, as older manifests hold, reads as it is)."""
    return _ESCAPED.sub(lambda m: "\\" if m.group(1) == "\\" else chr(0xDC00 + int(m.group(1)[1:], 16)), text)


@contextmanager
def write_csv(path: Path, header: Sequence[str]) -> Iterator[Callable[[Sequence[object]], None]]:
    """Write a UTF-8 CSV atomically: ``header``, then each row passed to the function yielded; text
    cells go through ``to_text``, so a file name that is not UTF-8 is kept, not fatal."""
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)

        def row(cells: Sequence[object]) -> None:
            """Write one row, its text cells escaped."""
            writer.writerow([to_text(c) if isinstance(c, str) else c for c in cells])

        yield row


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV ``write_csv`` wrote, by column name, text as it was given."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [{k: from_text(v) if isinstance(v, str) else v for k, v in r.items()} for r in csv.DictReader(handle)]


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (dataclasses and paths become plain values)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_plain(data), indent=2, allow_nan=False) + "\n", encoding="utf-8")
