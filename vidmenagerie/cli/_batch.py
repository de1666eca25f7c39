"""What the per-video commands (complete, attend) share on the command line: inputs, progress, summary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..batch.outputs import select_videos
from ..video import demo_video_path, find_inputs
from ..video.find import FrameFolders, check_frame_folders
from ._output import err


def resolve_inputs(
    videos: list[Path] | None, num_vids: int | None, seed: int, frame_folders: str = "auto"
) -> list[Path]:
    """The inputs to process: the demo clip when none are given, else found (videos, stills,
    frame folders) and (optionally) sampled."""
    mode = check_frame_folders_option(frame_folders)
    if not videos:
        return [demo_video_path()]
    return select_videos(find_inputs(videos, frame_folders=mode), num_vids, seed)


def check_frame_folders_option(mode: str) -> FrameFolders:
    """``--frame-folders`` checked, as a usage error naming the option."""
    try:
        return check_frame_folders(mode)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--frame-folders") from None


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
    """A Rich progress bar over videos on stderr; failures are printed as one line each as they happen."""

    def __init__(self, progress: Progress, total: int, report: BatchReport) -> None:
        self._progress = progress
        self._task = progress.add_task("videos", total=total)
        self.report = report

    def done(self, video: Path) -> None:
        self.report.done.append(video)
        self._progress.advance(self._task)

    def callbacks(self) -> dict[str, Callable[..., None]]:
        """The ``on_done`` / ``on_failed`` / ``on_note`` hooks the batch runners take."""
        return {"on_done": self.done, "on_failed": self.failed, "on_note": self.noted}

    def noted(self, video: Path, text: str) -> None:
        """Something found about an input that the user should know (its clips are still made)."""
        self._progress.console.print(f"[yellow]note[/yellow] {escape(f'{video}: {text}')}")

    def failed(self, video: Path, reason: str) -> None:
        self.report.failed.append((video, reason))
        line = reason if reason.startswith(str(video)) else f"{video}: {reason}"  # VideoErrors name the file
        self._progress.console.print(f"[red]failed[/red] {escape(line)}")
        self._progress.advance(self._task)


@contextmanager
def video_progress(total: int, label: str) -> Iterator[VideoProgress]:
    """Progress over ``total`` videos, transient on a terminal and silent in logs."""
    columns = (
        TextColumn(f"[bold]{escape(label)}[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        yield VideoProgress(progress, total, BatchReport())


def finish(report: BatchReport, out_dir: Path) -> None:
    """Print the summary and where results are; exit non-zero if any video failed."""
    style = "red" if report.failed else "green"
    err.print(f"[{style}]{report.summary()}[/{style}]; results in {escape(str(out_dir))}")
    if report.failed:
        raise typer.Exit(1)
