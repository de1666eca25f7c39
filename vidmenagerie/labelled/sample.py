"""Records of a labelled input set: the samples with their class index, the excluded ones, and the rule used."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

# How class indices were found: "names" (class names matched), "indices" (numbers given), "names-and-indices"
# (a table using both), "sorted-folders" (torchvision ImageFolder order), "wnids" (ImageNet synset folders).
Rule = Literal["names", "indices", "names-and-indices", "sorted-folders", "wnids"]


@dataclass(frozen=True)
class LabelledSample:
    """One input (video, still or frame folder) with its class index; ``source`` says where the label came from."""

    path: Path
    label: int
    source: str  # "val.csv:12", "validation.json id 74225", "abseiling/"


@dataclass(frozen=True)
class Missing:
    """An entry excluded from a set because its input is not there: ``item`` is its path or id, ``reason`` why."""

    item: str
    source: str
    reason: str


@dataclass(frozen=True)
class LabelledSet:
    """The samples of a labelled source, the excluded entries, and how labels were mapped to class indices.

    ``rule`` names the mapping and ``description`` says it in one line for people (printed by ``vidm evaluate``).
    """

    source: Path
    samples: tuple[LabelledSample, ...]
    missing: tuple[Missing, ...]
    class_names: tuple[str, ...]
    rule: Rule
    description: str
    repeats: int = 0  # links followed to a file or folder already taken (each real input counts once)
