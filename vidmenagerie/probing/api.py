"""``vm.probe``: frozen-feature probes of a model on the user's labelled inputs, from a notebook."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from ..batch.driver import Hooks
from ..catalog import get_model_entry
from ..labelled import LabelledSet
from ..video.find import FrameFolders
from .data import Labels, check_cross_validation, read_labels
from .features import Embedding
from .layers import embed_settings
from .run import ProbeRun, run_probe
from .settings import ProbeSettings, parse_probes, parse_shots
from .sweep import BlockDone


def probe(
    train: str | Path | LabelledSet,
    *,
    model: str | None = None,
    out: str | Path,
    val: str | Path | LabelledSet | None = None,
    layers: int | Sequence[int] | str = -1,
    pool: str = "cls",
    probes: str | Sequence[str] = "linear,knn",
    shots: str | Sequence[int | None] = "all",
    seeds: int = 5,
    folds: int = 5,
    seed: int = 0,
    k: int = 20,
    features: str | Path | None = None,
    val_features: str | Path | None = None,
    videos: str | Path | None = None,
    val_videos: str | Path | None = None,
    head: bool = True,
    head_name: str | None = None,
    checkpoint: str | Path | None = None,
    sampling_rate: int | None = None,
    clips: str = "center",
    crops: int = 1,
    folder_fps: float = 30.0,
    dtype: str = "float32",
    batch_size: int | None = None,
    workers: int | None = None,
    device: str | torch.device | None = "auto",
    frame_folders: FrameFolders = "auto",
) -> ProbeRun:
    """The same numbers and files as ``vidm probe``: ``train`` (and ``val``) are labelled sources (class
    folders, ``path,label`` CSV, Kinetics CSV or SSv2 JSON with ``videos``) or ``LabelledSet``s; features
    are embedded into ``out/features/`` by ``model`` (or read from ``features``/``val_features``).
    ``probes`` ``"linear,knn"``, ``shots`` ``"1,5,all"``, ``layers`` ``-1``, ``(8, 16, -1)`` or ``"all"``."""
    settings = ProbeSettings(
        probes=parse_probes(probes if isinstance(probes, str) else ",".join(probes)),
        shots=parse_shots(shots if isinstance(shots, str) else ",".join("all" if s is None else str(s) for s in shots)),
        seeds=seeds, folds=folds, seed=seed, k=k,
    )  # fmt: skip
    labels = read_labels(train, val, videos=videos, val_videos=val_videos, frame_folders=frame_folders)
    return probe_labels(
        labels, out, settings, model=model, layers=layers, pool=pool, features=features, val_features=val_features,
        head=head, head_name=head_name, embedding_options={
            "checkpoint": checkpoint, "sampling_rate": sampling_rate, "clips": clips, "crops": crops,
            "folder_fps": folder_fps, "dtype": dtype,
        }, batch_size=batch_size, workers=workers, device=device,
    )  # fmt: skip


def probe_labels(
    labels: Labels,
    out: str | Path,
    settings: ProbeSettings,
    *,
    model: str | None,
    layers: int | Sequence[int] | str = -1,
    pool: str = "cls",
    features: str | Path | None = None,
    val_features: str | Path | None = None,
    head: bool = True,
    head_name: str | None = None,
    embedding_options: dict[str, object] | None = None,
    resume: bool = True,
    batch_size: int | None = None,
    workers: int | None = None,
    device: str | torch.device | None = "auto",
    hooks: Hooks | None = None,
    on_block: BlockDone | None = None,
) -> ProbeRun:
    """``probe`` once the labels are read (the command line prints them first): settings checked, then run."""
    check_cross_validation(labels)
    embedding = None
    if features is None:
        if model is None:
            from ..errors import InvalidSetting

            raise InvalidSetting("model", "name the model to embed with (or give --features)")
        entry = get_model_entry(model)
        options = {k: v for k, v in (embedding_options or {}).items() if v is not None}
        embedded = embed_settings(entry, layers, pool=pool, **options)
        embedding = Embedding(embedded, resume=resume, batch_size=batch_size, workers=workers, device=device,
                              hooks=hooks)  # fmt: skip
    return run_probe(
        labels, out, settings, layers=layers, pool=pool, embedding=embedding, features=features,
        val_features=val_features, model=model, head=head, name=head_name, on_block=on_block,
    )  # fmt: skip
