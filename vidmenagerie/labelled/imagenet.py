"""ImageNet-1k synset ids (``n01440764`` ...) in class-index order, for folders named by wnid."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

WNID = re.compile(r"n\d{8}")
IMAGENET_CLASSES = 1000


@lru_cache(maxsize=1)
def imagenet_wnids() -> tuple[str, ...]:
    """The 1000 wnids of ImageNet-1k, position = class index (the list timm ships, sorted as the heads are)."""
    text = resources.files("vidmenagerie").joinpath("data", "imagenet_wnids.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def is_wnid(name: str) -> bool:
    """Whether a folder name is a WordNet synset id such as ``n01440764``."""
    return WNID.fullmatch(name) is not None


def wnid_index(wnid: str) -> int | None:
    """The ImageNet-1k class index of ``wnid``; None for a synset outside the 1000 classes."""
    return _positions().get(wnid)


@lru_cache(maxsize=1)
def _positions() -> dict[str, int]:
    """wnid -> class index."""
    return {wnid: index for index, wnid in enumerate(imagenet_wnids())}
