"""The ``vidm`` command line: a thin Typer layer over the library, one module per command."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from .. import __version__
from ..entry import ctrl_c_pressed, exit_interrupted
from ..errors import Interrupted
from ._errors import format_error, report
from ._output import clean
from .attend_cmd import attend_cmd
from .compare_cmd import compare_cmd
from .complete_cmd import complete_cmd
from .download_cmd import download_cmd
from .embed_cmd import embed_cmd
from .evaluate_cmd import classify_cmd, evaluate_cmd
from .models_cmd import info_cmd, list_models_cmd
from .probe_cmd import probe_cmd
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
app.command("compare")(compare_cmd)
app.command("probe")(probe_cmd)
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
    """Console-script entry point: run the app, turning every error into one line on stderr; a
    Ctrl-C, whenever it came, into one line and exit code 130."""
    try:
        app()
    except SystemExit as exc:
        if exc.code not in (0, None) and (_after_ctrl_c(exc) or ctrl_c_pressed()):  # Typer: a silent 130
            _interrupted(KeyboardInterrupt())
        raise
    except BaseException as exc:  # noqa: BLE001 - the one place errors become messages
        if isinstance(exc, (KeyboardInterrupt, Interrupted)) or ctrl_c_pressed():
            _interrupted(exc if isinstance(exc, Interrupted) else KeyboardInterrupt())
        sys.exit(report(exc))


def _interrupted(exc: BaseException) -> None:
    """The one line a Ctrl-C gets (what was kept, when a run says so), then exit code 130."""
    message, _ = format_error(exc)
    exit_interrupted(clean(message))


def _after_ctrl_c(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while handling a KeyboardInterrupt (its cause or context chain)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
