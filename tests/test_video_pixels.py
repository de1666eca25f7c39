"""Pixels: sizes, crops and both resize rules against the training code's own arithmetic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import CenterCrop, Compose, Normalize, Resize, ToTensor

from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video import read_clip, read_clips
from vidmenagerie.video.transform import crop_offsets, scaled_size

from oracle import (
    TrainingLoader,
    legacy_swscale_rgb,
    levels,
    min_dimension_size,
    training_video_clip,
    uniform_crop_offsets,
)
from videos import gradient_frames, write_video

SIZES = [(720, 1280), (1280, 720), (360, 640), (480, 640), (240, 320), (50, 50), (123, 457), (1080, 1920), (2, 9)]


@pytest.mark.parametrize(("height", "width"), SIZES)
@pytest.mark.parametrize("short", [1, 224, 256, 448])
def test_area_sizes_follow_set_format_dimensions(height: int, width: int, short: int) -> None:
    assert scaled_size(height, width, short) == min_dimension_size(height, width, short)


def test_area_rounds_half_up_and_bicubic_floors() -> None:
    assert scaled_size(720, 1280, 256) == (256, 455)  # 455.1
    assert scaled_size(360, 640, 448) == (448, 796)  # 796.4
    assert scaled_size(2, 9, 1) == (1, 5)  # 4.5 rounds up (C round)
    assert scaled_size(2, 9, 1, "bicubic") == (1, 4)  # torchvision Resize: int(4.5)
    assert scaled_size(375, 500, 256, "bicubic") == (256, 341)
    assert scaled_size(500, 375, 256, "bicubic") == (341, 256)


@pytest.mark.parametrize(("height", "width"), [(256, 455), (455, 256), (224, 398), (256, 256), (225, 300)])
def test_crop_offsets_follow_uniform_crop(height: int, width: int) -> None:
    assert crop_offsets(height, width, 224) == [uniform_crop_offsets(height, width, 224, 1)]
    assert crop_offsets(height, width, 224, 3) == [uniform_crop_offsets(height, width, 224, i) for i in range(3)]


def test_bicubic_centre_crop_rounds_like_torchvision() -> None:
    for height, width in [(341, 256), (256, 341), (257, 300), (256, 287)]:
        marked = torch.arange(height * width, dtype=torch.float32).view(1, height, width)
        top, left = crop_offsets(height, width, 224, resize="bicubic")[0]
        assert torch.equal(CenterCrop(224)(marked), marked[:, top : top + 224, left : left + 224])


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Half a second of 640x360 H.264 with B-frames."""
    path = tmp_path_factory.mktemp("pixels") / "wide.mp4"
    return write_video(path, gradient_frames(15, 360, 640), options={"crf": "18", "bf": "2", "g": "6"})


def test_the_448_models_get_short_side_448(wide: Path) -> None:
    pre = Preprocessing.for_video(448, num_frames=4)
    assert pre.short_side == 448
    clip = read_clip(wide, start=0.0, preprocessing=pre.with_sampling_rate(1))
    loader = TrainingLoader(wide)
    wanted = loader.clip(4, 1, start_frame=0)
    mean, worst = levels(clip.frames, training_video_clip(loader.frames, wanted, img_size=448, short_side=448))
    assert clip.frames.shape == (3, 4, 448, 448) and mean <= 0.5 and worst <= 2.0


def test_three_crops_are_the_multi_view_test(wide: Path) -> None:
    pre = Preprocessing(img_size=64, short_side=96, num_frames=2, sampling_rate=1)
    clips = read_clips(wide, "start", crops=3, preprocessing=pre)
    loader = TrainingLoader(wide)
    wanted = loader.clip(2, 1, start_frame=0)
    for clip in clips:  # test mode: short side = crop size, then left / centre / right
        expected = training_video_clip(loader.frames, wanted, img_size=64, short_side=64, spatial_idx=clip.crop)
        mean, worst = levels(clip.frames, expected)
        assert mean <= 0.5 and worst <= 2.0, clip.crop
    assert not torch.equal(clips[0].frames, clips[2].frames)


def test_bicubic_rule_on_video_frames_is_the_imagenet_transform(wide: Path) -> None:
    pre = Preprocessing.for_images(64, num_frames=2).with_sampling_rate(1)
    clip = read_clip(wide, start=0.0, preprocessing=pre)
    loader = TrainingLoader(wide)
    transform = Compose(
        [
            Resize(96, interpolation=3),
            CenterCrop(64),
            ToTensor(),
            Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
        ]
    )
    for t, index in enumerate(loader.clip(2, 1, start_frame=0)):
        frame = loader.frames[index]
        rgb = legacy_swscale_rgb(frame, frame.height, frame.width)  # converted at full size, as the reader would
        expected = transform(Image.fromarray(rgb))
        diff = (clip.frames[:, t] - expected).abs() * 0.229 * 255
        assert diff.mean() <= 0.5 and diff.max() <= 2.0


def test_values_are_the_loaders_arithmetic(tmp_path: Path) -> None:
    flat = np.full((8, 48, 64, 3), (10, 128, 250), np.uint8)
    path = write_video(tmp_path / "flat.mp4", flat, codec="libx264rgb")
    clip = read_clip(path, num_frames=2, sampling_rate=1, img_size=32, start=0.0)
    for channel, level in enumerate((10, 128, 250)):
        expected = (torch.tensor(level, dtype=torch.float32) / 255.0 - 0.45) / 0.225
        assert torch.allclose(clip.frames[channel], expected, atol=1e-6)
