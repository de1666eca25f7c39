"""MAE video completion: hide part of a clip, let the model fill it in, measure how well it did.

The encoder sees only the visible tokens and the decoder predicts every token's pixels in
the normalized input space. These checkpoints were trained without per-patch
normalisation, so predictions are used as they come: never rescaled with the hidden
patches' own statistics (that would leak the answer).
"""

from __future__ import annotations

import math
import os
import zlib
from dataclasses import dataclass

import torch
from torch import Tensor

from ..models.video_vit import MaskedAutoencoder, visible_indices
from ..preprocess import Preprocessing
from .masking import make_mask


@dataclass(frozen=True)
class Completion:
    """Result of :func:`complete`; videos are ``[B, 3, T, H, W]`` in the normalized input space.

    ``masked`` is the original with hidden patches zeroed and ``completion`` the prediction on
    hidden patches with the original elsewhere (both as in the reference code);
    ``prediction`` is the raw decoder output everywhere; ``mask`` is ``[B, T/t, H/p, W/p]``
    (True = hidden) and ``pixel_mask`` the same at pixel resolution ``[B, T, H, W]``.
    """

    original: Tensor
    masked: Tensor
    completion: Tensor
    prediction: Tensor
    mask: Tensor
    pixel_mask: Tensor

    @property
    def loss(self) -> Tensor:
        """Per-clip mean squared error over hidden pixels in the normalized space (the training loss)."""
        return _masked_mean((self.prediction - self.original) ** 2, self.pixel_mask)


def complete(
    model: MaskedAutoencoder,
    frames: Tensor,
    mask: str | Tensor = "center",
    ratio: float = 0.25,
    seed: int | None = None,
) -> Completion:
    """Complete a normalized clip ``[3, T, H, W]`` or batch ``[B, 3, T, H, W]`` with an MAE.

    ``mask`` is a rule (``random``, ``temporal``, ``center``, ``tube``) or an explicit boolean
    ``[B, L]`` token mask; ``seed`` makes ``random``/``tube`` masks repeatable.
    """
    if not isinstance(model, MaskedAutoencoder):
        raise TypeError("completion needs an MAE model (kind 'mae'), not a plain encoder")
    batch = frames.unsqueeze(0) if frames.ndim == 4 else frames
    grid = model.arch.grid
    if isinstance(mask, str):
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        token_mask = make_mask(mask, ratio, grid, batch=batch.shape[0], generator=generator)
    else:
        token_mask = mask
    token_mask = token_mask.to(batch.device)
    keep = visible_indices(token_mask)
    with torch.inference_mode():
        tokens = model.decode(model.encode(batch, keep), keep)
        prediction = model.unpatchify(tokens.float())
    original = batch.float()
    pixel_mask = token_mask_to_pixels(token_mask, model)
    hidden = pixel_mask.unsqueeze(1)
    return Completion(
        original=original,
        masked=torch.where(hidden, torch.zeros_like(original), original),
        completion=torch.where(hidden, prediction, original),
        prediction=prediction,
        mask=token_mask.view(batch.shape[0], *grid),
        pixel_mask=pixel_mask,
    )


def token_mask_to_pixels(token_mask: Tensor, model: MaskedAutoencoder) -> Tensor:
    """``[B, L]`` token mask to ``[B, T, H, W]`` pixels (each token covers t x p x p pixels)."""
    a = model.arch
    t, h, w = a.grid
    grid_mask = token_mask.view(-1, t, h, w)
    return (
        grid_mask.repeat_interleave(a.t_patch_size, 1)
        .repeat_interleave(a.patch_size, 2)
        .repeat_interleave(a.patch_size, 3)
    )


def _masked_mean(values: Tensor, pixel_mask: Tensor) -> Tensor:
    """Mean of ``[B, 3, T, H, W]`` values over the hidden pixels of each clip: ``[B]``."""
    weights = pixel_mask.unsqueeze(1).expand_as(values).float()
    return (values * weights).flatten(1).sum(1) / weights.flatten(1).sum(1).clamp_min(1)


@dataclass(frozen=True)
class CompletionScore:
    """Error over the hidden pixels of one clip, in true-colour pixel space ([0, 1], prediction clamped)."""

    mse: float
    psnr: float
    loss: float  # normalized space, comparable to the MAE training loss


def scores(result: Completion, preprocessing: Preprocessing) -> list[CompletionScore]:
    """MSE and PSNR over hidden pixels per clip, with the entry's mean/std undone."""
    mean = torch.tensor(preprocessing.mean, device=result.original.device).view(1, 3, 1, 1, 1)
    std = torch.tensor(preprocessing.std, device=result.original.device).view(1, 3, 1, 1, 1)
    truth = (result.original * std + mean).clamp(0, 1)
    guess = (result.prediction * std + mean).clamp(0, 1)
    mse = _masked_mean((guess - truth) ** 2, result.pixel_mask)
    loss = result.loss
    return [CompletionScore(mse=float(m), psnr=psnr(float(m)), loss=float(lo)) for m, lo in zip(mse.cpu(), loss.cpu())]


def psnr(mse: float) -> float:
    """Peak signal-to-noise ratio in dB for pixels in [0, 1] (infinite for a perfect match)."""
    return math.inf if mse <= 0 else 10.0 * math.log10(1.0 / mse)


def video_seed(seed: int, name: str) -> int:
    """A per-video mask seed: stable for a video whatever the batch or the other videos."""
    return (seed * 1_000_003 + zlib.crc32(os.fsencode(name))) % (2**63)  # a name's bytes, UTF-8 or not
