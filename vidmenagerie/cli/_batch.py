"""What the per-video commands (complete, attend) share on the command line: inputs, progress, summary."""

from __future__ import annotations

import os
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


def bf16_hint(runtime: Runtime, dtype: str | None) -> None:
    """Once, before any work: when ``--dtype`` was not given, the run is on a CPU and that CPU
    computes bfloat16 in hardware, say what ``--dtype bfloat16`` gains there (float32 stays the
    default: it is exact). ``VIDM_NO_HINTS=1`` hides it."""
    if dtype is not None or runtime.device.type != "cpu" or os.environ.get("VIDM_NO_HINTS"):
        return
    from ..cpu import BF16_GAIN, this_cpu

    cpu = this_cpu()
    if not cpu.bf16:
        return
    err.print(
        f"[yellow]hint[/yellow] this CPU computes bfloat16 in hardware ({escape(cpu.name)}): {BF16_GAIN} "
        "(README: Performance); float32 stays the default, VIDM_NO_HINTS=1 hides this",
        highlight=False,
    )


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
    """Progress on stderr, clip by clip (a ViT-H clip takes seconds on a CPU): a Rich bar with an
    ETA from the clips done on a terminal; off a terminal (a Slurm log) one plain line per batch of
    clips and per finished input. Failures and notes are one line each as they happen.

    The clips to come are estimated from ``per_input`` (what the window spec gives each input;
    None: unknown, then the mean of the inputs finished so far) and corrected as inputs finish."""

    def __init__(self, progress: Progress, total: int, report: BatchReport, per_input: int | None = None) -> None:
        self._progress = progress
        self._total, self._started = total, time.monotonic()
        self._per_input = per_input
        self._open: dict[Path, int] = {}  # clips through the model so far, of inputs not finished yet
        self._settled: list[int] = []  # clips of each finished or failed input
        self._clips = 0
        self._task = progress.add_task("clips", total=self._expected(), inputs=self._inputs_text())
        self.report = report

    @property
    def hooks(self) -> Hooks:
        """The callbacks the batch driver takes."""
        from ..batch.driver import Hooks

        return Hooks(
            on_done=self.done, on_failed=self.failed, on_note=self.noted, on_message=self.said, on_clips=self.clips
        )

    def clips(self, videos: list[Path]) -> None:
        """A batch of clips went through the model: advance, and off a terminal say so with an ETA."""
        for video in videos:
            self._open[video] = self._open.get(video, 0) + 1
        self._clips += len(videos)
        self._progress.update(self._task, advance=len(videos), total=self._expected())
        if self._progress.disable and videos:
            seconds = time.monotonic() - self._started
            expected = self._expected()
            left = seconds / self._clips * max(expected - self._clips, 0)
            line = f"clip {self._clips}/{expected} {escape(str(videos[-1]))}"
            err.print(f"{line} ({seconds:.0f} s, about {_duration(left)} left)", highlight=False)

    def _settle(self, video: Path) -> None:
        """``video`` is finished or failed: its clip count is known now."""
        self._settled.append(self._open.pop(video, 0))
        self._progress.update(self._task, total=self._expected(), inputs=self._inputs_text())

    def _expected(self) -> int:
        """Clips of the whole run: those seen, and an estimate for the inputs still to come."""
        finished = [n for n in self._settled if n]
        each = self._per_input or (round(sum(finished) / len(finished)) if finished else 1)
        waiting = self._total - len(self._settled) - len(self._open)
        return self._clips + sum(max(each - n, 0) for n in self._open.values()) + max(waiting, 0) * each

    def _inputs_text(self) -> str:
        """How many inputs are finished, for the bar."""
        return f"{len(self._settled)}/{self._total} inputs"

    def done(self, video: Path) -> None:
        self.report.done.append(video)
        self._settle(video)
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
        self._settle(video)


def _duration(seconds: float) -> str:
    """``45 s``, ``3 min``, ``2.5 h``: an ETA as a person reads it."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@contextmanager
def video_progress(total: int, label: str, per_input: int | None = 1) -> Iterator[VideoProgress]:
    """Progress over the clips of ``total`` inputs (``per_input`` clips each, None: not known up
    front): a transient bar on a terminal, plain lines in logs."""
    columns = (
        TextColumn(f"[bold]{escape(label)}[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("clips, {task.fields[inputs]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        yield VideoProgress(progress, total, BatchReport(), per_input)


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
