"""The ``vidm`` command line: a thin Typer layer over the library, one module per command."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from .. import __version__
from ._errors import report
from .attend_cmd import attend_cmd
from .complete_cmd import complete_cmd
from .download_cmd import download_cmd
from .embed_cmd import embed_cmd
from .evaluate_cmd import classify_cmd, evaluate_cmd
from .models_cmd import info_cmd, list_models_cmd
from .report_cmd import report_cmd

app = typer.Typer(
    name="vidm",
    help="A menagerie of pretrained self-supervised ViT-H/14 video models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("list")(list_models_cmd)
app.command("info")(info_cmd)
app.command("download")(download_cmd)
app.command("embed")(embed_cmd)
app.command("evaluate")(evaluate_cmd)
app.command("classify")(classify_cmd)
app.command("report")(report_cmd)
app.command("complete")(complete_cmd)
app.command("attend")(attend_cmd)


def _version(value: bool) -> None:
    if value:
        print(f"vidm {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = None,
) -> None:
    """A menagerie of pretrained self-supervised ViT-H/14 video models."""


def main() -> None:
    """Console-script entry point: run the app, turning every error into one line on stderr."""
    try:
        app()
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - the one place errors become messages
        sys.exit(report(exc))
