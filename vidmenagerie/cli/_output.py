"""Consoles and shared output helpers: data to stdout, progress and messages to stderr."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..batch.outputs import human_size  # noqa: F401 - the commands' size format, shared with the library

# C0 controls but newline and tab, DEL and C1 controls: ESC, OSC and CSI sequences in a file
# name or catalogue text could otherwise retitle, recolour or rewrite the user's terminal. And the
# bytes of a file name that is not UTF-8 (os.fsdecode's surrogates), which no terminal can be sent.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\udc80-\udcff]")


def clean(text: str) -> str:
    """``text`` with every terminal control character, and every undecodable byte of a file name,
    shown as a visible ``\\xNN`` escape."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()) & 0xFF:02x}", text)


class SafeConsole(Console):
    """A Rich console that never passes control characters of its string arguments to the terminal."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().print(*(clean(o) if isinstance(o, str) else o for o in objects), **kwargs)


out = SafeConsole(soft_wrap=True)  # data (tables) to stdout
err = SafeConsole(stderr=True, soft_wrap=True)  # progress, warnings, summaries (one line per message)


def print_json(data: Any) -> None:
    """Machine-readable output through plain print: Rich would wrap long lines and corrupt JSON."""
    print(json.dumps(data, indent=2, default=str))
    sys.stdout.flush()


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    """A Rich table whose cells are escaped (paths with ``[`` are not markup); long cells fold
    onto more lines rather than being cut off."""
    result = Table(title=title, header_style="bold", show_lines=False)
    for column in columns:
        result.add_column(column, overflow="fold")
    for row in rows:
        result.add_row(*("" if cell is None else escape(clean(str(cell))) for cell in row))
    return result


def show_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table on stdout: boxed on a terminal; elsewhere (a log, a file, a pipe) the title and plain
    aligned lines, so no path is ever split over two lines."""
    if out.is_terminal:
        out.print(table(title, columns, rows))
        return
    if title:
        print(clean(title))
    print_columns(columns, rows)


def print_columns(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Plain aligned columns on stdout, one line per row, for pipes (``grep``, ``awk``): never wrapped."""
    cells = [[str(c) for c in columns], *[["-" if c is None else clean(str(c)) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for row in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    sys.stdout.flush()


def human_count(n: int) -> str:
    """``632.0M`` style parameter counts."""
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.1f}k"
