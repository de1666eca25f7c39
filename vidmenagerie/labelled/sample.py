"""Records of a labelled input set: the samples with their class index, the excluded ones, and the rule used."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from vidmenagerie.errors import VideoError

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
    duplicates: int = 0  # rows naming an input an earlier row already named, with the same label

    def once_each(self) -> LabelledSet:
        """The set with each listed input once: a later row naming the same real file (a path listed
        twice, two Kinetics segments of one file, a repeated SSv2 id) is dropped and counted in
        ``duplicates``; two rows giving one input different labels raise a VideoError naming both."""
        first: dict[object, LabelledSample] = {}
        samples: list[LabelledSample] = []
        for sample in self.samples:
            key = _identity(sample.path)
            seen = first.setdefault(key, sample)
            if seen is sample:
                samples.append(sample)
            elif seen.label != sample.label:
                names = self.class_names
                raise VideoError(
                    f"{sample.path}: listed with two labels, {names[seen.label]!r} ({seen.source}) and "
                    f"{names[sample.label]!r} ({sample.source}): keep the right one"
                )
        missing = list({m.item: m for m in reversed(self.missing)}.values())[::-1]  # the first of each item
        dropped = len(self.samples) - len(samples) + len(self.missing) - len(missing)
        return replace(self, samples=tuple(samples), missing=tuple(missing), duplicates=self.duplicates + dropped)


def _identity(path: Path) -> object:
    """What makes two paths one input: the real file (device and inode), else the resolved path."""
    try:
        info = path.stat()
    except OSError:
        return os.path.realpath(path)
    return (info.st_dev, info.st_ino)
