"""The shapes of the records a page is built from (``run.json``, ``eval.json``), checked before use.

A record may have been edited by hand: a list where an object belongs, a string where a number
does. ``misfit`` names the first field that does not have its shape, so the page can say that the
section is unreadable, and why, instead of failing (or drawing nonsense). Fields that are absent
are fine (older runs recorded fewer); fields not listed here are not looked at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeAlias

Shape: TypeAlias = "type | tuple[type, ...] | dict[str, Shape] | list[Shape]"

NUMBER: tuple[type, ...] = (int, float, type(None))  # NaN is written as null
TEXT: tuple[type, ...] = (str, type(None))
_ACCURACY: dict[str, Shape] = {"value": NUMBER, "low": NUMBER, "high": NUMBER, "correct": NUMBER, "total": NUMBER}
_SCORE: dict[str, Shape] = {"mse": NUMBER, "psnr": NUMBER, "loss": NUMBER}

PER_CLIP_RUN: dict[str, Shape] = {
    "command": str,
    "settings": dict,
    "model": dict,
    "preprocessing": dict,
    "started": TEXT,
    "seconds": NUMBER,
    "metrics_note": TEXT,
    "overall": (dict, type(None)),
    "clips": [
        {
            "video": str,
            "clip": int,
            "start": NUMBER,
            "end": NUMBER,
            "times": [NUMBER],
            "repeated_frames": NUMBER,
            "picture": TEXT,
            "animations": [str],
            "cls_self": [NUMBER],
            **_SCORE,
        }
    ],
    "failed": [{"video": str, "reason": str}],
    "versions": dict,
}
EVALUATION: dict[str, Shape] = {
    "model": (dict, str),
    "scores": {
        "acc1_video": _ACCURACY,
        "acc5_video": _ACCURACY,
        "acc1_clip": _ACCURACY,
        "acc5_clip": _ACCURACY,
        "mean_class_accuracy": NUMBER,
        "loss": NUMBER,
        "top_k": int,
        "videos": int,
        "clips": int,
    },
    "labels": {"source": str, "rule": str, "description": str, "inputs": int, "duplicates": int},
    "excluded": {"missing": [{"input": str, "where": str, "reason": str}], "failed": [dict], "pending": [str]},
    "protocol": dict,
    "views": dict,
    "versions": dict,
}

COMPARISON: dict[str, Shape] = {
    "n": int,
    "estimator": TEXT,
    "metrics": dict,
    "bootstrap": int,
    "permutations": int,
    "representations": [
        {"name": str, "kind": str, "output": TEXT, "model": TEXT, "layer": (int, type(None)),
         "block": (int, type(None)), "rdm": TEXT}
    ],
    "pairs": [
        {"a": str, "b": str, "metric": str, "value": NUMBER, "low": NUMBER, "high": NUMBER, "p": NUMBER, "n": int}
    ],
    "order": [int],
}  # fmt: skip

_NAMES = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number", bool: "true/false"}


def misfit(value: Any, shape: Shape, where: str = "") -> str | None:
    """The first place where ``value`` does not have ``shape`` (``"scores.acc1_video: a string where an
    object belongs"``), or None when it fits."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return _wrong(value, dict, where)
        for key, inner in shape.items():
            if key in value:
                found = misfit(value[key], inner, f"{where}.{key}" if where else key)
                if found:
                    return found
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return _wrong(value, list, where)
        for i, item in enumerate(value):
            found = misfit(item, shape[0], f"{where}[{i}]")
            if found:
                return found
        return None
    kinds = shape if isinstance(shape, tuple) else (shape,)
    if isinstance(value, bool) and bool not in kinds:  # true/false is no number here
        return _wrong(value, kinds[0], where)
    return None if isinstance(value, kinds) else _wrong(value, kinds[0], where)


def _wrong(value: Any, wanted: type, where: str) -> str:
    """``where: a string where a number belongs``."""
    found = "null" if value is None else _NAMES.get(type(value), type(value).__name__)
    place = f"{where}: " if where else ""
    return f"{place}{found} where {_NAMES.get(wanted, wanted.__name__)} belongs"


def read_record(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; empty when the file is absent, unreadable or not an object."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
