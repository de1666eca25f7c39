"""Model definitions: the architecture dataclass (light) and the spatiotemporal ViT / MAE modules (torch).

Names are imported on first use, so the catalogue can use ``models.config`` without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__, {"config": ("Architecture",), "video_vit": ("MaskedAutoencoder", "VideoEncoder", "VisionTransformer")}
)

if TYPE_CHECKING:
    from .config import Architecture
    from .video_vit import MaskedAutoencoder, VideoEncoder, VisionTransformer
