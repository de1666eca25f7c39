"""The best linear probe as a vidm model: ``DIR/head/head.pth`` (the head, standardization folded in),
``labels.json`` (the class names) and ``catalog.toml`` (an entry naming the backbone's checkpoint, its
architecture and input recipe, the block and the pooling), so ``vidm classify --catalog
DIR/head/catalog.toml --model NAME`` and ``vidm evaluate`` run it.

Folding: the probe computes ``W ((x - mu) / sigma) + b``; the head holds ``W' = W / sigma`` and
``b' = b - W' mu`` (computed in float64, stored in float32), which is the same affine map of ``x``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..batch.outputs import atomic_path
from ..catalog import ModelEntry
from ..feature_store import EmbedSettings
from .linear import LinearFit

HEAD_DIR = "head"
ENCODER_FIELDS = ("img_size", "patch_size", "num_frames", "t_patch_size", "in_chans", "embed_dim", "depth",
                  "num_heads", "mlp_ratio", "norm_eps")  # fmt: skip


def head_name(model: str, block: int, pool: str) -> str:
    """The exported model's default name: ``vit_s_none.probe-L8-cls``."""
    return f"{model}.probe-L{block}-{pool}"


def export_head(
    folder: Path,
    fit: LinearFit,
    *,
    name: str,
    entry: ModelEntry,
    settings: EmbedSettings,
    block: int,
    class_names: Sequence[str],
    description: str,
) -> Path:
    """Write ``folder/head/`` for ``fit`` on ``block`` of ``entry`` (features as ``settings`` made them);
    returns the catalogue file."""
    import torch

    target = folder / HEAD_DIR
    target.mkdir(parents=True, exist_ok=True)
    weight, bias = fit.folded()
    state = {
        "head.weight": torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32)),
        "head.bias": torch.from_numpy(np.ascontiguousarray(bias, dtype=np.float32)),
    }
    with atomic_path(target / "head.pth") as tmp:
        torch.save({"model": state}, tmp)
    with atomic_path(target / "labels.json") as tmp:
        tmp.write_text(json.dumps(list(class_names), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    toml = target / "catalog.toml"
    with atomic_path(toml) as tmp:
        tmp.write_text(_entry_toml(name, entry, settings, block, len(class_names), description), encoding="utf-8")
    return toml


def _entry_toml(name: str, entry: ModelEntry, settings: EmbedSettings, block: int, classes: int, text: str) -> str:
    """The ``[models.NAME]`` table of the exported model."""
    fields: dict[str, object] = {"kind": "vit"}
    source = entry.source
    if settings.checkpoint == source.label and source.repo_id is not None and source.filename is not None:
        fields |= {"repo_id": source.repo_id, "filename": source.filename}
    else:  # a local file: the catalogue's own, or --checkpoint
        fields["checkpoint"] = str(Path(settings.checkpoint).resolve())
    arch = entry.arch.to_dict()
    fields |= {key: arch[key] for key in ENCODER_FIELDS}
    pre = settings.preprocessing
    fields |= {"resize": pre.resize, "short_side": pre.short_side, "sampling_rate": pre.sampling_rate,
               "fps": pre.fps, "mean": list(pre.mean), "std": list(pre.std)}  # fmt: skip
    fields |= {
        "num_classes": classes, "labels": "labels.json", "head": "head.pth", "head_layer": block,
        "head_pool": settings.pool, "family": entry.family, "pretraining": entry.pretraining,
        "pretraining_data": entry.pretraining_data, "finetuning": "probe", "finetuning_task": text,
        "description": f"linear probe of {entry.name} (block {block}, {settings.pool}): {text}",
    }  # fmt: skip
    lines = [f"# written by vidm probe: vidm classify --catalog {HEAD_DIR}/catalog.toml --model {name} INPUTS",
             f"[models.{_key(name)}]"]  # fmt: skip
    lines += [f"{key} = {_value(value)}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


def _key(name: str) -> str:
    """A TOML key: bare when it can be, else quoted (names may hold ``.``, ``@`` or ``+``)."""
    return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)


def _value(value: object) -> str:
    """A TOML value: strings as JSON strings (a subset of TOML's basic strings), numbers, lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
