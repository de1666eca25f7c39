"""Per-input class probabilities from an embedding output's logits: the views of an input
combined as the mean of their softmax probabilities (mae_st / SlowFast multi-view testing).

Inputs are read one at a time from the memory-mapped logits, so memory does not grow with
the number of inputs or views.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ...catalog import ModelEntry
from ...errors import InvalidSetting
from ...feature_store import EmbedSettings, FeatureOutput
from ...feature_store.settings import PROTOCOLS
from ...labels import load_labels
from ...runtime import resolve_device
from ...scoring.metrics import ranked
from ...scoring.views import parse_views, softmax

VIEWS_FILE = "views.npy"  # the embedding output (features, logits, manifests) inside an evaluate/classify folder


@dataclass(frozen=True)
class Predictions:
    """Each finished input's probabilities ``[inputs, classes]``, its views, and the inputs that failed."""

    videos: list[str]
    probs: np.ndarray
    views: list[int]
    failed: list[tuple[str, str]]
    pending: list[str]
    ranked_views: list[np.ndarray]  # per input: the k best classes of each of its views [views, k], best first


def view_settings(
    entry: ModelEntry,
    views: str,
    *,
    checkpoint: str | Path | None = None,
    sampling_rate: int | None = None,
    folder_fps: float = 30.0,
    dtype: str = "float32",
    protocol: str = "standard",
    seed: int = 0,
) -> EmbedSettings:
    """The embedding settings that give ``views`` (``CLIPSxCROPS``) of every input, with logits.

    ``1x1`` is the centre clip's centre crop; ``Nx1`` N clips where mae_st's test mode put them (its
    ``num_ensemble_views``); ``Nx3`` adds the three-crop test (short side scaled to the crop size).
    ``protocol="seed"`` is the seed scripts' val mode instead (``video.augment``): one random clip,
    scale, crop and flip per input, drawn with ``seed``; its views are ``1x1``.
    """
    if entry.num_classes is None or entry.kind != "vit":
        raise InvalidSetting(
            "model",
            f"{entry.name} has no classification head: use a finetuned vit model such as vit_s_ssv2-50shot, "
            "vit_hvm1_kinetics-50shot or vit_hvm1_imagenet-2pt (vidm list 'vit_*': the ones with classes)",
        )
    try:
        clips, crops = parse_views(views)
    except ValueError as exc:
        raise InvalidSetting("views", str(exc).removeprefix("--views ")) from None
    if protocol not in PROTOCOLS:
        raise InvalidSetting("protocol", f"use one of {', '.join(PROTOCOLS)}, not {protocol!r}")
    if protocol == "seed":
        if (clips, crops) != (1, 1):
            raise InvalidSetting(
                "views", f"the seed protocol is one random clip and one crop per input: use 1x1, not {views}"
            )
        return EmbedSettings.for_model(
            entry, checkpoint=checkpoint, sampling_rate=sampling_rate, folder_fps=folder_fps, logits=True,
            dtype=dtype, protocol="seed", seed=seed,
        )  # fmt: skip
    if seed != 0:
        raise InvalidSetting("seed", "only applies to the seed protocol")
    try:
        return EmbedSettings.for_model(
            entry,
            checkpoint=checkpoint,
            clips="center" if clips == 1 else f"uniform:{clips}",
            crops=crops,
            sampling_rate=sampling_rate,
            folder_fps=folder_fps,
            logits=True,
            dtype=dtype,
        )
    except InvalidSetting as exc:  # the clip count comes from --views: say so, not embed's --clips
        if exc.setting != "clips":
            raise
        raise InvalidSetting("views", f"{views}: {exc.message.split(': ', 1)[-1]}") from None


def protocol_dtype(protocol: str, dtype: str | None, device: str | torch.device | None = "auto") -> str:
    """The compute precision: ``dtype`` when given; else float16 for the seed protocol on a CUDA
    device (the seed script ran under ``torch.cuda.amp.autocast()``, hvm-1
    test_video_recognition.py:134), float32 otherwise (a CPU keeps float32)."""
    if dtype is not None:
        return dtype
    if protocol == "seed" and resolve_device(device).type == "cuda":
        return "float16"
    return "float32"


def class_names(entry: ModelEntry) -> tuple[str, ...]:
    """The model's class names in head order (its label set, else the indices as names)."""
    assert entry.num_classes is not None
    if entry.labels:
        return load_labels(entry.labels, num_classes=entry.num_classes)
    return tuple(str(i) for i in range(entry.num_classes))


def predictions(output: FeatureOutput, k: int = 5) -> Predictions:
    """Combine each finished input's views (rows of the logits) into its probabilities, in input order."""
    logits = output.logits
    if logits is None:
        raise InvalidSetting("out", f"{output.layout.out} holds no logits")
    ok = [s for s in output.videos if s.status == "ok"]
    probs = np.zeros((len(ok), logits.shape[1]), dtype=np.float64)
    best: list[np.ndarray] = []
    for i, status in enumerate(ok):
        first = status.first_row or 0
        rows = np.asarray(logits[first : first + status.rows])
        probs[i] = softmax(rows).mean(axis=0)
        best.append(ranked(rows, min(k, rows.shape[1])))
    return Predictions(
        videos=[s.video for s in ok],
        probs=probs,
        views=[s.rows for s in ok],
        failed=[(s.video, s.reason) for s in output.videos if s.status == "failed"],
        pending=[s.video for s in output.videos if s.status == "pending"],
        ranked_views=best,
    )
