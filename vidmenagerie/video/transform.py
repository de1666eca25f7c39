"""Pixels as the models were trained on them: resize by the recipe's rule, crop, normalize.

``FramePixels`` turns one decoded frame (a PyAV ``VideoFrame``, or an RGB image) into the
model's crops, by the ``Preprocessing.resize`` rule:

- ``"area"`` reproduces torchvision's ``video_reader``, which mae_st's loader decoded with
  (``util/decoder/decoder.py:164`` at 325c13c2: ``video_min_dimension=max_spatial_scale``, the
  loader's ``min_scale``, ``util/kinetics.py:287``). Its ``VideoSampler`` is made with
  ``SWS_AREA`` (torchvision ``csrc/io/decoder/video_stream.cpp:88``) and calls
  ``sws_getContext(in, out, RGB24, SWS_AREA)`` (``video_sampler.cpp:183``) and ``sws_scale``
  with no colour-space details, so swscale's defaults apply: BT.601 coefficients, limited range unless
  the pixel format is full range, chroma siting ignored. PyAV's ``reformat`` uses the newer
  ``sws_scale_frame``, which honours a frame's chroma-location tag (H.264/HEVC/MPEG-4 say
  "left") and shifts chroma by half a pixel: measured up to 42/255 off the legacy call. So a
  frame is first copied into an untagged frame (0.06 ms at 720p); the result is then
  bit-identical to the legacy ``sws_scale`` (tested against it through ctypes). The output
  size follows ``Util::setFormatDimensions`` (``csrc/io/decoder/util.cpp:323``, ``:345``): the
  short side is ``short_side``, the long side ``round(long * short_side / short)`` (half up); a
  square frame counts as portrait. Crops take ``uniform_crop``'s offsets (mae_st
  ``util/decoder/transform.py:124``, ``:159``): centre ``ceil((size - crop) / 2)``, or both ends
  and the centre of the long side for 3 crops.
- ``"bicubic"`` reproduces the ImageNet finetuning transforms (mae_st ``finetune_on_image.py:135``
  and hvm-1 ``test_image_recognition.py:53``: ``Resize(img_size + 32, interpolation=3)``,
  ``CenterCrop``, ``ToTensor``, ``Normalize``; the image repeated over the frames at ``:90``):
  PIL bicubic resize, long side ``int(long * short_side / short)``, centre offsets
  ``round((size - crop) / 2)`` (Python's round, half to even). A video frame is converted to
  RGB at full size first (swscale, BT.601 as above).

``full_frame=N`` keeps the whole frame instead, its short side scaled to ``N`` by the rule
above and normalized: the seed protocol (``augment``) decodes at ``min_scale`` and scales, crops
and flips afterwards, as the val loader did (hvm-1 ``helpers/kinetics.py:286``, ``:337``).

Three crops are mae_st's multi-view test (``util/kinetics.py:252``, test mode): with
``test_num_spatial_crops > 1`` the frames are scaled to short side = crop size, and three crops
cover the long side. Values are ``(x / 255 - mean) / std`` in float32, as ``tensor_normalize``
(``util/kinetics.py:338``) and ``ToTensor`` + ``Normalize`` compute them. Everything runs in numpy and FFmpeg: torch ops
between decoder calls would wake torch's spinning OpenMP threads, which take the cores
FFmpeg's frame threads need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch

from vidmenagerie.errors import VideoError
from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video.probe import import_av

if TYPE_CHECKING:
    from av.video.frame import VideoFrame
    from PIL.Image import Image

Crops = Literal[1, 3]


def check_crops(crops: int) -> Crops:
    """``crops`` itself if it is 1 or 3, else a ValueError naming the choices."""
    if crops not in (1, 3):
        raise ValueError(f"crops must be 1 (centre) or 3 (both ends and centre), not {crops!r}")
    return crops  # type: ignore[return-value]


def scaled_size(height: int, width: int, short_side: int, resize: str = "area") -> tuple[int, int]:
    """(height, width) after scaling the short side to ``short_side`` by the rule's rounding."""
    if resize == "bicubic":  # torchvision _compute_resized_output_size: the long side floored
        if height <= width:
            return short_side, short_side * width // height
        return short_side * height // width, short_side
    # torchvision Util::setFormatDimensions: round(double(long * min) / short), half up
    if width > height:
        return short_side, (2 * width * short_side + height) // (2 * height)
    return (2 * height * short_side + width) // (2 * width), short_side


# The longest side a picture may have once scaled: far beyond any real frame or photo (64:1 at a
# short side of 256), and short of what swscale refuses with a bare EINVAL or PIL allocates gigabytes for.
MAX_SCALED_SIDE = 16384


def checked_size(height: int, width: int, short_side: int, resize: str = "area") -> tuple[int, int]:
    """``scaled_size``, refused in one line (a VideoError) when the scaled picture would be absurdly
    long (a 1x200000 strip), instead of failing inside the scaler."""
    scaled = scaled_size(height, width, short_side, resize)
    if max(scaled) > MAX_SCALED_SIDE:
        raise VideoError(
            f"a {width}x{height} picture is too thin to read: with its short side scaled to {short_side} it would "
            f"be {scaled[1]}x{scaled[0]} pixels (at most {MAX_SCALED_SIDE} a side)"
        )
    return scaled


def crop_offsets(height: int, width: int, size: int, crops: Crops = 1, resize: str = "area") -> list[tuple[int, int]]:
    """(top, left) of each crop: the centre, or start/centre/end along the long side for 3 crops."""
    check_crops(crops)
    if resize == "bicubic" and crops == 1:  # torchvision CenterCrop: int(round((h - ch) / 2.0))
        return [(int(round((height - size) / 2.0)), int(round((width - size) / 2.0)))]
    top, left = math.ceil((height - size) / 2), math.ceil((width - size) / 2)  # uniform_crop
    if crops == 1:
        return [(top, left)]
    if height > width:
        return [(0, left), (top, left), (height - size, left)]
    return [(top, 0), (top, left), (top, width - size)]


