"""Decoding stays exact with its speed levers: skipped frames, early stop, seeks, B-frames."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import av
import pytest

from vidmenagerie.video import decode
from vidmenagerie.video.decode import pick_frames
from vidmenagerie.video.probe import open_video, stream_clock

from videos import frame_index, write_gray_video

BFRAMES = {"crf": "12", "preset": "medium", "bf": "3", "g": "24", "sc_threshold": "0"}


@pytest.fixture(scope="module")
def bframes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s of gray-coded H.264 with B-frames (pyramid) and a keyframe every 24 frames."""
    return write_gray_video(
        tmp_path_factory.mktemp("decode") / "b.mp4", 90, codec="libx264", options=BFRAMES, pix_fmt="yuv420p"
    )


def reference_pick(path: Path, instants: list[Fraction]) -> list[int]:
    """Index of the frame on screen at each instant, by decoding every frame the plain way."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [
            (f.pts * stream.time_base, frame_index(f.to_ndarray(format="rgb24"))) for f in container.decode(stream)
        ]
    return [max((i for t, i in frames if t <= s), default=frames[0][1]) for s in instants]


def picked_indices(path: Path, instants: list[Fraction], **kwargs: object) -> list[int]:
    """Index of the frame ``pick_frames`` chose at each instant."""
    with open_video(path) as (container, stream):
        clock = stream_clock(container, stream)
        decoded = pick_frames(
            container, stream, clock, instants, lambda f: frame_index(f.to_ndarray(format="rgb24")), **kwargs
        )
    return [p.value for p in decoded.picked]


def test_the_video_really_has_b_frames(bframes: Path) -> None:
    with av.open(str(bframes)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    assert any(p.pts != p.dts for p in packets)  # reordered: B-frames


@pytest.mark.parametrize("seed", range(4))
def test_random_instants_match_decoding_everything(bframes: Path, seed: int) -> None:
    rng = random.Random(seed)
    start = Fraction(rng.randrange(0, 90), 30) + Fraction(rng.randrange(0, 33), 1000)
    step = Fraction(rng.choice([1, 2, 4, 7]), 30)
    instants = [start + i * step for i in range(rng.choice([3, 8, 16]))]
    assert picked_indices(bframes, instants) == reference_pick(bframes, instants)


def test_forward_seeks_between_far_instants_stay_exact(bframes: Path) -> None:
    instants = [Fraction(k, 10) for k in (1, 2, 13, 14, 25, 27)]
    assert picked_indices(bframes, instants, seek_gap=Fraction(1, 2)) == reference_pick(bframes, instants)


def test_unwanted_frames_are_skipped_not_decoded(bframes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offered = []
    real_offer = decode._Picker.offer

    def counting_offer(self, frame, pts):  # type: ignore[no-untyped-def]
        offered.append(pts)
        return real_offer(self, frame, pts)

    monkeypatch.setattr(decode._Picker, "offer", counting_offer)
    instants = [Fraction(48 + 4 * i, 30) for i in range(8)]  # frames 48..76, every 4th
    assert picked_indices(bframes, instants) == list(range(48, 77, 4))
    assert len(offered) < 77 - 48  # non-reference frames between the wanted ones were skipped


def test_mpeg_ts_seeks_and_times(tmp_path: Path) -> None:
    path = write_gray_video(tmp_path / "v.ts", 90, codec="libx264", options={"qp": "0", "g": "30"})
    instants = [Fraction(k, 30) for k in (35, 40, 62, 63, 89)]
    assert picked_indices(path, instants) == [35, 40, 62, 63, 89]


def test_instants_after_the_end_show_the_last_frame(bframes: Path) -> None:
    with open_video(bframes) as (container, stream):
        clock = stream_clock(container, stream)
        decoded = pick_frames(
            container,
            stream,
            clock,
            [Fraction(2), Fraction(3), Fraction(5)],
            lambda f: frame_index(f.to_ndarray(format="rgb24")),
        )
    assert [p.value for p in decoded.picked] == [60, 89, 89]
    assert [p.past_end for p in decoded.picked] == [False, True, True]


def test_single_threaded_decoder_gives_the_same_frames(bframes: Path) -> None:
    instants = [Fraction(10 + 3 * i, 30) for i in range(10)]
    with open_video(bframes, threads=1) as (container, stream):
        clock = stream_clock(container, stream)
        decoded = pick_frames(container, stream, clock, instants, lambda f: frame_index(f.to_ndarray(format="rgb24")))
    assert [p.value for p in decoded.picked] == reference_pick(bframes, instants)
