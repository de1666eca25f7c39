"""Class names of the finetuning tasks, in the order of the finetuned heads' outputs."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .errors import CatalogError

BUILTIN_LABEL_SETS: dict[str, int] = {"ssv2": 174, "kinetics700": 700, "imagenet": 1000}


@lru_cache(maxsize=8)
def _builtin(name: str) -> tuple[str, ...]:
    if name == "imagenet":
        # torchvision ships the ImageNet-1k names in the same order as the heads.
        from torchvision.models import ResNet50_Weights  # type: ignore[import-untyped]

        return tuple(ResNet50_Weights.IMAGENET1K_V2.meta["categories"])
    text = resources.files("vidmenagerie").joinpath("data", f"{name}.json").read_text(encoding="utf-8")
    return tuple(json.loads(text))


def load_labels(spec: str | Path) -> tuple[str, ...]:
    """Names of a built-in label set (``ssv2``, ``kinetics700``, ``imagenet``) or a JSON list file."""
    if isinstance(spec, str) and spec in BUILTIN_LABEL_SETS:
        return _builtin(spec)
    path = Path(spec)
    try:
        names = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogError(f"{path}: label file not found") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError(f"{path}: label file is not a JSON list of names ({exc})") from exc
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise CatalogError(f"{path}: label file must be a JSON list of strings")
    return tuple(names)
