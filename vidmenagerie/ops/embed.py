"""Features of clips: the encoder's pooled output at any block, and the class scores of finetuned models.

``embed(model, frames)`` is the library call (``[B, dim]``, or ``[B, tokens, dim]`` for
``pool="tokens"``); :func:`embed_batch` runs the encoder once and returns the features and, for
a finetuned ``vit``, the head's logits as well (so ``--logits`` costs no second pass).
Pooling follows the reference: every pooled feature goes through the model's final LayerNorm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import torch
from torch import Tensor

from ..models.video_vit import VideoEncoder, VisionTransformer

Pool = Literal["cls", "mean", "tokens"]
POOLS: tuple[str, ...] = get_args(Pool)


def check_pool(pool: str) -> Pool:
    """``pool`` itself when it is ``cls``, ``mean`` or ``tokens``; a ValueError naming the choices otherwise."""
    if pool not in POOLS:
        raise ValueError(f"pool must be one of {', '.join(POOLS)}, got {pool!r}")
    return pool  # type: ignore[return-value]


def has_head(model: VideoEncoder) -> bool:
    """Whether the model is a finetuned ``vit`` with a classification head."""
    return isinstance(model, VisionTransformer) and model.has_head


@dataclass(frozen=True)
class Embedding:
    """One batch's output: ``features`` and, when asked of a finetuned model, the head's ``logits``."""

    features: Tensor
    logits: Tensor | None = None


def embed_batch(
    model: VideoEncoder, frames: Tensor, pool: str = "cls", layer: int = -1, *, logits: bool = False
) -> Embedding:
    """Features of a clip batch ``[B, 3, T, S, S]`` and (``logits=True``) the class scores, in one pass.

    Runs under ``torch.inference_mode``; ``frames`` go to the model's device and dtype first.
    """
    pooled = check_pool(pool)
    if logits and not has_head(model):
        raise ValueError("logits need a finetuned vit model (one with a classification head)")
    param = next(model.parameters())
    with torch.inference_mode():
        x = frames.to(device=param.device, dtype=param.dtype, non_blocking=True)
        if not logits:
            return Embedding(model.forward_features(x, pooled, layer))
        assert isinstance(model, VisionTransformer)
        at_layer, last = model.forward_intermediates(x, layer)
        return Embedding(model.pool(at_layer, pooled), model.forward_head(model.pool(last, model.head_pool)))


def embed(model: VideoEncoder, frames: Tensor, pool: str = "cls", layer: int = -1) -> Tensor:
    """Clip features: ``[B, dim]`` (``cls``, ``mean``) or ``[B, tokens, dim]`` (``tokens``), from block ``layer``.

    ``cls`` is the final LayerNorm of the CLS token (a ``vit`` model's own feature, before any
    head); ``mean`` the final LayerNorm of the mean patch token; ``tokens`` every patch token,
    normed. An ``mae`` model is used as a plain encoder (no masking).
    """
    return embed_batch(model, frames, pool, layer).features
