"""Long videos in pieces: ``iter_clip_chunks``, ``ClipChunks`` and the batch pipeline stay exact and bounded."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from vidmenagerie.batch.clips import ClipPlan, iter_clip_batches
from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video import ClipChunks, ClipFailure, VideoClips, collate, iter_clip_chunks, read_clips

from videos import write_gray_video

PRE = Preprocessing(img_size=32, short_side=40, num_frames=4, sampling_rate=4)
SLIDING = "sliding:0.25"  # a clip spans 4 x 4 / 30 s; a 3 s video gives 11 windows


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A 3-second video (many windows), a broken file, and a 1-second one."""
    d = tmp_path_factory.mktemp("chunks")
    broken = d / "broken.mp4"
    broken.write_text("not a video\n")
    return [write_gray_video(d / "long.mp4", 90), broken, write_gray_video(d / "short.mp4", 30)]


def test_pieces_equal_the_one_pass_read(files: list[Path]) -> None:
    whole = read_clips(files[0], SLIDING, crops=3, preprocessing=PRE)
    pieces = list(iter_clip_chunks(files[0], SLIDING, crops=3, preprocessing=PRE, max_windows=4))
    assert [len(p) for p in pieces] == [12, 12, 9]  # 4, 4 and 3 windows of 3 crops
    flat = [clip for piece in pieces for clip in piece]
    assert [(c.window, c.crop) for c in flat] == [(c.window, c.crop) for c in whole]
    for a, b in zip(flat, whole):
        assert a.times == b.times and a.start == b.start
        assert torch.equal(a.frames, b.frames)


def test_chunk_dataset_in_workers_marks_the_last_piece(files: list[Path]) -> None:
    dataset = ClipChunks(files, windows=SLIDING, preprocessing=PRE, max_windows=3)
    items = [item for batch in DataLoader(dataset, num_workers=2, collate_fn=collate) for item in batch]
    by_video: dict[str, list[VideoClips | ClipFailure]] = defaultdict(list)
    for item in items:
        by_video[item.source].append(item)
    long, broken, short = (by_video[str(f)] for f in files)
    assert [int(p.windows[0]) for p in long] == [0, 3, 6, 9]  # in order, 3 windows a piece
    assert [p.final for p in long] == [False, False, False, True]
    assert len(broken) == 1 and isinstance(broken[0], ClipFailure) and "broken.mp4" in broken[0].reason
    assert len(short) == 1 and short[0].final


def test_pipeline_finishes_each_video_once_after_its_last_clip(files: list[Path]) -> None:
    plan = ClipPlan(windows=SLIDING, max_windows=2)
    seen: dict[Path, int] = defaultdict(int)
    finished: list[Path] = []
    failed: list[Path] = []
    for batch in iter_clip_batches(files, PRE, plan, batch_size=3, workers=2):
        for item in batch.clips:
            assert item.video not in finished  # no clip after its video was declared finished
            seen[item.video] += 1
            assert item.of_clips > 1  # several windows: outputs get a _clipK suffix
        finished.extend(batch.finished)
        failed.extend(video for video, _ in batch.failures)
    assert sorted(finished) == sorted([files[0], files[2]]) and failed == [files[1]]
    assert seen[files[0]] == len(read_clips(files[0], SLIDING, preprocessing=PRE)) == 11
    assert seen[files[2]] == len(read_clips(files[2], SLIDING, preprocessing=PRE)) == 3


def test_one_window_per_video_is_known_to_be_the_only_clip(files: list[Path]) -> None:
    batches = list(iter_clip_batches(files, PRE, ClipPlan(max_windows=1), batch_size=2, workers=0))
    clips = [item for batch in batches for item in batch.clips]
    assert [c.video for c in clips] == [files[0], files[2]] and all(c.of_clips == 1 for c in clips)
