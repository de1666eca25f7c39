"""``embed_videos``: features of a whole collection, on the shared batch driver.

The driver (``batch.driver.run_batches``) decodes inputs in worker processes and hands batches
of clips to ``EmbedTask`` on the device (inference mode, autocast for ``bfloat16``/``float16``);
each input is made durable (a part) the moment its last clip is through. At the end, or on
Ctrl-C or any error, the final files are assembled from what finished, so the output is always
consistent; a run that completes removes the parts of a single-file output. Rerunning with the
same settings skips finished inputs (their rows are checked first).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...batch.clips import LoadedClip
from ...batch.driver import NON_FINITE, Failures, Hooks, run_batches
from ...batch.fingerprint import checkpoint_fingerprint, input_fingerprint
from ...batch.lock import OutputLock
from ...batch.outputs import output_stems, versions
from ...batch.workers import default_workers
from ...catalog import get_model_entry
from ...errors import Interrupted
from ...factory import load_model
from ...feature_store.assemble import Assembly, assemble
from ...feature_store.layout import OutputLayout
from ...feature_store.manifest import RowInfo
from ...feature_store.parts import Finished, PartStore
from ...feature_store.reading import read_output
from ...feature_store.record import (
    OutputError,
    check_checkpoint,
    check_output,
    inputs_digest,
    output_files,
    write_record,
)
from ...feature_store.settings import EmbedSettings
from ...feature_store.shards import Shard
from ...hub import cached_checkpoint
from ...labels import load_labels
from ...models.video_vit import VideoEncoder
from ...ops.embed import embed_batch
from ...runtime import Runtime, stored_dtype, upcast_note

PAUSE_ENV = "VIDM_EMBED_TEST_PAUSE"  # tests only: seconds to wait after each finished video


def load_embed_model(settings: EmbedSettings, runtime: Runtime) -> VideoEncoder:
    """The settings' model on the runtime's device (float32 weights; ``settings.dtype`` is applied by autocast)."""
    entry = get_model_entry(settings.model)
    checkpoint = None if settings.checkpoint == entry.source.label else settings.checkpoint
    return load_model(settings.model, checkpoint=checkpoint, device=runtime.device)


@dataclass
class EmbedRun:
    """What a run did: the output's layout, every video's status, and how many clips it ran how fast."""

    layout: OutputLayout
    settings: EmbedSettings
    assembly: Assembly
    complete: bool
    resumed: int = 0
    clips: int = 0
    seconds: float = 0.0
    redone: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> list[tuple[str, str]]:
        """``(video, reason)`` of every failed video, in input order."""
        return [(s.video, s.reason) for s in self.assembly.statuses if s.status == "failed"]


@dataclass
class _Rows:
    """A video's outputs as its clips come out of the model."""

    rows: list[RowInfo] = field(default_factory=list)
    features: list[np.ndarray] = field(default_factory=list)
    logits: list[np.ndarray] = field(default_factory=list)

    def add(self, item: LoadedClip, features: np.ndarray, logits: np.ndarray | None) -> None:
        """One clip's output, in the order the clips come."""
        clip = item.clip
        self.rows.append(RowInfo(clip.window, clip.crop, clip.start, clip.end))
        self.features.append(features)
        if logits is not None:
            self.logits.append(logits)

    def reduced(self, how: str) -> tuple[list[RowInfo], np.ndarray, np.ndarray | None]:
        """The rows as stored: every clip, or (``mean``) one row averaging all clips and crops."""
        features = np.stack(self.features)
        logits = np.stack(self.logits) if self.logits else None
        if how == "none":
            return self.rows, features, logits
        row = RowInfo(
            clip=len({r.clip for r in self.rows}),
            crop=len({r.crop for r in self.rows}),
            start=min(r.start for r in self.rows),
            end=max(r.end for r in self.rows),
        )
        mean = features.mean(axis=0, dtype=np.float64, keepdims=True).astype(np.float32)
        mean_logits = (
            None if logits is None else logits.mean(axis=0, dtype=np.float64, keepdims=True).astype(np.float32)
        )
        return [row], mean, mean_logits


