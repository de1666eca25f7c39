"""read_clip: frames chosen by time (any frame rate, container, VFR), rotation, short videos."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video import read_clip

from oracle import TrainingLoader
from videos import clip_indices, write_gray_video, write_video

VFR_TIMES = [0, 0.01, 0.05, 0.2, 0.21, 0.3, 0.5, 0.55, 0.6, 0.61, 0.62, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5, 1.51]


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Gray-coded 1-2 s videos in several containers and frame rates."""
    d = tmp_path_factory.mktemp("read")
    return {
        "mp4_30": write_gray_video(d / "a30.mp4", 30),
        "mp4_25": write_gray_video(d / "a25.mp4", 25, fps=25),
        "webm_25": write_gray_video(d / "a25.webm", 50, fps=25, codec="libvpx-vp9"),
        "mkv_30": write_gray_video(d / "a30.mkv", 60, audio=True),
        "mp4_audio": write_gray_video(d / "audio.mp4", 60, audio=True),
        "vfr": write_gray_video(d / "vfr.mp4", len(VFR_TIMES), times=VFR_TIMES),
        "mp4_60": write_gray_video(d / "a60.mp4", 120, fps=60),
    }


def training_offsets(fps: Fraction, num_frames: int, sampling_rate: int) -> list[int]:
    """mae_st's rule, exactly: floor(i * (L - 1) / (T - 1)) with L = rate * T / 30 * fps."""
    span = Fraction(sampling_rate * num_frames, 30) * fps
    return [0] if num_frames == 1 else [math.floor(i * (span - 1) / (num_frames - 1)) for i in range(num_frames)]


def expected_indices(fps: float, start: float, num_frames: int, sampling_rate: int, count: int) -> list[int]:
    """Source frame of each clip frame for a constant frame rate video: the frame the window starts
    in, then the training rule's offsets, clamped to the last frame."""
    rate = Fraction(fps).limit_denominator(1000)
    first = math.floor(Fraction(start).limit_denominator(1000) * rate)
    return [min(first + k, count - 1) for k in training_offsets(rate, num_frames, sampling_rate)]


@pytest.mark.parametrize(
    ("name", "fps", "count"),
    [("mp4_30", 30, 30), ("mp4_25", 25, 25), ("webm_25", 25, 50), ("mkv_30", 30, 60), ("mp4_60", 60, 120)],
)
@pytest.mark.parametrize("start", [0.0, 0.1, 0.27])
def test_frames_are_chosen_by_time(videos: dict[str, Path], name: str, fps: float, count: int, start: float) -> None:
    clip = read_clip(videos[name], num_frames=8, sampling_rate=2, img_size=32, start=start)
    assert clip_indices(clip.frames) == expected_indices(fps, start, 8, 2, count)
    assert clip.times == pytest.approx([i / fps for i in clip_indices(clip.frames)], abs=1e-3)


def test_variable_frame_rate_counts_frames_in_the_loaders_window(videos: dict[str, Path]) -> None:
    # The loader counts at av_guess_frame_rate (here 100 fps: the 10 ms grid the times sit on) and takes
    # the frames whose times fall in the clip's pts window, however few: the last one repeats.
    clip = read_clip(videos["vfr"], num_frames=8, sampling_rate=4, img_size=32, start=0.25)
    loader = TrainingLoader(videos["vfr"])
    assert loader.fps == 100.0 and clip.info.fps == 100.0
    expected = loader.clip(8, 4, start_frame=25)  # 0.25 s is frame 25 at 100 fps
    assert clip_indices(clip.frames) == expected == [5, 15, 15, 15, 15, 15, 15, 15]
    assert clip.times == pytest.approx([VFR_TIMES[k] for k in expected], abs=1e-3)
    assert clip.info.repeated_frames == 7


def test_audio_track_does_not_change_the_frames(videos: dict[str, Path]) -> None:
    with_audio = read_clip(videos["mp4_audio"], num_frames=8, sampling_rate=3, img_size=32, start=0.5)
    assert clip_indices(with_audio.frames) == expected_indices(30, 0.5, 8, 3, 60)


