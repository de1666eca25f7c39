"""``vm.evaluate``: the accuracy of a finetuned model on a labelled set, from a notebook."""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from ...catalog import get_model_entry
from ...labelled import LabelledSet, read_labelled
from ...models.video_vit import VideoEncoder
from ...scoring import EvalScores
from .predict import class_names, protocol_dtype, view_settings
from .run import evaluate_videos


def evaluate(
    model: str | VideoEncoder,
    dataset: str | Path | LabelledSet,
    *,
    views: str = "1x1",
    videos: str | Path | None = None,
    out: str | Path | None = None,
    sampling_rate: int | None = None,
    protocol: str = "standard",
    seed: int = 0,
    dtype: str | None = None,
    batch_size: int | None = None,
    workers: int | None = None,
    device: str | torch.device | None = "auto",
) -> EvalScores | None:
    """The same numbers as ``vidm evaluate``: ``model`` is a catalogue name or a model from
    ``load_model``; ``dataset`` a labelled source (class folders, CSV, SSv2 JSON with ``videos``)
    or a ``LabelledSet``. Files go to ``out`` (a temporary folder when None). None: nothing scored.
    ``protocol="seed"``: the seed scripts' val mode (one random clip, scale, crop and flip per
    input, drawn with ``seed``; ``views`` 1x1). ``dtype`` None: float32, or float16 for the seed
    protocol on a CUDA device, as the seed script ran."""
    loaded = None if isinstance(model, str) else model
    name = model if isinstance(model, str) else model.entry.name  # type: ignore[union-attr]
    entry = get_model_entry(str(name))
    precision = protocol_dtype(protocol, dtype, device)
    settings = view_settings(entry, views, sampling_rate=sampling_rate, dtype=precision, protocol=protocol, seed=seed)
    labelled = (
        dataset
        if isinstance(dataset, LabelledSet)
        else read_labelled(dataset, class_names(entry), videos=videos, label_set=entry.labels)
    )
    if out is not None:
        run = evaluate_videos(
            labelled, out, settings, model=loaded, batch_size=batch_size, workers=workers, device=device
        )
        return run.scores
    with tempfile.TemporaryDirectory(prefix="vidm-eval-") as folder:
        run = evaluate_videos(
            labelled, folder, settings, model=loaded, batch_size=batch_size, workers=workers, device=device
        )
        return run.scores
