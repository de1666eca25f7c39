"""Where the model looks: the CLS token's attention over every spatiotemporal patch.

``attention`` returns the softmax attention of the CLS query in one block, per head, laid out
on the token grid ``[B, heads, T/t, H/p, W/p]``. Only that one query row is computed, and not
even the keys are materialised: ``q_cls . (W_k x + b_k) = (W_k^T q_cls) . x + const``, and the
constant drops out of the softmax. Every other block keeps fused ``scaled_dot_product_attention``,
so the step that differs costs ``heads x N`` numbers instead of the ``heads x N x N`` matrix
(about 4.3 GB per clip at 448 px).

``attention_rollout`` is attention rollout (Abnar & Zuidema, 2020): per block the heads are
fused by their mean, the identity is added for the residual path and rows are renormalised
(each row of ``mean + I`` sums to exactly 2), the blocks' matrices are multiplied and the CLS
row of the product is read out. Only that row is ever needed, so it is carried backwards
through the blocks as a vector (``row @ A_L @ ... @ A_1``), a few hundred query rows at a time:
no ``N x N`` matrix is built and no ``N^3`` product is paid. The price is keeping every block's
input tokens: ``depth x N x C`` floats (1.3 GB per clip for ViT-H/14 at 448 px, 0.34 GB at 224).

``threshold_mask`` is DINO's way of showing a map: the smallest set of patches holding a given
fraction of the attention mass.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import Tensor

from ..models.video_vit import Attention, Block, VideoEncoder, linear_fp32

# Query rows per chunk in rollout: at most this many attention weights (x 4 bytes) alive at once.
ROLLOUT_CHUNK_ELEMENTS = 1 << 24


def _batch(frames: Tensor) -> Tensor:
    if frames.ndim == 4:
        return frames.unsqueeze(0)
    if frames.ndim != 5:
        raise ValueError(f"expected a clip [3, T, H, W] or a batch [B, 3, T, H, W], got {list(frames.shape)}")
    return frames


def _tokens_before(model: VideoEncoder, batch: Tensor, index: int) -> Tensor:
    """Input tokens of block ``index`` (``[B, 1 + L, C]``), through fused attention."""
    return model.embed(batch) if index == 0 else model.forward_tokens(batch, layer=index - 1)


def cls_row(model: VideoEncoder, frames: Tensor, layer: int = -1, *, rollout: bool = False) -> Tensor:
    """The CLS row over CLS and patches, ``[B, heads, 1 + L]`` (rollout: ``[B, 1, 1 + L]``); each row sums to 1.

    Block ``layer``'s softmax attention, or with ``rollout`` the rollout through blocks 0..``layer``.
    An MAE is run as its encoder on every token (no masking).
    """
    batch = _batch(frames)
    index = model.block_index(layer)
    with torch.inference_mode():
        if rollout:
            return _rollout_row(model, batch, index).unsqueeze(1)
        block = cast(Block, model.blocks[index])
        return block.attn.cls_attention(block.norm1(_tokens_before(model, batch, index)))


def _on_grid(model: VideoEncoder, row: Tensor) -> Tensor:
    t, h, w = model.arch.grid
    return row[..., 1:].reshape(*row.shape[:-1], t, h, w)


def attention(model: VideoEncoder, frames: Tensor, layer: int = -1) -> Tensor:
    """CLS-to-patch softmax attention of block ``layer`` per head: ``[B, heads, T/t, H/p, W/p]`` float32.

    ``frames`` is a normalized clip ``[3, T, H, W]`` or batch ``[B, 3, T, H, W]``. Each head's
    values plus its CLS-to-CLS weight sum to 1 (see :func:`cls_row` for that weight).
    """
    return _on_grid(model, cls_row(model, frames, layer))


def attention_rollout(model: VideoEncoder, frames: Tensor, layer: int = -1) -> Tensor:
    """CLS row of attention rollout through blocks 0..``layer``, on the patch grid: ``[B, 1, T/t, H/p, W/p]``.

    Heads are fused by their mean in every block (the one head-fusion rule of the original
    method); values plus the CLS's own share sum to 1.
    """
    return _on_grid(model, cls_row(model, frames, layer, rollout=True))


def _rollout_row(model: VideoEncoder, batch: Tensor, index: int) -> Tensor:
    """``e_0 @ R_index @ ... @ R_0`` with ``R = (mean_heads(A) + I) / 2``, carried backwards: ``[B, N]``."""
    inputs: list[Tensor] = []
    tokens = model.embed(batch)
    for block in model.blocks[: index + 1]:
        inputs.append(tokens)
        tokens = block(tokens)
    del tokens
    row = torch.zeros(batch.shape[0], inputs[0].shape[1], device=batch.device)
    row[:, 0] = 1.0
    blocks = [cast(Block, b) for b in model.blocks[: index + 1]]
    for block, x in zip(reversed(blocks), reversed(inputs)):
        row = 0.5 * (row + _row_times_mean_attention(block.attn, block.norm1(x), row))
    return row


def _row_times_mean_attention(attn: Attention, x: Tensor, row: Tensor) -> Tensor:
    """``row @ mean_heads(softmax(q k^T / sqrt(d)))`` for normed tokens ``x``, a chunk of query rows at a time."""
    b, n, c = x.shape
    heads, dim = attn.num_heads, attn.head_dim
    with torch.autocast(device_type=x.device.type, enabled=False):
        q = linear_fp32(attn.q, x).view(b, n, heads, dim).transpose(1, 2) * attn.scale  # [B, h, N, d]
        k = linear_fp32(attn.k, x).view(b, n, heads, dim).transpose(1, 2)
        out = torch.zeros_like(row)
        chunk = max(1, ROLLOUT_CHUNK_ELEMENTS // (b * heads * n))
        for start in range(0, n, chunk):
            weights = (q[:, :, start : start + chunk] @ k.transpose(-2, -1)).softmax(dim=-1)  # [B, h, c, N]
            out += torch.einsum("bc,bhcn->bn", row[:, start : start + chunk], weights)
        return out / heads


def threshold_mask(maps: Tensor, fraction: float) -> Tensor:
    """DINO-style mask: per map, the smallest set of patches holding ``fraction`` of its attention mass.

    ``maps`` is ``[..., T/t, H/p, W/p]``; each map (everything but the last three dimensions
    indexes maps, so a head's map spans the whole clip) is renormalised to sum 1 over its
    patches (the CLS's own share left out), patches are taken from the largest down until
    their mass reaches ``fraction``. Returns a boolean mask of the same shape.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"the threshold must be a fraction in (0, 1], got {fraction}")
    flat = maps.detach().float().flatten(-3)
    flat = flat / flat.sum(dim=-1, keepdim=True).clamp_min(torch.finfo(torch.float32).tiny)
    values, order = flat.sort(dim=-1, descending=True)
    before = values.cumsum(dim=-1) - values  # mass of the larger patches
    keep = torch.zeros_like(flat, dtype=torch.bool).scatter(-1, order, before < fraction)
    return keep.view(maps.shape)


def parse_heads(spec: str, num_heads: int) -> tuple[int, ...] | None:
    """``mean`` -> None (their mean), ``all`` -> every head, ``3,7`` -> those heads (checked against ``num_heads``)."""
    text = spec.strip().lower()
    if text == "mean":
        return None
    if text == "all":
        return tuple(range(num_heads))
    try:
        heads = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"{spec!r}: use mean, all or head numbers like 3,7") from None
    wrong = [h for h in heads if not 0 <= h < num_heads]
    if wrong:
        raise ValueError(f"no head {wrong[0]}: the model has {num_heads} heads (0..{num_heads - 1})")
    return heads


def head_rows(maps: Tensor, heads: tuple[int, ...] | None) -> Tensor:
    """The maps to show from ``[B, heads, ...]``: the chosen heads, or their mean as one row (``heads=None``)."""
    if heads is None:
        return maps.mean(dim=1, keepdim=True)
    return maps[:, list(heads)]
