"""Model-input clips from videos, frame folders and still images, exactly as the models were trained.

``read_clip`` / ``read_clips`` decode clips by the training loader's frame rule and pixels (any
frame rate or container, rotation applied), ``find_inputs`` expands paths, folders and list
files, ``ClipDataset`` feeds a ``DataLoader`` (with ``collate``), ``demo_video_path`` is a
small video shipped with the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, ...]] = {
    "clip": ("Clip", "ClipInfo"),
    "dataset": ("ClipChunks", "ClipDataset", "ClipFailure", "VideoClips", "collate"),
    "demo": ("demo_video_path", "make_demo_video"),
    "find": ("VIDEO_EXTENSIONS", "find_inputs", "find_videos", "is_frame_folder"),
    "probe": ("VideoInfo", "probe_video"),
    "read": ("iter_clip_chunks", "read_clip", "read_clips"),
    "sampling": ("ClipSampling", "Windows"),
    "kinds": ("IMAGE_EXTENSIONS", "input_kind"),
    "sources": ("read_image",),
    "transform": ("FramePixels",),
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from .clip import Clip, ClipInfo
    from .dataset import ClipChunks, ClipDataset, ClipFailure, VideoClips, collate
    from .demo import demo_video_path, make_demo_video
    from .find import VIDEO_EXTENSIONS, find_inputs, find_videos, is_frame_folder
    from .kinds import IMAGE_EXTENSIONS, input_kind
    from .probe import VideoInfo, probe_video
    from .read import iter_clip_chunks, read_clip, read_clips
    from .sampling import ClipSampling, Windows
    from .sources import read_image
    from .transform import FramePixels
