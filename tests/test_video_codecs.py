"""Every codec and container against the decode-everything oracle: the same frames, the same pixels.

The oracle (``oracle.py`` ``TrainingLoader``) decodes every frame, takes the frames mae_st's
loader read for a clip (torchvision's pts windows, ``get_start_end_idx`` + ``temporal_sampling``)
and converts them with the legacy ``sws_scale`` torchvision's reader used. Clips here must pick
exactly the same frames and be within 0.5/255 mean and 2/255 max of its pixels (they are in fact
identical).
"""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import pytest

from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video import read_clips
from vidmenagerie.video.decode import SKIP_SAFE_CODECS

from oracle import TrainingLoader, levels, training_video_clip
from videos import gradient_frames, write_video

PRE = Preprocessing(img_size=32, short_side=40, num_frames=8, sampling_rate=2)
GOP = {"g": "12"}  # keyframes every 12 frames: clips start mid-GOP and seeks matter
QUIET_X265 = {"x265-params": "log-level=none:keyint=12:bframes=3", "crf": "24"}

# (codec, container, pixel format, encoder options, frame rate)
CASES = [
    ("libx264", "mp4", "yuv420p", {**GOP, "bf": "3", "crf": "20"}, 30),
    ("libx264", "mkv", "yuv420p", {**GOP, "bf": "3", "crf": "20"}, 25),
    ("libx264", "mov", "yuv422p", {**GOP, "bf": "2", "crf": "20"}, 30),
    ("libx264", "avi", "yuv420p", {**GOP, "bf": "0", "crf": "20"}, 30),
    ("libx265", "mp4", "yuv420p", QUIET_X265, 30),
    ("libx265", "mkv", "yuv420p10le", QUIET_X265, 30),
    ("libvpx-vp9", "webm", "yuv420p", {**GOP, "deadline": "realtime", "cpu-used": "8"}, 30),
    ("libvpx-vp9", "mkv", "yuv444p", {**GOP, "deadline": "realtime", "cpu-used": "8"}, Fraction(30000, 1001)),
    ("libsvtav1", "mkv", "yuv420p", {**GOP, "preset": "12", "svtav1-params": "enable-stat-report=0"}, 25),
    ("libsvtav1", "mp4", "yuv420p", {**GOP, "preset": "12"}, 30),
    ("libsvtav1", "webm", "yuv420p", {**GOP, "preset": "12"}, 30),
    ("mpeg4", "avi", "yuv420p", {**GOP, "bf": "2"}, 30),
    ("mpeg4", "mp4", "yuv420p", {**GOP, "bf": "2"}, 25),
    ("mjpeg", "avi", "yuvj420p", {}, 30),
    ("mjpeg", "mov", "yuvj422p", {}, 30),
]


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each case as a 3-second file (90 frames at 30 fps)."""
    folder = tmp_path_factory.mktemp("codecs")
    frames = gradient_frames(90, 120, 160)
    files = {}
    for codec, container, pix_fmt, options, fps in CASES:
        name = f"{codec}.{pix_fmt}.{container}"
        count = round(3 * fps)
        files[name] = write_video(folder / name, frames[:count], codec=codec, pix_fmt=pix_fmt, options=options, fps=fps)
    return files


@pytest.mark.parametrize("case", [f"{c}.{p}.{k}" for c, k, p, _, _ in CASES])
@pytest.mark.parametrize("windows", ["uniform:5", "random:4"])
def test_clips_pick_the_oracles_frames_and_pixels(encoded: dict[str, Path], case: str, windows: str) -> None:
    path = encoded[case]
    loader = TrainingLoader(path)
    clips = read_clips(path, windows, preprocessing=PRE, seed=3)
    assert len(clips) == 5 if windows == "uniform:5" else len(clips) >= 3
    rng = random.Random(3)
    draws = sorted(rng.random() for _ in range(4))  # Windows("random")'s seeded draws
    expected = [loader.clip(8, 2, k, 5) for k in range(5)] if windows == "uniform:5" else []
    expected += [loader.clip(8, 2, -1, draw=x) for x in draws if windows == "random:4"]
    expected = [e for i, e in enumerate(expected) if not i or e != expected[i - 1] or windows == "uniform:5"]
    assert len(clips) == len(expected)
    for clip, wanted in zip(clips, expected):
        seconds = [float(loader.seconds[i]) for i in wanted]
        assert list(clip.times) == pytest.approx(seconds, abs=1e-6), clip.window
        mean, worst = levels(clip.frames, training_video_clip(loader.frames, wanted, img_size=32, short_side=40))
        assert mean <= 0.5 and worst <= 2.0, (clip.start, mean, worst)


def test_skipping_frames_at_the_decoder_is_limited_to_decoders_that_apply_it_per_packet() -> None:
    assert SKIP_SAFE_CODECS == {"h264", "hevc"}  # libdav1d applies skip_frame several frames late


def test_training_rate_clips_run_past_the_end_like_the_loader(encoded: dict[str, Path]) -> None:
    path = encoded["libx264.yuv420p.mp4"]
    loader = TrainingLoader(path)
    pre = Preprocessing(img_size=32, short_side=40)  # 16 frames at rate 8: 4.27 s, longer than the video
    (clip,) = read_clips(path, "center", preprocessing=pre)
    wanted = loader.clip(16, 8)
    assert wanted[-4:] == [89, 89, 89, 89] and clip.info.repeated_frames == 5  # clamped to the last frame
    assert list(clip.times) == pytest.approx([float(loader.seconds[i]) for i in wanted], abs=1e-6)
    mean, worst = levels(clip.frames, training_video_clip(loader.frames, wanted, img_size=32, short_side=40))
    assert mean <= 0.5 and worst <= 2.0
