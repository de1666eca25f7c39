"""Preprocessing constants of a model: they travel with its catalogue entry, never as globals."""

from __future__ import annotations

from dataclasses import dataclass

MEAN: tuple[float, float, float] = (0.45, 0.45, 0.45)
STD: tuple[float, float, float] = (0.225, 0.225, 0.225)


@dataclass(frozen=True)
class Preprocessing:
    """How frames become model input: sample at ``fps``, resize short side, centre crop, normalize.

    The published models were trained on 16-frame clips of 30 fps video, frames scaled to
    [0, 1], short side resized to ``img_size + 32`` (bilinear, no antialiasing), centre
    cropped to ``img_size`` and normalized with per-channel ``mean`` and ``std``.
    """

    img_size: int = 224
    short_side: int = 256
    num_frames: int = 16
    fps: float = 30.0
    mean: tuple[float, float, float] = MEAN
    std: tuple[float, float, float] = STD

    @classmethod
    def for_size(cls, img_size: int, num_frames: int = 16) -> Preprocessing:
        """The training pipeline's constants for a given crop size (short side = crop + 32)."""
        return cls(img_size=img_size, short_side=img_size + 32, num_frames=num_frames)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready form, for ``vidm info`` and ``run.json``."""
        return {
            "img_size": self.img_size,
            "short_side": self.short_side,
            "num_frames": self.num_frames,
            "fps": self.fps,
            "mean": list(self.mean),
            "std": list(self.std),
        }
