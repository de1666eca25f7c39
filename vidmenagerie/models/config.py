"""Architecture of a spatiotemporal ViT / MAE as data: every size is a field, ViT-H/14 is the default."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

ModelKind = Literal["mae", "vit"]
MODEL_KINDS: tuple[ModelKind, ...] = ("mae", "vit")


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
        for name in ("img_size", "patch_size", "num_frames", "t_patch_size", "embed_dim", "depth", "num_heads"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be positive")
        if self.num_classes is not None and self.num_classes <= 0:
            problems.append("num_classes must be positive (or unset for no head)")
        if problems:
            raise ValueError("invalid architecture: " + "; ".join(problems))

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
