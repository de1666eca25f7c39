"""``vidm embed``: features of a whole collection into the feature store (``feature_store``).

>>> import vidmenagerie as vm
>>> settings = vm.EmbedSettings.for_model(vm.get_model_entry("vit_s_none"), pool="mean", clips="uniform:4")
>>> run = vm.embed_videos(vm.find_videos("clips/"), "feats.npy", settings)   # doctest: +SKIP
>>> out = vm.load_features("feats.npy")                                       # doctest: +SKIP
>>> out.features.shape, out.rows[0], out.videos[0].status                      # doctest: +SKIP
"""

from __future__ import annotations

from .run import EmbedRun, embed_videos, load_embed_model

__all__ = ["EmbedRun", "embed_videos", "load_embed_model"]
