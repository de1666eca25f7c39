"""Reading published checkpoints safely and lean, checking them once, and fitting them to a model strictly.

Files are opened with ``torch.load(weights_only=True, mmap=True)``: no pickled code runs, and
tensors stay backed by the file until used. Training-style files (``optimizer``, ``epoch``,
``scaler``, ``args`` as an ``argparse.Namespace``) load too: ``Namespace`` is the one class
allow-listed beyond torch's defaults, because it only holds plain values.

Before a file is trusted its first bytes must say torch wrote it (a zip archive, or a pickle),
and the first time a version of it is read its zip CRC-32s and the finiteness of its weights
are checked (``verify.py``, remembered per path, size and mtime). Every failure is a one-line
:class:`CheckpointError` naming the file; ``local=True`` marks a file the user provides (a
catalogue ``local_path`` or ``--checkpoint``), which downloading cannot repair.
"""

from __future__ import annotations

import argparse
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from . import verify
from .errors import CheckpointError

StateDict = dict[str, Tensor]
_SAFE_GLOBALS: list[Any] = [argparse.Namespace]
_MAX_KEYS_SHOWN = 6
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_MAGIC = b"\x80"  # pickle protocol 2+: torch's legacy format starts with one
_CODE = re.compile(r"unsupported global|Can only (create new object|build)", re.IGNORECASE)


@dataclass(frozen=True)
class CheckpointInfo:
    """What a model was loaded from: file (None for a state dict), stored dtype, size, SHA-256 when verified."""

    path: str | None
    dtype: str | None  # of most floating-point weights in the file, e.g. "float16"; the model computes in float32
    size_bytes: int | None
    sha256: str | None = None  # checked against the Hub's LFS hash after the download; None if never hashed


def read_state_dict(path: str | Path, *, model: str | None = None, local: bool = False) -> StateDict:
    """The model state dict inside a checkpoint file (the ``"model"`` entry, or the file itself);
    ``model`` names the catalogue model it is for (errors carry it, so the CLI can say how to repair)."""
    return read_checkpoint(path, model=model, local=local)[0]


def read_checkpoint(
    path: str | Path, *, model: str | None = None, local: bool = False
) -> tuple[StateDict, CheckpointInfo]:
    """The state dict in a checkpoint file and what it is, verified on the first read of this file version."""
    path = Path(path)

    def refuse(reason: str, *, damaged: bool = True) -> CheckpointError:
        return CheckpointError(f"{path}: {reason}", path=str(path), damaged=damaged, model=model, local=local)

    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found", path=str(path), model=model, local=local)
    stamp = verify.FileStamp.of(path)
    if stamp.size == 0:
        raise refuse("checkpoint file is empty")
    is_zip = _format(path, refuse)
    known = verify.recall(stamp)
    if is_zip and not known:
        problem = verify.zip_crc_problem(path)
        if problem is not None:
            raise refuse(f"checkpoint is {problem}")
    state_dict = _model_entry(_load(path, is_zip, refuse), path, refuse)
    if "dtype" not in known:  # values not checked yet for this file version
        _refuse_non_finite(state_dict, refuse)
        known = {**known, "dtype": verify.stored_dtype(state_dict)}
        verify.remember(stamp, dtype=known["dtype"])
    return state_dict, CheckpointInfo(str(path), known["dtype"], stamp.size, known.get("sha256"))


def checkpoint_dtype(path: str | Path) -> str | None:
    """The dtype most weights in a file are stored in, from its lazily opened index (no weight is read).

    None when it cannot tell: a legacy file (it cannot be opened lazily) or an unreadable one,
    which says what is wrong when it is loaded.
    """
    path = Path(path)
    try:
        if not _is_zip(path):
            return None
        with torch.serialization.safe_globals(_SAFE_GLOBALS):
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        return verify.stored_dtype(_model_entry(obj, path, CheckpointError))
    except Exception:
        return None


def _is_zip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == _ZIP_MAGIC


def _format(path: Path, refuse: Any) -> bool:
    """Whether ``path`` is a zip checkpoint (else a legacy pickle one); anything else is refused by its looks."""
    try:
        with path.open("rb") as f:
            head = f.read(512)
    except OSError as exc:
        raise refuse(f"cannot read the checkpoint ({exc.strerror or exc})", damaged=False) from exc
    if head.startswith(_ZIP_MAGIC):
        return True
    if head.startswith(_PICKLE_MAGIC):
        return False
    raise refuse(f"not a PyTorch checkpoint ({_looks_like(head)})")


def _looks_like(head: bytes) -> str:
    """A guess at what a non-checkpoint file is, from its first bytes."""
    if head.startswith(b"version https://git-lfs"):
        return "a Git LFS pointer, not the weights"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c.isspace() for c in text):
        return "an HTML page?" if text.lstrip().lower().startswith(("<!doctype html", "<html")) else "a text file?"
    if head.startswith(b"PK"):
        return "a zip archive, but not one torch wrote"
    return f"unknown format, starts with {head[:4].hex(' ')}"


