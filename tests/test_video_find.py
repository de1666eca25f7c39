"""find_inputs: files, folders (recursive, sorted), list files, stills and frame folders; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidmenagerie.errors import VideoError
from vidmenagerie.video.find import find_inputs as find_videos
from vidmenagerie.video.find import is_frame_folder


def touch(path: Path) -> Path:
    """An empty file (find_videos never opens files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A folder of videos in subfolders, with other files and hidden entries around."""
    for name in [
        "b.mp4",
        "a.MOV",
        "sub/c.webm",
        "sub/deeper/d.MKV",
        "e.m4v",
        "f.avi",
        "notes.txt",
        "cover.jpg",
        ".hidden.mp4",
        ".cache/g.mp4",
        "sub/x.mp4.part",
    ]:
        touch(tmp_path / "videos" / name)
    return tmp_path / "videos"


def test_folder_is_searched_recursively_sorted_and_case_insensitively(tree: Path) -> None:
    found = find_videos(tree)
    assert [p.relative_to(tree).as_posix() for p in found] == [
        "a.MOV",
        "b.mp4",
        "cover.jpg",  # stills are inputs too
        "e.m4v",
        "f.avi",
        "sub/c.webm",
        "sub/deeper/d.MKV",
    ]
    assert find_videos(str(tree)) == found  # a plain string works, and the result is deterministic


def test_explicit_files_are_kept_whatever_their_extension(tree: Path) -> None:
    found = find_videos([tree / "cover.jpg", tree / "b.mp4", tree / "sub", tree / "b.mp4"])
    assert found == [tree / "cover.jpg", tree / "b.mp4", tree / "sub" / "c.webm", tree / "sub" / "deeper" / "d.MKV"]


def test_list_files_resolve_relative_to_their_folder(tree: Path, tmp_path: Path) -> None:
    listing = tmp_path / "lists" / "batch.lst"
    listing.parent.mkdir()
    listing.write_text(f"# my batch\n\n../videos/b.mp4\n  ../videos/sub  \n{tree / 'f.avi'}\n# done\n")
    assert find_videos(listing) == [
        tree / "b.mp4",
        tree / "sub" / "c.webm",
        tree / "sub" / "deeper" / "d.MKV",
        tree / "f.avi",
    ]


def test_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="nope.mp4: no such file or folder"):
        find_videos([tmp_path / "nope.mp4"])


def test_folder_without_videos_is_named(tmp_path: Path) -> None:
    touch(tmp_path / "empty" / "readme.md")
    with pytest.raises(VideoError, match=r"empty: folder holds no videos or images \(looked for .avi, .bmp"):
        find_videos(tmp_path / "empty")


def test_an_empty_list_is_refused_and_a_missing_entry_kept(tmp_path: Path) -> None:
    listing = touch(tmp_path / "l.txt")
    listing.write_text("# only comments\n\n")
    with pytest.raises(VideoError, match="l.txt: list names no videos"):
        find_videos(listing)
    listing.write_text("a.mp4\nmissing.mp4\n")
    touch(tmp_path / "a.mp4")  # a missing entry stays an input: the run lists it as failed, the others go on
    assert find_videos(listing) == [tmp_path / "a.mp4", tmp_path / "missing.mp4"]


def frames(folder: Path, names: list[str]) -> Path:
    """A folder holding empty files with these names."""
    for name in names:
        touch(folder / name)
    return folder


@pytest.mark.parametrize(
    "names",
    [
        ["00001.jpg", "00002.jpg", "00003.jpg"],
        ["frame_0000.png", "frame_0004.png", "frame_0008.png", "frame_0012.png"],  # every 4th frame kept
        [
            "img1.jpg",
            "img2.jpg",
            "img10.jpg",
            "img11.jpg",
            "img3.jpg",
            "img4.jpg",
            "img5.jpg",
            "img6.jpg",
            "img7.jpg",
            "img8.jpg",
            "img9.jpg",
        ],  # fmt: skip
    ],
)
def test_numbered_images_make_a_frame_folder(tmp_path: Path, names: list[str]) -> None:
    folder = frames(tmp_path / "clip", names)
    assert is_frame_folder(folder)
    assert find_videos(folder) == [folder]  # the folder itself is one video
    assert find_videos(tmp_path) == [folder]


@pytest.mark.parametrize(
    "names",
    [
        ["IMG_0012.jpg", "IMG_0047.jpg", "IMG_0051.jpg"],  # photos: gaps in the numbering
        ["cat.jpg", "dog.jpg"],  # no numbers
        ["0001.jpg", "0002.png"],  # two extensions
        ["0001.jpg", "0002.jpg", "notes.txt"],  # other files
        ["0001.jpg"],  # one image is a still
        ["IMG_0012.jpg", "IMG_0047.jpg"],  # two photos far apart
        ["a1.jpg", "b2.jpg"],  # names differ beyond the number
    ],
)
def test_other_image_folders_hold_stills(tmp_path: Path, names: list[str]) -> None:
    folder = frames(tmp_path / "photos", names)
    assert not is_frame_folder(folder)
    images = [n for n in names if not n.endswith(".txt")]
    assert {p.name for p in find_videos(folder)} == set(images)


def test_frame_folder_modes_and_mixed_trees(tmp_path: Path) -> None:
    root = tmp_path / "data"
    clip = frames(root / "clip_a", ["1.jpg", "2.jpg", "3.jpg"])
    photos = frames(root / "photos", ["IMG_0012.jpg", "IMG_0047.jpg"])
    touch(root / "b.mp4")
    touch(root / "cover.png")
    expected = [root / "b.mp4", clip, root / "cover.png", photos / "IMG_0012.jpg", photos / "IMG_0047.jpg"]
    assert find_videos(root) == expected
    assert find_videos(root, frame_folders="always") == [root]  # images at the top: the folder is one video
    assert find_videos(root / "photos", frame_folders="always") == [photos]
    never = find_videos(root, frame_folders="never")
    assert clip not in never and clip / "1.jpg" in never and len(never) == 7
    with pytest.raises(ValueError, match="frame folders must be one of auto, always, never"):
        find_videos(root, frame_folders="sometimes")  # type: ignore[arg-type]
