"""``vidm attend``'s task: CLS attention of many inputs, as pictures, animations, map arrays and run.json.

Usable from a notebook (``run_attention(paths, out_dir, AttendSettings(...))``); the CLI only
adds the progress bar and the summary table. Batches come from the shared driver
(``batch.driver.run_batches``), which rewrites ``run.json`` after every batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..batch.clips import LoadedClip
from ..batch.driver import Failures, Hooks
from ..batch.outputs import atomic_path
from ..batch.settings import PictureSettings
from ..catalog import ModelEntry
from ..errors import InvalidSetting
from ..factory import load_model
from ..heatmap import STYLES, THRESHOLD_STYLES, colormap_table, render_rows
from ..models.video_vit import VideoEncoder, resolve_layer
from ..ops.attention import cls_row, head_rows, parse_heads, threshold_mask
from ..preprocess import Preprocessing
from ..render import PAD, colour_bar, denormalize, grid_image, panel_grid, save_image, stack
from ..runtime import Runtime
from ._per_clip import ClipFiles, PerClipRun, PerClipTask, clip_facts, run_per_clip, write_animations
from ._per_clip import run_record as per_clip_record

PICTURES_NOTE = (
    "Pictures: maps upsampled by nearest neighbour, colours scaled per row from its min to its max over the "
    "clip (the range beside each row's name, as a share of the CLS query's attention); a still's slots all show "
    "the same picture, so its map is their sum, in one column."
)
MAPS_NOTE = (
    "maps .npy: [heads, T/t, H/p, W/p] float32, the raw softmax attention of the CLS query to each patch "
    "(rollout: one row, heads fused by their mean); each head's values plus cls_self sum to 1."
)


@dataclass(frozen=True)
class AttendSettings(PictureSettings):
    """Everything that decides what ``attend`` writes (recorded in ``run.json``).

    ``heads``: ``mean``, ``all`` or a list like ``3,7``; ``layer``: block index (negative from
    the end); ``threshold``: fraction of each map's patch mass to keep (DINO), drawn as a
    ``contour`` or a ``mask``; ``style``: ``overlay`` or ``heatmap``.
    """

    model: str = "vit_s_none"
    heads: str = "mean"
    layer: int = -1
    rollout: bool = False
    threshold: float | None = None
    threshold_style: str = "contour"
    style: str = "overlay"
    colormap: str = "inferno"
    save_maps: bool = False

    def check(self, entry: ModelEntry) -> None:
        """Raise :class:`InvalidSetting` on a setting the model or the renderer cannot honour."""
        self.heads_shown(entry)
        try:
            resolve_layer(self.layer, entry.arch.depth)
        except ValueError as exc:
            raise InvalidSetting("layer", str(exc)) from None
        if self.threshold is not None and not 0.0 < self.threshold <= 1.0:
            raise InvalidSetting("threshold", f"must be a fraction in (0, 1], got {self.threshold}")
        if self.style not in STYLES:
            raise InvalidSetting("style", f"use one of {', '.join(STYLES)}, not {self.style!r}")
        if self.threshold_style not in THRESHOLD_STYLES:
            raise InvalidSetting("threshold_style", f"use one of {', '.join(THRESHOLD_STYLES)}")
        try:
            colormap_table(self.colormap)
        except ValueError as exc:
            raise InvalidSetting("colormap", str(exc)) from None
        super().check(entry)

    def heads_shown(self, entry: ModelEntry) -> tuple[int, ...] | None:
        """The heads drawn (None: their mean); an impossible choice is an ``InvalidSetting``."""
        try:
            heads = parse_heads(self.heads, entry.arch.num_heads)
        except ValueError as exc:
            raise InvalidSetting("heads", str(exc)) from None
        if self.rollout and heads is not None:
            raise InvalidSetting("heads", "rollout fuses the heads by their mean in every block; use mean")
        return heads


@dataclass(frozen=True)
class AttentionClip(ClipFiles):
    """One clip's maps and the files written for it; ``cls_self`` is each map row's CLS-to-CLS weight."""

    maps: Path | None
    cls_self: tuple[float, ...]
    peak: tuple[int, int, int, float]  # slot, row, column and weight of the strongest patch (mean of heads)


@dataclass
class AttendRun(PerClipRun[AttendSettings, AttentionClip]):
    """All results of a run: per clip, and failures (video, reason)."""


def load_attention_model(settings: AttendSettings, runtime: Runtime) -> VideoEncoder:
    """The settings' model (vit, or an MAE used as its encoder) on the runtime's device, float32 weights."""
    return load_model(settings.model, checkpoint=settings.checkpoint, device=runtime.device)


class AttendTask(PerClipTask[AttendSettings, AttentionClip, VideoEncoder]):
    """CLS attention of each clip, drawn and saved (see ``batch.driver``)."""

    command = "attend"

    def process(self, clips: Sequence[LoadedClip], frames: torch.Tensor) -> Failures:
        """The CLS rows of a batch, then each clip's picture, animation and maps."""
        settings = self.run.settings
        heads = settings.heads_shown(self.run.entry)
        rows = cls_row(self.model, frames, settings.layer, rollout=settings.rollout).float().cpu()
        placed, failures = self.placed(clips, torch.isfinite(rows).flatten(1).all(1))
        for i, item, base in placed:
            written = _write_clip(frames[i], rows[i], heads, item, base, settings, self.model, self.preprocessing)
            self.run.clips.append(written)
        return failures

    def record(self) -> dict[str, object]:
        return run_record(self.run)  # type: ignore[arg-type]


