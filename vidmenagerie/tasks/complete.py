"""``vidm complete``'s task: MAE completions of many inputs, as pictures, animations, arrays and run.json.

Usable from a notebook (``run_completion(paths, out_dir, CompletionSettings(...))``); the CLI
only adds the progress bar and the summary table. Batches come from the shared driver
(``batch.driver.run_batches``), which rewrites ``run.json`` after every batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..batch.clips import LoadedClip, clip_output_name
from ..batch.driver import Failures, Hooks, run_batches
from ..batch.outputs import output_stems, versions
from ..batch.settings import PictureSettings
from ..catalog import ModelEntry, default_catalog
from ..errors import InvalidSetting
from ..factory import load_model
from ..models.video_vit import MaskedAutoencoder
from ..ops.complete import Completion, CompletionScore, complete, psnr, scores, video_seed
from ..ops.masking import MASK_TYPES, make_mask
from ..preprocess import Preprocessing
from ..render import denormalize, grid_image, save_image, side_by_side, write_animation
from ..runtime import Runtime

HIDDEN_GRAY = 64  # hidden patches in the masked row: dark gray, unmistakable against real content
ROWS = ("original", "masked", "completion")


@dataclass(frozen=True)
class CompletionSettings(PictureSettings):
    """Everything that decides what ``complete`` writes (recorded in ``run.json``): which
    tokens to hide (``mask``: random, temporal = the last frames, center = the middle frames,
    tube; ``ratio``), and whether to save the arrays too."""

    model: str = "mae_s_none"
    mask: str = "center"
    ratio: float = 0.25
    save_arrays: bool = False

    def check(self, entry: ModelEntry) -> None:
        """An MAE model, a known mask and a ratio in (0, 1), besides the shared checks."""
        if entry.kind != "mae":
            maes = ", ".join(e.name for e in default_catalog() if e.kind == "mae")
            raise InvalidSetting(
                "model", f"{entry.name} is a plain encoder (vit) and cannot complete videos; use an MAE: {maes}"
            )
        if self.mask not in MASK_TYPES:
            raise InvalidSetting("mask", f"use one of {', '.join(MASK_TYPES)}, not {self.mask!r}")
        if not 0.0 < self.ratio < 1.0:
            raise InvalidSetting("ratio", f"must be strictly between 0 and 1, got {self.ratio}")
        super().check(entry)


@dataclass(frozen=True)
class ClipResult:
    """One completed clip and the files written for it."""

    video: Path
    clip_index: int
    picture: Path
    animations: tuple[Path, ...]
    arrays: Path | None
    start: float
    end: float
    times: tuple[float, ...]
    repeated_frames: int
    score: CompletionScore


@dataclass
class CompletionRun:
    """All results of a run: per clip, failures (video, reason) and the overall score."""

    settings: CompletionSettings
    entry: ModelEntry
    clips: list[ClipResult] = field(default_factory=list)
    failures: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def preprocessing(self) -> Preprocessing:
        """The model's recipe at the run's sampling rate."""
        return self.entry.preprocessing.with_sampling_rate(self.settings.sampling_rate)

    @property
    def overall(self) -> CompletionScore | None:
        """Mean over clips (every clip hides the same number of pixels, so this is the pixel mean)."""
        if not self.clips:
            return None
        mse = sum(c.score.mse for c in self.clips) / len(self.clips)
        loss = sum(c.score.loss for c in self.clips) / len(self.clips)
        return CompletionScore(mse=mse, psnr=psnr(mse), loss=loss)


def load_completion_model(settings: CompletionSettings, runtime: Runtime) -> MaskedAutoencoder:
    """The settings' MAE on the runtime's device (float32 weights; the dtype is applied by autocast)."""
    model = load_model(settings.model, checkpoint=settings.checkpoint, device=runtime.device)
    assert isinstance(model, MaskedAutoencoder)
    return model


class CompleteTask:
    """Hides tokens of each clip, lets the MAE fill them in, writes pictures and numbers (see ``batch.driver``)."""

    def __init__(self, run: CompletionRun, model: MaskedAutoencoder, videos: Sequence[Path], out_dir: Path) -> None:
        self.run, self.model, self.out_dir = run, model, out_dir
        self.preprocessing = run.preprocessing
        self.plan = run.settings.plan()
        self.record_path = out_dir / "run.json"
        self.stems = output_stems(list(videos))

    def process(self, clips: Sequence[LoadedClip], frames: torch.Tensor) -> Failures:
        """Complete a batch and write each clip's files."""
        settings = self.run.settings
        names = [clip_output_name(self.stems[c.video], c) for c in clips]
        seeds = [torch.Generator().manual_seed(video_seed(settings.seed, str(n))) for n in names]
        grid = self.model.arch.grid
        mask = torch.cat([make_mask(settings.mask, settings.ratio, grid, generator=g) for g in seeds])
        result = complete(self.model, frames, mask=mask)
        clip_scores = scores(result, self.preprocessing)
        for i, (item, name) in enumerate(zip(clips, names)):
            written = _write_clip(result, i, item, name, clip_scores[i], self.out_dir, settings, self.preprocessing)
            self.run.clips.append(written)
        return []

    def finished(self, video: Path) -> None:
        """Nothing to do: each clip's files are written as it comes."""

    def failed(self, video: Path, reason: str) -> None:
        self.run.failures.append((video, reason))

    def record(self) -> dict[str, object]:
        return run_record(self.run)


