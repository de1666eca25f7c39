"""The training loader's frames, exactly: ``read_clips`` against ``oracle.TrainingLoader``, which
reads every frame and takes a clip's frames as torchvision's ``video_reader`` and mae_st's
``decoder.py`` / ``kinetics.py`` did (pts windows on the real timestamps, frames counted in
decode order), on files that exercise each branch of that code:

- MP4 at 25, 30 and 30000/1001 fps: fractional starts and windows one frame short;
- AVI with time base 1/fps and a missing timestamp (mae_st's ``demo.avi`` has no frame at pts 1);
- WebM and MKV, which state no stream duration: the whole video is read and counted;
- an MP4 whose frames start 10 s in: the window at pts 0 holds nothing, the loader reads it all;
- a video shorter than a clip, one with a variable frame rate, and an MPEG-TS with one keyframe.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from pathlib import Path

import av
import pytest

from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video import read_clip, read_clips
from vidmenagerie.video.frame_rule import FrameRule
from vidmenagerie.video.frame_table import FrameTable
from vidmenagerie.video.probe import open_video, stream_clock
from vidmenagerie.video.sampling import Position

from oracle import TrainingLoader
from videos import clip_indices, index_image, write_gapped_avi, write_gray_video

VFR_TIMES = [0, 0.01, 0.05, 0.2, 0.21, 0.3, 0.5, 0.55, 0.6, 0.61, 0.62, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5, 1.51]
RULES = [(16, 8), (8, 3)]  # (frames, sampling rate): the models' clip, and a short one with fractional L


def _late_mp4(path: Path, count: int = 150) -> Path:
    """A 30 fps MP4 whose first frame is at 10 s (the stream's start time): frame i shows index i."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264rgb", rate=30)
        stream.pix_fmt, stream.options = "rgb24", {"crf": "0", "preset": "ultrafast"}
        stream.height, stream.width = 48, 64
        for i in range(count):
            frame = av.VideoFrame.from_ndarray(index_image(i), format="rgb24")
            frame.pts, frame.time_base = 300 + i, Fraction(1, 30)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One file per branch of the loader's code, each frame showing its decode-order index."""
    d = tmp_path_factory.mktemp("loader")
    return {
        "mp4_25": write_gray_video(d / "a25.mp4", 250, fps=25),
        "mp4_30": write_gray_video(d / "a30.mp4", 200, fps=30),
        "mp4_ntsc": write_gray_video(d / "ntsc.mp4", 200, fps=30000 / 1001),
        "avi_gap": write_gapped_avi(d / "gap.avi", 200, missing=1),
        "webm": write_gray_video(d / "a.webm", 200, fps=30, codec="libvpx-vp9"),
        "mkv": write_gray_video(d / "a.mkv", 180, fps=25),
        "late_mp4": _late_mp4(d / "late.mp4"),
        "short": write_gray_video(d / "short.mp4", 20, fps=30),
        # MPEG-TS with one keyframe: its seeks land between keyframes, where nothing decodes
        "ts": write_gray_video(d / "a.ts", 150, fps=25, codec="libx264", options={"qp": "0", "preset": "ultrafast"}),
        "vfr": write_gray_video(d / "vfr.mp4", len(VFR_TIMES), times=VFR_TIMES),
    }


@pytest.fixture(scope="module")
def loaders(files: dict[str, Path]) -> dict[str, TrainingLoader]:
    """The oracle of each file (every frame decoded once)."""
    return {name: TrainingLoader(path) for name, path in files.items()}


def _once(clips: list[list[int]]) -> list[list[int]]:
    """Consecutive identical clips once (the same clip read twice is one)."""
    return [c for i, c in enumerate(clips) if i == 0 or c != clips[i - 1]]


def _sliding_starts(loader: TrainingLoader, frames: int, rate: int, stride: float) -> list[int]:
    """Our documented sliding rule: starts every ``stride`` seconds in the frame they fall in (at the
    loader's fps), and one in the last start frame, on the frames the loader placed clips on."""
    clip_size = rate * frames / 30 * loader.fps
    size = loader.fps * loader.duration if loader.duration > 0 else sum(us >= 0 for us in loader.us)
    delta = max(size - clip_size, 0)
    step = Fraction(stride).limit_denominator(10**6) * Fraction(loader.fps)
    starts = [math.floor(step * j) for j in range(math.floor(Fraction(delta) / step) + 1)]
    return starts + ([math.floor(delta)] if starts[-1] < math.floor(delta) else [])


def _expected(loader: TrainingLoader, spec: str, frames: int, rate: int) -> list[list[int]]:
    """The oracle's clips for a window spec, in order."""
    kind, _, arg = spec.partition(":")
    if kind == "center":
        return [loader.clip(frames, rate)]
    if kind == "start":
        return [loader.clip(frames, rate, start_frame=0)]
    if kind == "uniform":
        return [loader.clip(frames, rate, k, int(arg)) for k in range(int(arg))]  # mae_st's test-mode views
    if kind == "random":
        rng = random.Random(0)
        return [loader.clip(frames, rate, -1, draw=x) for x in sorted(rng.random() for _ in range(int(arg)))]
    return [loader.clip(frames, rate, start_frame=s) for s in _sliding_starts(loader, frames, rate, float(arg))]


NAMES = ["mp4_25", "mp4_30", "mp4_ntsc", "avi_gap", "webm", "mkv", "late_mp4", "short", "vfr", "ts"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("spec", ["center", "start", "uniform:5", "random:4", "sliding:0.7"])
def test_every_window_spec_takes_the_loaders_frames(
    files: dict[str, Path], loaders: dict[str, TrainingLoader], name: str, spec: str
) -> None:
    loader = loaders[name]
    for frames, rate in RULES:
        pre = Preprocessing(img_size=32, short_side=48, num_frames=frames, sampling_rate=rate)
        clips = read_clips(files[name], spec, preprocessing=pre)
        expected = _expected(loader, spec, frames, rate)
        ours = [clip_indices(c.frames) for c in clips]
        assert _once(ours) == _once(expected), (spec, frames, rate)
        if len({tuple(e) for e in expected}) > 1 and not spec.startswith("random"):
            assert len(ours) == len(expected)  # distinct views are all taken, even where two read alike
        for clip, indices in zip(clips, ours):
            assert clip.times == pytest.approx([float(loader.seconds[i]) for i in indices], abs=1e-9)
            assert clip.start == clip.times[0]
            # positions past the last frame read show it instead: never more than show it at all
            assert clip.info.repeated_frames <= indices.count(indices[-1])


@pytest.mark.parametrize("name", ["mp4_25", "avi_gap", "webm", "vfr"])
def test_an_explicit_start_begins_in_the_frame_it_falls_in(
    files: dict[str, Path], loaders: dict[str, TrainingLoader], name: str
) -> None:
    loader = loaders[name]
    for start in (0.0, 0.37, 1.02):
        clip = read_clip(files[name], num_frames=8, sampling_rate=3, img_size=32, start=start)
        frame = math.floor(Fraction(start).limit_denominator(1000) * Fraction(loader.fps))
        assert clip_indices(clip.frames) == loader.clip(8, 3, start_frame=frame), start


def test_the_gap_in_demo_avi_shifts_every_later_frame(
    files: dict[str, Path], loaders: dict[str, TrainingLoader]
) -> None:
    # No frame at pts 1: the loader's window from pts 0 counts frames, so frame k of the clip window is
    # the one at pts k + 1 (not at pts k, which a rule by time would show).
    loader = loaders["avi_gap"]
    assert loader.pts[:3] == [0, 2, 3] and loader.duration > 0
    (clip,) = read_clips(files["avi_gap"], "start", num_frames=16, sampling_rate=8, img_size=32)
    assert clip_indices(clip.frames) == loader.clip(16, 8, start_frame=0)
    assert clip_indices(clip.frames)[:4] == [0, 8, 16, 25]  # frames at pts 0, 9, 17, 26
    assert clip.times[1] == pytest.approx(9 / 30)  # frame 8 is shown at pts 9


def test_a_fractional_start_reads_a_window_one_frame_short(
    files: dict[str, Path], loaders: dict[str, TrainingLoader]
) -> None:
    # 25 fps, L = 20 frames (rate 3, 8 frames): a window starting at 12.4 frames holds frames 13 .. 31,
    # 19 of them, so linspace(0, 19, 8) is clamped at its end: the last frame repeats.
    loader, draw = loaders["mp4_25"], 12.4 / (250 - 20)
    wanted = loader.clip(8, 3, -1, draw=draw)
    assert wanted == [13, 15, 18, 21, 23, 26, 29, 31]  # linspace(0, 19, 8) + 13, its end clamped to 18
    assert loader.clip(8, 3, start_frame=13) == [13, 15, 18, 21, 23, 26, 29, 32]  # a whole start: 20 frames
    with open_video(files["mp4_25"]) as (container, stream):
        table = FrameTable(str(files["mp4_25"]), container, stream, stream_clock(container, stream), stream.duration)
        [chosen] = FrameRule(table, 3 * 8 / 30 * 25.0, 8).frames([Position(draw=draw)])
    assert list(chosen.ids) == [loader.pts[i] for i in wanted] and chosen.repeated == 1


@pytest.mark.parametrize("name", NAMES)
def test_packets_name_the_frames_the_decoder_gives(
    files: dict[str, Path], loaders: dict[str, TrainingLoader], name: str
) -> None:
    with open_video(files[name]) as (container, stream):
        table = FrameTable(str(files[name]), container, stream, stream_clock(container, stream), stream.duration)
        every = table.every_frame()
    loader = loaders[name]
    assert every == [p for p, us in zip(loader.pts, loader.us) if us >= 0]
    assert table.meta.fps == loader.fps and table.meta.duration == loader.duration


def test_far_apart_windows_read_only_their_own_packets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    video = write_gray_video(tmp_path / "long.mp4", 250, fps=5)  # 50 s: windows 10+ s apart
    reads: list[tuple[int | None, int | None]] = []  # tick spans demuxed
    real_read = FrameTable._read

    def recording(self: FrameTable, low: int | None, high: int | None) -> list[int]:
        reads.append((low, high))
        return real_read(self, low, high)

    monkeypatch.setattr(FrameTable, "_read", recording)
    clips = read_clips(video, "sliding:15", num_frames=8, sampling_rate=3, img_size=32)  # 0.8 s clips
    assert len(clips) == 5 and len(reads) == 4  # 0, 15, 30 s alone; 45 and 49 s close enough for one read
    ticks = 1 / Fraction(1, 10240)  # the MP4's ticks per second at 5 fps
    assert all(low is not None and high is not None and high - low < 5 * ticks for low, high in reads)
    loader = TrainingLoader(video)
    starts = [0, 75, 150, 225, 246]  # every 15 s at 5 fps, and the last start frame (250 - 4)
    assert [clip_indices(c.frames) for c in clips] == [loader.clip(8, 3, start_frame=s) for s in starts]