def _non_finite(clips: Sequence[LoadedClip], features: np.ndarray, logits: np.ndarray | None) -> list[Path]:
    """Inputs with a clip whose features (or logits) hold NaN or inf, in order."""
    rows = features.reshape(len(clips), -1)
    bad = ~np.isfinite(rows).all(axis=1)
    if logits is not None:
        bad |= ~np.isfinite(logits.reshape(len(clips), -1)).all(axis=1)
    return list(dict.fromkeys(c.video for c, b in zip(clips, bad) if b))


class EmbedTask:
    """Features (and logits) of each batch; an input becomes a durable part when its last clip is in."""

    def __init__(
        self, settings: EmbedSettings, model: VideoEncoder, store: PartStore, info: _Run, prints: dict[str, str]
    ) -> None:
        self.settings, self.model, self.store, self.info = settings, model, store, info
        self.prints = prints
        self.preprocessing = settings.preprocessing
        self.plan = settings.plan()
        self.record_path = info.layout.run
        self.finished_parts: dict[str, Finished] = {}
        self.failures: dict[str, str] = {}
        self.outputs: dict[str, _Rows] = {}
        self.clips = 0
        self.clock = time.perf_counter()

    def process(self, clips: Sequence[LoadedClip], frames: torch.Tensor) -> Failures:
        """Run a batch through the encoder (and head); a model error fails only this batch's inputs."""
        s = self.settings
        try:
            out = embed_batch(self.model, frames, s.pool, list(s.layers), logits=s.logits)  # [B, layers, ...]
        except RuntimeError as exc:  # out of memory, or a kernel refusing the input
            reason = f"model failed on a batch of {len(clips)} clips: {str(exc).splitlines()[0]}"
            return [(video, reason) for video in dict.fromkeys(c.video for c in clips)]
        features = out.features.float().cpu().numpy()
        logits = out.logits.float().cpu().numpy() if out.logits is not None else None
        self.clips += len(clips)
        broken = _non_finite(clips, features, logits)
        for k, item in enumerate(clips):
            if item.video not in broken:
                self.outputs.setdefault(str(item.video), _Rows()).add(
                    item, features[k], None if logits is None else logits[k]
                )
        return [(video, NON_FINITE) for video in broken]

    def finished(self, video: Path) -> None:
        """Write the input's part: from now on a crash or Ctrl-C keeps it."""
        rows = self.outputs.pop(str(video), None)
        if rows is not None:
            fingerprint = self.prints.get(str(video), "")
            self.finished_parts[str(video)] = self.store.write(
                str(video), *rows.reduced(self.settings.reduce), fingerprint=fingerprint
            )
            _pause_for_tests()

    def failed(self, video: Path, reason: str) -> None:
        """The manifest names the input, so keep just the reason."""
        self.failures[str(video)] = reason.removeprefix(f"{video}: ")
        self.outputs.pop(str(video), None)

    def record(self) -> dict[str, Any]:
        return self.info.record(None, complete=False, clips=self.clips, seconds=time.perf_counter() - self.clock)


def embed_videos(
    videos: Sequence[str | Path],
    out: str | Path,
    settings: EmbedSettings,
    *,
    model: VideoEncoder | None = None,
    per_video: bool = False,
    shard: Shard | None = None,
    resume: bool = True,
    batch_size: int | None = None,
    workers: int | None = None,
    device: str | torch.device | None = "auto",
    top_k: int = 0,
    hooks: Hooks | None = None,
) -> EmbedRun:
    """Embed every input (this shard's part of them) into ``out``; see the module docstring.

    ``resume`` (default) keeps finished inputs of an existing output made with the same
    settings, checkpoint and input list, and refuses anything else; ``resume=False`` starts
    over. A finished input whose file changed since (size or modification time) is embedded
    again; an input named twice is embedded once. ``model`` skips loading. Every setting, the
    device and the output are checked before the model is fetched, and the output is locked
    while the run writes it (a second writer is refused; shards lock their own files).
    """
    started = datetime.now(timezone.utc)
    hooks = hooks or Hooks()
    layout = OutputLayout(Path(out), per_video, shard, settings.layer_tags)
    runtime = Runtime.resolve(device, settings.dtype)
    every = list(dict.fromkeys(str(v) for v in videos))  # an input named twice is embedded once
    stems = {str(v): s for v, s in output_stems([Path(v) for v in every]).items()} if per_video else None
    layout.check(every, stems)
    with OutputLock(layout.lock, layout.out) as lock:
        if lock.took_over is not None:
            hooks.say(f"took over the lock of a run that is gone ({lock.took_over.describe()})")
        job = _Job(layout, settings, every, shard, stems, runtime, started, hooks)
        return job.run(model, resume=resume, batch_size=batch_size, workers=workers, top_k=top_k)


