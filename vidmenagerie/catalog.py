"""The model catalogue: every published model (and any user entry) as one frozen record.

An entry holds everything a model needs: architecture, checkpoint location, preprocessing,
label set and provenance, so weights and preprocessing always travel together. Built-in
names follow ``x_y_z`` (type, pretraining data, finetuning task). Users add entries with a
TOML file (``--catalog FILE`` or ``VIDM_CATALOG``); see :func:`read_catalog_file`.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import CatalogError, InvalidSetting, UnknownModelError
from .hub import CheckpointSource
from .labels import BUILTIN_LABEL_SETS, check_label_count, load_labels
from .models.config import ARCH_FIELDS, MODEL_KINDS, Architecture, ModelKind, check_real
from .preprocess import RESIZE_RULES, Preprocessing

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CATALOG_ENV = "VIDM_CATALOG"


@dataclass(frozen=True)
class Paper:
    """Where a model family was published."""

    title: str
    arxiv: str
    venue: str = ""

    def cite(self) -> str:
        """One-line reference: title, venue, arXiv id."""
        venue = f", {self.venue}" if self.venue else ""
        return f"{self.title}{venue} (arXiv:{self.arxiv})"


@dataclass(frozen=True)
class ProbeHead:
    """A linear head that ``vidm probe`` exported: its file, the block it reads (the model runs blocks
    0..``layer`` only) and the pooled feature (``cls`` or ``mean``)."""

    path: Path
    layer: int
    pool: str = "cls"

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "layer": self.layer, "pool": self.pool}


@dataclass(frozen=True)
class ModelEntry:
    """One model: what it is, where its weights are, and how its input must be prepared."""

    name: str
    kind: ModelKind
    family: str
    arch: Architecture
    preprocessing: Preprocessing
    source: CheckpointSource
    pretraining: str = ""
    pretraining_data: str = ""
    finetuning: str = "none"
    finetuning_task: str = "none"
    labels: str | None = None
    paper: Paper | None = None
    description: str = ""
    origin: str = "built-in"
    mask_ratio: float | None = None  # MAE pretraining's --mask_ratio, when known
    head: ProbeHead | None = None  # a head exported by vidm probe, on the backbone in ``source``

    @property
    def num_classes(self) -> int | None:
        return self.arch.num_classes

    @property
    def img_size(self) -> int:
        return self.arch.img_size

    @property
    def is_finetuned(self) -> bool:
        return self.num_classes is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (``vidm list --json``, ``vidm info``, ``run.json``)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "family": self.family,
            "pretraining": self.pretraining,
            "pretraining_data": self.pretraining_data,
            "finetuning": self.finetuning,
            "finetuning_task": self.finetuning_task,
            "num_classes": self.num_classes,
            "labels": self.labels,
            "img_size": self.img_size,
            "num_frames": self.arch.num_frames,
            "checkpoint": self.source.label,
            "repo_id": self.source.repo_id,
            "filename": self.source.filename,
            "local_path": str(self.source.local_path) if self.source.local_path else None,
            "preprocessing": self.preprocessing.to_dict(),
            "pretraining_mask_ratio": self.mask_ratio,
            "architecture": self.arch.to_dict(),
            "paper": {"title": self.paper.title, "arxiv": self.paper.arxiv, "venue": self.paper.venue}
            if self.paper
            else None,
            "description": self.description,
            "origin": self.origin,
            "probe_head": self.head.to_dict() if self.head else None,
        }


# --------------------------------------------------------------------------- built-in entries

VIDEO_MODELS_PAPER = Paper(
    "Self-supervised learning of video representations from a child's perspective", "2402.00300", "CogSci 2024"
)
HVM1_PAPER = Paper(
    "HVM-1: Large-scale video models pretrained with nearly 5000 hours of human-like video data", "2407.18067"
)

# MAE pretraining mask ratio by input size (mae_st scripts/new/train_say.sh:39: --mask_ratio 0.9;
# scripts/new/train_sayavakepicutego4d_448.sh:39: --mask_ratio 0.95).
PRETRAINING_MASK_RATIO: dict[int, float] = {224: 0.9, 448: 0.95}

# finetuning key -> (task description, classes, label set)
FINETUNING: dict[str, tuple[str, int | None, str | None]] = {
    "none": ("none (self-supervised only)", None, None),
    "ssv2-10shot": ("Something-Something-v2, 10 examples per class", 174, "ssv2"),
    "ssv2-50shot": ("Something-Something-v2, 50 examples per class", 174, "ssv2"),
    "kinetics-10shot": ("Kinetics-700, 10 examples per class", 700, "kinetics700"),
    "kinetics-50shot": ("Kinetics-700, 50 examples per class", 700, "kinetics700"),
    "imagenet-2pt": ("ImageNet-1k, 2% of the training images", 1000, "imagenet"),
}


@dataclass(frozen=True)
class _Family:
    """A published repository: which pretraining sets and finetuning tasks it crosses."""

    family: str
    repo_id: str
    paper: Paper
    # name's y part -> (file prefix, data description, image size)
    pretraining: dict[str, tuple[str, str, int]]
    finetuning: tuple[str, ...]


FAMILIES: tuple[_Family, ...] = (
    _Family(
        family="video-models",
        repo_id="eminorhan/video-models",
        paper=VIDEO_MODELS_PAPER,
        pretraining={
            "say": ("say", "SAYCam, all three children", 224),
            "s": ("s", "SAYCam, child S only", 224),
            "kinetics": ("kinetics", "Kinetics-700", 224),
            "kinetics-200h": ("kinetics-200h", "200 h of Kinetics-700", 224),
        },
        finetuning=("none", "ssv2-10shot", "ssv2-50shot", "kinetics-10shot", "kinetics-50shot"),
    ),
    _Family(
        family="hvm-1",
        repo_id="eminorhan/hvm-1",
        paper=HVM1_PAPER,
        pretraining={
            "hvm1": ("hvm1", "~5k h of human-like video (HVM-1)", 224),
            "hvm1@448": ("hvm1@448", "~5k h of human-like video (HVM-1), 448 px", 448),
            # Also called `kinetics` on the Hub: renamed so it never collides with video-models.
            "kinetics-hvm1": ("kinetics", "Kinetics-700 (HVM-1 release)", 224),
        },
        finetuning=("none", "ssv2-10shot", "ssv2-50shot", "kinetics-10shot", "kinetics-50shot", "imagenet-2pt"),
    ),
)


def _builtin_entries() -> Iterator[ModelEntry]:
    for fam in FAMILIES:
        for kind in MODEL_KINDS:
            for data_key, (file_prefix, data_desc, img_size) in fam.pretraining.items():
                for task in fam.finetuning:
                    if kind == "mae" and task != "none":
                        continue
                    task_desc, classes, labels = FINETUNING[task]
                    arch = Architecture(img_size=img_size, num_classes=classes)
                    # Video models: the Kinetics loader's recipe at --sampling_rate 8 (every
                    # scripts/new/train_*.sh and scripts/finetune/*.sh); ImageNet-finetuned ones:
                    # finetune_on_image.py's transforms.
                    images = task == "imagenet-2pt"
                    pre = Preprocessing.for_images(img_size) if images else Preprocessing.for_video(img_size)
                    yield ModelEntry(
                        name=f"{kind}_{data_key}_{task}",
                        kind=kind,
                        family=fam.family,
                        arch=arch,
                        preprocessing=pre,
                        source=CheckpointSource(repo_id=fam.repo_id, filename=f"{file_prefix}_{task}.pth"),
                        pretraining=data_key,
                        pretraining_data=data_desc,
                        finetuning=task,
                        finetuning_task=task_desc,
                        labels=labels,
                        paper=fam.paper,
                        description=_describe(kind, data_desc, task_desc if task != "none" else None),
                        mask_ratio=PRETRAINING_MASK_RATIO[img_size],
                    )


def _describe(kind: str, data: str, task: str | None) -> str:
    what = "MAE (encoder + decoder)" if kind == "mae" else "ViT-H/14 encoder"
    tail = f", finetuned on {task}" if task else ""
    return f"{what} pretrained on {data}{tail}"


# --------------------------------------------------------------------------- the registry


class Catalog:
    """An ordered, name-unique collection of entries."""

    def __init__(self, entries: Iterable[ModelEntry] = ()) -> None:
        self._entries: dict[str, ModelEntry] = {}
        self._loaded_files: set[Path] = set()
        for entry in entries:
            self.add(entry)

    def add(self, entry: ModelEntry) -> None:
        """Add an entry; a name already present is an error (built-in names cannot be shadowed)."""
        if entry.name in self._entries:
            other = self._entries[entry.name]
            raise CatalogError(
                f"{entry.origin}: model name {entry.name!r} is already defined ({other.origin}); choose another name"
            )
        self._entries[entry.name] = entry

    def load_file(self, path: str | Path) -> list[ModelEntry]:
        """Add the entries of a TOML catalogue file (once per file)."""
        resolved = Path(path).expanduser().resolve()
        if resolved in self._loaded_files:
            return []
        entries = read_catalog_file(resolved)
        for entry in entries:
            self.add(entry)
        self._loaded_files.add(resolved)
        return entries

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[ModelEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def names(self, pattern: str | None = None) -> list[str]:
        """Names in catalogue order, optionally filtered by a shell-style pattern (``'vit_*ssv2*'``)."""
        return [n for n in self._entries if pattern is None or fnmatch.fnmatchcase(n, pattern)]

    def get(self, name: str) -> ModelEntry:
        """The entry for ``name``; unknown names raise with the closest matches."""
        try:
            return self._entries[name]
        except KeyError:
            raise unknown_model(name, list(self._entries)) from None


def unknown_model(name: str, known: list[str]) -> UnknownModelError:
    """The error for an unknown name, with the closest known names."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if not close:
        close = [k for k in known if name and (name in k or k.startswith(name))][:3]
    malformed = not re.fullmatch(r"[a-z]+_[^_]+_[^_]+", name)
    return UnknownModelError(name, tuple(close), malformed=malformed)


