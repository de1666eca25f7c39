"""``complete`` over many videos: batches through the MAE, pictures, animations, arrays and run.json.

Usable from a notebook (``run_completion(paths, out_dir, CompletionSettings(...))``); the CLI
only adds the progress bar and the summary table. ``run.json`` is rewritten atomically after
every batch, so an interrupted run leaves a consistent record of what it finished.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..batch.clips import ClipPlan, LoadedClip, clip_output_name, iter_device_batches
from ..batch.outputs import output_stems, versions, write_json
from ..catalog import ModelEntry, default_catalog
from ..errors import CatalogError
from ..factory import load_model, resolve_device, resolve_dtype
from ..models.video_vit import MaskedAutoencoder
from ..ops.complete import Completion, CompletionScore, complete, psnr, scores, video_seed
from ..ops.masking import check_ratio, make_mask
from ..preprocess import Preprocessing
from ..render import denormalize, grid_image, save_image, side_by_side, write_animation
from ..runtime import autocast

HIDDEN_GRAY = 64  # hidden patches in the masked row: dark gray, unmistakable against real content


@dataclass(frozen=True)
class CompletionSettings:
    """Everything that decides what ``complete`` writes (recorded in ``run.json``)."""

    model: str = "mae_s_none"
    mask: str = "center"
    ratio: float = 0.25
    seed: int = 0
    clip: str = "center"
    sampling_rate: int | None = None  # None: the model's (8 for every published model)
    folder_fps: float = 30.0
    device: str = "auto"
    dtype: str = "float32"
    batch_size: int = 4
    workers: int = 2
    image_format: str = "jpg"
    animate: bool = False
    gif: bool = False
    save_arrays: bool = False
    checkpoint: str | None = None


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


def mae_entry(name: str) -> ModelEntry:
    """The catalogue entry of an MAE model; a plain encoder is a clear error naming the MAE models."""
    entry = default_catalog().get(name)
    if entry.kind != "mae":
        maes = [e.name for e in default_catalog() if e.kind == "mae"]
        raise CatalogError(
            f"{name} is a plain encoder (vit) and cannot complete videos; use an MAE model: {', '.join(maes)}"
        )
    return entry


def load_completion_model(settings: CompletionSettings) -> MaskedAutoencoder:
    """The settings' MAE on the settings' device (float32 weights; ``dtype`` is applied by autocast)."""
    entry = mae_entry(settings.model)
    model = load_model(entry.name, checkpoint=settings.checkpoint, device=resolve_device(settings.device))
    assert isinstance(model, MaskedAutoencoder)
    return model


def run_completion(
    videos: Sequence[Path],
    out_dir: Path,
    settings: CompletionSettings,
    *,
    on_done: Callable[[Path], None] | None = None,
    on_failed: Callable[[Path, str], None] | None = None,
    on_note: Callable[[Path, str], None] | None = None,
    model: MaskedAutoencoder | None = None,
) -> CompletionRun:
    """Complete one clip (or more, per ``settings.clip``) of each video and write the results.

    ``model`` skips loading when the caller already holds the settings' model.
    """
    check_ratio(settings.ratio)
    entry = mae_entry(settings.model)
    device = resolve_device(settings.device)
    dtype = resolve_dtype(settings.dtype)
    model = model if model is not None else load_completion_model(settings)
    run = CompletionRun(settings=settings, entry=entry)
    stems = output_stems(list(videos))
    plan = ClipPlan(windows=settings.clip, seed=settings.seed, folder_fps=settings.folder_fps)
    out_dir.mkdir(parents=True, exist_ok=True)
    batches = iter_device_batches(
        videos,
        run.preprocessing,
        plan,
        batch_size=settings.batch_size,
        workers=settings.workers,
        device=device,
        failures=run.failures,
        on_done=on_done,
        on_failed=on_failed,
        on_note=on_note,
    )
    for clips, frames in batches:
        if frames is not None:
            names = [clip_output_name(stems[c.video], c) for c in clips]
            mask = torch.cat(
                [
                    make_mask(
                        settings.mask,
                        settings.ratio,
                        model.arch.grid,
                        generator=torch.Generator().manual_seed(video_seed(settings.seed, str(n))),
                    )
                    for n in names
                ]
            )
            with autocast(device, dtype):
                result = complete(model, frames, mask=mask)
            clip_scores = scores(result, run.preprocessing)
            for i, (item, name) in enumerate(zip(clips, names)):
                run.clips.append(
                    _write_clip(result, i, item, name, clip_scores[i], out_dir, settings, run.preprocessing)
                )
        write_json(out_dir / "run.json", run_record(run))
    write_json(out_dir / "run.json", run_record(run))
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
    picture = save_image(
        grid_image([original, masked, completion]), base.with_name(f"{base.name}.{settings.image_format}")
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
