"""find_videos: files, folders (recursive, sorted), list files; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidmenagerie.errors import VideoError
from vidmenagerie.video.find import find_videos


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
    with pytest.raises(VideoError, match=r"empty: folder holds no videos \(looked for .avi, .m4v"):
        find_videos(tmp_path / "empty")


def test_bad_list_entries_name_the_list_and_line(tmp_path: Path) -> None:
    listing = touch(tmp_path / "l.txt")
    listing.write_text("# only comments\n\n")
    with pytest.raises(VideoError, match="l.txt: list names no videos"):
        find_videos(listing)
    listing.write_text("a.mp4\nmissing.mp4\n")
    touch(tmp_path / "a.mp4")
    with pytest.raises(VideoError, match=r"missing.mp4 \(listed in .*l.txt:2\): no such file"):
        find_videos(listing)
