"""A folder with one subfolder per class (torchvision ``ImageFolder`` layout) read as a labelled set.

How a class folder gets its class index, first rule that applies:

1. ``names``: every folder name is a class name, compared ignoring case and punctuation
   (``acting_in_play`` = ``acting in play``; ``Putting something on something`` = the SSv2 template
   ``Putting [something] on [something]``). A subset of the classes is fine.
2. ``wnids``: every folder name is an ImageNet synset id (``n01440764``) and the model has the 1000
   ImageNet-1k classes (``label_set="imagenet"``, or no label set and 1000 classes): the index is the
   wnid's position in the shipped wnid list, so a subset of the synsets still maps right.
3. ``indices``: every folder name is a whole number in ``0..classes-1``: it is the class index. (ImageFolder
   would sort ``"10"`` before ``"2"``; numbers outside the range are refused, e.g. 1-based folders.)
4. ``sorted-folders``: the seed scripts' rule (ImageFolder): the index is the folder's position in the
   sorted folder names. Only when there is one folder per class (for a subset, positions mean nothing),
   and only when no folder named like a class would land on another class's index (names and order
   disagreeing means a typo, not a convention). Otherwise the folder is refused, naming the folders
   that match no class.

Hidden folders (``.ipynb_checkpoints``) are not classes (ImageFolder counts them: a known pitfall).
Inside a class folder, videos and stills are samples, and subfolders are searched as ``find_inputs``
does (frame folders are one sample each); the class folder itself is never taken for a frame folder.
Links are followed, but each real folder and file is taken once (``repeats`` counts the others).
Input files lying beside the class folders have no label: they are listed as missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vidmenagerie.errors import VideoError
from vidmenagerie.labelled.imagenet import IMAGENET_CLASSES, is_wnid, wnid_index
from vidmenagerie.labelled.match import ClassMatcher, parse_index
from vidmenagerie.labelled.sample import LabelledSample, LabelledSet, Missing, Rule
from vidmenagerie.video.find import FrameFolders, Search
from vidmenagerie.video.kinds import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

_INPUTS = VIDEO_EXTENSIONS | IMAGE_EXTENSIONS


def read_class_folders(
    root: Path,
    class_names: Sequence[str],
    *,
    label_set: str | None = None,
    frame_folders: FrameFolders = "auto",
) -> LabelledSet:
    """The samples of a class-per-subfolder tree, labelled by the rules of the module doc."""
    try:
        entries = sorted(e for e in root.iterdir() if not e.name.startswith("."))
    except OSError as err:
        raise VideoError(f"{root}: cannot read the folder ({err.strerror or err})") from None
    folders = [e for e in entries if e.is_dir()]
    if not folders:
        raise VideoError(f"{root}: no class subfolders (a labelled folder holds one subfolder per class)")
    names = tuple(sorted(f.name for f in folders))  # Python string order, as ImageFolder's find_classes
    labels, rule, description = folder_labels(root, names, tuple(class_names), label_set=label_set)
    samples: list[LabelledSample] = []
    missing = [
        Missing(str(e), f"{root.name}/", "not inside a class folder, so it has no label")
        for e in entries
        if e.is_file() and e.suffix.lower() in _INPUTS
    ]
    search = Search(frame_folders)  # one for every class: links are followed, each real file is taken once
    classes = [name for name in names if _first_visit(search, root / name)]  # a link to another class: a repeat
    for name in classes:
        found, skipped = _class_inputs(root / name, search)
        samples.extend(LabelledSample(path, labels[name], f"{name}/") for path in found)
        missing.extend(Missing(str(path), f"{name}/", reason) for path, reason in skipped)
    return LabelledSet(
        root, tuple(samples), tuple(missing), tuple(class_names), rule, description, repeats=len(search.repeats)
    )


def _first_visit(search: Search, folder: Path) -> bool:
    """Whether ``folder`` is met for the first time by ``search``; an unreadable one is walked (and reported) anyway."""
    try:
        return search.first_visit(folder)
    except OSError:
        return True


def folder_labels(
    root: Path, names: tuple[str, ...], class_names: tuple[str, ...], *, label_set: str | None = None
) -> tuple[dict[str, int], Rule, str]:
    """Class index of each folder name (``names`` sorted), the rule that gave them, and that rule in words."""
    matcher = ClassMatcher(class_names)
    found = {name: matcher.find(name) for name in names}
    count = f"{len(names)} folders for {len(class_names)} classes"
    if all(found.values()):
        labels = {name: matcher.index(name, str(root / name)) for name in names}  # refuses an ambiguous name
        return labels, "names", f"class folders matched to class names (ignoring case and punctuation): {count}"
    if all(is_wnid(name) for name in names):
        return (
            _wnid_labels(root, names, class_names, label_set),
            "wnids",
            (f"ImageNet synset folders: class index = the wnid's position in the ImageNet-1k wnid list ({count})"),
        )
    numbers = [parse_index(name) for name in names]
    if all(n is not None for n in numbers):
        wrong = [name for name, n in zip(names, numbers) if n is None or not 0 <= n < len(class_names)]
        if wrong:
            raise VideoError(
                f"{root / wrong[0]}: folder names look like class indices but {wrong[0]} is out of range "
                f"0..{len(class_names) - 1}"
            )
        return {name: int(name) for name in names}, "indices", f"class folders named by class index: {count}"
    unmatched = [name for name in names if not found[name]]
    more = f" and {len(unmatched) - 3} more" if len(unmatched) > 3 else ""
    examples = ", ".join(repr(n) for n in unmatched[:3]) + more
    if len(names) != len(class_names):
        raise VideoError(
            f"{root}: {len(unmatched)} of {len(names)} class folders match no class name ({examples}), and with "
            f"{count} the sorted folder order cannot give the indices: name the folders after the classes "
            f"(case and punctuation do not matter) or give one folder per class"
        )
    for position, name in enumerate(names):
        if len(found[name]) == 1 and found[name][0] != position:
            index = found[name][0]
            raise VideoError(
                f"{root / name}: folder is named like class {index} ({class_names[index]!r}) but sorted folder "
                f"order makes it class {position}, and folders {examples} match no class name: fix their names"
            )
    return (
        {name: position for position, name in enumerate(names)},
        "sorted-folders",
        (
            f"folder names do not match the class names ({len(unmatched)} of {len(names)} do not, e.g. {examples}), "
            f"so class index = position in the sorted folder names, as torchvision's ImageFolder"
        ),
    )


def _wnid_labels(
    root: Path, names: tuple[str, ...], class_names: tuple[str, ...], label_set: str | None
) -> dict[str, int]:
    """ImageNet-1k class index of each wnid folder; refused unless the model has the ImageNet-1k classes."""
    imagenet = label_set == "imagenet" or (label_set is None and len(class_names) == IMAGENET_CLASSES)
    if not imagenet or len(class_names) != IMAGENET_CLASSES:
        model = f"label set {label_set!r}" if label_set else f"{len(class_names)} classes"
        raise VideoError(
            f"{root}: folders are ImageNet synset ids (n01440764, ...) but the model has {model}, "
            f"not the {IMAGENET_CLASSES} ImageNet-1k classes"
        )
    labels: dict[str, int] = {}
    for name in names:
        index = wnid_index(name)
        if index is None:
            raise VideoError(f"{root / name}: synset {name} is not one of the {IMAGENET_CLASSES} ImageNet-1k classes")
        labels[name] = index
    return labels


def _class_inputs(folder: Path, search: Search) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Inputs in one class folder (its own images are stills) and the subfolders skipped, with why."""
    found: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    try:
        entries = sorted(e for e in folder.iterdir() if not e.name.startswith("."))
    except OSError as err:
        return [], [(folder, f"cannot read the folder ({err.strerror or err})")]
    for entry in entries:
        if entry.is_dir():
            try:  # a frame folder is one input; any other subfolder is searched
                found.extend(search.expand(entry))
            except VideoError as err:  # no inputs in it, or unreadable
                skipped.append((entry, str(err).removeprefix(f"{entry}: ")))
        elif entry.suffix.lower() in _INPUTS and entry.is_file() and search.first_visit(entry):
            found.append(entry)
    skipped.extend(search.skipped)
    search.skipped.clear()
    return found, skipped
