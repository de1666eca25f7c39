"""Window specs (center, start, random, uniform, sliding) and several clips of one video."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import pytest

import vidmenagerie.video.sources as sources_module
from vidmenagerie.video import Windows, read_clips
from vidmenagerie.video.sampling import ClipSampling

from videos import clip_indices, write_gray_video

SPAN = Fraction(16 * 4, 30)  # a 16-frame clip, every 4th frame at 30 fps


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s gray-coded video at 30 fps."""
    return write_gray_video(tmp_path_factory.mktemp("windows") / "v.mp4", 90)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("center", Windows("center")),
        ("CENTRE", Windows("center")),
        ("start", Windows("start")),
        ("random", Windows("random", count=1, seed=7)),
        ("random:3", Windows("random", count=3, seed=7)),
        ("uniform:5", Windows("uniform", count=5)),
        ("sliding", Windows("sliding")),
        ("sliding:0.5", Windows("sliding", stride=0.5)),
    ],
)
def test_specs_parse(spec: str, expected: Windows) -> None:
    assert Windows.parse(spec, seed=7) == expected


@pytest.mark.parametrize("spec", ["middle", "uniform", "uniform:x", "center:2", ""])
def test_bad_specs_say_what_is_allowed(spec: str) -> None:
    with pytest.raises(ValueError, match="center, start, random"):
        Windows.parse(spec)


@pytest.mark.parametrize(
    ("spec", "limit"), [("uniform:0", "must be >= 1, got 0"), ("sliding:-1", "must be > 0 seconds, got -1")]
)
def test_numbers_out_of_range_say_their_limit(spec: str, limit: str) -> None:
    with pytest.raises(ValueError, match=f"^{spec}: .*{limit}"):
        Windows.parse(spec)


def starts(spec: str, video_size: float, clip_size: float = 16.0, fps: float = 30.0) -> list[float]:
    """The start index of each window of ``spec`` on a video of ``video_size`` frames."""
    return [p.start(video_size, clip_size) for p in Windows.parse(spec, seed=7).positions(video_size, clip_size, fps)]


def test_positions_of_each_kind_are_the_loaders() -> None:
    # decoder.py get_start_end_idx with use_offset: delta = 300 - 16 = 284 frames of room
    assert starts("center", 300) == [142]  # floor(delta / 2)
    assert starts("start", 300) == [0]
    assert starts("uniform:3", 300) == [0, 142, 284]  # k * floor(delta / (N - 1))
    assert starts("uniform:5", 300) == [0, 71, 142, 213, 284]
    assert starts("uniform:7", 300) == [0, 47, 94, 141, 188, 235, 282]  # floor(284 / 6) = 47: short of the end
    assert starts("uniform:1", 300) == [142]
    assert starts("center", 10) == [0]  # shorter than a clip
    assert starts("sliding:2", 300) == [0, 60, 120, 180, 240, 284]  # the last one ends with the video
    assert starts("sliding", 300) == [16 * k for k in range(18)] + [284]  # one clip length apart
    assert starts("sliding:0.5", 300, fps=25.0) == [12 * k + k // 2 for k in range(23)] + [284]  # floor(12.5 k)
    assert starts("sliding:1", 10) == [0]  # shorter than a clip


def test_random_positions_are_seeded_draws_of_the_room() -> None:
    a = Windows("random", count=4, seed=1).positions(300, 16, 30)
    again = Windows("random", count=4, seed=1).positions(300, 16, 30)
    other = Windows("random", count=4, seed=2).positions(300, 16, 30)
    assert list(a) == list(again) and list(a) != list(other)
    drawn = [p.start(300, 16) for p in a]
    assert drawn == sorted(drawn) and all(0 <= s <= 284 for s in drawn)
    rng = random.Random(1)
    assert drawn == [284 * x for x in sorted(rng.random() for _ in range(4))]  # random.uniform(0, delta)


OFFSETS = [0, 5, 10, 15]  # floor(linspace(0, L - 1, 4)) with L = 4 * 4 / 30 * 30 = 16 frames


def test_sliding_clips_cover_the_whole_video(video: Path) -> None:
    clips = read_clips(video, "sliding:0.5", num_frames=4, sampling_rate=4, img_size=32)
    span = 4 * 4 / 30
    assert [c.window for c in clips] == list(range(len(clips)))
    assert [c.start for c in clips] == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 3.0 - span])
    assert clips[-1].end == pytest.approx(3.0)
    for clip in clips:
        first = round(clip.start * 30)
        assert clip_indices(clip.frames) == [min(first + k, 89) for k in OFFSETS]
        assert clip.times == pytest.approx([i / 30 for i in clip_indices(clip.frames)], abs=1e-3)


