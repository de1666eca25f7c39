"""The packaged demo video: present, small, decodable, and regenerable by the package."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidmenagerie.video import probe_video, read_clip
from vidmenagerie.video.demo import HEIGHT, WIDTH, demo_frame, demo_video_path, make_demo_video


def test_demo_video_is_shipped_small_and_readable() -> None:
    path = demo_video_path()
    assert path.name == "demo.mp4" and path.parent.name == "data"
    assert path.stat().st_size < 400_000
    info = probe_video(path)
    assert (info.codec, info.width, info.height, info.fps) == ("h264", 320, 240, 30.0)
    assert 4.0 <= (info.duration or 0) <= 6.0
    clip = read_clip(path)
    assert clip.frames.shape == (3, 16, 224, 224) and clip.info.repeated_frames == 0


def test_demo_scene_moves() -> None:
    first, later = demo_frame(0.0), demo_frame(1.0)
    assert first.shape == (HEIGHT, WIDTH, 3) and first.dtype == np.uint8
    assert np.abs(first.astype(int) - later.astype(int)).mean() > 1.0


def test_make_demo_video_regenerates_it(tmp_path: Path) -> None:
    path = make_demo_video(tmp_path / "demo.mp4")
    packaged, made = probe_video(demo_video_path()), probe_video(path)
    assert (made.width, made.height, made.num_frames) == (packaged.width, packaged.height, packaged.num_frames)
