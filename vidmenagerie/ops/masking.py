"""Which tokens an MAE hides: random, temporal (the end), center (the middle) and tube masks.

Masks are boolean ``[B, L]`` tensors over time-major tokens, True = hidden. The rules follow
the reference code: ``keep = int(L * (1 - ratio))`` tokens stay visible; ``temporal`` keeps the
first ``keep`` tokens, ``center`` keeps the first and last ``keep / 2`` and hides the middle,
``random`` keeps ``keep`` tokens chosen by sorting uniform noise.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor

MaskType = Literal["random", "temporal", "center", "tube"]
MASK_TYPES: tuple[str, ...] = get_args(MaskType)


def num_visible(num_tokens: int, ratio: float) -> int:
    """Tokens left visible at a masking ratio, exactly as the reference computes it."""
    return int(num_tokens * (1 - ratio))


def check_ratio(ratio: float) -> None:
    """Reject ratios outside the open interval (0, 1) with a clear message."""
    if not 0.0 < ratio < 1.0:
        raise ValueError(f"mask ratio must be strictly between 0 and 1, got {ratio}")


def make_mask(
    kind: str,
    ratio: float,
    grid: tuple[int, int, int],
    *,
    batch: int = 1,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """A ``[batch, t*h*w]`` boolean mask (True = hidden) for the token grid ``(t, h, w)``."""
    if kind not in MASK_TYPES:
        raise ValueError(f"mask must be one of {', '.join(MASK_TYPES)}; got {kind!r}")
    check_ratio(ratio)
    t, h, w = grid
    length = t * h * w
    if kind == "tube":
        spatial = _random_mask(batch, h * w, num_visible(h * w, ratio), generator)
        mask = spatial.unsqueeze(1).expand(batch, t, h * w).reshape(batch, length)
    elif kind == "random":
        mask = _random_mask(batch, length, num_visible(length, ratio), generator)
    else:
        keep = num_visible(length, ratio)
        mask = torch.ones(length, dtype=torch.bool)
        if kind == "temporal":
            mask[:keep] = False
        else:  # center: the front gets the odd token, as a stable sort of the reference's noise does
            front = keep - keep // 2
            mask[:front] = False
            mask[length - keep // 2 :] = False
        mask = mask.expand(batch, length).clone()
    return mask.to(device) if device is not None else mask


def _random_mask(batch: int, length: int, keep: int, generator: torch.Generator | None) -> Tensor:
    noise = torch.rand(batch, length, generator=generator)
    order = torch.argsort(noise, dim=1)
    mask = torch.ones(batch, length, dtype=torch.bool)
    mask.scatter_(1, order[:, :keep], False)
    return mask
