"""The whole softmax attention matrix, the plain way: the definition ``vm.attention`` is held to."""

from __future__ import annotations

import torch
from torch import Tensor


def full_attention(attn: torch.nn.Module, x: Tensor) -> Tensor:
    """``softmax(q k^T * scale)`` of an ``Attention`` block on tokens ``x``: ``[B, heads, N, N]``."""
    b, n, c = x.shape
    heads = attn.num_heads  # type: ignore[attr-defined]
    q = attn.q(x).view(b, n, heads, c // heads).transpose(1, 2)  # type: ignore[operator]
    k = attn.k(x).view(b, n, heads, c // heads).transpose(1, 2)  # type: ignore[operator]
    return ((q.float() * attn.scale) @ k.float().transpose(-2, -1)).softmax(dim=-1)  # type: ignore[operator]
