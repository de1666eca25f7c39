"""Where a probe's features come from: ``vidm embed``'s pipeline into ``DIR/features/train.npy`` and
``val.npy`` (resumable, locked, a rerun reuses them), or existing embed outputs (``--features``),
checked to be of the model, pooling and layers asked for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from ..batch.driver import Hooks
from ..errors import ProbeError
from ..feature_store import EmbedSettings, FeatureOutput, load_features
from .data import Labels
from .layers import stored_blocks

FEATURES = "features"  # the folder inside DIR
TRAIN_FILE, VAL_FILE = "train.npy", "val.npy"


@dataclass(frozen=True)
class Embedding:
    """How to run the model when the features are not given: its settings and the run's options."""

    settings: EmbedSettings
    resume: bool = True
    batch_size: int | None = None
    workers: int | None = None
    device: str | torch.device | None = "auto"
    hooks: Hooks | None = None


def embed_features(labels: Labels, folder: Path, embedding: Embedding) -> tuple[FeatureOutput, FeatureOutput | None]:
    """Embed TRAIN (and VAL) into ``folder/features/``; the model is loaded once for both."""
    from ..runtime import Runtime
    from ..tasks.embed import embed_videos
    from ..tasks.embed.run import load_embed_model

    target = folder / FEATURES
    target.mkdir(parents=True, exist_ok=True)
    sides = [(labels.train, target / TRAIN_FILE)]
    if labels.val is not None:
        sides.append((labels.val, target / VAL_FILE))
    model = None
    outputs: list[FeatureOutput] = []
    for labelled, out in sides:
        inputs = [str(s.path) for s in labelled.samples]
        if model is None:
            model = load_embed_model(embedding.settings, Runtime.resolve(embedding.device, embedding.settings.dtype))
        embed_videos(
            inputs, out, embedding.settings, model=model, resume=embedding.resume, batch_size=embedding.batch_size,
            workers=embedding.workers, device=embedding.device, hooks=embedding.hooks,
        )  # fmt: skip
        outputs.append(load_features(out))
    return outputs[0], outputs[1] if len(outputs) > 1 else None


def given_features(
    train: str | Path, val: str | Path | None, *, labels: Labels, model: str | None, pool: str
) -> tuple[FeatureOutput, FeatureOutput | None]:
    """Existing embed outputs for TRAIN (and VAL), checked against what the probe asks (``model`` None:
    TRAIN's)."""
    if labels.val is not None and val is None:
        raise ProbeError(
            f"{labels.val.source}: VAL labels have no features: give --val-features too (or leave out --features)",
            path=str(labels.val.source),
            problem="features",
        )
    if val is not None and labels.val is None:
        raise ProbeError(f"{val}: VAL features have no labels: give --val too", path=str(val), problem="labels")
    outputs = [load_features(train)] + ([load_features(val)] if val is not None else [])
    for output in outputs:
        check_output(output, model=model or outputs[0].settings.model, pool=pool)
    if len(outputs) > 1:
        _same_recipe(outputs[0], outputs[1])
    return outputs[0], outputs[1] if len(outputs) > 1 else None


def check_output(output: FeatureOutput, *, model: str, pool: str) -> None:
    """Refuse an output of another model or pooling, and per-video outputs."""
    s, where = output.settings, output.layout.out
    problem = None
    if output.layout.per_video:
        problem = "is a --per-video output: give a single .npy output (vidm embed ... --out feats.npy)"
    elif s.model != model:
        problem = f"holds features of {s.model}, not of {model}"
    elif s.pool != pool:
        problem = f"holds --pool {s.pool} features, not --pool {pool}"
    if problem is not None:
        raise ProbeError(f"{where}: {problem}", path=str(where), problem="features")


def check_blocks(output: FeatureOutput, blocks: Sequence[int]) -> None:
    """Refuse an output that lacks a block the probe asks for."""
    missing = sorted(set(blocks) - set(stored_blocks(output)))
    if missing:
        have = ", ".join(str(b) for b in stored_blocks(output))
        raise ProbeError(
            f"{output.layout.out}: holds block(s) {have}, not block {missing[0]} (embed again with --layer)",
            path=str(output.layout.out),
            problem="features",
        )


def _same_recipe(train: FeatureOutput, val: FeatureOutput) -> None:
    """TRAIN and VAL features of one checkpoint and one input recipe."""
    a, b = train.settings, val.settings
    for name in ("checkpoint", "preprocessing", "clips", "crops", "reduce", "dtype"):
        if getattr(a, name) != getattr(b, name):
            raise ProbeError(
                f"{val.layout.out}: VAL features differ from TRAIN's ({train.layout.out}) in {name}: "
                f"{getattr(b, name)!r} vs {getattr(a, name)!r}",
                path=str(val.layout.out),
                problem="features",
            )
