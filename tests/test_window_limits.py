"""Window specs stay bounded (issue 11, item 5): positions are computed lazily, windows that would
be the same clip are taken once with a note, absurd specs are refused."""

from __future__ import annotations

import math
import random
import tracemalloc
from fractions import Fraction
from pathlib import Path

import pytest

from vidmenagerie.batch.clips import ClipPlan, iter_clip_batches
from vidmenagerie.batch.settings import BatchSettings
from vidmenagerie.catalog import default_catalog
from vidmenagerie.errors import InvalidSetting
from vidmenagerie.feature_store.settings import clip_spec
from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video import Windows, iter_clip_chunks, read_clips
from vidmenagerie.video.sampling import MAX_COUNT, to_fraction

from videos import write_gray_video

PRE = Preprocessing(img_size=32, short_side=40, num_frames=4, sampling_rate=4)
CLIP = 4 * 4 / 30 * 30.0  # PRE's clip at 30 fps: 16 frames
HOUR_FRAMES = 3600 * 30.0
FRAMES_3S = 75  # start frames of a 3 s, 30 fps video: 0 .. (3 - 16 / 30) * 30 = 74


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s gray-coded video at 30 fps (90 frames)."""
    return write_gray_video(tmp_path_factory.mktemp("limits") / "v.mp4", 90)


def full_list(windows: Windows, video_size: float, clip_size: float, fps: float) -> list[float]:
    """Every start index of a spec as one plain list, repeats left out (the reference for the lazy positions)."""
    delta = max(video_size - clip_size, 0)
    if windows.kind == "start":
        return [0]
    if windows.kind == "center" or (windows.kind == "uniform" and windows.count == 1):
        return [math.floor(delta / 2)]
    if windows.kind == "uniform":
        every = [k * math.floor(delta / (windows.count - 1)) for k in range(windows.count)]
    elif windows.kind == "random":
        rng = random.Random(windows.seed)
        return [delta * x for x in sorted(rng.random() for _ in range(windows.count))]
    else:
        step = to_fraction(windows.stride) * Fraction(fps) if windows.stride is not None else Fraction(clip_size)
        every = [math.floor(step * k) for k in range(math.floor(Fraction(delta) / step) + 1)] + [math.floor(delta)]
    return [s for i, s in enumerate(every) if i == 0 or s != every[i - 1]]


@pytest.mark.parametrize(
    "spec", ["sliding:inf", "sliding:-inf", "sliding:nan", "sliding:0.0000001", "uniform:100001", "random:100001"]
)
def test_absurd_specs_are_refused_up_front(spec: str) -> None:
    with pytest.raises(ValueError, match="finite|at least 1e-06 s|at most 100000 clips per video"):
        Windows.parse(spec)
    with pytest.raises(InvalidSetting, match="^clip: "):
        BatchSettings(model="x", clip=spec).check(next(iter(default_catalog())))


def test_embed_options_are_refused_as_settings() -> None:
    with pytest.raises(InvalidSetting, match="^stride: must be a positive number"):
        clip_spec("sliding", math.inf)
    with pytest.raises(InvalidSetting, match="^stride: .*at least 1e-06 s"):
        clip_spec("sliding", 1e-7)
    with pytest.raises(InvalidSetting, match="^clips: .*at most 100000 clips per video"):
        clip_spec("uniform:10000000")
    assert clip_spec("uniform:100000") == "uniform:100000" and clip_spec("sliding", 1e-6) == "sliding:1e-06"


def test_positions_are_lazy_however_many_windows() -> None:
    tracemalloc.start()
    hourly = Windows.parse("sliding:0.000001").positions(HOUR_FRAMES, CLIP, 30.0)
    pieces = sum(1 for first in range(0, len(hourly), 16) for _ in [hourly[first : first + 16]])
    spread = Windows.parse("uniform:100000").positions(HOUR_FRAMES, CLIP, 30.0)
    spread_starts = [spread[k].start(HOUR_FRAMES, CLIP) for k in (0, 1, 99_999)]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(hourly) == 107_985 and pieces == math.ceil(107_985 / 16)
    assert hourly[7].start(HOUR_FRAMES, CLIP) == 7 and hourly[-1].start(HOUR_FRAMES, CLIP) == 107_984
    assert len(spread) == 100_000 and spread_starts == [0, 1, 99_999]  # floor(107984 / 99999) = 1 frame apart
    assert peak < 1_000_000


def test_normal_specs_keep_the_loaders_starts_and_repeats_go() -> None:
    """The lazy positions against a plain full list of the same rule, repeats left out."""
    specs = ["center", "start", "uniform:1", "uniform:3", "uniform:7", "uniform:200", "sliding", "sliding:0.5"]
    specs += ["sliding:0.01", "sliding:0.001", "random:3", "random:40", "random:500"]
    for spec in specs:
        windows = Windows.parse(spec, seed=5)
        for seconds in (Fraction(1, 3), Fraction(3), Fraction(1001, 100), Fraction(79, 10)):
            for fps in (30.0, 25.0, 29.970029830932617, 24.0):
                video_size, clip_size = float(seconds) * fps, 4 * 4 / 30 * fps
                new = windows.positions(video_size, clip_size, fps)
                assert [p.start(video_size, clip_size) for p in new] == full_list(windows, video_size, clip_size, fps)
                if windows.kind == "sliding" and windows.stride is not None and windows.stride * fps < 1:
                    assert "took each once" in new.note or len(new) == 1, (spec, seconds, fps)


def test_a_sliding_end_window_in_the_last_frame_is_one_clip() -> None:
    # 25 fps, stride 1 s (25 frames): starts 0, 25, 50, and the end window at 50.25 starts in frame 50 too
    starts = Windows("sliding", stride=1.0).positions(50.25 + 10, 10, 25.0)
    assert [p.start(60.25, 10) for p in starts] == [0, 25, 50] and starts.note == ""


def test_repeated_windows_are_taken_once_with_a_note() -> None:
    spread = Windows.parse("uniform:100000").positions(300, CLIP, 30.0)  # test mode: floor(284 / 99999) = 0
    assert len(spread) == 1 and spread[0].start(300, CLIP) == 0
    note = "uniform:100000 puts every clip in frame 0 of this short video (mae_st's test mode): took it once"
    assert spread.note == note
    short = Windows.parse("uniform:4").positions(10, CLIP, 30.0)  # shorter than one clip
    assert len(short) == 1 and "every clip in frame 0" in short.note
    fine = Windows.parse("sliding:0.01").positions(90, CLIP, 30.0)  # 0.3 frames apart
    assert [p.start(90, CLIP) for p in fine] == list(range(FRAMES_3S)) and "the 75 distinct start frames" in fine.note
    drawn = Windows.parse("random:1000", seed=2).positions(90, CLIP, 30.0, same=lambda p: math.ceil(p.start(90, CLIP)))
    starts = [p.start(90, CLIP) for p in drawn]
    assert len(drawn) <= FRAMES_3S and starts == sorted(starts) and "random:1000 asks for more" in drawn.note
    assert Windows.parse("uniform:100000").positions(HOUR_FRAMES, CLIP, 30.0).note == ""  # one frame apart: distinct


@pytest.mark.parametrize("spec", ["sliding:0.000001", "sliding:0.01"])
def test_pieces_of_a_video_take_each_start_frame_once(video: Path, spec: str) -> None:
    clips = [c for piece in iter_clip_chunks(video, spec, preprocessing=PRE, max_windows=16) for c in piece]
    assert [c.window for c in clips] == list(range(FRAMES_3S))
    assert [round(c.start * 30) for c in clips] == list(range(FRAMES_3S))
    note = "asks for more clips than the 75 distinct start frames of this video: took each once"
    assert {c.info.note for c in clips} == {f"{Windows.parse(spec).spec} {note}"}
    whole = read_clips(video, spec, preprocessing=PRE)
    assert [(c.window, c.times) for c in whole] == [(c.window, c.times) for c in clips]


def test_batches_say_the_note_once_per_video(video: Path) -> None:
    plan = ClipPlan(windows="sliding:0.000001", max_windows=8)
    batches = list(iter_clip_batches([video], PRE, plan, batch_size=10, workers=0))
    notes = [note for batch in batches for note in batch.notes]
    assert notes == [
        (video, "sliding:1e-06 asks for more clips than the 75 distinct start frames of this video: took each once")
    ]
    assert [item.clip.window for batch in batches for item in batch.clips] == list(range(FRAMES_3S))
    assert [v for batch in batches for v in batch.finished] == [video]


def test_max_count_is_accepted() -> None:
    assert Windows.parse(f"random:{MAX_COUNT}").count == MAX_COUNT
