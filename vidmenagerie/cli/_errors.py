"""The one place that turns exceptions into one-line ``Error: ...`` messages (never a traceback)."""

from __future__ import annotations

import os
import sys
import traceback

from ..errors import VidmError

DEBUG_ENV = "VIDM_DEBUG"


def format_error(exc: BaseException) -> tuple[str, int]:
    """Message and exit code for an exception that reached the top of a command."""
    if isinstance(exc, VidmError):
        return str(exc), exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted; finished results were kept", 130
    if isinstance(exc, MemoryError):
        return "out of memory; try a smaller --batch-size or --dtype bfloat16", 1
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return f"{where}{exc.strerror or exc}", 1
    if isinstance(exc, ValueError):
        return str(exc), 2
    return f"unexpected {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 to see the traceback)", 1


def report(exc: BaseException) -> int:
    """Print the error line to stderr (and the traceback when ``VIDM_DEBUG`` is set); return the exit code."""
    message, code = format_error(exc)
    if os.environ.get(DEBUG_ENV):
        traceback.print_exception(exc)
    first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    print(f"Error: {first}", file=sys.stderr)
    return code