_DEFAULT: Catalog | None = None


def default_catalog() -> Catalog:
    """The process-wide catalogue: built-ins plus the files named in ``VIDM_CATALOG``."""
    global _DEFAULT
    if _DEFAULT is None:
        catalog = Catalog(_builtin_entries())
        for part in os.environ.get(CATALOG_ENV, "").split(os.pathsep):
            if part.strip():
                catalog.load_file(part.strip())
        _DEFAULT = catalog
    return _DEFAULT


def reset_catalog() -> None:
    """Forget loaded user files (the next access re-reads ``VIDM_CATALOG``); for tests and notebooks."""
    global _DEFAULT
    _DEFAULT = None


def register_catalog(path: str | Path) -> list[ModelEntry]:
    """Add a TOML catalogue file's entries to the process-wide catalogue; returns them."""
    return default_catalog().load_file(path)


def list_models(pattern: str | None = None) -> list[str]:
    """Every model name (in catalogue order), optionally filtered by a shell-style pattern."""
    return default_catalog().names(pattern)


def get_available_models() -> list[str]:
    """All model names (the seed scripts' name for :func:`list_models`)."""
    return list_models()


def get_model_entry(name: str) -> ModelEntry:
    """The catalogue entry of a model name."""
    return default_catalog().get(name)


