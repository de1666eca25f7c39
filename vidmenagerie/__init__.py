"""vidmenagerie: pretrained self-supervised ViT-H/14 video models, one import away.

>>> import vidmenagerie as vm
>>> vm.list_models("vit_*ssv2*")[:2]
['vit_say_ssv2-10shot', 'vit_say_ssv2-50shot']
>>> model = vm.load_model("vit_s_none")  # download (cached), build, load

``import vidmenagerie`` is cheap: each name below is imported from its module on first use, so
torch, timm and PyAV load only when a model or a video is touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS: dict[str, tuple[str, ...]] = {
    "catalog": ("ModelEntry", "Paper", "get_available_models", "get_model_entry", "list_models", "register_catalog"),
    "checkpoint": ("load_checkpoint", "read_state_dict"),
    "errors": (
        "CatalogError",
        "CheckpointError",
        "CompareError",
        "DownloadError",
        "InvalidSetting",
        "OutputError",
        "ProbeError",
        "UnknownModelError",
        "VideoError",
        "VidmError",
    ),
    "factory": ("create_model", "load_model"),
    "hub": ("CheckpointSource", "cached_checkpoint", "fetch_checkpoint"),
    "labels": ("load_labels",),
    "labelled": ("LabelledSet", "read_labelled"),
    "models.config": ("Architecture",),
    "models.video_vit": ("MaskedAutoencoder", "VideoEncoder", "VisionTransformer"),
    "ops.attention": ("attention", "attention_rollout", "threshold_mask"),
    "ops.complete": ("Completion", "complete"),
    "ops.embed": ("embed",),
    "ops.masking": ("MASK_TYPES", "make_mask"),
    "preprocess": ("Preprocessing",),
    "runtime": ("Runtime", "resolve_device"),
    "similarity": ("CompareSettings", "Comparison", "cka", "compare", "compare_rdms", "rdm"),
    "tasks.attend": ("AttendSettings", "run_attention"),
    "tasks.complete": ("CompletionSettings", "run_completion"),
    "feature_store": ("EmbedSettings", "load_features", "merge_shards"),
    "tasks.embed": ("embed_videos",),
    "tasks.evaluate": ("classify_videos", "evaluate", "evaluate_videos"),
    "probing": ("ProbeSettings", "probe"),
    "video": (
        "Clip",
        "ClipChunks",
        "ClipDataset",
        "ClipFailure",
        "ClipInfo",
        "VideoClips",
        "VideoInfo",
        "Windows",
        "collate",
        "demo_video_path",
        "find_inputs",
        "find_videos",
        "iter_clip_chunks",
        "probe_video",
        "read_clip",
        "read_clips",
    ),
}

__getattr__, _names = lazy_exports(__name__, _EXPORTS)
__all__ = ["__version__", *_names]


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # what type checkers and IDEs see
    from .catalog import ModelEntry, Paper, get_available_models, get_model_entry, list_models, register_catalog
    from .checkpoint import load_checkpoint, read_state_dict
    from .errors import (
        CatalogError,
        CheckpointError,
        CompareError,
        DownloadError,
        InvalidSetting,
        OutputError,
        ProbeError,
        UnknownModelError,
        VideoError,
        VidmError,
    )
    from .factory import create_model, load_model
    from .feature_store import EmbedSettings, load_features, merge_shards
    from .hub import CheckpointSource, cached_checkpoint, fetch_checkpoint
    from .labelled import LabelledSet, read_labelled
    from .labels import load_labels
    from .models.config import Architecture
    from .models.video_vit import MaskedAutoencoder, VideoEncoder, VisionTransformer
    from .ops.attention import attention, attention_rollout, threshold_mask
    from .ops.complete import Completion, complete
    from .ops.embed import embed
    from .ops.masking import MASK_TYPES, make_mask
    from .preprocess import Preprocessing
    from .probing import ProbeSettings, probe
    from .runtime import Runtime, resolve_device
    from .similarity import CompareSettings, Comparison, cka, compare, compare_rdms, rdm
    from .tasks.attend import AttendSettings, run_attention
    from .tasks.complete import CompletionSettings, run_completion
    from .tasks.embed import embed_videos
    from .tasks.evaluate import classify_videos, evaluate, evaluate_videos
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
