"""Lazy package exports: a public name is imported from its submodule on first use.

``import vidmenagerie`` stays cheap (no torch, timm or PyAV) until a model or video is
touched, as huggingface_hub's ``__init__`` does with its ``_SUBMOD_ATTRS`` table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, table: Mapping[str, tuple[str, ...]]) -> tuple[Callable[[str], Any], list[str]]:
    """A module ``__getattr__`` for ``package`` serving ``table`` (submodule -> names), and ``__all__``."""
    where = {name: module for module, names in table.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{where[name]}"), name)
        setattr(importlib.import_module(package), name, value)  # later lookups skip this function
        return value

    return __getattr__, sorted(where)
