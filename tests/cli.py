"""Running the ``vidm`` command line in tests: in-process (CliRunner) and as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from vidmenagerie.cli import app
from vidmenagerie.cli._errors import format_error


@dataclass
class Outcome:
    """What ``vidm ARGS`` did in-process, as the real entry point would report it."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def invoke(*args: object) -> Outcome:
    """Run ``vidm ARGS`` in-process; an exception that reaches the top becomes the ``Error: ...``
    line and exit code ``main()`` gives it (it stays in ``exception`` too)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    error = result.exception if not isinstance(result.exception, SystemExit) else None
    stderr = result.stderr if result.stderr_bytes is not None else ""
    if error is None:
        return Outcome(result.exit_code, result.stdout, stderr, None)
    message, code = format_error(error)
    return Outcome(code, result.stdout, stderr + f"Error: {message}\n", error)


def run_vidm(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300):
    """Run ``python -m vidmenagerie ARGS`` in a subprocess (the real entry point, error formatting included)."""
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "vidmenagerie", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
    )


def committed(folder: Path, pattern: str) -> list[Path]:
    """Files matching ``pattern`` in ``folder``, without the hidden temporaries of atomic writes
    (``pathlib`` globs match dot-files, and a temporary is not yet a committed result)."""
    return [p for p in folder.glob(pattern) if not p.name.startswith(".")]
