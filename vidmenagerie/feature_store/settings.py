"""What decides the numbers in an embedding output: one frozen record, written to run.json and compared on resume."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import torch

from ..batch.clips import ClipPlan
from ..catalog import ModelEntry
from ..errors import InvalidSetting
from ..models.video_vit import resolve_layer
from ..ops.embed import POOLS
from ..preprocess import Preprocessing
from ..runtime import dtype_name
from ..video.augment import SEED_CLIPS, SeedProtocol
from ..video.sampling import Windows

CLIP_KINDS: tuple[str, ...] = ("center", "start", "uniform", "sliding")
REDUCES: tuple[str, ...] = ("none", "mean")
PROTOCOLS: tuple[str, ...] = ("standard", "seed")
# Fields added since run.json was first written, with the value an older record means.
ADDED_FIELDS: dict[str, Any] = {"protocol": "standard", "seed": 0}


def parse_layers(layer: int | str | Sequence[int], depth: int) -> tuple[int, ...]:
    """The blocks ``--layer`` asks for: one (``-1``, ``8``: kept as given), or several (``8,16,-1``,
    ``all``: their block indices 0..depth-1, sorted, each once). Out of range is an InvalidSetting."""
    if isinstance(layer, str):
        text = layer.strip().lower()
        if text == "all":
            return tuple(range(depth))
        try:
            given = [int(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise InvalidSetting(
                "layer", f"a block number, a comma-separated list (8,16,-1) or all, not {layer!r}"
            ) from None
    else:
        given = [layer] if isinstance(layer, int) else list(layer)
    if not given:
        raise InvalidSetting("layer", "name at least one block")
    try:
        blocks = sorted({resolve_layer(int(k), depth) for k in given})
    except ValueError as exc:
        raise InvalidSetting("layer", str(exc)) from None
    return (int(given[0]),) if len(given) == 1 else tuple(blocks)


def layer_tag(block: int) -> str:
    """The file-name tag of a block in a multi-layer output (``layer08``: zero-padded, so names sort)."""
    return f"layer{block:02d}"


def clip_spec(clips: str, stride: float | None = None) -> str:
    """The canonical window spec (``center``, ``uniform:4``, ``sliding:2``) of ``--clips`` and ``--stride``."""
    try:
        windows = Windows.parse(clips)
    except ValueError as exc:
        raise InvalidSetting("clips", str(exc)) from None
    if windows.kind not in CLIP_KINDS:
        raise InvalidSetting("clips", f"use center, uniform:N or sliding (with --stride SECONDS), not {clips!r}")
    if stride is not None:
        if windows.kind != "sliding":
            raise InvalidSetting("stride", "only applies to --clips sliding")
        if not (stride > 0 and math.isfinite(stride)):
            raise InvalidSetting("stride", f"must be a positive number of seconds, got {stride}")
        try:  # Windows refuses the rest no video could use (finer than a microsecond)
            windows = replace(windows, stride=stride)
        except ValueError as exc:
            raise InvalidSetting("stride", str(exc)) from None
    return windows.spec


@dataclass(frozen=True)
class EmbedSettings:
    """Model, sampling, pooling and precision of a feature run; two runs with equal settings give
    rows that may be mixed in one output (``--resume``), otherwise they refuse to.

    ``feature_shape`` (one row's shape) and ``num_classes`` follow from the model and ``pool``;
    they are kept here so an output can be checked without loading the model. ``protocol``
    ``seed`` takes the seed scripts' one random clip per input (``clips`` ``random:1``, its
    scales from the preprocessing: ``seed_protocol``), drawn with ``seed``.
    """

    model: str
    checkpoint: str
    kind: str
    preprocessing: Preprocessing
    feature_shape: tuple[int, ...]
    pool: str = "cls"
    layers: tuple[int, ...] = (-1,)
    clips: str = "center"
    folder_fps: float = 30.0
    crops: int = 1
    reduce: str = "none"
    logits: bool = False
    num_classes: int | None = None
    dtype: str = "float32"
    protocol: str = "standard"
    seed: int = 0

    def __post_init__(self) -> None:
        """Refuse values no run could use, naming the setting."""
        if self.pool not in POOLS:
            raise InvalidSetting("pool", f"use one of {', '.join(POOLS)}, not {self.pool!r}")
        if not self.layers or (
            len(self.layers) > 1 and (min(self.layers) < 0 or list(self.layers) != sorted(set(self.layers)))
        ):
            raise InvalidSetting("layers", f"one block, or several as sorted block indices, not {list(self.layers)}")
        if self.crops not in (1, 3):
            raise InvalidSetting("crops", f"use 1 (centre) or 3 (both ends and centre), not {self.crops!r}")
        self._check_protocol()
        if self.protocol == "standard" and clip_spec(self.clips) != self.clips:
            raise InvalidSetting("clips", f"a canonical spec such as {clip_spec(self.clips)!r}, not {self.clips!r}")
        if not (self.folder_fps > 0 and math.isfinite(self.folder_fps)):
            raise InvalidSetting("folder_fps", f"must be a positive number of frames per second, got {self.folder_fps}")
        if self.reduce not in REDUCES:
            raise InvalidSetting("reduce", f"use one of {', '.join(REDUCES)}, not {self.reduce!r}")
        if self.logits and self.num_classes is None:
            raise InvalidSetting("logits", f"needs a finetuned vit model; {self.model} has no classification head")

    def _check_protocol(self) -> None:
        """A known protocol; the seed protocol's one clip and crop, on a recipe its loader had."""
        if self.protocol not in PROTOCOLS:
            raise InvalidSetting("protocol", f"use one of {', '.join(PROTOCOLS)}, not {self.protocol!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise InvalidSetting("seed", f"must be a whole number, got {self.seed!r}")
        if self.protocol == "standard":
            if self.seed != 0:
                raise InvalidSetting("seed", "only applies to the seed protocol")
            return
        if (self.clips, self.crops) != (SEED_CLIPS, 1):
            raise InvalidSetting("protocol", f"the seed protocol is one random clip and crop ({SEED_CLIPS!r}, crops 1)")
        if self.preprocessing.resize != "area":
            raise InvalidSetting(
                "protocol",
                f"{self.model} was finetuned on images: its seed script (hvm-1 test_image_recognition.py) tests "
                "the centre crop, which is the standard protocol",
            )

    @classmethod
    def for_model(
        cls,
        entry: ModelEntry,
        *,
        checkpoint: str | Path | None = None,
        pool: str = "cls",
        layer: int | str | Sequence[int] = -1,
        clips: str = "center",
        stride: float | None = None,
        sampling_rate: int | None = None,
        folder_fps: float = 30.0,
        crops: int = 1,
        reduce: str = "none",
        logits: bool = False,
        dtype: str | torch.dtype | None = "float32",
        protocol: str = "standard",
        seed: int = 0,
    ) -> EmbedSettings:
        """Settings for a catalogue entry: its preprocessing (at ``sampling_rate``, None: the model's),
        its checkpoint (or ``checkpoint``), its row shape. ``layer`` is one block, a list of blocks or
        ``"all"`` (see :func:`parse_layers`). ``protocol`` ``seed`` replaces ``clips``
        and ``crops`` (which must stay at their defaults) by the seed scripts' one random clip."""
        if sampling_rate is not None and sampling_rate < 1:
            raise InvalidSetting("sampling_rate", f"must be >= 1, got {sampling_rate}")
        layers = parse_layers(layer, entry.arch.depth)  # out of range fails here, before any work
        if logits and (entry.kind != "vit" or entry.num_classes is None):
            raise InvalidSetting("logits", f"needs a finetuned vit model; {entry.name} has no classification head")
        if checkpoint is not None and not Path(checkpoint).is_file():
            raise InvalidSetting("checkpoint", f"{checkpoint}: no such file")
        if protocol == "seed":
            if (clips, stride, crops) != ("center", None, 1):
                raise InvalidSetting("protocol", "the seed protocol takes one random clip and crop of its own")
            clips = SEED_CLIPS
        else:
            clips = clip_spec(clips, stride)
        dim = entry.arch.embed_dim
        return cls(
            model=entry.name,
            checkpoint=str(Path(checkpoint).resolve()) if checkpoint else entry.source.label,
            kind=entry.kind,
            preprocessing=entry.preprocessing.with_sampling_rate(sampling_rate),
            feature_shape=(entry.arch.num_patches, dim) if pool == "tokens" else (dim,),
            pool=pool,
            layers=layers,
            clips=clips,
            folder_fps=folder_fps,
            crops=crops,
            reduce=reduce,
            logits=logits,
            num_classes=entry.num_classes if logits else None,
            dtype=dtype_name(dtype),
            protocol=protocol,
            seed=seed,
        )

    @property
    def layer_tags(self) -> tuple[str, ...]:
        """One file-name tag per stored layer: ``("",)`` for one layer (``feats.npy``), else ``layer08``... ."""
        return ("",) if len(self.layers) == 1 else tuple(layer_tag(b) for b in self.layers)

    @property
    def windows(self) -> Windows:
        """The window spec as the video layer takes it."""
        return Windows.parse(self.clips)

    @property
    def seed_protocol(self) -> SeedProtocol | None:
        """The seed protocol's scales, crop and seed (None for the standard protocol)."""
        if self.protocol != "seed":
            return None
        return SeedProtocol.for_preprocessing(self.preprocessing, seed=self.seed)

    def plan(self) -> ClipPlan:
        """The clips to take from every input: windows and crops, or the seed protocol's one clip."""
        if self.protocol == "seed":
            return ClipPlan(folder_fps=self.folder_fps, protocol=self.seed_protocol)
        return ClipPlan(self.clips, crops=self.crops, folder_fps=self.folder_fps)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (the ``settings`` of ``run.json``)."""
        data = asdict(self)
        data["preprocessing"] = self.preprocessing.to_dict()
        data["feature_shape"] = list(self.feature_shape)
        data["layers"] = list(self.layers)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbedSettings:
        """Settings read back from ``run.json``; a missing or unknown field is a ValueError (a field
        added since, ``ADDED_FIELDS``, reads as the value a record without it means)."""
        names = {f.name for f in fields(cls)}
        data = {**{k: v for k, v in ADDED_FIELDS.items() if k not in data}, **data}
        if "layer" in data and "layers" not in data:  # one layer, as records before --layer LIST had it
            data = {**{k: v for k, v in data.items() if k != "layer"}, "layers": [data["layer"]]}
        if set(data) != names:
            raise ValueError(f"settings fields differ from this version's ({sorted(set(data) ^ names)})")
        pre = Preprocessing.from_dict(data["preprocessing"])
        layers = tuple(int(k) for k in data["layers"])
        return cls(**{**data, "preprocessing": pre, "feature_shape": tuple(data["feature_shape"]), "layers": layers})

    def differences(self, before: EmbedSettings) -> list[str]:
        """``name: before -> now`` for every field that differs from ``before`` (empty: the runs may be mixed)."""
        now, then = self.to_dict(), before.to_dict()
        return [_change(k, then[k], now[k]) for k in now if now[k] != then[k]]


def _change(name: str, before: Any, now: Any) -> str:
    """``name: before -> now`` as a person reads it (one layer is ``layer -1``, not ``layers [-1]``)."""
    if name == "layers":
        if len(before) == len(now) == 1:
            return f"layer {before[0]} -> {now[0]}"
        return f"layers {','.join(map(str, before))} -> {','.join(map(str, now))}"
    return f"{name} {before!r} -> {now!r}"
