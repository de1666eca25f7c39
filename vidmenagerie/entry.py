"""The ``vidm`` entry point, light on purpose, and what a Ctrl-C becomes: one line and exit code 130,
at any moment (while the command line is still being imported too).

Ctrl-C is noted here as well as raised: a library that swallows the KeyboardInterrupt (a bare
``except`` around an import) cannot then turn it into some other error or a silent finish, and
an interrupt inside an extension's import (which leaves CPython set to kill itself with SIGINT at
exit) still ends with the one line and 130.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C
_pressed: list[int] = []


def ctrl_c_pressed() -> bool:
    """Whether this process was sent a Ctrl-C (SIGINT) since ``main`` started."""
    return bool(_pressed)


def _on_ctrl_c(number: int, frame: FrameType | None) -> None:
    """Note the Ctrl-C, then raise KeyboardInterrupt as Python's own handler does."""
    _pressed.append(number)
    raise KeyboardInterrupt


def exit_interrupted(line: str) -> None:
    """Print ``line`` on stderr and end the process with 130, past CPython's own exit handling (which
    may kill the process with SIGINT after an interrupt inside an extension's import)."""
    print(line, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(INTERRUPTED)


def main() -> None:
    """Import the command line and run it (``vidmenagerie.cli.main``)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when the shell ignores it
        signal.signal(signal.SIGINT, _on_ctrl_c)
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        exit_interrupted("interrupted (Ctrl-C)")
    run()
