"""Where and how a model runs: the device (``LOCAL_RANK``'s GPU under torchrun), the compute
precision (autocast), and copies to the device (pinned, non-blocking).

Every command resolves ``--device`` and ``--dtype`` here, before any model is fetched, so a
device that is not there or a precision it cannot compute in is one clear line up front.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import torch
from torch import Tensor

from .errors import InvalidSetting

DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``auto``: this process's GPU under torchrun (``LOCAL_RANK``), else CUDA, then Apple MPS,
    then the CPU. A named device that this machine does not have is an ``InvalidSetting``."""
    if device is None or str(device) == "auto":
        if torch.cuda.is_available():
            return (
                torch.device("cuda", int(os.environ["LOCAL_RANK"]))
                if "LOCAL_RANK" in os.environ
                else torch.device("cuda")
            )
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise InvalidSetting(
            "device", f"unknown device {str(device)!r} ({exc}); use auto, cpu, cuda, cuda:N or mps"
        ) from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise InvalidSetting("device", f"{device}: this machine has no CUDA GPU that torch can use")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise InvalidSetting("device", f"{device}: there are {torch.cuda.device_count()} CUDA GPUs")
    if resolved.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise InvalidSetting("device", f"{device}: Apple MPS is not available here")
    return resolved


def resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype | None:
    """A torch dtype from a name like ``bfloat16``/``bf16``/``float16``/``float32`` (``None`` keeps the file's)."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    try:
        return DTYPES[str(dtype).lower()]
    except KeyError:
        raise InvalidSetting("dtype", f"unknown dtype {dtype!r}; use one of float32, float16, bfloat16") from None


def dtype_name(dtype: str | torch.dtype | None) -> str:
    """``float32``, ``bfloat16`` or ``float16`` for any name ``resolve_dtype`` takes (None: float32)."""
    resolved = resolve_dtype(dtype) or torch.float32
    return str(resolved).removeprefix("torch.")


def autocast(device: torch.device, dtype: torch.dtype | None) -> AbstractContextManager[object]:
    """bf16/fp16 autocast on CUDA (and bf16 on CPU); a no-op for float32 or no dtype.

    Weights stay float32 and matmuls run in the low precision, so LayerNorm and softmax keep
    float32 accuracy where autocast asks for it.
    """
    if dtype is None or dtype == torch.float32:
        return nullcontext()
    if device.type == "cpu" and dtype == torch.float16:
        raise InvalidSetting("dtype", "float16 is not supported on the CPU; use bfloat16 or float32")
    return torch.autocast(device_type=device.type, dtype=dtype)


def to_device(tensor: Tensor, device: torch.device) -> Tensor:
    """Copy to ``device``; from pinned memory the copy to CUDA overlaps compute (non-blocking)."""
    if device.type == "cuda":
        if not tensor.is_pinned():
            tensor = tensor.pin_memory()
        return tensor.to(device, non_blocking=True)
    return tensor.to(device)


@dataclass(frozen=True)
class Runtime:
    """A checked device and compute precision: everything a run needs to put batches through a model."""

    device: torch.device
    dtype: torch.dtype

    @classmethod
    def resolve(
        cls, device: str | torch.device | None = "auto", dtype: str | torch.dtype | None = "float32"
    ) -> Runtime:
        """The runtime for ``--device`` and ``--dtype``; an impossible pair fails here, before any work."""
        resolved = cls(resolve_device(device), resolve_dtype(dtype) or torch.float32)
        resolved.autocast()  # float16 on a CPU is refused now, not after the model is loaded
        return resolved

    def autocast(self) -> AbstractContextManager[object]:
        """The precision context for a forward pass."""
        return autocast(self.device, self.dtype)

    def to_device(self, tensor: Tensor) -> Tensor:
        """A batch on this runtime's device."""
        return to_device(tensor, self.device)

    def batch_size(self, requested: int | None, accelerated: int) -> int:
        """``requested``, else 1 on a CPU and ``accelerated`` on a GPU: a CPU is busy with one
        ViT-H clip (a bigger batch gains nothing there, and progress would move a batch at a time)."""
        if requested is not None:
            return requested
        return 1 if self.device.type == "cpu" else accelerated


def stored_dtype(model: torch.nn.Module | None) -> str | None:
    """The dtype a loaded model's checkpoint stores its weights in (``float16``...), when recorded."""
    info = getattr(model, "checkpoint_info", None)
    dtype = getattr(info, "dtype", None)
    return None if dtype is None else str(dtype).removeprefix("torch.")


def upcast_note(model: torch.nn.Module | None) -> str | None:
    """One line when the checkpoint's weights are stored in a lower precision than float32, which they run in."""
    dtype = stored_dtype(model)
    if dtype is None or dtype == "float32":
        return None
    return f"the checkpoint stores {dtype} weights; they are upcast to float32 (--dtype sets the compute precision)"
