"""What the per-video commands (complete, attend) share on the command line: inputs, progress, summary."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..batch.outputs import select_videos
from ..video.find import check_frame_folders, find_inputs
from ._output import err

if TYPE_CHECKING:
    from ..batch.driver import Hooks
    from ..batch.settings import BatchSettings
    from ..errors import Interrupted
    from ..runtime import Runtime


@dataclass(frozen=True)
class Inputs:
    """The inputs a run processes, and every input found: a file the run writes may be neither."""

    selected: list[Path]
    found: list[Path]


def find_all(videos: list[Path] | None, frame_folders: str = "auto") -> list[Path]:
    """Every input the arguments name (videos, stills, frame folders); the demo clip when none are given."""
    mode = check_frame_folders(frame_folders)
    if not videos:
        from ..video.demo import demo_video_path

        return [demo_video_path()]
    skipped: list[tuple[Path, str]] = []
    repeats: list[Path] = []
    found = find_inputs(videos, frame_folders=mode, skipped=skipped, repeats=repeats)
    if skipped:
        first, why = skipped[0]
        many = f"{len(skipped)} unreadable folders" if len(skipped) > 1 else "an unreadable folder"
        err.print(
            f"[yellow]note[/yellow] skipped {many} ({escape(f'{first}: {why}')}"
            + (", ..." if len(skipped) > 1 else "")
            + ")"
        )
    note_repeats(len(repeats), repeats[0] if repeats else None)
    return found


def note_repeats(count: int, first: Path | None = None) -> None:
    """Say how many links led to a folder or file already found (each real input is taken once)."""
    if count:
        example = f" ({escape(str(first))}{', ...' if count > 1 else ''})" if first is not None else ""
        err.print(
            f"[yellow]note[/yellow] skipped {count} repeat{'s' if count > 1 else ''}: links to a folder or file "
            f"already found{example}; each real input is taken once",
            highlight=False,
        )


def resolve_inputs(
    videos: list[Path] | None, num_vids: int | None, seed: int, frame_folders: str = "auto"
) -> list[Path]:
    """The inputs to process: the demo clip when none are given, else found (videos, stills,
    frame folders) and (optionally) sampled."""
    return select_videos(find_all(videos, frame_folders), num_vids, seed)


def prepare(
    settings: BatchSettings, videos: list[Path] | None, num_vids: int | None, frame_folders: str
) -> tuple[Runtime, Inputs]:
    """Check every setting, the device and the precision, and find the inputs: all before any model is fetched."""
    from ..runtime import Runtime

    settings.check(settings.entry())
    runtime = Runtime.resolve(settings.device, settings.dtype)
    found = find_all(videos, frame_folders)
    return runtime, Inputs(select_videos(found, num_vids, settings.seed), found)


def picture_format(name: str) -> str:
    """``--format`` as the renderer names it (``jpeg`` is ``jpg``)."""
    lowered = name.lower()
    return "jpg" if lowered == "jpeg" else lowered


@dataclass
class BatchReport:
    """Which videos finished and which failed (with the reason), in order."""

    done: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def summary(self) -> str:
        total = len(self.done) + len(self.failed)
        text = f"{len(self.done)} of {total} input{'s' if total != 1 else ''} done"
        return text + (f", {len(self.failed)} failed" if self.failed else "")


class VideoProgress:
    """Progress over inputs on stderr: a Rich bar on a terminal; off a terminal (a Slurm log) one
    plain line per finished input. Failures and notes are one line each as they happen."""

    def __init__(self, progress: Progress, total: int, report: BatchReport) -> None:
        self._progress = progress
        self._task = progress.add_task("inputs", total=total)
        self._total, self._started = total, time.monotonic()
        self.report = report

    @property
    def hooks(self) -> Hooks:
        """The callbacks the batch driver takes."""
        from ..batch.driver import Hooks

        return Hooks(on_done=self.done, on_failed=self.failed, on_note=self.noted, on_message=self.said)

    def done(self, video: Path) -> None:
        self.report.done.append(video)
        self._progress.advance(self._task)
        self._plain("done", video)

    def _plain(self, what: str, video: Path) -> None:
        """One line per finished input when no progress bar can be shown."""
        if self._progress.disable:
            count = len(self.report.done) + len(self.report.failed)
            seconds = time.monotonic() - self._started
            err.print(f"{what} {count}/{self._total} {escape(str(video))} ({seconds:.0f} s)", highlight=False)

    def noted(self, video: Path, text: str) -> None:
        """Something found about an input that the user should know (its clips are still made)."""
        self._progress.console.print(f"[yellow]note[/yellow] {escape(f'{video}: {text}')}")

    def said(self, text: str) -> None:
        """Something about the whole run (a stale lock taken over, weights upcast)."""
        self._progress.console.print(f"[yellow]note[/yellow] {escape(text)}", highlight=False)

    def failed(self, video: Path, reason: str) -> None:
        self.report.failed.append((video, reason))
        line = reason if reason.startswith(str(video)) else f"{video}: {reason}"  # VideoErrors name the file
        count = f" {len(self.report.done) + len(self.report.failed)}/{self._total}" if self._progress.disable else ""
        self._progress.console.print(f"[red]failed[/red]{count} {escape(line)}", highlight=False)
        self._progress.advance(self._task)


@contextmanager
def video_progress(total: int, label: str) -> Iterator[VideoProgress]:
    """Progress over ``total`` inputs: a transient bar on a terminal, plain lines in logs."""
    columns = (
        TextColumn(f"[bold]{escape(label)}[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        yield VideoProgress(progress, total, BatchReport())


def interrupted(report: BatchReport, total: int, out: Path) -> Interrupted:
    """What a Ctrl-C of a per-clip command leaves: the finished inputs' files, where they are."""
    from ..errors import Interrupted

    return Interrupted(f"interrupted: {len(report.done)} of {total} inputs finished and kept in {out}")


def write_report(where: Path, enabled: bool = True) -> None:
    """Build the page of the run at ``where`` (``FOLDER/index.html``, or ``NAME.html`` beside an
    embedding's ``NAME.npy``); a report never costs the run's results."""
    if not enabled:
        return
    from ..report import build_report

    try:
        page = build_report(where)
    except Exception as exc:  # noqa: BLE001 - the results are written; the page is a view of them
        err.print(f"[yellow]note[/yellow] no report: {escape(str(exc))}", highlight=False)
        return
    err.print(f"report: {escape(str(page))}", highlight=False)


def finish(report: BatchReport, out_dir: Path) -> None:
    """Print the summary and where results are; exit non-zero if any video failed."""
    style = "red" if report.failed else "green"
    err.print(f"[{style}]{report.summary()}[/{style}]; results in {escape(str(out_dir))}")
    if report.failed:
        raise typer.Exit(1)
