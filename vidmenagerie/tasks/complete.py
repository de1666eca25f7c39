"""``vidm complete``'s task: MAE completions of many inputs, as pictures, animations, arrays and run.json.

Usable from a notebook (``run_completion(paths, out_dir, CompletionSettings(...))``); the CLI
only adds the progress bar and the summary table. Batches come from the shared driver
(``batch.driver.run_batches``), which rewrites ``run.json`` after every batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..batch.clips import LoadedClip
from ..batch.driver import Failures, Hooks
from ..batch.settings import PictureSettings
from ..catalog import ModelEntry, default_catalog
from ..errors import InvalidSetting
from ..factory import load_model
from ..models.video_vit import MaskedAutoencoder
from ..ops.complete import Completion, CompletionScore, complete, psnr, scores, video_seed
from ..ops.masking import MASK_TYPES, make_mask
from ..preprocess import Preprocessing
from ..render import denormalize, grid_image, panel_grid, save_image
from ..runtime import Runtime
from ._per_clip import ClipFiles, PerClipRun, PerClipTask, clip_facts, run_per_clip, write_animations
from ._per_clip import run_record as per_clip_record

# Hidden patches in the masked row: magenta crossed by darker stripes, a colour and a pattern that
# real content (dark scenes, a magenta shirt) does not take (dark gray vanished into dark frames).
HIDDEN = (255, 0, 255)
HIDDEN_STRIPES = (110, 0, 110)
STRIPE = 8  # pixels between the stripes' starts; each is 2 px wide
ROWS = ("original", "masked\nhidden: magenta", "completion")
PANELS = ("original", "masked (magenta)", "completion")  # the MP4's panel names
PICTURES_NOTE = (
    "Pictures: rows original, masked and completion, a column per frame; in the masked row the hidden "
    "patches are magenta crossed by darker stripes."
)


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
class ClipResult(ClipFiles):
    """One completed clip, its numbers and the files written for it."""

    arrays: Path | None
    score: CompletionScore


@dataclass
class CompletionRun(PerClipRun[CompletionSettings, ClipResult]):
    """All results of a run: per clip, failures (video, reason) and the overall score."""

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


class CompleteTask(PerClipTask[CompletionSettings, ClipResult, MaskedAutoencoder]):
    """Hides tokens of each clip, lets the MAE fill them in, writes pictures and numbers (see ``batch.driver``)."""

    command = "complete"

    def process(self, clips: Sequence[LoadedClip], frames: torch.Tensor) -> Failures:
        """Complete a batch and write each clip's files."""
        settings = self.run.settings
        # A random mask is seeded by the clip's output name: the same whatever the batch.
        names = [str(self.output_name(c)) for c in clips]
        seeds = [torch.Generator().manual_seed(video_seed(settings.seed, n)) for n in names]
        grid = self.model.arch.grid
        mask = torch.cat([make_mask(settings.mask, settings.ratio, grid, generator=g) for g in seeds])
        result = complete(self.model, frames, mask=mask)
        clip_scores = scores(result, self.preprocessing)
        placed, failures = self.placed(clips, torch.isfinite(result.prediction.float()).flatten(1).all(1).cpu())
        for i, item, base in placed:
            self.run.clips.append(_write_clip(result, i, item, base, clip_scores[i], settings, self.preprocessing))
        return failures

    def record(self) -> dict[str, object]:
        return run_record(self.run)  # type: ignore[arg-type]


def run_completion(
    videos: Sequence[Path],
    out_dir: Path,
    settings: CompletionSettings,
    *,
    hooks: Hooks | None = None,
    model: MaskedAutoencoder | None = None,
    protected: Sequence[Path] = (),
) -> CompletionRun:
    """Complete one clip (or more, per ``settings.clip``) of each input and write the results.

    Every setting is checked before the model is loaded; ``model`` skips loading when the
    caller already holds the settings' model. No file written may be one of ``protected``
    (inputs found beside ``videos`` but not selected), nor one of ``videos``.
    """
    return run_per_clip(
        settings,
        videos,
        out_dir,
        CompleteTask,
        load_completion_model,
        run_type=CompletionRun,
        model=model,
        hooks=hooks,
        protected=protected,
    )


def _write_clip(
    result: Completion,
    i: int,
    item: LoadedClip,
    base: Path,
    score: CompletionScore,
    settings: CompletionSettings,
    pre: Preprocessing,
) -> ClipResult:
    original = denormalize(result.original[i], pre)
    completion = denormalize(result.completion[i], pre)
    hidden = result.pixel_mask[i].cpu().numpy()
    masked = hide(original, hidden)
    times = item.clip.times
    still = item.clip.info.kind == "image"  # every frame at 0 s: no times to show
    labels = [f"{t:.2f} s" for t in times] if original.shape[2] >= 100 and not still else None
    picture = save_image(
        grid_image([original, masked, completion], row_labels=ROWS, column_labels=labels),
        base.with_name(f"{base.name}.{settings.image_format}"),
    )
    animations = write_animations(panel_grid([original, masked, completion], PANELS), base, settings, pre)
    arrays = None
    if settings.save_arrays:
        arrays = _save_arrays(result, i, base.with_name(f"{base.name}.npz"), pre)
    return ClipResult(**clip_facts(item), picture=picture, animations=animations, arrays=arrays, score=score)


def hide(frames: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """``frames`` ``[T, H, W, 3]`` with the ``hidden`` ``[T, H, W]`` pixels painted in the striped magenta."""
    height, width = hidden.shape[-2:]
    y, x = np.mgrid[0:height, 0:width]
    pattern = np.where(((x + y) % STRIPE < 2)[..., None], HIDDEN_STRIPES, HIDDEN).astype(np.uint8)
    out = frames.copy()
    out[hidden] = np.broadcast_to(pattern, frames.shape)[hidden]
    return out


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
    clips = [{**c.to_record(), "arrays": str(c.arrays) if c.arrays else None, **_score(c.score)} for c in run.clips]
    return per_clip_record(
        run,
        "complete",
        clips,
        metrics_note="MSE and PSNR over hidden pixels in [0, 1] RGB (prediction clamped); "
        "loss = MSE over hidden pixels in the normalized input space",
        overall=None if overall is None else _score(overall),
        pictures_note=PICTURES_NOTE,
    )


def _score(score: CompletionScore) -> dict[str, float | None]:
    return {"mse": score.mse, "psnr": None if math.isinf(score.psnr) else score.psnr, "loss": score.loss}