def run_completion(
    videos: Sequence[Path],
    out_dir: Path,
    settings: CompletionSettings,
    *,
    hooks: Hooks | None = None,
    model: MaskedAutoencoder | None = None,
) -> CompletionRun:
    """Complete one clip (or more, per ``settings.clip``) of each input and write the results.

    Every setting is checked before the model is loaded; ``model`` skips loading when the
    caller already holds the settings' model.
    """
    entry = settings.entry()
    settings.check(entry)
    runtime = Runtime.resolve(settings.device, settings.dtype)
    model = model if model is not None else load_completion_model(settings, runtime)
    run = CompletionRun(settings=settings, entry=entry)
    out_dir.mkdir(parents=True, exist_ok=True)
    task = CompleteTask(run, model, videos, out_dir)
    run_batches(task, videos, runtime, batch_size=settings.batch_size, workers=settings.workers, hooks=hooks)
    return run


def _write_clip(
    result: Completion,
    i: int,
    item: LoadedClip,
    name: Path,
    score: CompletionScore,
    out_dir: Path,
    settings: CompletionSettings,
    pre: Preprocessing,
) -> ClipResult:
    original = denormalize(result.original[i], pre)
    completion = denormalize(result.completion[i], pre)
    hidden = result.pixel_mask[i].cpu().numpy()
    masked = original.copy()
    masked[hidden] = HIDDEN_GRAY
    base = out_dir / name
    times = item.clip.times
    labels = [f"{t:.2f} s" for t in times] if original.shape[2] >= 100 else None
    picture = save_image(
        grid_image([original, masked, completion], row_labels=ROWS, column_labels=labels),
        base.with_name(f"{base.name}.{settings.image_format}"),
    )
    animations: list[Path] = []
    if settings.animate:
        panels = side_by_side([original, masked, completion])
        fps = pre.fps / pre.sampling_rate
        animations.append(write_animation(panels, base.with_name(f"{base.name}.mp4"), fps))
        if settings.gif:
            animations.append(write_animation(panels, base.with_name(f"{base.name}.gif"), fps))
    arrays = None
    if settings.save_arrays:
        arrays = _save_arrays(result, i, base.with_name(f"{base.name}.npz"), pre)
    clip = item.clip
    return ClipResult(
        video=item.video,
        clip_index=clip.window,
        picture=picture,
        animations=tuple(animations),
        arrays=arrays,
        start=clip.start,
        end=clip.end,
        times=tuple(clip.times),
        repeated_frames=clip.info.repeated_frames,
        score=score,
    )


def _save_arrays(result: Completion, i: int, path: Path, pre: Preprocessing) -> Path:
    from ..batch.outputs import atomic_path

    mean = torch.tensor(pre.mean).view(3, 1, 1, 1)
    std = torch.tensor(pre.std).view(3, 1, 1, 1)

    def pixels(video: torch.Tensor) -> np.ndarray:
        return (video.detach().float().cpu() * std + mean).permute(1, 2, 3, 0).numpy().astype(np.float32)

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(
            fh,
            original=pixels(result.original[i]),
            prediction=pixels(result.prediction[i]),
            mask=result.pixel_mask[i].cpu().numpy(),
            token_mask=result.mask[i].cpu().numpy(),
        )
    return path


def run_record(run: CompletionRun) -> dict[str, object]:
    """What ``run.json`` holds: settings, model, per-clip numbers and files, failures, versions."""
    overall = run.overall
    return {
        "command": "complete",
        "settings": asdict(run.settings),
        "model": {"name": run.entry.name, "checkpoint": run.settings.checkpoint or run.entry.source.label},
        "preprocessing": run.preprocessing.to_dict(),
        "metrics_note": "MSE and PSNR over hidden pixels in [0, 1] RGB (prediction clamped); "
        "loss = MSE over hidden pixels in the normalized input space",
        "overall": None if overall is None else _score(overall),
        "clips": [
            {
                "video": str(c.video),
                "clip": c.clip_index,
                "start": c.start,
                "end": c.end,
                "times": list(c.times),
                "repeated_frames": c.repeated_frames,
                "picture": str(c.picture),
                "animations": [str(a) for a in c.animations],
                "arrays": str(c.arrays) if c.arrays else None,
                **_score(c.score),
            }
            for c in run.clips
        ],
        "failed": [{"video": str(v), "reason": r} for v, r in run.failures],
        "versions": versions(),
    }


def _score(score: CompletionScore) -> dict[str, float | None]:
    return {"mse": score.mse, "psnr": None if math.isinf(score.psnr) else score.psnr, "loss": score.loss}
