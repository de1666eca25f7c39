"""Labelled inputs for evaluation: class folders, ``path,label`` tables, Kinetics tables and SSv2 annotations
read into samples with class indices, saying which rule mapped labels to the model's classes.

Nothing is decoded here: missing videos are listed, unreadable ones are found later by the decoder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, ...]] = {
    "classes": ("source_classes",),
    "imagenet": ("imagenet_wnids",),
    "match": ("ClassMatcher", "class_key"),
    "read": ("read_labelled",),
    "sample": ("LabelledSample", "LabelledSet", "Missing", "Rule"),
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from .classes import source_classes
    from .imagenet import imagenet_wnids
    from .match import ClassMatcher, class_key
    from .read import read_labelled
    from .sample import LabelledSample, LabelledSet, Missing, Rule
