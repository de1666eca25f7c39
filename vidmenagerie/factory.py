"""One factory for every command: build a model from a name or a kind, and load its weights.

``create_model`` builds an architecture (random weights, or nothing at all on the meta
device); ``load_model`` resolves a catalogue name, fetches the checkpoint through the Hub
cache and loads it without ever initialising or copying the 630M parameters twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .catalog import ModelEntry, default_catalog, register_catalog
from .checkpoint import load_checkpoint, read_state_dict
from .errors import CatalogError
from .hub import fetch_checkpoint
from .models.config import MODEL_KINDS, Architecture
from .models.video_vit import MaskedAutoencoder, ProbeHeadTransformer, VideoEncoder, VisionTransformer
from .runtime import resolve_device, resolve_dtype

_CLASSES: dict[str, type[VideoEncoder]] = {"mae": MaskedAutoencoder, "vit": VisionTransformer}


def build(kind: str, arch: Architecture) -> VideoEncoder:
    """Instantiate the module for ``kind`` (``mae``/``vit``); random init unless on the meta device."""
    if kind not in _CLASSES:
        raise ValueError(f"model kind must be 'mae' or 'vit', got {kind!r}")
    if kind == "mae" and arch.num_classes is not None:
        raise ValueError("an MAE has no classification head: num_classes is only for 'vit'")
    model = _CLASSES[kind](arch)
    if not any(p.is_meta for p in model.parameters()):
        model.init_weights()
    return model


def build_entry(entry: ModelEntry) -> VideoEncoder:
    """The module of a catalogue entry: ``build`` of its kind, or the exported probe's model for a head entry."""
    if entry.head is None:
        return build(entry.kind, entry.arch)
    model = ProbeHeadTransformer(entry.arch, entry.head.pool)
    if not any(p.is_meta for p in model.parameters()):
        model.init_weights()
    return model


def create_model(name_or_kind: str, *, catalog: str | Path | None = None, **arch_overrides: Any) -> VideoEncoder:
    """Build a model by catalogue name (its architecture) or by kind (``"mae"``/``"vit"``, ViT-H/14 defaults).

    Overrides (``img_size``, ``patch_size``, ``num_frames``, ``t_patch_size``, ``embed_dim``,
    ``depth``, ``num_heads``, ``mlp_ratio``, ``decoder_*``, ``num_classes``) change the
    architecture; ``None`` values are ignored. Works under ``with torch.device("meta")``.
    """
    if name_or_kind in MODEL_KINDS:
        kind, arch = name_or_kind, Architecture()
    else:
        entry = _entry(name_or_kind, catalog)
        kind, arch = entry.kind, entry.arch
        if entry.head is not None and not arch_overrides:
            return build_entry(entry)
    try:
        arch = arch.with_overrides(**arch_overrides)
    except ValueError as exc:
        raise CatalogError(str(exc)) from None
    model = build(kind, arch)
    return model


def _entry(name: str, catalog: str | Path | None) -> ModelEntry:
    if catalog is not None:
        register_catalog(catalog)
    return default_catalog().get(name)


def load_model(
    name: str,
    *,
    checkpoint: str | Path | None = None,
    device: str | torch.device | None = "auto",
    dtype: str | torch.dtype | None = None,
    catalog: str | Path | None = None,
    force_download: bool = False,
    progress: bool = True,
) -> VideoEncoder:
    """Download (or reuse the cached file), build and load a catalogue model for inference.

    ``checkpoint`` takes a local file instead of the Hub. The model is built on the meta
    device and takes the memory-mapped tensors as they are, so loading costs about one copy
    of the weights and no random initialisation. It comes back in eval mode with frozen
    parameters, so calling it builds no autograd graph (call ``requires_grad_(True)`` to
    finetune). An entry exported by ``vidm probe`` (``head``) takes the backbone's file and the head's.
    ``model.entry`` is its catalogue entry; ``model.checkpoint_info`` says what the
    file held (its stored dtype: float16/bfloat16 weights are computed in float32).
    """
    entry = _entry(name, catalog)
    path = (
        Path(checkpoint)
        if checkpoint is not None
        else fetch_checkpoint(entry.source, force=force_download, progress=progress, name=entry.name)
    )
    with torch.device("meta"):
        model = build_entry(entry)
    local = checkpoint is not None or entry.source.local_path is not None  # the user's file, not the Hub's
    head = read_state_dict(entry.head.path, model=entry.name, local=True) if entry.head else None
    load_checkpoint(model, path, name=entry.name, local=local, extra=head)
    target_dtype = resolve_dtype(dtype)
    model = (
        model.to(device=resolve_device(device), dtype=target_dtype)
        if target_dtype
        else model.to(resolve_device(device))
    )
    model.eval().requires_grad_(False)
    model.entry = entry  # type: ignore[assignment]
    return model
