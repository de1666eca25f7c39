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


def load_labels(spec: str | Path, *, num_classes: int | None = None) -> tuple[str, ...]:
    """Names of a built-in label set (``ssv2``, ``kinetics700``, ``imagenet``) or a JSON list file;
    with ``num_classes``, refuse a set of another size (it would print wrong names). A file giving
    two classes the same name is refused (ImageNet's own two ``crane`` classes stay as torchvision
    names them)."""
    if isinstance(spec, str) and spec in BUILTIN_LABEL_SETS:
        check_label_count(spec, num_classes)
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
    if num_classes is not None and len(names) != num_classes:
        raise CatalogError(f"{path} holds {len(names)} names, the model has {num_classes} classes")
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        if first.setdefault(name, index) != index:  # two classes of one name: a prediction could not be told apart
            raise CatalogError(
                f"{path}: classes {first[name]} and {index} are both named {name!r}: give each class its own name"
            )
    return tuple(names)


def check_label_count(name: str, num_classes: int | None) -> None:
    """Refuse a built-in label set whose size is not ``num_classes`` (None: no check), without loading it."""
    size = BUILTIN_LABEL_SETS[name]
    if num_classes is not None and size != num_classes:
        raise CatalogError(f"label set {name!r} holds {size} names, the model has {num_classes} classes")
