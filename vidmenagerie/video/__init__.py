"""Video decoding: model-input clips from video files, exactly as the models were trained.

``read_clip`` / ``read_clips`` decode clips by time (any frame rate or container, rotation
applied), ``find_videos`` expands paths, folders and list files, ``ClipDataset`` feeds a
``DataLoader`` (with ``collate``), ``demo_video_path`` is a small video shipped with the package.
"""

from __future__ import annotations

from vidmenagerie.video.clip import Clip, ClipInfo
from vidmenagerie.video.dataset import ClipChunks, ClipDataset, ClipFailure, VideoClips, collate
from vidmenagerie.video.demo import demo_video_path, make_demo_video
from vidmenagerie.video.find import VIDEO_EXTENSIONS, find_videos
from vidmenagerie.video.probe import VideoInfo, probe_video
from vidmenagerie.video.read import iter_clip_chunks, read_clip, read_clips
from vidmenagerie.video.sampling import ClipSampling, Windows
from vidmenagerie.video.transform import float_pipeline

__all__ = [
    "VIDEO_EXTENSIONS",
    "Clip",
    "ClipChunks",
    "ClipDataset",
    "ClipFailure",
    "ClipInfo",
    "ClipSampling",
    "VideoClips",
    "VideoInfo",
    "Windows",
    "collate",
    "demo_video_path",
    "find_videos",
    "float_pipeline",
    "iter_clip_chunks",
    "make_demo_video",
    "probe_video",
    "read_clip",
    "read_clips",
]
