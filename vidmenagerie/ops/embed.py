"""Features of clips: the encoder's pooled output at any block, and the class scores of finetuned models.

``embed(model, frames)`` is the library call (``[B, dim]``, or ``[B, tokens, dim]`` for
``pool="tokens"``); :func:`embed_batch` runs the encoder once and returns the features and, for
a finetuned ``vit``, the head's logits as well (so ``--logits`` costs no second pass).
Pooling follows the reference: every pooled feature goes through the model's final LayerNorm.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    """One batch's output: ``features`` and, when asked of a finetuned model, the head's ``logits``.

    ``features`` is ``[B, *shape]`` for one layer, ``[B, layers, *shape]`` for a list of layers.
    """

    features: Tensor
    logits: Tensor | None = None


def embed_batch(
    model: VideoEncoder, frames: Tensor, pool: str = "cls", layer: int | Sequence[int] = -1, *, logits: bool = False
) -> Embedding:
    """Features of a clip batch ``[B, 3, T, S, S]`` at block ``layer`` (or at every block of a list,
    stacked on dim 1) and (``logits=True``) the class scores, all in ONE pass of the encoder.

    Runs under ``torch.inference_mode``; ``frames`` go to the model's device and dtype first.
    """
    pooled = check_pool(pool)
    if logits and not has_head(model):
        raise ValueError("logits need a finetuned vit model (one with a classification head)")
    layers = [layer] if isinstance(layer, int) else list(layer)
    if not layers:
        raise ValueError("no layer asked")
    param = next(model.parameters())
    with torch.inference_mode():
        x = frames.to(device=param.device, dtype=param.dtype, non_blocking=True)
        if logits:  # the head reads the last block's feature (its head_pool: cls), taken in the same pass
            assert isinstance(model, VisionTransformer)
            heads = [pooled] * len(layers) + [model.head_pool]
            *at_layers, last = model.forward_layers(x, [*layers, -1], heads)
            scores: Tensor | None = model.forward_head(last)
        else:
            at_layers, scores = model.forward_layers(x, layers, pooled), None
        features = at_layers[0] if isinstance(layer, int) else torch.stack(at_layers, dim=1)
        return Embedding(features, scores)


def embed(model: VideoEncoder, frames: Tensor, pool: str = "cls", layer: int | Sequence[int] = -1) -> Tensor:
    """Clip features: ``[B, dim]`` (``cls``, ``mean``) or ``[B, tokens, dim]`` (``tokens``), from block ``layer``
    (a list of blocks: ``[B, layers, ...]``, from one pass).

    ``cls`` is the final LayerNorm of the CLS token (a ``vit`` model's own feature, before any
    head); ``mean`` the final LayerNorm of the mean patch token; ``tokens`` every patch token,
    normed. An ``mae`` model is used as a plain encoder (no masking).
    """
    return embed_batch(model, frames, pool, layer).features
