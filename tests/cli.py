"""Running the ``vidm`` command line in tests: in-process (CliRunner) and as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from vidmenagerie.cli import app


def invoke(*args: str):  # noqa: ANN201 - typer's Result type
    """Run ``vidm ARGS`` in-process; exceptions that reach the top stay in ``result.exception``."""
    return CliRunner().invoke(app, [str(a) for a in args])


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