@dataclass
class _Job:
    """One locked run of ``embed_videos``: resume, load, embed, assemble."""

    layout: OutputLayout
    settings: EmbedSettings
    every: list[str]
    shard: Shard | None
    stems: dict[str, Path] | None
    runtime: Runtime
    started: datetime
    hooks: Hooks

    def run(
        self, model: VideoEncoder | None, *, resume: bool, batch_size: int | None, workers: int | None, top_k: int
    ) -> EmbedRun:
        layout, settings, hooks = self.layout, self.settings, self.hooks
        entry = get_model_entry(settings.model)
        mine = self.shard.select(self.every) if self.shard else self.every
        record = check_output(layout, settings, resume=resume, inputs=self.every)  # under the lock: never half-written
        checkpoint = checkpoint_fingerprint(_checkpoint_file(settings))
        if record is not None:
            check_checkpoint(record, checkpoint, layout.out)
        prints = {v: input_fingerprint(v) for v in mine}
        store = PartStore(layout, settings, self.stems)
        finished, redone = _resume(layout, store, mine, prints, record if resume else None, resume)
        for video, reason in redone.items():
            hooks.note(Path(video), f"redoing: {reason}")
        for video in finished:
            hooks.done(Path(video))
        todo = [v for v in mine if v not in finished]
        labels = None
        if top_k and settings.logits and entry.labels:
            labels = load_labels(entry.labels, num_classes=entry.num_classes)
        if todo and model is None:
            model = load_embed_model(settings, self.runtime)  # before any write: a failed download leaves no trace
        note = upcast_note(model)
        if note:
            hooks.say(note)
        if checkpoint is None:  # fetched just now
            checkpoint = checkpoint_fingerprint(_checkpoint_file(settings))
            if record is not None:
                check_checkpoint(record, checkpoint, layout.out)
        inputs = _inputs(self.every, mine, self.shard)
        info = _Run(layout, settings, entry.to_dict(), inputs, top_k, self.started, checkpoint, stored_dtype(model))
        write_record(layout.run, info.record(None, complete=False))
        task = EmbedTask(settings, model, store, info, prints) if model is not None else None
        complete = stopped = False
        try:
            if todo:
                assert task is not None
                count = default_workers() if workers is None else workers
                run_batches(task, [Path(v) for v in todo], self.runtime, batch_size=batch_size, workers=count,
                            hooks=hooks)  # fmt: skip
            complete = True
        except KeyboardInterrupt:
            stopped = True
        finally:  # Ctrl-C or a crash: what finished is assembled all the same
            done = {**finished, **(task.finished_parts if task else {})}
            failures = task.failures if task else {}
            assembly = assemble(layout, settings, mine, done, failures, stems=self.stems, top_k=top_k, labels=labels)
            clips = task.clips if task else 0
            seconds = time.perf_counter() - (task.clock if task else time.perf_counter())
            write_record(layout.run, info.record(assembly, complete=complete, clips=clips, seconds=seconds))
        if stopped:
            kept = f"{assembly.count('ok')} of {len(mine)} inputs finished and kept in {layout.out}"
            raise Interrupted(f"interrupted: {kept}", resumable=True)
        if complete and not layout.per_video:
            store.remove()
        return EmbedRun(layout, settings, assembly, complete, len(mine) - len(todo), clips, seconds, redone)