# --------------------------------------------------------------------------- TOML catalogue files

_INT_FIELDS = {f.name for f in fields(Architecture) if f.type in ("int", int)} | {
    "num_classes",
    "head_layer",
    "short_side",
    "sampling_rate",
}
_FLOAT_FIELDS = {"mlp_ratio", "norm_eps", "drop_path_rate", "fps", "mask_ratio"}
_STR_FIELDS = {
    "kind",
    "checkpoint",
    "repo_id",
    "filename",
    "description",
    "labels",
    "pretraining",
    "pretraining_data",
    "finetuning",
    "finetuning_task",
    "family",
    "resize",
    "head",
    "head_pool",
}
_LIST_FIELDS = {"mean", "std"}
_ALLOWED = ARCH_FIELDS | _STR_FIELDS | _LIST_FIELDS | {"short_side", "fps", "sampling_rate", "mask_ratio", "head_layer"}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]*$")


def read_catalog_file(path: str | Path) -> list[ModelEntry]:
    """Parse a TOML catalogue: ``[models.NAME]`` tables; errors name the file, entry and field."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{path}: catalogue file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read catalogue file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: invalid TOML ({exc})") from None
    unknown_top = sorted(set(data) - {"models"})
    if unknown_top:
        raise CatalogError(f"{path}: unknown top-level key(s) {', '.join(unknown_top)}; entries go under [models.NAME]")
    models = data.get("models", {})
    if not isinstance(models, dict) or not models:
        raise CatalogError(f"{path}: no [models.NAME] entries found")
    return [_entry_from_table(path, name, table) for name, table in models.items()]


def _entry_from_table(path: Path, name: str, table: Any) -> ModelEntry:
    where = f"{path}: entry {name!r}"
    if not _NAME_RE.fullmatch(name):
        raise CatalogError(f"{where}: invalid model name (letters, digits and _ . @ + - only)")
    if not isinstance(table, dict):
        raise CatalogError(f"{where}: must be a table of fields")
    for key, value in table.items():
        _check_field(where, key, value)
    kind = table.get("kind")
    if kind is None:
        raise CatalogError(f'{where}: field \'kind\' is required ("mae" or "vit")')
    if kind not in MODEL_KINDS:
        raise CatalogError(f'{where}: field \'kind\' must be "mae" or "vit", got {kind!r}')
    source = _source(where, path, table)
    arch_fields = {k: v for k, v in table.items() if k in ARCH_FIELDS}
    if kind == "mae" and arch_fields.get("num_classes") is not None:
        raise CatalogError(f"{where}: field 'num_classes' is only for kind \"vit\"")
    try:
        arch = Architecture().with_overrides(**arch_fields)
        preprocessing = _preprocessing(where, table, arch)
        mask_ratio = table.get("mask_ratio")
        if mask_ratio is not None:
            check_real("mask_ratio", mask_ratio, low=0.0, high=1.0, low_open=True, high_open=True)
    except InvalidSetting as exc:
        raise CatalogError(f"{where}: field {exc.setting!r} {exc.message}") from None
    except (TypeError, ValueError) as exc:
        raise CatalogError(f"{where}: {exc}") from None
    head = _head(where, path, table, kind, arch)
    if head is not None:  # the model runs the blocks up to the probed one, no further
        arch = arch.with_overrides(depth=head.layer + 1)
    labels = _labels(where, path, table.get("labels"), arch.num_classes)
    finetuning = table.get("finetuning", "none" if arch.num_classes is None else "custom")
    return ModelEntry(
        name=name,
        kind=kind,
        family=table.get("family", "custom"),
        arch=arch,
        preprocessing=preprocessing,
        source=source,
        pretraining=table.get("pretraining", "custom"),
        pretraining_data=str(table.get("pretraining_data", table.get("pretraining", "user checkpoint"))),
        finetuning=finetuning,
        finetuning_task=str(table.get("finetuning_task", finetuning)),
        labels=labels,
        description=table.get("description", ""),
        origin=f"{path}",
        mask_ratio=None if mask_ratio is None else float(mask_ratio),
        head=head,
    )


def _head(where: str, path: Path, table: dict[str, Any], kind: str, arch: Architecture) -> ProbeHead | None:
    """A probe head's file (relative to the catalogue), block and pooling; None for an entry without one."""
    given = [k for k in ("head", "head_layer", "head_pool") if k in table]
    if not given:
        return None
    if "head" not in table or "head_layer" not in table:
        raise CatalogError(f"{where}: a probe head needs both 'head' (its file) and 'head_layer'")
    if kind != "vit" or arch.num_classes is None:
        raise CatalogError(f'{where}: a probe head is for kind "vit" with num_classes')
    layer, pool = table["head_layer"], table.get("head_pool", "cls")
    if not 0 <= layer < arch.depth:
        raise CatalogError(f"{where}: field 'head_layer' must be a block of 0..{arch.depth - 1}, got {layer}")
    if pool not in ("cls", "mean"):
        raise CatalogError(f'{where}: field \'head_pool\' must be "cls" or "mean", got {pool!r}')
    return ProbeHead((path.parent / Path(table["head"]).expanduser()).resolve(), layer, pool)


