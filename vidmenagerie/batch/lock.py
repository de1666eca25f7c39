"""One writer per output: an exclusive lock file beside it, naming the process that holds it.

Two runs into one output would otherwise both pass the settings check before either writes
``run.json`` and then mix their rows. The lock file is created atomically (written under a
temporary name, then hard-linked into place, which fails if it exists) and holds the holder's
pid, host and start time. A lock left by a process that is gone from this host is taken over
(the caller is told); a live holder, or one on another host, is refused in one line.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from ..errors import OutputError


@dataclass(frozen=True)
class LockHolder:
    """Who holds a lock: process id, host name, when it started and what it runs."""

    pid: int
    host: str
    since: str
    command: str

    @classmethod
    def me(cls, command: str) -> LockHolder:
        """This process."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return cls(os.getpid(), socket.gethostname(), now, command)

    def describe(self) -> str:
        """``pid 123 on host-a since 2026-12-01T08:00:00+00:00``."""
        return f"pid {self.pid} on {self.host} since {self.since}"

    def is_gone(self) -> bool:
        """Whether the holder ran on this host and no longer runs (its lock is stale)."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, owned by someone else
            return False
        return False


def read_holder(path: Path) -> LockHolder | None:
    """The holder a lock file names, or None when it names nobody readable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LockHolder(int(data["pid"]), str(data["host"]), str(data["since"]), str(data["command"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def refuse_if_locked(path: Path, output: Path) -> None:
    """Raise the ``locked`` refusal when another live run holds ``path`` (checked before the
    settings, so a second run is told the output is busy, not that its rows differ)."""
    holder = read_holder(path)
    if holder is None or holder.pid == os.getpid() or holder.is_gone():
        return
    raise OutputLock(path, output).refusal(holder)


class OutputLock:
    """Exclusive use of an output while a run writes it (a context manager).

    ``took_over`` says whose stale lock was taken over, so the caller can say so.
    """

    def __init__(self, path: Path, output: Path, command: str = "vidm embed") -> None:
        self.path, self.output, self.command = path, output, command
        self.took_over: LockHolder | None = None
        self._held = False

    def acquire(self) -> OutputLock:
        """Take the lock, or raise ``OutputError`` (problem ``locked``) naming the holder."""
        me = LockHolder.me(self.command)
        for _ in range(3):  # a stale lock removed by someone else in between: try again
            if self._create(me):
                self._held = True
                return self
            holder = read_holder(self.path)
            if holder is None or not holder.is_gone():
                raise self.refusal(holder)
            self.took_over = holder
            self.path.unlink(missing_ok=True)
        raise self.refusal(read_holder(self.path))

    def _create(self, me: LockHolder) -> bool:
        """Create the lock file with its content in one step; False if it already exists."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(asdict(me), handle)
            os.link(tmp, self.path)
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)
        return True

    def refusal(self, holder: LockHolder | None) -> OutputError:
        """The one-line error naming who holds the lock."""
        who = holder.describe() if holder else "a process whose lock file cannot be read"
        return OutputError(
            f"{self.output} is being written by another run ({who}); lock file {self.path}",
            path=str(self.output),
            problem="locked",
        )

    def release(self) -> None:
        """Give the lock up (only if this process holds it)."""
        if self._held:
            holder = read_holder(self.path)
            if holder is not None and holder.pid == os.getpid():
                self.path.unlink(missing_ok=True)
            self._held = False

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
