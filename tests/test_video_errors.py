"""Bad input: each a VideoError naming the file with a plain reason, or a documented result."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

import vidmenagerie.video.sources as sources_module
from vidmenagerie.errors import VideoError, VidmError
from vidmenagerie.video import probe_video, read_clip, read_clips

from videos import claims_one_second, write_gray_video, write_video


def noise_frames(count: int) -> np.ndarray:
    """Frames that do not compress, so a file's bytes spread evenly over its frames."""
    return np.random.default_rng(0).integers(0, 256, (count, 48, 64, 3), dtype=np.uint8)


def expect_error(path: Path, reason: str) -> VideoError:
    """read_clip fails with a VideoError that names the file and gives ``reason``."""
    with pytest.raises(VideoError) as caught:
        read_clip(path, num_frames=4, img_size=32)
    message = str(caught.value)
    assert str(path) in message and reason in message
    assert "\n" not in message
    assert isinstance(caught.value, VidmError)
    return caught.value


def test_missing_file(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope.mp4", "no such file")


def test_folder_without_frames(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no pictures here")
    expect_error(tmp_path, "folder holds no frames")


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    expect_error(path, "empty file (0 bytes)")


def test_text_file_with_a_video_extension(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 20)
    expect_error(path, "not a readable video")


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "random.mkv"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 100_000, dtype=np.uint8).tobytes())
    error = expect_error(path, "")
    assert "not a readable video" in str(error) or "no video stream" in str(error)


def test_audio_only_file(tmp_path: Path) -> None:
    path = tmp_path / "sound.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000, layout="mono")
        for first in range(0, 16000, 1024):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, first
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    expect_error(path, "no video stream (holds audio)")
    with pytest.raises(VideoError, match="no video stream"):
        probe_video(path)


TRUNCATED = r"truncated or damaged: data stops at [01].\d\d s of the 2.\d\d s its header claims"


def test_truncated_file_with_its_index_first_is_reported(tmp_path: Path) -> None:
    whole = write_video(tmp_path / "whole.mp4", noise_frames(60), options={"crf": "10"}, pix_fmt="yuv420p")
    _faststart(whole, tmp_path / "faststart.mp4")
    data = (tmp_path / "faststart.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    for start in (0.0, None):  # whether or not the clip needs the missing frames
        with pytest.raises(VideoError, match="cut.mp4: " + TRUNCATED):
            read_clip(cut, num_frames=4, sampling_rate=4, img_size=32, start=start)


@pytest.mark.parametrize("suffix", ["mkv", "webm"])
def test_truncated_matroska_is_reported_like_mp4(tmp_path: Path, suffix: str) -> None:
    codec = "libvpx-vp9" if suffix == "webm" else "libx264"
    options = {"deadline": "realtime", "cpu-used": "8", "b": "2M"} if suffix == "webm" else {"crf": "10"}
    audio = suffix == "mkv"  # its header's duration covers the (longer) audio too: still truncated
    whole = write_video(tmp_path / f"whole.{suffix}", noise_frames(60), codec=codec, options=options, audio=audio)
    cut = tmp_path / f"cut.{suffix}"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match=f"cut.{suffix}: " + TRUNCATED):
        read_clip(cut, num_frames=4, sampling_rate=4, img_size=32, start=0.0)


def test_a_header_claiming_less_than_the_data_holds_is_read_to_the_end(tmp_path: Path) -> None:
    path = write_video(tmp_path / "v.mp4", noise_frames(300), options={"crf": "30", "bf": "0"}, pix_fmt="yuv420p")
    claims_one_second(path)
    with av.open(str(path)) as container:
        assert container.streams.video[0].duration * container.streams.video[0].time_base == 1  # what it claims
    clips = read_clips(path, "sliding", num_frames=4, sampling_rate=8, img_size=32)
    assert len(clips) == 10 and clips[-1].end == pytest.approx(10.0)  # 10 s of sliding clips, not 1
    assert clips[0].info.duration == pytest.approx(10.0)
    assert clips[0].info.note == "header claims 1.00 s but the video data runs to 10.00 s: clips cover the data"


def test_truncated_file_with_its_index_last_cannot_be_opened(tmp_path: Path) -> None:
    whole = write_video(tmp_path / "whole.mp4", noise_frames(30), options={"crf": "10"}, pix_fmt="yuv420p")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    expect_error(cut, "not a readable video")


def test_garbage_inside_the_stream(tmp_path: Path) -> None:
    path = write_video(tmp_path / "v.mp4", noise_frames(60), options={"crf": "10"}, pix_fmt="yuv420p")
    data = bytearray(path.read_bytes())
    third = len(data) // 3
    data[third : third + 3000] = np.random.default_rng(2).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    assert read_clip(path, num_frames=2, img_size=32, start=0.0).frames.shape == (3, 2, 32, 32)
    with pytest.raises(VideoError, match=r"v.mp4: cannot decode, damaged data \(Invalid data"):
        read_clip(path, num_frames=2, img_size=32, start=1.5)


def test_ffmpeg_errors_while_decoding_become_video_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_gray_video(tmp_path / "v.mp4", 10)

    def failing(*args: object, **kwargs: object) -> None:
        raise av.FFmpegError(1, "decoder exploded")

    monkeypatch.setattr(sources_module, "pick_frames", failing)
    with pytest.raises(VideoError, match="v.mp4: cannot decode"):
        read_clips(path, "uniform:2")


def test_start_past_the_end(tmp_path: Path) -> None:
    path = write_gray_video(tmp_path / "v.mp4", 30)
    with pytest.raises(VideoError, match=r"start 5.000 s is past the end of the video \(1.000 s\)"):
        read_clip(path, start=5.0)


def _faststart(source: Path, target: Path) -> None:
    """Remux ``source`` with its index (moov) at the front."""
    with av.open(str(source)) as src, av.open(str(target), "w", options={"movflags": "faststart"}) as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.size:
                packet.stream = stream
                dst.mux(packet)