def _preprocessing(where: str, table: dict[str, Any], arch: Architecture) -> Preprocessing:
    """A user entry's recipe: the video training recipe (or the image one for ``resize =
    "bicubic"``) for its size, with any field the table sets."""
    resize = table.get("resize", "area")
    if resize not in RESIZE_RULES:
        raise CatalogError(f"{where}: field 'resize' must be one of {', '.join(RESIZE_RULES)}, got {resize!r}")
    base = (Preprocessing.for_images if resize == "bicubic" else Preprocessing.for_video)(
        arch.img_size, arch.num_frames
    )
    return Preprocessing(  # out-of-range fields raise InvalidSetting, naming the field
        img_size=arch.img_size,
        short_side=int(table.get("short_side", base.short_side)),
        num_frames=arch.num_frames,
        fps=float(table.get("fps", base.fps)),
        sampling_rate=int(table.get("sampling_rate", base.sampling_rate)),
        resize=resize,
        mean=_triple(where, "mean", table.get("mean", base.mean)),
        std=_triple(where, "std", table.get("std", base.std)),
    )


def _labels(where: str, path: Path, labels: str | None, num_classes: int | None) -> str | None:
    """A user entry's label set: a built-in name, or a JSON file (relative to the catalogue) that is
    read now, so a missing file or a count other than ``num_classes`` fails when the catalogue is read."""
    if labels is None:
        return None
    if num_classes is None:
        raise CatalogError(f"{where}: field 'labels' needs 'num_classes'")
    try:
        if labels in BUILTIN_LABEL_SETS:
            check_label_count(labels, num_classes)
            return labels
        resolved = str((path.parent / labels).resolve())
        load_labels(resolved, num_classes=num_classes)
    except CatalogError as exc:
        raise CatalogError(f"{where}: field 'labels': {exc}") from None
    return resolved