def run_attention(
    videos: Sequence[Path],
    out_dir: Path,
    settings: AttendSettings,
    *,
    hooks: Hooks | None = None,
    model: VideoEncoder | None = None,
    protected: Sequence[Path] = (),
) -> AttendRun:
    """Attention maps of one clip (or more, per ``settings.clip``) of each input, written as files.

    Every setting is checked before the model is loaded; ``model`` skips loading when the
    caller already holds the settings' model. No file written may be one of ``protected``
    (inputs found beside ``videos`` but not selected), nor one of ``videos``.
    """
    return run_per_clip(
        settings,
        videos,
        out_dir,
        AttendTask,
        load_attention_model,
        run_type=AttendRun,
        model=model,
        hooks=hooks,
        protected=protected,
    )


def row_labels(heads: tuple[int, ...] | None, settings: AttendSettings, num_heads: int) -> list[str]:
    """Labels of the picture's rows: the frames, then one per map row."""
    if settings.rollout:
        return ["frames", "rollout"]
    if heads is None:
        return ["frames", f"mean of {num_heads}"]
    return ["frames", *(f"head {h}" for h in heads)]


def slot_labels(times: Sequence[float], t_patch: int, width: int) -> list[str]:
    """Column labels: the times of the first and last frame each map covers (the first only on narrow tiles)."""
    starts = range(0, len(times), t_patch)
    if width < 100:
        return [f"{times[s]:.2f} s" for s in starts]
    return [f"{times[s]:.2f}-{times[min(s + t_patch, len(times)) - 1]:.2f} s" for s in starts]


