"""The one batch driver every analysis runs on.

inputs -> decoded clip batches (``batch.clips``, decoding in worker processes) -> the device
-> the task -> finished and failed inputs -> ``run.json`` (rewritten after every batch, so an
interrupted run leaves a consistent record). A task only says which clips it wants and what
to do with a batch of them:

    class Task(Protocol):
        preprocessing: Preprocessing      # the model's recipe, as used
        plan: ClipPlan                    # which clips of every input
        record_path: Path                 # where run.json goes
        def process(self, clips, frames) -> list[tuple[Path, str]]   # frames on the device; failures
        def finished(self, video) -> None # every clip of ``video`` went through process
        def failed(self, video, reason) -> None
        def record(self) -> dict          # run.json now

``run_batches`` runs every batch under ``torch.inference_mode`` and the runtime's autocast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from ..preprocess import Preprocessing
from ..runtime import Runtime
from .clips import ClipPlan, LoadedClip, iter_clip_batches
from .outputs import write_json

Failures = list[tuple[Path, str]]
# A task's reason for an input whose model output holds NaN or inf (reported per input, never saved).
NON_FINITE = "the model's output is not finite (NaN or inf): check the checkpoint and the model's mean and std"


class Task(Protocol):
    """One analysis: its clips, what it does with a batch, what it records (see the module doc)."""

    preprocessing: Preprocessing
    plan: ClipPlan
    record_path: Path

    def process(self, clips: Sequence[LoadedClip], frames: torch.Tensor) -> Failures:
        """Run a batch (``frames`` [B, 3, T, S, S] on the device) and write its outputs; return
        inputs that failed on the way (their other clips are dropped)."""
        ...

    def finished(self, video: Path) -> None:
        """Every clip of ``video`` went through ``process``."""
        ...

    def failed(self, video: Path, reason: str) -> None:
        """``video`` could not be decoded, or failed in ``process``."""
        ...

    def record(self) -> dict[str, Any]:
        """What ``run.json`` says now."""
        ...


@dataclass(frozen=True)
class Hooks:
    """What a caller hears as inputs finish, fail, or turn out to be worth a note."""

    on_done: Callable[[Path], None] | None = None
    on_failed: Callable[[Path, str], None] | None = None
    on_note: Callable[[Path, str], None] | None = None
    on_message: Callable[[str], None] | None = None
    on_clips: Callable[[list[Path]], None] | None = None  # a batch went through the model: each clip's input

    def clips(self, videos: list[Path]) -> None:
        """A batch of clips (of these inputs, one entry per clip) went through the model."""
        if self.on_clips:
            self.on_clips(videos)

    def done(self, video: Path) -> None:
        if self.on_done:
            self.on_done(video)

    def fail(self, video: Path, reason: str) -> None:
        if self.on_failed:
            self.on_failed(video, reason)

    def note(self, video: Path, text: str) -> None:
        if self.on_note:
            self.on_note(video, text)

    def say(self, text: str) -> None:
        """Something about the whole run (a stale lock taken over, an upcast checkpoint)."""
        if self.on_message:
            self.on_message(text)


def run_batches(
    task: Task,
    videos: Sequence[Path],
    runtime: Runtime,
    *,
    batch_size: int | None,
    workers: int,
    hooks: Hooks | None = None,
    accelerated_batch: int = 8,
) -> None:
    """Feed every input's clips to ``task`` in batches of ``batch_size`` (None: 1 on a CPU,
    ``accelerated_batch`` on a GPU); see the module docstring."""
    hooks = hooks or Hooks()
    batch_size = runtime.batch_size(batch_size, accelerated_batch)
    failed: set[Path] = set()

    def fail(video: Path, reason: str) -> None:
        if video not in failed:
            failed.add(video)
            task.failed(video, reason)
            hooks.fail(video, reason)

    try:
        for batch in iter_clip_batches(videos, task.preprocessing, task.plan, batch_size=batch_size, workers=workers):
            for video, text in batch.notes:
                hooks.note(video, text)
            for video, reason in batch.failures:
                fail(video, reason)
            live = [c for c in batch.clips if c.video not in failed]
            if live:
                frames = runtime.to_device(torch.stack([c.clip.frames for c in live]))
                with torch.inference_mode(), runtime.autocast():
                    for video, reason in task.process(live, frames):
                        fail(video, reason)
                hooks.clips([c.video for c in live])
            for video in batch.finished:
                if video not in failed:
                    task.finished(video)
                    hooks.done(video)
            write_json(task.record_path, task.record())
    finally:  # Ctrl-C or a crash: the record says what finished
        write_json(task.record_path, task.record())
