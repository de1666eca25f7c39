"""Clips of many videos in model-sized batches, decoded in worker processes while the model runs.

Each video is decoded in one in-order pass (``ClipChunks``: a long video in pieces of
``max_windows`` windows, so memory stays bounded); its clips are queued and cut into batches of
``batch_size`` across video boundaries. A video counts as finished once its last clip has been
handed out, and a video that fails to decode is passed on as a failure as soon as it is seen
(its queued clips are dropped), so a caller can report progress per video.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from torch.utils.data import DataLoader

from ..preprocess import Preprocessing
from ..video import Clip, ClipChunks, ClipFailure, collate
from ..video.augment import SeedProtocol
from ..video.sampling import Windows
from ..video.sources import DEFAULT_FOLDER_FPS


@dataclass(frozen=True)
class ClipPlan:
    """Which clips to take from each input (window spec as in ``read_clips``; ``sampling_rate``
    None: the model's; ``folder_fps``: the frame rate of frame folders; ``protocol``: the seed
    scripts' one randomly scaled, cropped and flipped clip per input instead of windows and crops)."""

    windows: str = "center"
    sampling_rate: int | None = None
    crops: int = 1
    seed: int = 0
    max_windows: int = 16  # windows of one video held at a time (each piece after the first costs one seek)
    folder_fps: float = DEFAULT_FOLDER_FPS
    protocol: SeedProtocol | None = None

    @property
    def clips_per_input(self) -> int | None:
        """Clips a video long enough for every window gives (None: it depends on the length)."""
        if self.protocol is not None:
            return 1
        count = Windows.parse(self.windows, seed=self.seed).expected_count
        return None if count is None else count * self.crops


@dataclass(frozen=True)
class LoadedClip:
    """One decoded clip, the video it came from and how many clips that video gave.

    For a long video read in pieces the count is not known yet: ``of_clips`` is then a lower
    bound above 1 (all that output naming needs).
    """

    video: Path
    clip: Clip
    of_clips: int


@dataclass
class ClipBatch:
    """Up to ``batch_size`` clips, plus videos finished or failed since the previous batch, and
    what was found worth saying about newly seen videos (``ClipInfo.note``)."""

    clips: list[LoadedClip] = field(default_factory=list)
    finished: list[Path] = field(default_factory=list)
    failures: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[tuple[Path, str]] = field(default_factory=list)


def clip_loader(videos: Sequence[Path], preprocessing: Preprocessing, plan: ClipPlan, *, workers: int) -> DataLoader:
    """A ``DataLoader`` over the videos' clip pieces with ``workers`` decoding processes."""
    dataset = ClipChunks(
        list(videos),
        windows=plan.windows,
        crops=plan.crops,  # type: ignore[arg-type]
        sampling_rate=plan.sampling_rate,
        seed=plan.seed,
        preprocessing=preprocessing,
        max_windows=plan.max_windows,
        folder_fps=plan.folder_fps,
        protocol=plan.protocol,
    )
    workers = max(0, min(workers, len(videos)))
    return DataLoader(
        dataset,
        batch_size=1,
        num_workers=workers,
        collate_fn=collate,
        prefetch_factor=2 if workers else None,  # pieces waiting per worker: bounds memory with crops x windows
    )


def iter_clip_batches(
    videos: Sequence[Path],
    preprocessing: Preprocessing,
    plan: ClipPlan,
    *,
    batch_size: int,
    workers: int,
) -> Iterator[ClipBatch]:
    """Batches of clips over all videos, in input order; failures and finished videos ride along."""
    by_name = {str(v): v for v in videos}
    pending: list[LoadedClip] = []
    remaining: dict[Path, int] = {}  # clips queued or in flight, per video
    unfinished: set[Path] = set()  # videos whose last piece has not arrived yet
    failures: list[tuple[Path, str]] = []
    notes: list[tuple[Path, str]] = []

    def take(count: int) -> ClipBatch:
        batch = ClipBatch(clips=pending[:count], failures=list(failures), notes=list(notes))
        del pending[:count]
        failures.clear()
        notes.clear()
        for item in batch.clips:
            remaining[item.video] -= 1
            if remaining[item.video] == 0 and item.video not in unfinished:
                batch.finished.append(item.video)
                del remaining[item.video]
        return batch

    with _workers_deaf_to_ctrl_c():  # the loader's worker processes start here
        loaded = iter(clip_loader(videos, preprocessing, plan, workers=workers))
    for items in loaded:
        for item in items:
            video = by_name.get(item.source, Path(item.source))
            if isinstance(item, ClipFailure):
                failures.append((video, item.reason))
                pending[:] = [c for c in pending if c.video != video]
                remaining.pop(video, None)
                unfinished.discard(video)
                continue
            clips = item.clips()
            if video not in remaining and video not in unfinished and item.info[0].note:
                notes.append((video, item.info[0].note))
            whole = item.final and video not in remaining
            count = len(clips) if whole else max(len(clips), 2)
            remaining[video] = remaining.get(video, 0) + len(clips)
            if item.final:
                unfinished.discard(video)
            else:
                unfinished.add(video)
            pending.extend(LoadedClip(video, clip, count) for clip in clips)
        while len(pending) >= batch_size:
            yield take(batch_size)
        if failures and not pending:
            yield take(0)
    if pending or failures:
        yield take(len(pending))


@contextmanager
def _workers_deaf_to_ctrl_c() -> Iterator[None]:
    """Start decoding processes that never see a Ctrl-C, even in their first instants (a terminal
    sends it to the whole process group; a worker hit while starting printed a traceback and took
    the run down with "worker exited unexpectedly"): while they fork, SIGINT only sets a flag, which
    they inherit and keep; this process then raises the KeyboardInterrupt it was sent, once."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread handles signals
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):  # Python's own handler raises KeyboardInterrupt
        previous(signal.SIGINT, None)


def clip_output_name(stem: Path, item: LoadedClip) -> Path:
    """Output name of a clip: the video's mirrored stem, with ``_clipK`` when the video gave several clips."""
    return stem if item.of_clips == 1 else stem.with_name(f"{stem.name}_clip{item.clip.window}")
