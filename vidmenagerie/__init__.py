"""vidmenagerie: pretrained self-supervised ViT-H/14 video models, one import away.

>>> import vidmenagerie as vm
>>> vm.list_models("vit_*ssv2*")[:2]
['vit_say_ssv2-10shot', 'vit_say_ssv2-50shot']
>>> model = vm.load_model("vit_s_none")  # download (cached), build, load
"""

from __future__ import annotations

__version__ = "0.1.0"

from .catalog import (
    ModelEntry,
    Paper,
    get_available_models,
    get_model_entry,
    list_models,
    register_catalog,
)
from .checkpoint import load_checkpoint, read_state_dict
from .errors import CatalogError, CheckpointError, DownloadError, UnknownModelError, VideoError, VidmError
from .factory import create_model, load_model
from .hub import CheckpointSource, cached_checkpoint, fetch_checkpoint
from .labels import load_labels
from .models.config import Architecture
from .models.video_vit import MaskedAutoencoder, VideoEncoder, VisionTransformer
from .ops.attention import attention, attention_rollout, threshold_mask
from .ops.complete import Completion, complete
from .ops.embed import embed
from .ops.masking import MASK_TYPES, make_mask
from .preprocess import Preprocessing
from .runtime import resolve_device
from .tasks.embed import EmbedSettings, embed_videos, load_features, merge_shards
from .video import (
    Clip,
    ClipChunks,
    ClipDataset,
    ClipFailure,
    ClipInfo,
    VideoClips,
    VideoInfo,
    Windows,
    collate,
    demo_video_path,
    find_inputs,
    find_videos,
    iter_clip_chunks,
    probe_video,
    read_clip,
    read_clips,
)

__all__ = [
    "ClipChunks",
    "iter_clip_chunks",
    "EmbedSettings",
    "embed",
    "embed_videos",
    "load_features",
    "merge_shards",
    "ClipInfo",
    "collate",
    "read_clips",
    "read_clip",
    "probe_video",
    "find_inputs",
    "find_videos",
    "demo_video_path",
    "Windows",
    "VideoInfo",
    "VideoClips",
    "ClipFailure",
    "ClipDataset",
    "Clip",
    "MASK_TYPES",
    "Architecture",
    "CatalogError",
    "CheckpointError",
    "CheckpointSource",
    "DownloadError",
    "MaskedAutoencoder",
    "ModelEntry",
    "Paper",
    "Preprocessing",
    "UnknownModelError",
    "VideoEncoder",
    "VideoError",
    "VidmError",
    "VisionTransformer",
    "__version__",
    "attention",
    "attention_rollout",
    "Completion",
    "cached_checkpoint",
    "complete",
    "create_model",
    "fetch_checkpoint",
    "get_available_models",
    "get_model_entry",
    "list_models",
    "load_checkpoint",
    "load_labels",
    "load_model",
    "make_mask",
    "read_state_dict",
    "register_catalog",
    "resolve_device",
    "threshold_mask",
]
