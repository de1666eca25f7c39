"""Model-input clips from videos, frame folders and still images, exactly as the models were trained.

``read_clip`` / ``read_clips`` decode clips by the training loader's frame rule and pixels (any
frame rate or container, rotation applied), ``find_inputs`` expands paths, folders and list
files, ``ClipDataset`` feeds a ``DataLoader`` (with ``collate``), ``demo_video_path`` is a
small video shipped with the package.
"""

from __future__ import annotations

from vidmenagerie.video.clip import Clip, ClipInfo
from vidmenagerie.video.dataset import ClipChunks, ClipDataset, ClipFailure, VideoClips, collate
from vidmenagerie.video.demo import demo_video_path, make_demo_video
from vidmenagerie.video.find import VIDEO_EXTENSIONS, find_inputs, find_videos, is_frame_folder
from vidmenagerie.video.probe import VideoInfo, probe_video
from vidmenagerie.video.read import iter_clip_chunks, read_clip, read_clips
from vidmenagerie.video.sampling import ClipSampling, Windows
from vidmenagerie.video.sources import IMAGE_EXTENSIONS, input_kind, read_image
from vidmenagerie.video.transform import FramePixels

__all__ = [
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "Clip",
    "ClipChunks",
    "ClipDataset",
    "ClipFailure",
    "ClipInfo",
    "ClipSampling",
    "FramePixels",
    "VideoClips",
    "VideoInfo",
    "Windows",
    "collate",
    "demo_video_path",
    "find_inputs",
    "find_videos",
    "input_kind",
    "is_frame_folder",
    "iter_clip_chunks",
    "make_demo_video",
    "probe_video",
    "read_clip",
    "read_clips",
    "read_image",
]
