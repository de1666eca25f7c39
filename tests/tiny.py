"""Tiny models in the published checkpoint format, and catalogue files that name them."""

from __future__ import annotations

from pathlib import Path

import torch

import vidmenagerie as vm

# Configuration A of ../shared/reference: 56 px, 4 frames, 4x4x2 token grid.
TINY_ARCH: dict[str, int] = {
    "img_size": 56,
    "patch_size": 14,
    "num_frames": 4,
    "t_patch_size": 2,
    "embed_dim": 64,
    "depth": 2,
    "num_heads": 4,
    "decoder_embed_dim": 32,
    "decoder_depth": 2,
    "decoder_num_heads": 4,
}


def tiny_state_dict(kind: str = "mae", seed: int = 0, **overrides: int) -> dict[str, torch.Tensor]:
    """A randomly initialised tiny model's state dict."""
    torch.manual_seed(seed)
    return vm.create_model(kind, **{**TINY_ARCH, **overrides}).state_dict()


def write_checkpoint(path: Path, kind: str = "mae", seed: int = 0, **overrides: int) -> Path:
    """Write ``{"model": state_dict}`` the way the published ``.pth`` files are laid out."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": tiny_state_dict(kind, seed, **overrides)}, path)
    return path


def toml_entry(name: str, kind: str, *, img_size: int = 56, num_frames: int = 4, **fields: object) -> str:
    """A ``[models.NAME]`` table with the tiny architecture and the given extra fields."""
    arch = {**TINY_ARCH, "img_size": img_size, "num_frames": num_frames}
    if kind == "vit":
        arch = {k: v for k, v in arch.items() if not k.startswith("decoder")}
    lines = [f"[models.{name}]", f'kind = "{kind}"']
    for key, value in {**arch, **fields}.items():
        lines.append(f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"')
    return "\n".join(lines) + "\n"