def rotate(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """The frame as it is displayed: rotate [H, W, 3] by ``rotation`` degrees counter-clockwise."""
    turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def untagged(frame: VideoFrame) -> VideoFrame:
    """A copy of ``frame``'s pixels with only its format and range: no chroma siting, no
    colour tags, as the legacy ``sws_scale`` saw frames."""
    av = import_av()
    copy = av.VideoFrame(frame.width, frame.height, frame.format.name)
    for source, target in zip(frame.planes, copy.planes):
        src = np.frombuffer(memoryview(source), np.uint8).reshape(-1, source.line_size)
        dst = np.asarray(memoryview(target)).reshape(-1, target.line_size)
        width = min(source.line_size, target.line_size)
        dst[:, :width] = src[: dst.shape[0], :width]
    copy.color_range = frame.color_range
    return copy


def swscale_rgb(frame: VideoFrame, height: int, width: int, *, decoded: bool = True) -> np.ndarray:
    """RGB24 [height, width, 3] from any frame, as torchvision's ``VideoSampler`` made it
    (one swscale call, ``SWS_AREA``, default BT.601 coefficients). A ``decoded`` frame is
    copied untagged first; a frame made from an array carries no tags to drop."""
    from av.video.reformatter import Colorspace, Interpolation

    out = (untagged(frame) if decoded else frame).reformat(
        width, height, "rgb24", interpolation=Interpolation.AREA, src_colorspace=Colorspace.ITU601
    )
    return out.to_ndarray()


@dataclass(frozen=True)
class Shown:
    """A chosen frame's crops (float32 [crops, 3, S, S]), its display size and rotation."""

    pixels: torch.Tensor
    height: int
    width: int
    rotation: int


class FramePixels:
    """The training pipeline's pixels for one recipe and crop count, frame by frame; with
    ``full_frame``, whole frames scaled to that short side (``"area"`` recipes only, one "crop")."""

    def __init__(self, preprocessing: Preprocessing, crops: Crops = 1, *, full_frame: int | None = None) -> None:
        self.preprocessing = preprocessing
        self.crops = check_crops(crops)
        if full_frame is not None:
            if preprocessing.resize != "area" or crops != 1:
                raise ValueError("whole frames are scaled by the 'area' rule, one per frame (crops=1)")
            if full_frame < 1:
                raise ValueError(f"full_frame must be >= 1 pixel, got {full_frame}")
        self.full_frame = full_frame
        self._mean = np.asarray(preprocessing.mean, np.float32)
        self._std = np.asarray(preprocessing.std, np.float32)

    @property
    def short_side(self) -> int:
        """The scaled short side: ``full_frame``, else the recipe's, or the crop size for 3 crops (mae_st test mode)."""
        if self.full_frame is not None:
            return self.full_frame
        return self.preprocessing.img_size if self.crops == 3 else self.preprocessing.short_side

    def video_frame(self, frame: VideoFrame) -> Shown:
        """A decoded video frame: scaled (stored orientation), turned upright, cropped, normalized."""
        pre, rotation = self.preprocessing, frame.rotation
        turned = round(rotation / 90) % 2 == 1
        display = (frame.width, frame.height) if turned else (frame.height, frame.width)
        if pre.resize == "area":
            height, width = checked_size(frame.height, frame.width, self.short_side)
            rgb = rotate(swscale_rgb(frame, height, width), rotation)
            return Shown(self._crops(rgb), display[0], display[1], rotation)
        full = rotate(swscale_rgb(frame, frame.height, frame.width), rotation)
        return Shown(self.rgb(full), display[0], display[1], rotation)

    def rgb(self, rgb: np.ndarray) -> torch.Tensor:
        """An upright RGB image [H, W, 3] uint8 -> its crops, float32 [crops, 3, S, S]."""
        if self.preprocessing.resize == "bicubic":
            from PIL import Image

            return self.image(Image.fromarray(rgb))
        height, width = checked_size(rgb.shape[0], rgb.shape[1], self.short_side)
        av = import_av()
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        return self._crops(swscale_rgb(frame, height, width, decoded=False))

    def image(self, image: Image) -> torch.Tensor:
        """An upright RGB PIL image -> its crops, float32 [crops, 3, S, S]."""
        if self.preprocessing.resize == "area":
            return self.rgb(np.asarray(image if image.mode == "RGB" else image.convert("RGB")))
        from PIL import Image as PILImage

        if image.mode != "RGB":  # torchvision's pil_loader converts before the transforms
            image = image.convert("RGB")
        height, width = checked_size(image.height, image.width, self.short_side, "bicubic")
        if (height, width) != (image.height, image.width):
            image = image.resize((width, height), PILImage.Resampling.BICUBIC)
        return self._crops(np.asarray(image))

    def _crops(self, rgb: np.ndarray) -> torch.Tensor:
        """Crop the scaled RGB image [H, W, 3] uint8 and normalize: float32 [crops, 3, S, S]
        (with ``full_frame``: the whole image, [1, 3, H, W])."""
        if self.full_frame is not None:
            stacked = rgb[None]
        else:
            size = self.preprocessing.img_size
            offsets = crop_offsets(rgb.shape[0], rgb.shape[1], size, self.crops, self.preprocessing.resize)
            stacked = np.stack([rgb[top : top + size, left : left + size] for top, left in offsets])
        values = stacked.astype(np.float32) / np.float32(255.0)
        values -= self._mean
        values /= self._std
        return torch.from_numpy(values.transpose(0, 3, 1, 2))
