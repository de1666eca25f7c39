"""The store of per-input feature arrays that ``vidm embed`` writes and ``evaluate``, ``probe`` and
``compare`` read: settings (``run.json``), durable per-input parts, manifests, assembly, shards and merge.

It is resumable (finished inputs are parts, committed one by one), locked (one writer per
output or shard) and sharded (``--shard I/N``, joined by ``merge_shards``). Reading it back:

>>> import vidmenagerie as vm
>>> out = vm.load_features("feats.npy")                      # doctest: +SKIP
>>> out.features.shape, out.rows[0], out.videos[0].status    # doctest: +SKIP
"""

from __future__ import annotations

from ..errors import OutputError
from .layout import OutputLayout
from .manifest import RowInfo, VideoStatus
from .merge import merge_shards
from .reading import FeatureOutput, load_features, read_output
from .settings import EmbedSettings
from .shards import Shard, shard_from_env

__all__ = [
    "EmbedSettings",
    "FeatureOutput",
    "OutputError",
    "OutputLayout",
    "RowInfo",
    "Shard",
    "VideoStatus",
    "load_features",
    "merge_shards",
    "read_output",
    "shard_from_env",
]