def _write_clip(
    clip_frames: torch.Tensor,
    row: torch.Tensor,
    heads: tuple[int, ...] | None,
    item: LoadedClip,
    base: Path,
    settings: AttendSettings,
    model: VideoEncoder,
    pre: Preprocessing,
) -> AttentionClip:
    """Picture, animation and arrays of one clip, from its CLS row ``[heads, 1 + L]``."""
    t_patch = model.arch.t_patch_size
    t, h, w = model.arch.grid
    raw = row[:, 1:].reshape(-1, t, h, w)  # [heads, t, h, w], unscaled
    shown = head_rows(raw.unsqueeze(0), heads)[0].numpy()  # [R, t, h, w]
    masks = _masks(shown, settings)
    frames = denormalize(clip_frames, pre)  # [T, H, W, 3]
    draw = _drawing(settings)
    labels = row_labels(heads, settings, model.arch.num_heads)
    picture = save_image(
        _picture(frames, shown, item, labels, settings, t_patch), base.with_name(f"{base.name}.{settings.image_format}")
    )
    animations: tuple[Path, ...] = ()
    if settings.animate:
        held = np.repeat(shown, t_patch, axis=1)[:, : frames.shape[0]]
        held_masks = None if masks is None else np.repeat(masks, t_patch, axis=1)[:, : frames.shape[0]]
        panels = panel_grid([frames, *render_rows(frames, held, masks=held_masks, **draw)], labels)
        animations = write_animations(panels, base, settings, pre)
    maps = None
    if settings.save_maps:
        maps = base.with_name(f"{base.name}.npy")
        with atomic_path(maps) as tmp, open(tmp, "wb") as fh:
            np.save(fh, raw.numpy().astype(np.float32))
    mean = raw.mean(dim=0)
    top = int(mean.argmax())
    return AttentionClip(
        **clip_facts(item),
        picture=picture,
        animations=animations,
        maps=maps,
        cls_self=tuple(float(v) for v in row[:, 0]),
        peak=(top // (h * w), top // w % h, top % w, float(mean.flatten()[top])),
    )


def _masks(maps: np.ndarray, settings: AttendSettings) -> np.ndarray | None:
    """The kept patches of each ``[R, S, h, w]`` map row under ``--threshold`` (None without one)."""
    if settings.threshold is None:
        return None
    return threshold_mask(torch.from_numpy(maps), settings.threshold).numpy()


def _drawing(settings: AttendSettings) -> dict[str, str]:
    """How maps are drawn (``render_rows``' keywords), as the settings say."""
    return {"style": settings.style, "colormap": settings.colormap, "threshold_style": settings.threshold_style}


def _picture(
    frames: np.ndarray, shown: np.ndarray, item: LoadedClip, labels: list[str], settings: AttendSettings, t_patch: int
) -> Image.Image:
    """The clip's picture: the frames and a row per map (its weight range under its name), a column
    per temporal slot with its times, and the colour bar. A still's slots all show the same
    picture: one column, its map the sum over the slots, no times."""
    still = item.clip.info.kind == "image"
    size = max(12, frames.shape[1] // 9)  # the grid's label size
    maps = shown.sum(axis=1, keepdims=True) if still else shown
    tiles = frames[:1] if still else frames[::t_patch]
    strips = render_rows(tiles, maps, masks=_masks(maps, settings), **_drawing(settings))
    ranges = [f"{name}\n{_percent(row.min())}-{_percent(row.max())}%" for name, row in zip(labels[1:], maps)]
    grid = grid_image(
        [tiles, *strips],
        row_labels=[labels[0], *ranges],
        column_labels=None if still else slot_labels(item.clip.times, t_patch, frames.shape[2]),
    )
    blend = " (50% over the frame)" if settings.style == "overlay" else ""
    bar = colour_bar(
        colormap_table(settings.colormap),
        title=f"CLS attention, from each row's min to its max{blend}",
        low="row min",
        high="row max",
        width=max(120, min(27 * size, grid.width - 4 * PAD)),
        size=size,
    )
    return stack(grid, bar)


def _percent(share: float) -> str:
    """A share as a short percentage: ``0.0123`` -> ``1.2``, ``0.00042`` -> ``0.042``."""
    return f"{100 * float(share):.2g}"


def run_record(run: AttendRun) -> dict[str, object]:
    """What ``run.json`` holds: settings, model, per-clip files and numbers, failures, versions."""
    clips = [
        {
            **c.to_record(),
            "maps": str(c.maps) if c.maps else None,
            "cls_self": list(c.cls_self),
            "peak": {"slot": c.peak[0], "row": c.peak[1], "column": c.peak[2], "weight": c.peak[3]},
        }
        for c in run.clips
    ]
    notes = {"pictures_note": PICTURES_NOTE, **({"maps_note": MAPS_NOTE} if run.settings.save_maps else {})}
    return per_clip_record(run, "attend", clips, **notes)
