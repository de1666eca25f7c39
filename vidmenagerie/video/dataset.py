"""Feed batch commands: a ``Dataset`` of videos whose decoding overlaps the model in workers.

One item per video, decoded once in order::

    dataset = ClipDataset(find_videos(paths), windows="uniform:4", crops=3, preprocessing=pre)
    loader = DataLoader(dataset, batch_size=2, num_workers=2, collate_fn=collate)
    for batch in loader:            # a list: VideoClips or ClipFailure, one per video
        for item in batch:
            if isinstance(item, ClipFailure):
                print(f"skipped {item.source}: {item.reason}")
                continue
            scores = model(item.frames)  # [clips * crops, 3, T, S, S]

A file that cannot be read never raises out of the dataset (so it cannot kill a worker): it
comes back as a ``ClipFailure``. ``collate`` keeps items as a list, since videos give different
numbers of clips. Inside a worker, torch is kept to one thread and the decoder to one thread
per worker (as fast, and the workers do not fight over cores).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from vidmenagerie.errors import VideoError
from vidmenagerie.preprocess import Preprocessing
from vidmenagerie.video.augment import OWN_CLIP, SeedProtocol
from vidmenagerie.video.clip import Clip, ClipInfo
from vidmenagerie.video.read import iter_clip_chunks, read_clips, resolve
from vidmenagerie.video.sampling import Windows
from vidmenagerie.video.sources import DEFAULT_FOLDER_FPS
from vidmenagerie.video.transform import Crops, check_crops


@dataclass(frozen=True, eq=False)
class VideoClips:
    """All clips of one video, stacked: ``frames`` [N, 3, T, S, S] with N = windows x crops,
    and per clip its frame times [N, T], start and end [N] (seconds), window and crop index."""

    source: str
    frames: torch.Tensor
    times: torch.Tensor
    starts: torch.Tensor
    ends: torch.Tensor
    windows: torch.Tensor
    crops: torch.Tensor
    info: tuple[ClipInfo, ...]
    final: bool = True  # False: more clips of this video follow (``ClipChunks``)

    @classmethod
    def from_clips(cls, clips: Sequence[Clip], *, final: bool = True) -> VideoClips:
        """Stack the clips ``read_clips`` returned for one video (or one piece of it)."""
        # One clip (a still, a centre clip) keeps its tensor as it is: a still's frames are a
        # view of one picture, cheap to hand from a worker to the main process.
        frames = clips[0].frames.unsqueeze(0) if len(clips) == 1 else torch.stack([c.frames for c in clips])
        return cls(
            source=clips[0].source,
            frames=frames,
            times=torch.tensor([c.times for c in clips], dtype=torch.float64),
            starts=torch.tensor([c.start for c in clips], dtype=torch.float64),
            ends=torch.tensor([c.end for c in clips], dtype=torch.float64),
            windows=torch.tensor([c.window for c in clips], dtype=torch.int64),
            crops=torch.tensor([c.crop for c in clips], dtype=torch.int64),
            info=tuple(c.info for c in clips),
            final=final,
        )

    def clips(self) -> list[Clip]:
        """The clips again, one ``Clip`` each."""
        return [
            Clip(
                frames=self.frames[i],
                times=tuple(self.times[i].tolist()),
                start=float(self.starts[i]),
                end=float(self.ends[i]),
                source=self.source,
                info=self.info[i],
                window=int(self.windows[i]),
                crop=int(self.crops[i]),
            )
            for i in range(len(self.info))
        ]


@dataclass(frozen=True)
class ClipFailure:
    """A video that could not be read, and why (one line, naming the file)."""

    source: str
    reason: str


class ClipDataset(Dataset[VideoClips | ClipFailure]):
    """One item per video: its clips (``VideoClips``) or why it failed (``ClipFailure``).

    Inputs may be videos, stills and frame folders (``folder_fps`` frames per second);
    ``windows``, ``crops``, ``sampling_rate`` (None: the preprocessing's) and ``seed`` are as in
    ``read_clips``; ``preprocessing`` is the model's (default: the 224-pixel video training
    recipe); ``protocol``: the seed scripts' one val clip per input instead (``augment``), drawn
    from the input's own generators, so items do not depend on workers or order. Options are
    checked here, so a bad window spec fails at once, not in a worker.
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        *,
        windows: str | Windows = "center",
        crops: Crops = 1,
        sampling_rate: int | None = None,
        seed: int = 0,
        preprocessing: Preprocessing | None = None,
        folder_fps: float = DEFAULT_FOLDER_FPS,
        protocol: SeedProtocol | None = None,
    ) -> None:
        self.paths = [str(p) for p in paths]
        self.windows = Windows.parse(windows, seed=seed)
        self.crops = check_crops(crops)
        self.preprocessing = resolve(preprocessing, None, None, sampling_rate)
        self.folder_fps = folder_fps
        if protocol is not None and (self.windows != Windows() or self.crops != 1):
            raise ValueError(OWN_CLIP)
        self.protocol = protocol

    def __len__(self) -> int:
        """Number of videos."""
        return len(self.paths)

    def __getitem__(self, index: int) -> VideoClips | ClipFailure:
        """Decode one video's clips; any failure is returned, never raised."""
        path = self.paths[index]
        try:
            clips = read_clips(
                path,
                self.windows,
                crops=self.crops,
                preprocessing=self.preprocessing,
                threads=_decoder_threads(),
                folder_fps=self.folder_fps,
                protocol=self.protocol,
            )
        except Exception as err:  # a failure is a record, never a dead worker or batch
            return _failure(path, err)
        return VideoClips.from_clips(clips)


