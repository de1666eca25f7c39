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


ARCH_FIELDS: frozenset[str] = frozenset(f.name for f in fields(Architecture))
