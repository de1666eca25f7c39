"""vidmenagerie: pretrained self-supervised ViT-H/14 video models, one import away."""

from __future__ import annotations

__version__ = "0.1.0"
