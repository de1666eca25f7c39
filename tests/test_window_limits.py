"""Window specs stay bounded (issue 11, item 5): starts are computed lazily, a spec asking for more
windows than a video has start frames takes each frame once with a note, absurd specs are refused."""

from __future__ import annotations

import math
import random
import time
import tracemalloc
from fractions import Fraction
from pathlib import Path

import pytest

from vidmenagerie.batch.clips import ClipPlan, iter_clip_batches
from vidmenagerie.batch.settings import BatchSettings
from vidmenagerie.catalog import default_catalog
from vidmenagerie.errors import InvalidSetting
from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.tasks.embed.settings import clip_spec
from vidmenagerie.video import Windows, iter_clip_chunks, read_clips
from vidmenagerie.video.sampling import MAX_COUNT, ClipSampling, to_fraction

from videos import write_gray_video

PRE = Preprocessing(img_size=32, short_side=40, num_frames=4, sampling_rate=4)
SPAN = Fraction(16, 30)  # PRE's clip: 4 frames every 4th at 30 fps
HOUR = Fraction(3600)
FRAMES_3S = 75  # start frames of a 3 s, 30 fps video: 0 .. (3 - 16 / 30) * 30 = 74


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s gray-coded video at 30 fps (90 frames)."""
    return write_gray_video(tmp_path_factory.mktemp("limits") / "v.mp4", 90)


def old_starts(windows: Windows, duration: Fraction, span: Fraction) -> list[Fraction]:
    """The window rule before lazy starts (a full list, duplicates kept): the reference."""
    room = max(duration - span, Fraction(0))
    if windows.kind == "start":
        return [Fraction(0)]
    if windows.kind == "center" or (windows.kind == "uniform" and windows.count == 1):
        return [room / 2]
    if windows.kind == "uniform":
        return [room * k / (windows.count - 1) for k in range(windows.count)]
    if windows.kind == "random":
        rng = random.Random(windows.seed)
        return sorted(room * to_fraction(rng.random()) for _ in range(windows.count))
    stride = to_fraction(windows.stride) if windows.stride is not None else span
    starts = [stride * k for k in range(int(room // stride) + 1)]
    if starts[-1] < room:
        starts.append(room)
    return starts


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


def test_starts_are_lazy_however_many_windows() -> None:
    tracemalloc.start()
    began = time.perf_counter()
    starts = Windows.parse("sliding:0.000001").window_starts(HOUR, SPAN)  # no frame rate: no merging
    assert len(starts) == 3_600_000_000 - 533_333 + 1 and starts[-1] == HOUR - SPAN
    assert starts[7] == Fraction(7, 1_000_000) and starts[10:12] == [Fraction(10, 10**6), Fraction(11, 10**6)]
    hourly = Windows.parse("sliding:0.000001").window_starts(HOUR, SPAN, 30)
    pieces = sum(1 for first in range(0, len(hourly), 16) for _ in [hourly[first : first + 16]])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(hourly) == 107_985 and pieces == math.ceil(107_985 / 16)
    assert peak < 1_000_000 and time.perf_counter() - began < 20


def test_normal_specs_keep_their_starts_and_duplicates_go() -> None:
    """Against the old full-list rule: identical where it had no two windows in one frame, else
    its windows with the duplicates (same start frame as the window before) left out."""
    specs = ["center", "start", "uniform:1", "uniform:3", "uniform:7", "uniform:200", "sliding", "sliding:0.5"]
    specs += ["sliding:0.01", "sliding:0.001", "random:3", "random:40", "random:500"]
    for spec in specs:
        windows = Windows.parse(spec, seed=5)
        for duration in (Fraction(1, 3), Fraction(3), Fraction(1001, 100), Fraction(79, 10)):
            for fps in (Fraction(30), Fraction(25), Fraction(30000, 1001), Fraction(24)):
                sampling = ClipSampling(4, 4, 30.0)
                old = old_starts(windows, duration, sampling.span)
                frames = [math.floor(s * fps) for s in old]
                distinct = [s for i, s in enumerate(old) if i == 0 or frames[i] != frames[i - 1]]
                new = windows.window_starts(duration, sampling.span, fps)
                assert [sampling.anchor(s, fps) for s in new] == [sampling.anchor(s, fps) for s in distinct], spec
                if len(distinct) == len(old):
                    assert list(new) == old and new.note == "", (spec, duration, fps)
                assert windows.starts(duration, sampling.span) == old  # no frame rate: the old list


def test_a_sliding_end_window_in_the_last_frame_is_one_clip() -> None:
    # 25 fps, stride 1 s: starts 0, 1, 2 s and the end window at 2.01 s, which starts in frame 50 like 2 s
    duration = 2 + Fraction(1, 100) + SPAN
    assert Windows("sliding", stride=1.0).starts(duration, SPAN) == [0, 1, 2, 2 + Fraction(1, 100)]
    starts = Windows("sliding", stride=1.0).window_starts(duration, SPAN, 25)
    assert list(starts) == [0, 1, 2] and starts.note == ""


def test_more_windows_than_frames_take_each_frame_once_with_a_note() -> None:
    starts = Windows.parse("uniform:100000").window_starts(Fraction(10), SPAN, 30)
    assert len(starts) == 285 and starts[-1] == Fraction(284, 30)
    assert (
        starts.note
        == "uniform:100000 asks for more clips than the 285 distinct start frames of this video: took each once"
    )
    short = Windows.parse("uniform:4").window_starts(Fraction(1, 3), SPAN, 30)  # shorter than one clip
    assert list(short) == [0] and "the 1 distinct start frame of" in short.note
    drawn = Windows.parse("random:1000", seed=2).window_starts(Fraction(3), SPAN, 30)
    assert len(drawn) <= FRAMES_3S and list(drawn) == sorted(drawn) and "random:1000 asks for more" in drawn.note
    assert Windows.parse("uniform:100000").window_starts(HOUR, SPAN, 30).note == ""  # 107,985 frames: all distinct


@pytest.mark.parametrize("spec", ["sliding:0.000001", "uniform:100000"])
def test_pieces_of_a_video_take_each_start_frame_once(video: Path, spec: str) -> None:
    began = time.perf_counter()
    clips = [c for piece in iter_clip_chunks(video, spec, preprocessing=PRE, max_windows=16) for c in piece]
    assert time.perf_counter() - began < 30
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
