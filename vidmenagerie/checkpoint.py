"""Reading published checkpoints safely and lean, and fitting them to a model strictly.

Files are opened with ``torch.load(weights_only=True, mmap=True)``: no pickled code runs, and
tensors stay backed by the file until used. Training-style files (``optimizer``, ``epoch``,
``scaler``, ``args`` as an ``argparse.Namespace``) load too: ``Namespace`` is the one class
allow-listed beyond torch's defaults, because it only holds plain values.
"""

from __future__ import annotations

import argparse
import pickle
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .errors import CheckpointError

StateDict = dict[str, Tensor]
_SAFE_GLOBALS: list[Any] = [argparse.Namespace]
_MAX_KEYS_SHOWN = 6


def read_state_dict(path: str | Path, *, model: str | None = None) -> StateDict:
    """The model state dict inside a checkpoint file (the ``"model"`` entry, or the file itself);
    ``model`` names the catalogue model it is for (errors carry it, so the CLI can say how to repair)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found", path=str(path), model=model)
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: checkpoint file is empty", path=str(path), damaged=True, model=model)
    try:
        with torch.serialization.safe_globals(_SAFE_GLOBALS):
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=_is_zip(path))
    except pickle.UnpicklingError as exc:
        reason = str(exc)
        if "Unsupported global" in reason or "weights_only" in reason.lower():
            glob = _unsupported_global(reason)
            raise CheckpointError(
                f"{path}: refusing to load: the file would run pickled code ({glob}); "
                "only plain tensor checkpoints are accepted",
                path=str(path),
                model=model,
            ) from exc
        message = f"{path}: not a readable checkpoint ({_first_line(reason)})"
        raise CheckpointError(message, path=str(path), damaged=True, model=model) from exc
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        message = f"{path}: checkpoint is truncated or corrupt ({_first_line(str(exc))})"
        raise CheckpointError(message, path=str(path), damaged=True, model=model) from exc
    return _model_entry(obj, path)


def _is_zip(path: Path) -> bool:
    """torch's zip format supports mmap; the legacy tar/pickle format does not."""
    return zipfile.is_zipfile(path)


def _unsupported_global(reason: str) -> str:
    """The offending class or function named in torch's weights-only error, if it names one."""
    match = re.search(r"(?:Unsupported global: GLOBAL|unsupported GLOBAL) ([\w.]+)", reason)
    return match.group(1) if match else "an object outside the weights-only allow-list"


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return line[:200]


def _model_entry(obj: object, path: Path) -> StateDict:
    if isinstance(obj, Mapping) and "model" in obj and isinstance(obj["model"], Mapping):
        obj = obj["model"]
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: holds no model state dict (expected a dict of tensors or {{'model': ...}})")
    return {str(k): v for k, v in obj.items()}


def check_fit(model: nn.Module, state_dict: Mapping[str, Tensor], source: str) -> None:
    """Raise a :class:`CheckpointError` naming missing, unexpected and mis-shaped keys."""
    own = {k: v.shape for k, v in model.state_dict(keep_vars=True).items()}
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    wrong = sorted(
        f"{k} {list(state_dict[k].shape)} vs model {list(own[k])}"
        for k in set(own) & set(state_dict)
        if tuple(state_dict[k].shape) != tuple(own[k])
    )
    problems = []
    for label, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatch", wrong)):
        if keys:
            shown = ", ".join(keys[:_MAX_KEYS_SHOWN]) + (
                f" (+{len(keys) - _MAX_KEYS_SHOWN} more)" if len(keys) > _MAX_KEYS_SHOWN else ""
            )
            problems.append(f"{label}: {shown}")
    if problems:
        raise CheckpointError(f"{source}: checkpoint does not fit the model: " + "; ".join(problems))


def load_checkpoint(
    model: nn.Module, checkpoint: str | Path | Mapping[str, Tensor], *, name: str | None = None
) -> nn.Module:
    """Load a checkpoint file or state dict into ``model`` strictly and return the model.

    A model built on the meta device takes the tensors as they are (``assign=True``: no copy,
    no random initialisation); a materialised model copies them into its own parameters.
    """
    if isinstance(checkpoint, Mapping):
        state_dict, source = dict(checkpoint), "state dict"
    else:
        state_dict, source = read_state_dict(checkpoint, model=name), str(checkpoint)
    keep = getattr(model, "checkpoint_filter", None)  # the model says which entries it takes
    if keep is not None:
        state_dict = keep(state_dict)
    check_fit(model, state_dict, source)
    on_meta = any(p.is_meta for p in model.parameters())
    model.load_state_dict(state_dict, strict=True, assign=on_meta)
    return model
