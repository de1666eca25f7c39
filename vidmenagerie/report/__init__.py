"""The self-contained HTML page of a batch run: ``build_report(out_dir)`` writes ``out_dir/index.html``
(``build_report("feats.npy")``: ``feats.html``), and never replaces a page vidm did not write.

The page works from ``file://``: CSS and one small script inline, pictures and animations the
run already wrote linked by relative paths, long tables and card lists rendered page by page
from a compact JSON blob so that a run of 10,000 videos stays a page of a few hundred KB.
"""

from __future__ import annotations

from .build import build_report

__all__ = ["build_report"]
