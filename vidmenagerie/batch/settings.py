"""Settings every per-clip analysis shares, checked before any model is fetched.

A task's settings extend ``BatchSettings`` (model, clips, sampling, runtime) or
``PictureSettings`` (plus the picture and animation outputs) and add their own fields and
``check``; the whole dataclass is recorded in ``run.json``. Nothing here imports torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..catalog import ModelEntry, default_catalog
from ..errors import InvalidSetting
from ..preprocess import Preprocessing
from ..video.sampling import Windows
from .clips import ClipPlan

IMAGE_FORMATS: tuple[str, ...] = ("jpg", "png")


@dataclass(frozen=True)
class BatchSettings:
    """Which model, which clips of each input (``clip`` window spec, ``sampling_rate`` None: the
    model's, ``folder_fps`` for frame folders), and how to run (device, dtype, batch, workers)."""

    model: str
    checkpoint: str | None = None
    clip: str = "center"
    seed: int = 0
    sampling_rate: int | None = None
    folder_fps: float = 30.0
    device: str = "auto"
    dtype: str = "float32"
    batch_size: int | None = None  # None: 1 on a CPU, ACCELERATED_BATCH on a GPU (Runtime.batch_size)
    workers: int = 2

    def entry(self) -> ModelEntry:
        """The model's catalogue entry (an unknown name fails here)."""
        return default_catalog().get(self.model)

    def check(self, entry: ModelEntry) -> None:
        """Raise ``InvalidSetting`` for any value no run could use (subclasses add their own)."""
        try:
            Windows.parse(self.clip, seed=self.seed)
        except ValueError as exc:
            raise InvalidSetting("clip", str(exc)) from None
        if self.sampling_rate is not None and self.sampling_rate < 1:
            raise InvalidSetting("sampling_rate", f"must be >= 1, got {self.sampling_rate}")
        if not (self.folder_fps > 0 and math.isfinite(self.folder_fps)):
            raise InvalidSetting("folder_fps", f"must be a positive number of frames per second, got {self.folder_fps}")
        if self.batch_size is not None and self.batch_size < 1:
            raise InvalidSetting("batch_size", f"must be >= 1, got {self.batch_size}")
        if self.workers < 0:
            raise InvalidSetting("workers", f"must be >= 0, got {self.workers}")
        if self.checkpoint is not None and not Path(self.checkpoint).is_file():
            raise InvalidSetting("checkpoint", f"{self.checkpoint}: no such file")

    def preprocessing(self, entry: ModelEntry) -> Preprocessing:
        """The model's recipe at this run's sampling rate."""
        return entry.preprocessing.with_sampling_rate(self.sampling_rate)

    def plan(self) -> ClipPlan:
        """The clips to take from every input."""
        return ClipPlan(windows=self.clip, seed=self.seed, folder_fps=self.folder_fps)


@dataclass(frozen=True)
class PictureSettings(BatchSettings):
    """``BatchSettings`` of the analyses that draw pictures: format, MP4 (and GIF) animations."""

    image_format: str = "jpg"
    animate: bool = False
    gif: bool = False

    def check(self, entry: ModelEntry) -> None:
        """The shared checks, and a picture format the renderer writes."""
        super().check(entry)
        if self.image_format not in IMAGE_FORMATS:
            raise InvalidSetting("image_format", f"use jpg or png, not {self.image_format!r}")
