"""``classify_videos``: the best labels of unlabelled inputs (``vidm classify``), from their combined views.

Like transformers' video-classification pipeline, but with the models' own recipe and
multi-view testing: views go through ``embed_videos`` into ``OUT/views.npy`` (resumable), each
input's views are combined as the mean of softmax probabilities, and the ``top_k`` labels with
their probabilities are written to ``OUT/classify.csv`` and ``OUT/classify.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from ...batch.driver import Hooks
from ...batch.outputs import check_targets, output_stems, versions, write_csv, write_json
from ...catalog import get_model_entry
from ...errors import VidmError
from ...feature_store import EmbedSettings, load_features
from ...models.video_vit import VideoEncoder
from ...render import denormalize, save_image
from ...scoring import ranked
from ...video import read_clip
from ..embed import embed_videos
from .predict import VIEWS_FILE, class_names, predictions

Label = tuple[str, float]  # a class name and its probability


@dataclass(frozen=True)
class ClassifyRun:
    """Each finished input's best labels (best first), the inputs that failed, and the files."""

    out: Path
    labels: dict[str, list[Label]]
    failed: list[tuple[str, str]]
    pending: list[str]
    files: dict[str, Path]


def classify_videos(
    videos: Sequence[str | Path],
    out: str | Path,
    settings: EmbedSettings,
    *,
    top_k: int = 5,
    model: VideoEncoder | None = None,
    resume: bool = True,
    batch_size: int | None = None,
    workers: int | None = None,
    device: str | torch.device | None = "auto",
    hooks: Hooks | None = None,
) -> ClassifyRun:
    """Run every input's views (``settings`` from ``view_settings``) and keep its ``top_k`` labels."""
    folder = Path(out)
    embed_videos(
        [str(v) for v in videos], folder / VIEWS_FILE, settings, model=model, resume=resume,
        batch_size=batch_size, workers=workers, device=device, hooks=hooks,
    )  # fmt: skip
    names = class_names(get_model_entry(settings.model))
    k = max(1, min(top_k, len(names)))
    found = predictions(load_features(folder / VIEWS_FILE), k=k)
    best = ranked(found.probs, k)
    labels = {
        video: [(names[i], float(p[i])) for i in order] for video, p, order in zip(found.videos, found.probs, best)
    }
    files = {"views": folder / VIEWS_FILE, "csv": folder / "classify.csv", "json": folder / "classify.json"}
    _write_csv(files["csv"], labels, found.views, k)
    pictures = write_pictures(folder, list(labels), settings)
    write_json(
        files["json"],
        {
            "command": "vidm classify",
            "model": settings.model,
            "views": {"clips": settings.clips, "crops": settings.crops},
            "labels": {v: [{"label": n, "probability": p} for n, p in top] for v, top in labels.items()},
            "pictures": {v: str(p) for v, p in pictures.items()},
            "failed": [{"input": v, "reason": r} for v, r in found.failed],
            "versions": versions(),
        },
    )
    return ClassifyRun(folder, labels, found.failed, found.pending, files)


def write_pictures(folder: Path, videos: Sequence[str], settings: EmbedSettings) -> dict[str, Path]:
    """The first frame of each input's centre clip as the model saw it (crop and colours), as
    ``OUT/<mirrored name>.classify.jpg`` for the page; an input that cannot be read again gets none."""
    stems = output_stems([Path(v) for v in videos])
    pictures: dict[str, Path] = {}
    for video in videos:
        stem = stems[Path(video)]
        target = folder / stem.with_name(f"{stem.name}.classify.jpg")
        try:
            check_targets([target], videos)
            clip = read_clip(video, preprocessing=settings.preprocessing, folder_fps=settings.folder_fps)
        except (VidmError, OSError):
            continue
        first = denormalize(clip.frames, settings.preprocessing)[0]
        pictures[video] = save_image(Image.fromarray(first), target)
    return pictures


def _write_csv(path: Path, labels: dict[str, list[Label]], views: Sequence[int], k: int) -> None:
    """``video, views, label1..labelK, p1..pK``, one row per finished input."""
    header = ["video", "views", *(f"label{n}" for n in range(1, k + 1)), *(f"p{n}" for n in range(1, k + 1))]
    with write_csv(path, header) as write:
        for (video, top), count in zip(labels.items(), views):
            write([video, count, *(n for n, _ in top), *(f"{p:.6f}" for _, p in top)])
