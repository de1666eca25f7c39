"""Still images and frame folders: clips of T frames, each model's own pixels, clear errors."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

from vidmenagerie.errors import VideoError
from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video import read_clip, read_clips

from oracle import legacy_swscale_rgb, levels, min_dimension_size, normalize, training_image_clip, uniform_crop_offsets
from videos import clip_indices, gradient_frames, index_image

IMAGE_PRE = Preprocessing.for_images(64, num_frames=4)
VIDEO_PRE = Preprocessing(img_size=32, short_side=40, num_frames=4, sampling_rate=2)
FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "bmp": "BMP", "tiff": "TIFF", "gif": "GIF"}


def photo(path: Path, height: int = 150, width: int = 200, **save: object) -> Path:
    """A gradient picture saved in the format its suffix names."""
    image = Image.fromarray(gradient_frames(1, height, width)[0])
    image.save(path, FORMATS[path.suffix[1:]], **save)
    return path


def area_oracle(image: Image.Image, pre: Preprocessing) -> torch.Tensor:
    """The video recipe on a still: legacy swscale area from RGB24, uniform crop, 0.45 / 0.225."""
    rgb = np.asarray(image.convert("RGB"))
    height, width = min_dimension_size(rgb.shape[0], rgb.shape[1], pre.short_side)
    scaled = legacy_swscale_rgb(av.VideoFrame.from_ndarray(rgb, format="rgb24"), height, width)
    top, left = uniform_crop_offsets(height, width, pre.img_size, 1)
    crop = scaled[None, top : top + pre.img_size, left : left + pre.img_size]
    return normalize(np.repeat(crop, pre.num_frames, axis=0), pre.mean, pre.std)


@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_stills_get_the_imagenet_transform_repeated_over_the_frames(tmp_path: Path, suffix: str) -> None:
    path = photo(tmp_path / f"cat.{suffix}")
    clip = read_clip(path, preprocessing=IMAGE_PRE)
    expected = training_image_clip(path, 64, 4)
    diff = (clip.frames - expected).abs() * 0.229 * 255
    assert clip.frames.shape == (3, 4, 64, 64) and diff.mean() <= 0.5 and diff.max() <= 2.0
    assert all(torch.equal(clip.frames[:, 0], clip.frames[:, t]) for t in range(4))
    assert (clip.info.kind, clip.info.fps, clip.info.duration, clip.times) == ("image", 0.0, 0.0, (0.0,) * 4)
    assert (clip.info.height, clip.info.width) == (150, 200)


def test_stills_get_a_video_models_pixels(tmp_path: Path) -> None:
    path = photo(tmp_path / "cat.png", 90, 160)
    clip = read_clip(path, preprocessing=VIDEO_PRE)
    mean, worst = levels(clip.frames, area_oracle(Image.open(path), VIDEO_PRE))
    assert mean <= 0.5 and worst <= 2.0


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    upright = np.zeros((120, 80, 3), np.uint8)  # portrait, bright top
    upright[:60] = 240
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(upright, -1)))  # the camera's landscape buffer
    exif = Image.Exif()
    exif[0x0112] = 8  # orientation: rotate 90 degrees clockwise to display
    path = tmp_path / "phone.jpg"
    stored.save(path, "JPEG", exif=exif, quality=95)
    clip = read_clip(path, preprocessing=VIDEO_PRE)
    assert (clip.info.height, clip.info.width) == (120, 80)
    rows = (clip.frames[0, 0] * 0.225 + 0.45).mean(dim=1)
    assert rows[0] > 0.5 > rows[-1]  # bright top, dark bottom: upright


def test_an_animated_gif_is_its_first_frame(tmp_path: Path) -> None:
    first, second = (Image.fromarray(index_image(i, 48, 64)) for i in (3, 40))
    path = tmp_path / "anim.gif"
    first.save(path, save_all=True, append_images=[second], duration=100)
    clip = read_clip(path, preprocessing=VIDEO_PRE)
    assert clip_indices(clip.frames) == [3] * 4


def test_every_window_of_a_still_is_one_clip(tmp_path: Path) -> None:
    path = photo(tmp_path / "cat.jpg")
    assert len(read_clips(path, "uniform:4", crops=3, preprocessing=IMAGE_PRE)) == 3  # one window, 3 crops
    assert len(read_clips(path, "sliding:0.1", preprocessing=IMAGE_PRE)) == 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty file (0 bytes)"), (b"not a picture at all" * 10, "not a readable image")],
)
def test_unreadable_stills_are_named(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(VideoError, match=re.escape(f"bad.jpg: {reason}")) as caught:
        read_clip(path, preprocessing=IMAGE_PRE)
    assert "\n" not in str(caught.value)


def test_a_truncated_jpeg_is_named(tmp_path: Path) -> None:
    whole = photo(tmp_path / "whole.jpg", quality=95).read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(whole[: len(whole) // 3])
    with pytest.raises(VideoError, match="cut.jpg: not a readable image, damaged or of another kind"):
        read_clip(path, preprocessing=IMAGE_PRE)


# --------------------------------------------------------------------------- frame folders


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """40 numbered PNG frames whose gray levels encode their index."""
    path = tmp_path / "clip"
    path.mkdir()
    for i in range(40):
        Image.fromarray(index_image(i, 48, 64)).save(path / f"frame_{i + 1:05d}.png")
    return path


@pytest.mark.parametrize("fps", [30.0, 10.0, 12.5])
def test_a_frame_folder_is_a_video_at_its_frame_rate(folder: Path, fps: float) -> None:
    clips = read_clips(folder, "uniform:3", preprocessing=VIDEO_PRE, folder_fps=fps)
    rate = Fraction(fps)
    length = Fraction(2 * 4, 30) * rate  # L = rate * T / 30 * fps source frames
    offsets = [math.floor(i * (length - 1) / 3) for i in range(4)]
    assert clips[0].info.kind == "frames" and clips[0].info.duration == pytest.approx(40 / fps)
    for clip in clips:
        first = math.floor(Fraction(clip.start).limit_denominator(10**6) * rate)
        assert clip_indices(clip.frames) == [min(first + k, 39) for k in offsets]
        assert clip.times == pytest.approx([min(first + k, 39) / fps for k in offsets])


def test_frame_folder_pixels_are_the_video_recipe(folder: Path) -> None:
    clip = read_clip(folder, start=0.0, preprocessing=VIDEO_PRE)
    chosen = [0, 2, 4, 7]  # floor(linspace(0, 7, 4)): L = 2 * 4 / 30 * 30 = 8 frames
    images = [Image.open(folder / f"frame_{i + 1:05d}.png") for i in chosen]
    expected = torch.cat([area_oracle(image, VIDEO_PRE)[:, :1] for image in images], dim=1)
    mean, worst = levels(clip.frames, expected)
    assert clip_indices(clip.frames) == chosen and mean <= 0.5 and worst <= 2.0


def test_a_broken_frame_names_its_file(folder: Path) -> None:
    (folder / "frame_00003.png").write_bytes(b"garbage")  # frame 2
    assert read_clip(folder, start=1.0, preprocessing=VIDEO_PRE).frames.shape == (3, 4, 32, 32)  # not needed
    with pytest.raises(VideoError, match=r"frame_00003.png: not a readable image"):
        read_clip(folder, start=0.0, preprocessing=VIDEO_PRE)


def _flat(mode: str, value: object, size: tuple[int, int] = (60, 50)) -> Image.Image:
    """A one-colour picture in PIL ``mode``."""
    if mode == "I;16":
        return Image.fromarray(np.full(size[::-1], value, np.uint16))
    if mode == "I":
        return Image.fromarray(np.full(size[::-1], value, np.int32))
    if mode == "F":
        return Image.fromarray(np.full(size[::-1], value, np.float32))
    if mode == "P":  # palette entry 1 shown, entry 0 transparent
        image = Image.new("P", size, 1)
        image.putpalette([10, 20, 30, *value] + [0] * 762)  # type: ignore[misc]
        image.info["transparency"] = 0
        return image
    return Image.new(mode, size, value)  # type: ignore[arg-type]


# (mode, value, file, the 8-bit RGB every recipe must see)
MODES = [
    ("I;16", 32768, "png", (128, 128, 128)),  # 16-bit gray: value / 257 (PIL's convert made it 255, white)
    ("I;16", 65535, "tiff", (255, 255, 255)),
    ("I", 32768, "tiff", (128, 128, 128)),  # 32-bit integer: taken as 16-bit data
    ("F", 128.6, "tiff", (128, 128, 128)),  # float: the 0-255 scale, as PIL converts it
    ("LA", (100, 0), "png", (100, 100, 100)),  # alpha dropped, as torchvision's loader does
    ("P", (200, 100, 50), "png", (200, 100, 50)),  # a palette with a transparent entry
    ("CMYK", (0, 255, 255, 0), "tiff", (255, 0, 0)),
    ("1", 1, "png", (255, 255, 255)),
]


@pytest.mark.parametrize(("mode", "value", "suffix", "rgb"), MODES, ids=[f"{m[0]}-{m[2]}-{m[1]}" for m in MODES])
def test_every_pil_mode_is_read_at_its_true_level(
    tmp_path: Path, mode: str, value: object, suffix: str, rgb: tuple[int, int, int]
) -> None:
    path = tmp_path / f"flat.{suffix}"
    image = _flat(mode, value)
    image.save(path, FORMATS[suffix], **({"transparency": 0} if mode == "P" else {}))
    assert Image.open(path).mode == mode  # the file really holds that mode
    for pre in (IMAGE_PRE, VIDEO_PRE):  # both recipes: ImageNet bicubic and the video models' area scaling
        frames = read_clip(path, preprocessing=pre).frames
        std = torch.tensor(pre.std).view(3, 1, 1, 1)
        mean = torch.tensor(pre.mean).view(3, 1, 1, 1)
        seen = ((frames * std + mean) * 255).flatten(1)
        for channel, expected in enumerate(rgb):
            assert seen[channel].min() >= expected - 0.6 and seen[channel].max() <= expected + 0.6, (pre, channel)
