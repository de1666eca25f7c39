"""``read_labelled``: any labelled source (class folders, ``path,label`` CSV, Kinetics CSV, SSv2 JSON) by its shape."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vidmenagerie.errors import InvalidSetting, VideoError
from vidmenagerie.labelled.folders import read_class_folders
from vidmenagerie.labelled.kinetics import is_kinetics_header, read_kinetics
from vidmenagerie.labelled.sample import LabelledSet
from vidmenagerie.labelled.ssv2 import read_ssv2
from vidmenagerie.labelled.tables import first_row, read_table
from vidmenagerie.video.find import FrameFolders, check_frame_folders


def read_labelled(
    source: str | Path,
    class_names: Sequence[str],
    *,
    videos: str | Path | None = None,
    label_set: str | None = None,
    frame_folders: FrameFolders = "auto",
) -> LabelledSet:
    """Labelled samples of ``source`` for a model whose outputs are ``class_names``, without decoding anything.

    - a folder: one subfolder per class, or ImageNet synset folders (see ``labelled.folders`` for the rules);
      ``label_set`` ("imagenet") only helps tell wnid folders apart;
    - a ``.csv`` whose header names ``youtube_id``: a Kinetics table, videos under ``videos`` (required);
    - any other ``.csv``: ``path,label`` rows, paths relative to the CSV's folder, or to ``videos`` if given;
    - a ``.json``: Something-Something-v2 annotations, videos under ``videos`` (required).

    Missing videos are listed in ``missing`` and left out; a source that cannot be read or a label that
    names no class raises VideoError naming the file (and line); a wrong combination of arguments raises
    InvalidSetting. Each input is listed once (``LabelledSet.once_each``): repeated rows with the same
    label are counted in ``duplicates``, one input with two labels is a VideoError naming both rows.
    """
    return _read(source, class_names, videos=videos, label_set=label_set, frame_folders=frame_folders).once_each()


def _read(
    source: str | Path,
    class_names: Sequence[str],
    *,
    videos: str | Path | None,
    label_set: str | None,
    frame_folders: FrameFolders,
) -> LabelledSet:
    """The samples of ``source`` as its reader finds them (see ``read_labelled``)."""
    source = Path(source).expanduser()
    video_folder = Path(videos).expanduser() if videos is not None else None
    mode = check_frame_folders(frame_folders)
    if not class_names:
        raise InvalidSetting("class_names", "the model has no class names to match labels to")
    if source.is_dir():
        if video_folder is not None:
            raise InvalidSetting("videos", f"{source} is a folder of class folders: it holds its videos itself")
        return read_class_folders(source, class_names, label_set=label_set, frame_folders=mode)
    if not source.exists():
        raise VideoError(f"{source}: no such file or folder")
    suffix = source.suffix.lower()
    if suffix == ".json":
        return read_ssv2(source, class_names, videos=_needed(video_folder, source, "SSv2 annotations"))
    if suffix == ".csv":
        if is_kinetics_header(first_row(source)):
            return read_kinetics(source, class_names, videos=_needed(video_folder, source, "a Kinetics table"))
        return read_table(source, class_names, base=video_folder)
    raise InvalidSetting(
        "source", f"{source}: not a labelled source (a folder of class folders, a .csv table or an SSv2 .json)"
    )


def _needed(videos: Path | None, source: Path, what: str) -> Path:
    """The video folder, which ``what`` needs: an InvalidSetting saying so when it was not given."""
    if videos is None:
        raise InvalidSetting("videos", f"{source} is {what}: give the folder of its videos too")
    return videos
