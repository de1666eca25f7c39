"""The layers of a feature output as the probe reads them: which blocks it holds and one block's rows.

``vidm embed --layer LIST|all`` writes one array per layer (``FeatureOutput.layers``,
``layer_features``); an output of one layer holds the block its ``settings.layer`` names. This module
is the probe's one door to both, so the rest of the probe only ever sees non-negative block numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from ..catalog import ModelEntry, get_model_entry
from ..errors import InvalidSetting
from ..feature_store import EmbedSettings, FeatureOutput
from ..models.video_vit import resolve_layer


def _multi_layer() -> bool:
    """Whether this version's embed stores several layers per output."""
    return "layers" in {f.name for f in fields(EmbedSettings)}


def embed_settings(entry: ModelEntry, layers: int | Sequence[int] | str, **options: Any) -> EmbedSettings:
    """Embedding settings of ``entry`` at ``layers`` (a block, a list of blocks, or ``"all"``)."""
    if not _multi_layer() and not isinstance(layers, int):
        raise InvalidSetting("layers", "several layers need vidm embed --layer LIST, which this version lacks")
    return EmbedSettings.for_model(entry, layer=layers, **options)  # type: ignore[arg-type]


def model_depth(output: FeatureOutput) -> int:
    """The number of blocks of the output's model."""
    depth = getattr(output, "depth", None)
    if isinstance(depth, int):
        return depth
    return get_model_entry(output.settings.model).arch.depth


def stored_blocks(output: FeatureOutput) -> tuple[int, ...]:
    """The non-negative block numbers the output holds, ascending."""
    depth = model_depth(output)
    layers = getattr(output, "layers", None) or (output.settings.layer,)
    return tuple(sorted({resolve_layer(int(layer), depth) for layer in layers}))


def block_rows(output: FeatureOutput, block: int) -> np.ndarray:
    """Every row of one stored block ``[rows, dim]``, memory-mapped."""
    if hasattr(output, "layer_features"):
        return output.layer_features(block)
    features = output.features
    if features is None:
        raise InvalidSetting("features", f"{output.layout.out}: a --per-video output; give a single .npy output")
    return features


def features_file(output: FeatureOutput, block: int) -> Path:
    """The file a block's rows come from (for messages)."""
    if len(stored_blocks(output)) == 1:
        return output.layout.features
    return output.layout.features.with_name(f"{output.layout.features.stem}.layer{block:02d}.npy")


def wanted_blocks(asked: int | Sequence[int] | str, depth: int) -> tuple[int, ...]:
    """The block numbers ``--layers`` names, ascending (``"all"``: every block)."""
    if isinstance(asked, str):
        return tuple(range(depth))
    values = (asked,) if isinstance(asked, int) else tuple(asked)
    try:
        return tuple(sorted({resolve_layer(v, depth) for v in values}))
    except ValueError as exc:
        raise InvalidSetting("layers", str(exc)) from None
