"""Model definitions: the architecture dataclass and the spatiotemporal ViT / MAE modules."""

from .config import Architecture
from .video_vit import MaskedAutoencoder, VideoEncoder, VisionTransformer

__all__ = ["Architecture", "MaskedAutoencoder", "VideoEncoder", "VisionTransformer"]
