"""ClipDataset in a DataLoader with worker processes: clips per video, failures as records."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video import read_clips
from vidmenagerie.video.dataset import ClipDataset, ClipFailure, VideoClips, collate

from videos import clip_indices, write_gray_video

PRE = Preprocessing(img_size=32, short_side=40, num_frames=4, sampling_rate=4)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two good videos of different lengths around a broken one."""
    d = tmp_path_factory.mktemp("dataset")
    broken = d / "broken.mp4"
    broken.write_text("not a video at all\n")
    return [write_gray_video(d / "one.mp4", 30), broken, write_gray_video(d / "two.webm", 45, codec="libvpx-vp9")]


def test_loader_with_workers_yields_clips_and_failures(files: list[Path]) -> None:
    dataset = ClipDataset(files, windows="uniform:2", crops=3, preprocessing=PRE)
    loader = DataLoader(dataset, batch_size=2, num_workers=2, collate_fn=collate)
    items = [item for batch in loader for item in batch]
    assert [type(i) for i in items] == [VideoClips, ClipFailure, VideoClips]

    one, broken, two = items
    assert isinstance(broken, ClipFailure) and broken.source == str(files[1])
    assert "broken.mp4: not a readable video" in broken.reason
    assert isinstance(one, VideoClips) and isinstance(two, VideoClips)
    assert one.source == str(files[0])
    assert one.frames.shape == (6, 3, 4, 32, 32)  # 2 windows x 3 crops
    assert one.windows.tolist() == [0, 0, 0, 1, 1, 1] and one.crops.tolist() == [0, 1, 2, 0, 1, 2]
    assert one.times.shape == (6, 4) and one.starts.shape == one.ends.shape == (6,)
    assert clip_indices(one.frames[1]) == [0, 5, 10, 15]  # the centre crop shows the index code

    expected = read_clips(files[2], "uniform:2", crops=3, preprocessing=PRE)
    assert torch.equal(two.frames, torch.stack([c.frames for c in expected]))
    assert [c.start for c in two.clips()] == [c.start for c in expected]


def test_items_without_workers_and_round_trip(files: list[Path]) -> None:
    dataset = ClipDataset(files, preprocessing=PRE)
    assert len(dataset) == 3
    item = dataset[0]
    assert isinstance(item, VideoClips)
    (clip,) = item.clips()
    assert clip.frames.shape == (3, 4, 32, 32) and clip.source == str(files[0])
    assert clip.info.repeated_frames == 0
    assert isinstance(dataset[1], ClipFailure)


def test_bad_options_fail_when_the_dataset_is_made(files: list[Path]) -> None:
    with pytest.raises(ValueError, match="bad window spec"):
        ClipDataset(files, windows="sideways")
    with pytest.raises(ValueError, match="crops must be 1"):
        ClipDataset(files, crops=4)  # type: ignore[arg-type]


def test_collate_keeps_a_list() -> None:
    failure = ClipFailure("x.mp4", "x.mp4: no such file")
    assert collate([failure, failure]) == [failure, failure]