def test_start_none_centres_the_clip(videos: dict[str, Path]) -> None:
    clip = read_clip(videos["mp4_audio"], num_frames=4, sampling_rate=4, img_size=32)
    span = 4 * 4 / 30
    assert clip.start == pytest.approx(math.floor((2.0 - span) / 2 * 30) / 30)  # on the frame it falls in
    assert clip.end == pytest.approx(clip.start + span)
    assert clip_indices(clip.frames) == expected_indices(30, clip.start, 4, 4, 60)


def test_clip_reports_source_and_video_facts(videos: dict[str, Path]) -> None:
    clip = read_clip(videos["mp4_25"], num_frames=4, sampling_rate=1, img_size=32, start=0.2)
    assert clip.source == str(videos["mp4_25"])
    assert clip.frames.shape == (3, 4, 32, 32)
    assert clip.frames.dtype.is_floating_point
    assert (clip.info.fps, clip.info.width, clip.info.height) == (25.0, 64, 48)
    assert clip.info.duration == pytest.approx(1.0)
    assert (clip.info.repeated_frames, clip.info.rotation, clip.window, clip.crop) == (0, 0, 0, 0)


def test_short_video_repeats_its_last_frame_and_says_so(videos: dict[str, Path]) -> None:
    clip = read_clip(videos["mp4_30"], num_frames=16, sampling_rate=4, img_size=32)
    assert clip.start == 0.0
    indices = clip_indices(clip.frames)
    assert indices[:7] == [0, 4, 8, 12, 16, 21, 25]  # floor(linspace(0, 63, 16)): 0, 4, 8, 12, 16, 21, ...
    assert indices[7:] == [29] * 9
    assert clip.info.repeated_frames == 8  # offset 29 is frame 29 itself; offsets 33.. run past the end
    assert clip.end == 1.0  # the true end: the video's, not start + 2.13 s
    assert clip.info.note == "1.00 s long, shorter than one clip (2.13 s): its last frame repeats"


def test_default_clip_has_the_training_shape(videos: dict[str, Path]) -> None:
    clip = read_clip(videos["mp4_30"])
    assert clip.frames.shape == (3, 16, 224, 224)
    assert len(clip.times) == 16


def test_preprocessing_supplies_size_frames_and_normalization(videos: dict[str, Path]) -> None:
    pre = Preprocessing(img_size=28, short_side=40, num_frames=4, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    clip = read_clip(videos["mp4_30"], start=0.0, preprocessing=pre)
    assert clip.frames.shape == (3, 4, 28, 28)
    level = (20 + 14 * 0) / 255  # left half of frame 0
    assert clip.frames[0, 0, :, :4].mean().item() == pytest.approx((level - 0.5) / 0.5, abs=1e-3)


def test_arguments_that_contradict_the_preprocessing_are_refused(videos: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="img_size=448 contradicts"):
        read_clip(videos["mp4_30"], img_size=448, preprocessing=Preprocessing.for_video(224))
    with pytest.raises(ValueError, match="start must be >= 0"):
        read_clip(videos["mp4_30"], start=-1.0)


def test_rotated_phone_video_comes_out_upright(tmp_path: Path) -> None:
    upright = np.zeros((64, 48, 3), np.uint8)  # portrait, bright top half
    upright[:32] = 250
    stored = np.ascontiguousarray(np.rot90(upright, 1))  # the sensor's landscape buffer
    path = write_video(tmp_path / "phone.mp4", [stored] * 3, rotation=-90)
    clip = read_clip(path, num_frames=2, sampling_rate=1, img_size=48, start=0.0)
    assert (clip.info.width, clip.info.height, clip.info.rotation) == (48, 64, -90)
    pixels = clip.frames[0, 0] * 0.225 + 0.45  # [S, S]; crop keeps the middle of the tall frame
    rows = pixels.mean(dim=1)
    assert rows[0] > 0.5 > rows[-1]
    assert pixels.mean(dim=0).std() < 0.01  # no left/right structure: not turned sideways