def _resume(
    layout: OutputLayout,
    store: PartStore,
    mine: list[str],
    prints: dict[str, str],
    record: dict[str, Any] | None,
    resume: bool,
) -> tuple[dict[str, Finished], dict[str, str]]:
    """Finished videos to keep (from parts, else from the last assembled output), and why others
    that were finished are done again (a refused part, a changed input file)."""
    if not resume:
        _clear(layout, store)
        return {}, {}
    finished, refused = store.load(mine)
    if record is not None and not layout.per_video and len(finished) < len(mine):
        then = str((record.get("inputs") or {}).get("cwd") or os.getcwd())  # where relative names were given
        try:  # by absolute path: `clips/a.mp4` then is `/data/clips/a.mp4` now
            earlier = {
                os.path.normpath(os.path.join(then, v)): item for v, item in read_output(layout).finished.items()
            }
        except OutputError:
            earlier = {}
        for video in mine:
            item = earlier.get(os.path.abspath(video))
            if video not in finished and item is not None:
                finished[video] = replace(item, video=video)
                refused.pop(video, None)
    for video, item in list(finished.items()):
        if item.fingerprint and item.fingerprint != prints.get(video):
            del finished[video]
            refused[video] = "the input changed since it was embedded (its size or modification time differ)"
    return finished, refused


def _clear(layout: OutputLayout, store: PartStore) -> None:
    """Start over: remove the parts and the files of an earlier run, whatever layers it held (per-video
    files get overwritten), so no array of the old run is left to be mistaken for one of this run."""
    store.remove()
    for path in [*layout.all_files(), *layout.earlier_layer_files()]:
        path.unlink(missing_ok=True)


def _pause_for_tests() -> None:
    """Tests kill a run between two videos: this gives them the time to (``VIDM_EMBED_TEST_PAUSE``)."""
    pause = os.environ.get(PAUSE_ENV)
    if pause:
        time.sleep(float(pause))


def _checkpoint_file(settings: EmbedSettings) -> str | None:
    """The checkpoint file the weights come from: the given one, or the catalogue's (cached) file."""
    source = get_model_entry(settings.model).source
    if settings.checkpoint != source.label:
        return str(Path(settings.checkpoint).resolve())
    path = cached_checkpoint(source)
    return str(path) if path is not None else None


def _inputs(every: list[str], mine: list[str], shard: Shard | None) -> dict[str, Any]:
    """The input list as run.json records it: count, fingerprint, shard, and the folder relative
    input names are relative to (so a later run from elsewhere still knows them)."""
    return {
        "videos": len(every),
        "cwd": os.getcwd(),
        "sha256": inputs_digest(every),
        "shard": {"index": shard.index, "count": shard.count, "origin": shard.origin} if shard else None,
        "videos_in_shard": len(mine) if shard else None,
    }


@dataclass(frozen=True)
class _Run:
    """What ``run.json`` says about a run besides its results."""

    layout: OutputLayout
    settings: EmbedSettings
    entry: dict[str, Any]
    inputs: dict[str, Any]
    top_k: int
    started: datetime
    checkpoint: dict[str, Any] | None = None
    stored_dtype: str | None = None

    def record(
        self, assembly: Assembly | None, *, complete: bool, clips: int = 0, seconds: float = 0.0
    ) -> dict[str, Any]:
        """``run.json``: settings, model, checkpoint, inputs, files, counts, speed and versions."""
        layout, settings = self.layout, self.settings
        counts = None
        if assembly is not None:
            counts = {s: assembly.count(s) for s in ("ok", "failed", "pending")} | {"rows": assembly.rows}
        return {
            "command": "vidm embed",
            "complete": complete,
            "settings": settings.to_dict(),
            "model": self.entry,
            "checkpoint": settings.checkpoint,
            "checkpoint_file": _checkpoint_file(settings),
            "checkpoint_fingerprint": self.checkpoint,
            "checkpoint_dtype": self.stored_dtype,
            "inputs": self.inputs,
            "layout": "per-video" if layout.per_video else "single",
            "files": output_files(layout, settings, self.top_k),
            "counts": counts,
            "top_k": self.top_k,
            "clips_run": clips,
            "seconds": round(seconds, 3),
            "started": self.started.isoformat(timespec="seconds"),
            "versions": versions(),
        }