def _check_field(where: str, key: str, value: Any) -> None:
    if key not in _ALLOWED:
        close = difflib.get_close_matches(key, sorted(_ALLOWED), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise CatalogError(f"{where}: unknown field {key!r}{hint}")
    if key in _STR_FIELDS and not isinstance(value, str):
        raise CatalogError(f"{where}: field {key!r} must be a string, got {value!r}")
    if key in _INT_FIELDS and (isinstance(value, bool) or not isinstance(value, int)):
        raise CatalogError(f"{where}: field {key!r} must be an integer, got {value!r}")
    if key in _FLOAT_FIELDS and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise CatalogError(f"{where}: field {key!r} must be a number, got {value!r}")


def _triple(where: str, key: str, value: Any) -> tuple[float, float, float]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 3
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    ):
        raise CatalogError(f"{where}: field {key!r} must be a list of 3 numbers, got {value!r}")
    return (float(value[0]), float(value[1]), float(value[2]))


def _source(where: str, path: Path, table: dict[str, Any]) -> CheckpointSource:
    local = table.get("checkpoint")
    repo_id, filename = table.get("repo_id"), table.get("filename")
    if local is not None and (repo_id is not None or filename is not None):
        raise CatalogError(f"{where}: give either 'checkpoint' (a local file) or 'repo_id' + 'filename', not both")
    if local is not None:
        return CheckpointSource(
            repo_id=None, filename=None, local_path=(path.parent / Path(local).expanduser()).resolve()
        )
    if repo_id is None or filename is None:
        missing = "repo_id" if repo_id is None else "filename"
        raise CatalogError(f"{where}: field {missing!r} is required (or give 'checkpoint' for a local file)")
    return CheckpointSource(repo_id=repo_id, filename=filename, local_path=None)
