"""Pixels: decoded clips equal the training pipeline (float32 resize, crop, normalize)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video import float_pipeline, read_clip, read_clips
from vidmenagerie.video.transform import CropResizer, crop_offsets, resized_size

from videos import write_video

STD = 0.225


def textured(count: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Moving gradients plus noise: frames where resizing errors would show."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    frames = np.empty((count, height, width, 3), np.uint8)
    for i in range(count):
        frames[i, ..., 0] = (3 * x + 7 * i) % 256
        frames[i, ..., 1] = (2 * y + 5 * i) % 256
        frames[i, ..., 2] = rng.integers(0, 256, (height, width))
    return frames


def decoded_frames(path: Path) -> list[np.ndarray]:
    """Every frame of the file as RGB, decoded the plain way."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def mae_levels(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean absolute difference of two normalized clips, in 0..255 levels."""
    return (a - b).abs().mean().item() * STD * 255


@pytest.mark.parametrize(("height", "width"), [(72, 128), (128, 72), (50, 50)])
@pytest.mark.parametrize("img_size", [32, 224])
def test_crop_resizer_equals_the_float_pipeline(height: int, width: int, img_size: int) -> None:
    pre = Preprocessing.for_size(img_size)
    frames = textured(3, height, width)
    for crops in (1, 3):
        ours = torch.stack([CropResizer(pre, crops)(f) for f in frames], dim=2)  # [crops, 3, T, S, S]
        reference = float_pipeline(frames, pre, crops)
        assert len(reference) == crops
        for k in range(crops):
            assert ours[k].shape == (3, 3, img_size, img_size)
            assert torch.allclose(ours[k], reference[k], atol=1e-4)


def test_float_pipeline_is_the_documented_recipe() -> None:
    pre = Preprocessing.for_size(32)
    frames = textured(2, 60, 100)
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
    x = torch.nn.functional.interpolate(x, size=(64, 106), mode="bilinear", align_corners=False)
    x = x[:, :, 16:48, 37:69]
    expected = ((x - 0.45) / 0.225).permute(1, 0, 2, 3)
    assert torch.allclose(float_pipeline(frames, pre)[0], expected, atol=1e-6)


def test_sizes_and_crop_offsets_follow_training() -> None:
    assert resized_size(720, 1280, 256) == (256, 455)
    assert resized_size(1280, 720, 480) == (853, 480)
    assert crop_offsets(256, 455, 224) == [(16, 116)]
    assert crop_offsets(256, 455, 224, 3) == [(16, 0), (16, 116), (16, 231)]
    assert crop_offsets(455, 256, 224, 3) == [(0, 16), (116, 16), (231, 16)]


@pytest.mark.parametrize(("codec", "suffix"), [("libx264", "mp4"), ("libvpx-vp9", "webm")])
def test_read_clip_matches_the_float_pipeline_on_the_same_frames(tmp_path: Path, codec: str, suffix: str) -> None:
    options = {"crf": "20"} if codec == "libx264" else {"crf": "30", "b": "0", "deadline": "realtime", "cpu-used": "8"}
    path = write_video(
        tmp_path / f"tex.{suffix}", textured(20, 90, 160), codec=codec, options=options, pix_fmt="yuv420p"
    )
    decoded = decoded_frames(path)
    clip = read_clip(path, num_frames=4, sampling_rate=4, img_size=64, start=0.1)
    chosen = [round(t * 30) for t in clip.times]
    assert chosen == [3, 7, 11, 15]
    reference = float_pipeline(np.stack([decoded[i] for i in chosen]), Preprocessing.for_size(64))[0]
    assert mae_levels(clip.frames, reference) < 0.01  # requirement: < 1/255


def test_three_crops_match_the_float_pipeline_crops(tmp_path: Path) -> None:
    path = write_video(tmp_path / "portrait.mp4", textured(8, 160, 96), options={"crf": "18"}, pix_fmt="yuv420p")
    decoded = decoded_frames(path)
    clips = read_clips(path, "start", num_frames=2, sampling_rate=3, img_size=48, crops=3)
    assert [(c.window, c.crop) for c in clips] == [(0, 0), (0, 1), (0, 2)]
    reference = float_pipeline(np.stack([decoded[0], decoded[3]]), Preprocessing.for_size(48), crops=3)
    for clip, expected in zip(clips, reference):
        assert mae_levels(clip.frames, expected) < 0.01
    assert not torch.equal(clips[0].frames, clips[2].frames)  # top and bottom differ


@pytest.mark.parametrize(("height", "width"), [(6, 8), (16, 16), (2, 64)])
def test_tiny_frames_are_upscaled(tmp_path: Path, height: int, width: int) -> None:
    path = write_video(tmp_path / "tiny.mp4", textured(5, height, width), codec="libx264rgb")
    clips = read_clips(path, "center", num_frames=2, sampling_rate=1, img_size=224, crops=3)
    assert [c.frames.shape for c in clips] == [(3, 2, 224, 224)] * 3
    assert all(torch.isfinite(c.frames).all() for c in clips)
    assert clips[0].info.width == width


def test_times_are_exact_fractions_of_the_time_base(tmp_path: Path) -> None:
    path = write_video(tmp_path / "t.mp4", textured(10, 32, 32), codec="libx264rgb")
    clip = read_clip(path, num_frames=3, sampling_rate=1, img_size=16, start=0.1)
    assert [Fraction(t).limit_denominator(1000) for t in clip.times] == [
        Fraction(3, 30),
        Fraction(4, 30),
        Fraction(5, 30),
    ]
