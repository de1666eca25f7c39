"""``vidm report``: rebuild the HTML page of a run from what is on disk (after a resume or a merge, too)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ._options import epilog
from ._output import err

EXAMPLES = (
    "vidm report vidm-out/complete/",
    "vidm report results/eval/",
    "vidm report probe/",
    "vidm report feats.npy",
)

FolderArg = Annotated[
    Path,
    typer.Argument(
        help="The output folder of a complete, attend, embed, evaluate, classify or probe run, or an embed run's "
        "NAME.npy.",
    ),
]


def report_cmd(folder: FolderArg) -> None:
    """Write FOLDER/index.html (NAME.html for NAME.npy): the run's pictures, animations, numbers and settings."""
    from ..report import build_report

    page = build_report(folder)
    err.print(f"report: {escape(str(page))}", highlight=False)


report_cmd.__doc__ = (report_cmd.__doc__ or "") + "\n\n" + epilog(*EXAMPLES)
