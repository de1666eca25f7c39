"""Architecture of a spatiotemporal ViT / MAE as data: every size is a field, ViT-H/14 is the default."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from ..errors import InvalidSetting

ModelKind = Literal["mae", "vit"]
MODEL_KINDS: tuple[ModelKind, ...] = ("mae", "vit")

# Sanity bounds, generous enough for any real model (ViT-22B: width 6144, depth 48; the
# published ViT-H/14: 224-448 px, 16 frames, 632M parameters); larger values are typos.
MAX_PARAMETERS = 50 * 10**9
MAX_CLASSES = 1_000_000
MAX_MLP_RATIO = 64.0
_INT_RANGES: tuple[tuple[str, int, int], ...] = (
    ("img_size", 1, 4096),
    ("patch_size", 1, 4096),
    ("num_frames", 1, 1024),
    ("t_patch_size", 1, 1024),
    ("in_chans", 1, 1024),
    ("embed_dim", 1, 65536),
    ("depth", 1, 1024),
    ("num_heads", 1, 4096),
    ("decoder_embed_dim", 1, 65536),
    ("decoder_depth", 1, 1024),
    ("decoder_num_heads", 1, 4096),
)


@dataclass(frozen=True)
class Architecture:
    """Sizes of the encoder (and, for an MAE, the decoder); the defaults are the published ViT-H/14."""

    img_size: int = 224
    patch_size: int = 14
    num_frames: int = 16
    t_patch_size: int = 2
    in_chans: int = 3
    embed_dim: int = 1280
    depth: int = 32
    num_heads: int = 16
    mlp_ratio: float = 4.0
    decoder_embed_dim: int = 512
    decoder_depth: int = 4
    decoder_num_heads: int = 16
    num_classes: int | None = None
    norm_eps: float = 1e-6
    drop_path_rate: float = 0.0

    def __post_init__(self) -> None:
        """Refuse sizes no model can be built with (each field's range first, naming it; then how
        fields fit together; then the parameter count), so a bad catalogue entry fails when read."""
        for name, low, high in _INT_RANGES:
            check_int(name, getattr(self, name), low, high)
        if self.num_classes is not None:
            check_int("num_classes", self.num_classes, 1, MAX_CLASSES)
        check_real("mlp_ratio", self.mlp_ratio, low=0.0, high=MAX_MLP_RATIO, low_open=True)
        check_real("norm_eps", self.norm_eps, low=0.0, high=1.0, low_open=True)
        check_real("drop_path_rate", self.drop_path_rate, low=0.0, high=1.0, high_open=True)
        problems = []
        if self.img_size % self.patch_size:
            problems.append(f"img_size {self.img_size} is not a multiple of patch_size {self.patch_size}")
        if self.num_frames % self.t_patch_size:
            problems.append(f"num_frames {self.num_frames} is not a multiple of t_patch_size {self.t_patch_size}")
        if self.embed_dim % self.num_heads:
            problems.append(f"embed_dim {self.embed_dim} is not divisible by num_heads {self.num_heads}")
        if self.decoder_embed_dim % self.decoder_num_heads:
            problems.append(
                f"decoder_embed_dim {self.decoder_embed_dim} is not divisible by "
                f"decoder_num_heads {self.decoder_num_heads}"
            )
        if int(min(self.embed_dim, self.decoder_embed_dim) * self.mlp_ratio) < 1:
            problems.append(f"mlp_ratio {self.mlp_ratio} leaves the MLP without hidden units")
        if problems:
            raise ValueError("invalid architecture: " + "; ".join(problems))
        count = max(self.num_parameters(kind) for kind in MODEL_KINDS)
        if count > MAX_PARAMETERS:
            raise ValueError(
                f"invalid architecture: {count:,} parameters would need {count * 4 / 1e9:,.0f} GB of memory "
                f"in float32 (the limit is {MAX_PARAMETERS // 10**9} billion, beyond any published model)"
            )

    @property
    def grid(self) -> tuple[int, int, int]:
        """Token grid (time slots, rows, columns)."""
        side = self.img_size // self.patch_size
        return (self.num_frames // self.t_patch_size, side, side)

    @property
    def num_patches(self) -> int:
        """Number of patch tokens (without the CLS token)."""
        t, h, w = self.grid
        return t * h * w

    @property
    def patch_dim(self) -> int:
        """Pixels an MAE predicts per token: t_patch x patch x patch x channels."""
        return self.t_patch_size * self.patch_size**2 * self.in_chans

    def num_parameters(self, kind: ModelKind) -> int:
        """Parameter count of the ``kind`` model, by arithmetic (no torch import, no allocation)."""
        t, h, w = self.grid
        c = self.embed_dim
        encoder = (
            c * self.in_chans * self.t_patch_size * self.patch_size**2
            + c  # patch embedding
            + c * (1 + h * w + t + 1)  # cls token, spatial, temporal and class position embeddings
            + self.depth * _block_parameters(c, self.mlp_ratio)
            + 2 * c  # final norm
        )
        if kind == "vit":
            return encoder + ((c + 1) * self.num_classes if self.num_classes else 0)
        d = self.decoder_embed_dim
        decoder = (
            (c + 1) * d  # decoder_embed
            + d * (2 + h * w + t + 1)  # decoder cls token, mask token, position embeddings
            + self.decoder_depth * _block_parameters(d, self.mlp_ratio)
            + 2 * d  # decoder norm
            + (d + 1) * self.patch_dim  # decoder_pred
        )
        return encoder + decoder

    def with_overrides(self, **overrides: Any) -> Architecture:
        """A copy with the given fields changed; ``None`` values are ignored, unknown names rejected."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(f"unknown architecture field(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **clean)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for ``vidm info`` and ``run.json``)."""
        return asdict(self)


def _block_parameters(dim: int, mlp_ratio: float) -> int:
    hidden = int(dim * mlp_ratio)
    return 4 * dim + 4 * (dim * dim + dim) + (dim * hidden + hidden) + (hidden * dim + dim)


ARCH_FIELDS: frozenset[str] = frozenset(f.name for f in fields(Architecture))


def check_int(name: str, value: Any, low: int, high: int) -> None:
    """Raise :class:`InvalidSetting` naming ``name`` unless ``value`` is an integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSetting(name, f"must be an integer, got {value!r}")
    if value < low:
        raise InvalidSetting(name, f"must be >= {low}, got {value}")
    if value > high:
        raise InvalidSetting(name, f"must be <= {high:,} (a sanity bound beyond any real model), got {value:,}")


def check_real(
    name: str, value: Any, *, low: float, high: float | None = None, low_open: bool = False, high_open: bool = False
) -> None:
    """Raise :class:`InvalidSetting` naming ``name`` unless ``value`` is a finite number in the range
    (``low_open``/``high_open``: the bound itself is excluded; ``high`` None: no upper bound)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidSetting(name, f"must be a finite number, got {value!r}")
    if value < low or (low_open and value == low):
        raise InvalidSetting(name, f"must be {'>' if low_open else '>='} {low:g}, got {value:g}")
    if high is not None and (value > high or (high_open and value == high)):
        raise InvalidSetting(name, f"must be {'<' if high_open else '<='} {high:g}, got {value:g}")
