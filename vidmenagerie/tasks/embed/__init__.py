"""Feature outputs of ``vidm embed``: settings, durable per-video parts, manifests, assembly, shards and merge.

>>> import vidmenagerie as vm
>>> settings = vm.EmbedSettings.for_model(vm.get_model_entry("vit_s_none"), pool="mean", clips="uniform:4")
>>> run = vm.embed_videos(vm.find_videos("clips/"), "feats.npy", settings)   # doctest: +SKIP
>>> out = vm.load_features("feats.npy")                                       # doctest: +SKIP
>>> out.features.shape, out.rows[0], out.videos[0].status                      # doctest: +SKIP
"""

from __future__ import annotations

from ...errors import OutputError
from .layout import OutputLayout
from .manifest import RowInfo, VideoStatus
from .merge import merge_shards
from .output import FeatureOutput, load_features, read_output
from .run import EmbedRun, embed_videos, load_embed_model
from .settings import EmbedSettings
from .shards import Shard, shard_from_env

__all__ = [
    "EmbedRun",
    "EmbedSettings",
    "FeatureOutput",
    "OutputError",
    "OutputLayout",
    "RowInfo",
    "Shard",
    "VideoStatus",
    "embed_videos",
    "load_embed_model",
    "load_features",
    "merge_shards",
    "read_output",
    "shard_from_env",
]
