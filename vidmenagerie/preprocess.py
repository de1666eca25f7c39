"""How a model's input is prepared: a property of its catalogue entry, never a global.

Two pixel rules exist because the models were trained two ways (sources cited in the README):

- ``"area"``: the video training loader (mae_st ``util/decoder/decoder.py`` -> torchvision's
  ``video_reader`` with ``video_min_dimension``): each frame converted to RGB and resized in one
  FFmpeg swscale call with ``SWS_AREA``, short side to ``short_side``, long side rounded half
  up; then an ``img_size`` crop at ``uniform_crop``'s offsets (centre rounded up); normalized
  with ``mean``/``std`` (0.45/0.225).
- ``"bicubic"``: the ImageNet finetuning transforms (mae_st ``finetune_on_image.py``, hvm-1
  ``test_image_recognition.py``): PIL bicubic resize of the short side to ``short_side``
  (``img_size + 32``, long side floored), torchvision ``CenterCrop`` (offsets rounded half to
  even), ImageNet mean/std; a still image repeated over every frame.

Frames are chosen by the training rule (``video.sampling.frame_offsets``): a clip covers
``sampling_rate * num_frames / fps`` seconds and takes frames ``floor(linspace(0, L - 1,
num_frames))`` of those ``L`` source frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any, Literal, get_args

from .errors import InvalidSetting
from .models.config import check_int, check_real

MEAN: tuple[float, float, float] = (0.45, 0.45, 0.45)
STD: tuple[float, float, float] = (0.225, 0.225, 0.225)
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)

Resize = Literal["area", "bicubic"]
RESIZE_RULES: tuple[str, ...] = get_args(Resize)
RESIZE_DESCRIPTIONS: dict[str, str] = {
    "area": "swscale area (SWS_AREA) in the YUV->RGB conversion, long side rounded half up, crop offsets rounded up",
    "bicubic": "PIL bicubic on RGB, long side floored, crop offsets rounded half to even (torchvision CenterCrop)",
}
# Sanity bounds, generous enough for any real recipe; larger values are typos.
MAX_SIZE, MAX_SHORT_SIDE, MAX_FRAMES, MAX_SAMPLING_RATE, MAX_FPS = 4096, 16384, 1024, 4096, 10_000.0
# The frame rule of mae_st's Kinetics loader (util/kinetics.py + util/decoder/decoder.py).
FRAME_RULE = "floor(linspace(0, L - 1, num_frames)) of the L = sampling_rate * num_frames / fps * video fps frames"


@dataclass(frozen=True)
class Preprocessing:
    """A model's input recipe: frame choice (``num_frames``, ``sampling_rate`` at ``fps``) and
    pixels (``resize`` rule to ``short_side``, ``img_size`` crop, ``mean``/``std``)."""

    img_size: int = 224
    short_side: int = 256
    num_frames: int = 16
    fps: float = 30.0
    sampling_rate: int = 8
    resize: Resize = "area"
    mean: tuple[float, float, float] = MEAN
    std: tuple[float, float, float] = STD

    def __post_init__(self) -> None:
        """Refuse recipes no clip can be made with (a bad catalogue entry fails when read), naming the field."""
        check_int("img_size", self.img_size, 1, MAX_SIZE)
        check_int("short_side", self.short_side, 1, MAX_SHORT_SIDE)
        check_int("num_frames", self.num_frames, 1, MAX_FRAMES)
        check_int("sampling_rate", self.sampling_rate, 1, MAX_SAMPLING_RATE)
        check_real("fps", self.fps, low=0.0, high=MAX_FPS, low_open=True)
        if self.short_side < self.img_size:
            raise InvalidSetting("short_side", f"must be at least img_size ({self.img_size}), got {self.short_side}")
        if self.resize not in RESIZE_RULES:
            raise InvalidSetting("resize", f"must be one of {', '.join(RESIZE_RULES)}, got {self.resize!r}")
        for name in ("mean", "std"):
            values = getattr(self, name)
            if not isinstance(values, (tuple, list)) or len(values) != 3:
                raise InvalidSetting(name, f"must be 3 numbers (one per RGB channel), got {values!r}")
            for value in values:
                check_real(name, value, low=0.0 if name == "std" else -math.inf, low_open=name == "std")

    @classmethod
    def for_video(cls, img_size: int, num_frames: int = 16, *, short_side: int | None = None) -> Preprocessing:
        """The video training recipe at ``--sampling_rate 8`` (mae_st scripts/new/train_say.sh:36);
        short side 256 at 224 px (``train_jitter_scales[0]``, util/kinetics.py:287), else the crop
        size (the 448-pixel models: ``--train_jitter_scales 448 448``, train_sayavakepicutego4d_448.sh:42)."""
        side = short_side if short_side is not None else (256 if img_size == 224 else img_size)
        return cls(img_size=img_size, short_side=side, num_frames=num_frames)

    @classmethod
    def for_images(cls, img_size: int, num_frames: int = 16) -> Preprocessing:
        """The ImageNet finetuning recipe (``finetune_on_image.py``): bicubic to ``img_size + 32``,
        ImageNet statistics."""
        return cls(
            img_size=img_size,
            short_side=img_size + 32,
            num_frames=num_frames,
            resize="bicubic",
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
        )

    def with_sampling_rate(self, sampling_rate: int | None) -> Preprocessing:
        """This recipe with another sampling rate (None: unchanged), for ``--sampling-rate``."""
        return self if sampling_rate is None else replace(self, sampling_rate=sampling_rate)

    @property
    def span_seconds(self) -> float:
        """Seconds of video one clip covers (``sampling_rate * num_frames / fps``)."""
        return self.sampling_rate * self.num_frames / self.fps

    def describe(self) -> str:
        """One line for ``vidm info``."""
        return (
            f"{self.resize} resize ({RESIZE_DESCRIPTIONS[self.resize]}) to short side {self.short_side}, "
            f"centre crop {self.img_size}, mean {list(self.mean)}, std {list(self.std)}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, for ``vidm info`` and ``run.json``."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        data["mean"], data["std"] = list(self.mean), list(self.std)
        data["frame_rule"] = FRAME_RULE
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        """The recipe ``to_dict`` wrote (``frame_rule`` is informative and ignored)."""
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        values["mean"], values["std"] = tuple(values.get("mean", MEAN)), tuple(values.get("std", STD))
        return cls(**values)