def _load(path: Path, is_zip: bool, refuse: Any) -> object:
    """``torch.load`` under the weights-only rules; every failure becomes a :class:`CheckpointError`."""
    try:
        with torch.serialization.safe_globals(_SAFE_GLOBALS):
            return torch.load(path, map_location="cpu", weights_only=True, mmap=is_zip)
    except pickle.UnpicklingError as exc:
        reason = str(exc)
        if _CODE.search(reason):  # a class or function outside the allow-list: the file is not damaged
            glob = _unsupported_global(reason)
            raise refuse(
                f"refusing to load: the file would run pickled code ({glob}); "
                "only plain tensor checkpoints are accepted",
                damaged=False,
            ) from exc
        detail = re.search(r"WeightsUnpickler error:\s*(.+)", reason)  # garbage reads as unknown opcodes
        raise refuse(f"checkpoint is truncated or corrupt ({_first_line(detail[1] if detail else reason)})") from exc
    except MemoryError:
        raise
    except Exception as exc:  # torch raises many kinds on a damaged file: each is one line naming it
        raise refuse(f"checkpoint is truncated or corrupt ({type(exc).__name__}: {_first_line(str(exc))})") from exc


def _refuse_non_finite(state_dict: Mapping[str, Tensor], refuse: Any) -> None:
    bad = verify.non_finite_keys(state_dict)
    if bad:
        raise refuse(f"holds NaN or infinite weights in {_shown(bad)}: refusing to load", damaged=False)


def _unsupported_global(reason: str) -> str:
    """The offending class or function named in torch's weights-only error, if it names one."""
    match = re.search(r"(?:Unsupported global: GLOBAL|unsupported GLOBAL) ([\w.]+)", reason)
    return match.group(1) if match else "an object outside the weights-only allow-list"


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return line[:200]


def _model_entry(obj: object, path: Path, refuse: Any) -> StateDict:
    if isinstance(obj, Mapping) and "model" in obj and isinstance(obj["model"], Mapping):
        obj = obj["model"]
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, Tensor) for v in obj.values()):
        raise refuse("holds no model state dict (expected a dict of tensors or {'model': ...})", damaged=False)
    return {str(k): v for k, v in obj.items()}


def _shown(keys: list[str]) -> str:
    """The first few keys, and how many more."""
    more = f" (+{len(keys) - _MAX_KEYS_SHOWN} more)" if len(keys) > _MAX_KEYS_SHOWN else ""
    return ", ".join(keys[:_MAX_KEYS_SHOWN]) + more


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
            problems.append(f"{label}: {_shown(keys)}")
    if problems:
        raise CheckpointError(f"{source}: checkpoint does not fit the model: " + "; ".join(problems))


def load_checkpoint(
    model: nn.Module,
    checkpoint: str | Path | Mapping[str, Tensor],
    *,
    name: str | None = None,
    local: bool = False,
    extra: Mapping[str, Tensor] | None = None,
) -> nn.Module:
    """Load a checkpoint file or state dict into ``model`` strictly and return the model.

    ``extra`` holds entries from a second file (an exported probe's head), added after the model's
    checkpoint filter; the union must fit the model exactly, as a single file must.

    A model built on the meta device takes the tensors as they are (``assign=True``: no copy,
    no random initialisation); a materialised model copies them into its own parameters.
    Weights stored in another precision (float16, bfloat16) are converted to the model's
    (float32); ``model.checkpoint_info`` (a :class:`CheckpointInfo`) records what the file held.
    ``name`` and ``local`` only shape errors: the catalogue model, and whether the file is the
    user's own (downloading cannot repair it).
    """
    if isinstance(checkpoint, Mapping):
        state_dict, source = dict(checkpoint), "state dict"
        bad = verify.non_finite_keys(state_dict)
        if bad:
            raise CheckpointError(f"state dict holds NaN or infinite weights in {_shown(bad)}: refusing to load")
        info = CheckpointInfo(None, verify.stored_dtype(state_dict), None)
    else:
        state_dict, info = read_checkpoint(checkpoint, model=name, local=local)
        source = str(checkpoint)
    keep = getattr(model, "checkpoint_filter", None)  # the model says which entries it takes
    if keep is not None:
        state_dict = keep(state_dict)
    if extra:
        clash = sorted(set(extra) & set(state_dict))
        if clash:
            raise CheckpointError(f"{source}: the head file and the checkpoint both hold {_shown(clash)}")
        state_dict = {**state_dict, **extra}
    check_fit(model, state_dict, source)
    own = model.state_dict(keep_vars=True)
    state_dict = {
        k: v.to(own[k].dtype) if v.is_floating_point() and own[k].is_floating_point() and v.dtype != own[k].dtype else v
        for k, v in state_dict.items()
    }
    on_meta = any(p.is_meta for p in model.parameters())
    model.load_state_dict(state_dict, strict=True, assign=on_meta)
    model.checkpoint_info = info  # type: ignore[assignment]  # a plain attribute, read by runs and reports
    return model
