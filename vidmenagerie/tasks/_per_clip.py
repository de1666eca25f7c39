"""What the tasks that write files per clip (``complete``, ``attend``) share: the run's record of
clips and failures, output names mirroring the inputs, and starting a run on the driver.

A task subclasses ``PerClipTask`` and fills in ``process`` (the operation on a batch, then the
files of each clip) and ``record`` (``run.json``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import torch
from PIL import Image

from ..batch.clips import LoadedClip, clip_output_name
from ..batch.driver import NON_FINITE, Failures, Hooks, run_batches
from ..batch.outputs import check_targets, check_writable, output_stems, versions
from ..batch.settings import BatchSettings, PictureSettings
from ..catalog import ModelEntry
from ..errors import InvalidSetting, OutputError
from ..preprocess import Preprocessing
from ..render import save_image, write_animation
from ..runtime import Runtime, stored_dtype, upcast_note

ACCELERATED_BATCH = 4  # clips per forward pass of complete and attend on a GPU (one on a CPU)

S = TypeVar("S", bound=BatchSettings)
C = TypeVar("C")
M = TypeVar("M", bound=torch.nn.Module)
R = TypeVar("R", bound="PerClipRun[Any, Any]")


@dataclass(frozen=True)
class ClipFiles:
    """One clip, where it came from and the picture and animations written for it."""

    video: Path
    clip_index: int
    start: float
    end: float
    times: tuple[float, ...]
    repeated_frames: int
    picture: Path
    animations: tuple[Path, ...]

    @property
    def poster(self) -> Path | None:
        """The first frame of the MP4 as a picture (the page's player shows it before playing)."""
        mp4 = next((a for a in self.animations if a.suffix.lower() == ".mp4"), None)
        return poster_path(mp4) if mp4 is not None else None

    def to_record(self) -> dict[str, Any]:
        """The fields every ``run.json`` clip entry has."""
        return {
            "video": str(self.video),
            "clip": self.clip_index,
            "start": self.start,
            "end": self.end,
            "times": list(self.times),
            "repeated_frames": self.repeated_frames,
            "picture": str(self.picture),
            "animations": [str(a) for a in self.animations],
            "poster": str(self.poster) if self.poster else None,
        }


def clip_facts(item: LoadedClip) -> dict[str, Any]:
    """The ``ClipFiles`` fields that come from the clip itself."""
    clip = item.clip
    return {
        "video": item.video,
        "clip_index": clip.window,
        "start": clip.start,
        "end": clip.end,
        "times": tuple(clip.times),
        "repeated_frames": clip.info.repeated_frames,
    }


def write_animations(panels: np.ndarray, base: Path, settings: PictureSettings, pre: Preprocessing) -> tuple[Path, ...]:
    """The MP4 (and with ``gif`` the GIF) of ``panels`` at the clip's frame rate, when asked for."""
    if not settings.animate:
        return ()
    fps = pre.fps / pre.sampling_rate
    written = [write_animation(panels, base.with_name(f"{base.name}.mp4"), fps)]
    save_image(Image.fromarray(panels[0]), poster_path(written[0]))
    if settings.gif:
        written.append(write_animation(panels, base.with_name(f"{base.name}.gif"), fps))
    return tuple(written)


def poster_path(animation: Path) -> Path:
    """Where the poster frame of ``animation`` goes: ``NAME.poster.jpg`` beside ``NAME.mp4``."""
    return animation.with_name(f"{animation.stem}.poster.jpg")


def run_record(run: PerClipRun[Any, Any], command: str, clips: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """``run.json``: the command, settings, model, input recipe, start and duration so far,
    ``extra`` notes, clips, failures, versions."""
    settings = run.settings
    return {
        "command": command,
        "settings": asdict(settings),
        "model": {
            "name": run.entry.name,
            "checkpoint": settings.checkpoint or run.entry.source.label,
            "checkpoint_dtype": run.checkpoint_dtype,
        },
        "preprocessing": run.preprocessing.to_dict(),
        "started": run.started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - run.clock, 3),
        **extra,
        "clips": clips,
        "failed": [{"video": str(v), "reason": r} for v, r in run.failures],
        "versions": versions(),
    }


@dataclass
class PerClipRun(Generic[S, C]):
    """A run's results so far: one record per clip, and the inputs that failed (with why)."""

    settings: S
    entry: ModelEntry
    clips: list[C] = field(default_factory=list)
    failures: list[tuple[Path, str]] = field(default_factory=list)
    checkpoint_dtype: str | None = None  # what the checkpoint stores (weights run in float32)
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    clock: float = field(default_factory=time.perf_counter)  # the duration in run.json counts from here

    @property
    def preprocessing(self) -> Preprocessing:
        """The model's recipe at the run's sampling rate."""
        return self.settings.preprocessing(self.entry)


# Every suffix a per-clip task may give a clip's files (pictures, animations, arrays).
OUTPUT_SUFFIXES: tuple[str, ...] = (".jpg", ".png", ".mp4", ".poster.jpg", ".gif", ".npy", ".npz")


def output_base(out_dir: Path, name: Path, command: str) -> Path:
    """``OUT/<mirrored name>.<command>``: the command in every output name, so no output can be
    mistaken for (or written over) an input with the same stem (``clip.mp4`` -> ``clip.attend.mp4``)."""
    return out_dir / name.with_name(f"{name.name}.{command}")


def check_outputs(out_dir: Path, videos: Sequence[Path], command: str, protected: Sequence[Path] = ()) -> None:
    """Before any work: the output folder can be written, is not inside a frame-folder input, and no
    single-clip output of any input is an input itself, or one of ``protected`` (inputs found but
    not selected: ``--num-vids`` must not make a user's ``a.complete.mp4`` fair game)."""
    check_writable(out_dir)
    stems = output_stems(list(videos))
    targets = [out_dir / "run.json"]
    for video in videos:
        base = output_base(out_dir, stems[video], command)
        targets += [base.with_name(base.name + suffix) for suffix in OUTPUT_SUFFIXES]
    check_targets(targets, [*videos, *protected])


class PerClipTask(Generic[S, C, M]):
    """A ``batch.driver.Task`` whose outputs are written clip by clip into ``out_dir``."""

    command = "clip"  # the word in every output name (``complete``, ``attend``)

    def __init__(
        self, run: PerClipRun[S, C], model: M, videos: Sequence[Path], out_dir: Path, protected: Sequence[Path] = ()
    ) -> None:
        """A task over ``videos``; no file it writes may be one of them or one of ``protected``."""
        self.run, self.model, self.out_dir = run, model, out_dir
        self.preprocessing = run.preprocessing
        self.plan = run.settings.plan()
        self.record_path = out_dir / "run.json"
        self._stems = output_stems(list(videos))
        self._inputs = [*videos, *protected]

    def output_name(self, item: LoadedClip) -> Path:
        """A clip's name relative to the output folder: the input's mirrored path (``_clipK`` for several clips)."""
        return clip_output_name(self._stems[item.video], item)

    def output_base(self, item: LoadedClip) -> Path:
        """Where a clip's files go, without suffix (``OUT/<name>.<command>``)."""
        return output_base(self.out_dir, self.output_name(item), self.command)

    def placed(
        self, clips: Sequence[LoadedClip], finite: torch.Tensor | None = None
    ) -> tuple[list[tuple[int, LoadedClip, Path]], Failures]:
        """Each clip's output base; a clip whose model output is not ``finite`` [B], or whose files
        would overwrite an input, is its input's failure instead."""
        placed: list[tuple[int, LoadedClip, Path]] = []
        failures: Failures = []
        for i, item in enumerate(clips):
            if finite is not None and not bool(finite[i]):
                failures.append((item.video, NON_FINITE))
                continue
            base = self.output_base(item)
            try:
                check_targets([base.with_name(base.name + suffix) for suffix in OUTPUT_SUFFIXES], self._inputs)
            except (OutputError, InvalidSetting) as exc:
                failures.append((item.video, str(exc)))
                continue
            placed.append((i, item, base))
        return placed, failures

    def process(self, clips: Sequence[LoadedClip], frames: torch.Tensor) -> Failures:
        raise NotImplementedError

    def finished(self, video: Path) -> None:
        """Nothing to do: each clip's files are written as it comes."""

    def failed(self, video: Path, reason: str) -> None:
        self.run.failures.append((video, reason))

    def record(self) -> dict[str, Any]:
        raise NotImplementedError


def run_per_clip(
    settings: S,
    videos: Sequence[Path],
    out_dir: Path,
    task: Callable[[Any, M, Sequence[Path], Path, Sequence[Path]], PerClipTask[S, Any, M]],
    load: Callable[[S, Runtime], M],
    *,
    run_type: type[R],
    model: M | None = None,
    hooks: Hooks | None = None,
    protected: Sequence[Path] = (),
) -> R:
    """Check every setting, resolve the runtime, load the model (unless given), run the task on
    every input through the driver, and return the run's results. No output may overwrite an
    input or a file in ``protected`` (the inputs a caller found but did not select)."""
    started, clock = datetime.now(timezone.utc), time.perf_counter()  # the model's loading counts too
    entry = settings.entry()
    settings.check(entry)
    runtime = Runtime.resolve(settings.device, settings.dtype)
    check_outputs(out_dir, videos, task.command, protected)  # type: ignore[attr-defined]
    model = model if model is not None else load(settings, runtime)
    note = upcast_note(model)
    if note and hooks is not None:
        hooks.say(note)
    run = run_type(settings, entry, started=started, clock=clock)
    run.checkpoint_dtype = stored_dtype(model)
    out_dir.mkdir(parents=True, exist_ok=True)
    run_batches(task(run, model, videos, out_dir, protected), videos, runtime, batch_size=settings.batch_size,
                workers=settings.workers, hooks=hooks, accelerated_batch=ACCELERATED_BATCH)  # fmt: skip
    return run