class ClipChunks(IterableDataset[VideoClips | ClipFailure]):
    """Like ``ClipDataset``, but a video's clips come in pieces of at most ``max_windows`` windows.

    Memory stays bounded however long a video is (a sliding pass over hours of video). Pieces
    of one video arrive in order, the last with ``final=True``; a failure ends that video with
    a ``ClipFailure`` (earlier pieces may have arrived). Videos are dealt to DataLoader workers
    round-robin, so pieces of different videos interleave, in an order fixed by the worker count.
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        *,
        windows: str | Windows = "center",
        crops: Crops = 1,
        sampling_rate: int | None = None,
        seed: int = 0,
        preprocessing: Preprocessing | None = None,
        max_windows: int = 16,
        folder_fps: float = DEFAULT_FOLDER_FPS,
        protocol: SeedProtocol | None = None,
    ) -> None:
        if max_windows < 1:
            raise ValueError(f"max_windows must be >= 1, got {max_windows}")
        self.videos = ClipDataset(
            paths,
            windows=windows,
            crops=crops,
            sampling_rate=sampling_rate,
            seed=seed,
            preprocessing=preprocessing,
            folder_fps=folder_fps,
            protocol=protocol,
        )
        self.max_windows = max_windows

    def __iter__(self) -> Iterator[VideoClips | ClipFailure]:
        """This worker's videos, piece by piece."""
        worker = get_worker_info()
        first, step = (worker.id, worker.num_workers) if worker is not None else (0, 1)
        threads = _decoder_threads()
        for index in range(first, len(self.videos.paths), step):
            yield from self._pieces(self.videos.paths[index], threads)

    def _pieces(self, path: str, threads: int) -> Iterator[VideoClips | ClipFailure]:
        videos = self.videos
        held: list[Clip] | None = None  # one piece of lookahead, to know which piece is the last
        try:
            for piece in iter_clip_chunks(
                path,
                videos.windows,
                crops=videos.crops,
                preprocessing=videos.preprocessing,
                threads=threads,
                max_windows=self.max_windows,
                folder_fps=videos.folder_fps,
                protocol=videos.protocol,
            ):
                if held is not None:
                    yield VideoClips.from_clips(held, final=False)
                held = piece
        except Exception as err:  # a failure is a record, never a dead worker or batch
            yield _failure(path, err)
            return
        if held is not None:
            yield VideoClips.from_clips(held, final=True)


def _decoder_threads() -> int:
    """Decoder threads for this process: one inside a DataLoader worker (torch kept to one thread
    too, so workers do not fight over cores), FFmpeg's choice in the main process."""
    if get_worker_info() is None:
        return 0
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    return 1


def _failure(path: str, err: Exception) -> ClipFailure:
    """The record of a video that could not be read: a VideoError's own line, else the error named."""
    if isinstance(err, VideoError):
        return ClipFailure(source=path, reason=str(err))
    return ClipFailure(source=path, reason=f"{path}: {type(err).__name__}: {err}")


def collate(batch: list[VideoClips | ClipFailure]) -> list[VideoClips | ClipFailure]:
    """``collate_fn`` for ``DataLoader``: keep the items as a list (no stacking across videos)."""
    return list(batch)
