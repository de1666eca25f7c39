"""The layers of a feature output as the probe reads them: which blocks it holds and one block's rows.

``vidm embed --layer LIST|all`` writes one array per layer (``feats.layer08.npy``...), an output of
one layer keeps ``feats.npy``; ``FeatureOutput.layers`` / ``block`` / ``layer_features`` read both.
This module is the probe's one door to them, so the rest of the probe only sees block indices.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..catalog import ModelEntry
from ..errors import InvalidSetting
from ..feature_store import EmbedSettings, FeatureOutput
from ..feature_store.settings import parse_layers


def embed_settings(entry: ModelEntry, layers: int | Sequence[int] | str, **options: Any) -> EmbedSettings:
    """Embedding settings of ``entry`` at ``layers`` (a block, a list of blocks, or ``"all"``), named
    ``--layers`` in messages (embed's own option is ``--layer``)."""
    try:
        return EmbedSettings.for_model(entry, layer=layers, **options)
    except InvalidSetting as exc:
        if exc.setting != "layer":
            raise
        raise InvalidSetting("layers", exc.message) from None


def model_depth(output: FeatureOutput) -> int:
    """The number of blocks of the output's model."""
    return output.depth


def stored_blocks(output: FeatureOutput) -> tuple[int, ...]:
    """The block indices the output holds, ascending."""
    return tuple(sorted({output.block(layer) for layer in output.layers}))


def block_rows(output: FeatureOutput, block: int) -> np.ndarray:
    """Every row of one stored block ``[rows, dim]``, memory-mapped."""
    return output.layer_features(block)


def features_file(output: FeatureOutput, block: int) -> Path:
    """The file a block's rows come from (for messages)."""
    return output.layout.feature_files[output.layer_position(block)]


def wanted_blocks(asked: int | Sequence[int] | str, depth: int) -> tuple[int, ...]:
    """The block indices ``--layers`` names, ascending (``"all"``: every block)."""
    try:
        layers = parse_layers(asked, depth)
    except InvalidSetting as exc:
        raise InvalidSetting("layers", exc.message) from None
    return tuple(sorted({layer % depth for layer in layers}))