def test_uniform_clips_spread_evenly(video: Path) -> None:
    clips = read_clips(video, "uniform:3", num_frames=4, sampling_rate=4, img_size=32)
    room = 3.0 - 16 / 30
    assert [c.start for c in clips] == pytest.approx([0.0, 37 / 30, room])  # room / 2 = 1.2333 s: frame 37
    assert clip_indices(clips[0].frames) == OFFSETS
    assert clip_indices(clips[2].frames) == [74, 79, 84, 89]


def test_center_and_random_give_one_clip_each(video: Path) -> None:
    (center,) = read_clips(video, "center", num_frames=4, sampling_rate=4, img_size=32)
    assert center.start == pytest.approx(37 / 30)  # (3 - 16 / 30) / 2 = 1.2333 s falls in frame 37
    first = read_clips(video, "random:2", num_frames=4, sampling_rate=4, img_size=32, seed=3)
    again = read_clips(video, "random:2", num_frames=4, sampling_rate=4, img_size=32, seed=3)
    assert [c.start for c in first] == [c.start for c in again]
    assert len(first) == 2


def test_three_crops_per_window_are_labelled(video: Path) -> None:
    clips = read_clips(video, "uniform:2", num_frames=2, sampling_rate=4, img_size=32, crops=3)
    assert [(c.window, c.crop) for c in clips] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert all(c.frames.shape == (3, 2, 32, 32) for c in clips)
    with pytest.raises(ValueError, match="crops must be 1"):
        read_clips(video, crops=2)  # type: ignore[arg-type]


def test_several_clips_open_and_decode_the_video_once(video: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened, passes = [], []
    real_open, real_pick = sources_module.open_video, sources_module.pick_frames

    def counting_open(*args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(args[0])
        return real_open(*args, **kwargs)

    def counting_pick(container, stream, clock, wanted, convert, **kwargs):  # type: ignore[no-untyped-def]
        passes.append(list(wanted))
        return real_pick(container, stream, clock, wanted, convert, **kwargs)

    monkeypatch.setattr(sources_module, "open_video", counting_open)
    monkeypatch.setattr(sources_module, "pick_frames", counting_pick)
    clips = read_clips(video, "sliding:0.25", num_frames=4, sampling_rate=4, img_size=32)
    assert len(opened) == 1 and len(passes) == 1
    assert passes[0] == sorted(set(passes[0]))  # one in-order pass over distinct instants
    assert len(clips) == 11


def test_clip_sampling_follows_the_training_loader() -> None:
    # util/kinetics.py + temporal_sampling at 30 fps: L = rate * T frames, floor(linspace(0, L - 1, T))
    assert ClipSampling(16, 4).offsets(30) == [0, 4, 8, 12, 16, 21, 25, 29, 33, 37, 42, 46, 50, 54, 58, 63]
    assert ClipSampling(16, 8).offsets(30)[-3:] == [110, 118, 127]  # the clip spans frames 0..127: 4.23 s
    assert ClipSampling(16, 8).offsets(25) == [7 * i for i in range(16)]  # L = 106.67 frames at 25 fps
    assert ClipSampling(16, 8).clip_size(25.0) == 8 * 16 / 30 * 25.0
    assert ClipSampling(num_frames=3, sampling_rate=4, fps=30.0).span == Fraction(12, 30)
    with pytest.raises(ValueError):
        ClipSampling(num_frames=0)
