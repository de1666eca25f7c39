"""How many decoding processes a run uses by default (light: the CLI's --help shows it)."""

from __future__ import annotations

import os


def default_workers() -> int:
    """Decoding processes by default: two, or one per core on smaller machines."""
    return min(2, os.cpu_count() or 1)
