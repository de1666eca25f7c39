"""Running a model on a device: autocast for half precision, pinned non-blocking copies."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch
from torch import Tensor


def autocast(device: torch.device, dtype: torch.dtype | None) -> AbstractContextManager[object]:
    """bf16/fp16 autocast on CUDA (and bf16 on CPU); a no-op for float32 or no dtype.

    Weights stay float32 and matmuls run in the low precision, so LayerNorm and softmax keep
    float32 accuracy where autocast asks for it.
    """
    if dtype is None or dtype == torch.float32:
        return nullcontext()
    if device.type == "cpu" and dtype == torch.float16:
        raise ValueError("float16 is not supported on the CPU; use bfloat16 or float32")
    return torch.autocast(device_type=device.type, dtype=dtype)


def to_device(tensor: Tensor, device: torch.device) -> Tensor:
    """Copy to ``device``; from pinned memory the copy to CUDA overlaps compute (non-blocking)."""
    if device.type == "cuda":
        if not tensor.is_pinned():
            tensor = tensor.pin_memory()
        return tensor.to(device, non_blocking=True)
    return tensor.to(device)
