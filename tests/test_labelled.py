"""Labelled inputs for evaluation: class folders, path,label and Kinetics CSVs, SSv2 JSON, ImageNet wnid folders.

Files are empty placeholders: the readers never decode, they only find inputs and map labels to class indices.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidmenagerie.errors import InvalidSetting, VideoError
from vidmenagerie.labelled import LabelledSet, class_key, imagenet_wnids, read_labelled
from vidmenagerie.labels import load_labels

COLORS = ("red", "green", "blue")


def touch(path: Path) -> Path:
    """An empty file (nothing here is decoded)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def frames(folder: Path, count: int = 3) -> Path:
    """A folder of numbered frames."""
    for i in range(1, count + 1):
        touch(folder / f"{i:05d}.jpg")
    return folder


def labels_of(found: LabelledSet, root: Path) -> dict[str, int]:
    """Sample path (relative to ``root``) -> class index."""
    return {s.path.relative_to(root).as_posix(): s.label for s in found.samples}


# --------------------------------------------------------------------------- class folders


def test_class_folders_match_names_ignoring_case_and_punctuation(tmp_path: Path) -> None:
    kinetics = load_labels("kinetics700")
    root = tmp_path / "val"
    touch(root / "Acting_In_Play" / "a.mp4")
    touch(root / "massaging_persons_head" / "b.webm")
    frames(root / "abseiling" / "clip1")  # a frame folder is one sample
    touch(root / "abseiling" / "c.jpg")
    touch(root / "abseiling" / "notes.txt")  # not an input
    touch(root / ".ipynb_checkpoints" / "x.mp4")  # hidden: not a class
    found = read_labelled(root, kinetics)
    assert found.rule == "names"
    assert "class names" in found.description and "3 folders for 700 classes" in found.description
    assert labels_of(found, root) == {
        "Acting_In_Play/a.mp4": kinetics.index("acting in play"),
        "abseiling/c.jpg": kinetics.index("abseiling"),
        "abseiling/clip1": kinetics.index("abseiling"),
        "massaging_persons_head/b.webm": kinetics.index("massaging person's head"),
    }
    assert found.missing == ()
    assert {s.source for s in found.samples} >= {"abseiling/", "Acting_In_Play/"}


def test_ssv2_template_folders_match_without_brackets(tmp_path: Path) -> None:
    ssv2 = load_labels("ssv2")
    touch(tmp_path / "putting something onto something" / "1.webm")
    touch(tmp_path / "Twisting (wringing) something wet until water comes out" / "2.webm")
    found = read_labelled(tmp_path, ssv2)
    assert found.rule == "names"
    expected = ["Putting [something] onto [something]", "Twisting (wringing) [something] wet until water comes out"]
    assert sorted(s.label for s in found.samples) == sorted(ssv2.index(t) for t in expected)


def test_class_folder_of_numbered_stills_is_not_one_video(tmp_path: Path) -> None:
    frames(tmp_path / "red", 4)  # would look like a frame folder on its own
    found = read_labelled(tmp_path, COLORS)
    assert len(found.samples) == 4 and {s.label for s in found.samples} == {0}


def test_unmatched_names_fall_back_to_sorted_folder_order_and_say_so(tmp_path: Path) -> None:
    for name in ("zebra", "apple", "mango"):
        touch(tmp_path / name / "v.mp4")
    found = read_labelled(tmp_path, COLORS)
    assert found.rule == "sorted-folders"
    assert "sorted folder names" in found.description and "ImageFolder" in found.description
    assert labels_of(found, tmp_path) == {"apple/v.mp4": 0, "mango/v.mp4": 1, "zebra/v.mp4": 2}


def test_sorted_order_refused_for_a_subset_of_unmatched_folders(tmp_path: Path) -> None:
    touch(tmp_path / "red" / "v.mp4")
    touch(tmp_path / "purple" / "v.mp4")
    with pytest.raises(VideoError, match=r"1 of 2 class folders match no class name \('purple'\).*2 folders for 3"):
        read_labelled(tmp_path, COLORS)


def test_sorted_order_refused_when_a_named_folder_would_change_class(tmp_path: Path) -> None:
    for name in ("blue", "grene", "red"):  # sorted: blue=0, but "blue" is class 2
        touch(tmp_path / name / "v.mp4")
    with pytest.raises(VideoError, match=r"blue: folder is named like class 2 \('blue'\).*class 0.*'grene'"):
        read_labelled(tmp_path, COLORS)


def test_sorted_order_used_when_partial_names_agree_with_it(tmp_path: Path) -> None:
    for name in ("a_red", "b_green", "blue"):  # sorted: a_red, b_green, blue -> "blue" lands on 2 = class "blue"
        touch(tmp_path / name / "v.mp4")
    found = read_labelled(tmp_path, COLORS)
    assert found.rule == "sorted-folders"
    assert "2 of 3 do not" in found.description


def test_number_folders_are_class_indices_not_string_sorted(tmp_path: Path) -> None:
    classes = [f"c{i}" for i in range(11)]
    for name in ("2", "10"):
        touch(tmp_path / name / "v.mp4")
    found = read_labelled(tmp_path, classes)
    assert found.rule == "indices"
    assert labels_of(found, tmp_path) == {"2/v.mp4": 2, "10/v.mp4": 10}
    touch(tmp_path / "11" / "v.mp4")
    with pytest.raises(VideoError, match="11 is out of range 0..10"):
        read_labelled(tmp_path, classes)


def test_stray_inputs_and_empty_subfolders_are_listed_missing(tmp_path: Path) -> None:
    touch(tmp_path / "red" / "v.mp4")
    (tmp_path / "red" / "empty").mkdir()
    touch(tmp_path / "loose.mp4")
    touch(tmp_path / "README.md")
    found = read_labelled(tmp_path, COLORS)
    assert [s.path.name for s in found.samples] == ["v.mp4"]
    reasons = {Path(m.item).name: m.reason for m in found.missing}
    assert reasons["loose.mp4"] == "not inside a class folder, so it has no label"
    assert "no videos or images" in reasons["empty"]
    assert "README.md" not in reasons


def test_folder_without_class_subfolders_is_refused(tmp_path: Path) -> None:
    touch(tmp_path / "v.mp4")
    with pytest.raises(VideoError, match="no class subfolders"):
        read_labelled(tmp_path, COLORS)


# --------------------------------------------------------------------------- ImageNet wnid folders


def test_shipped_wnid_list_is_imagenet_1k_in_class_order() -> None:
    wnids = imagenet_wnids()
    assert len(wnids) == 1000 == len(set(wnids))
    assert wnids[0] == "n01440764" and wnids[-1] == "n15075141"
    assert list(wnids) == sorted(wnids)


def test_wnid_subset_maps_by_the_wnid_list(tmp_path: Path) -> None:
    names = [f"class {i}" for i in range(1000)]
    touch(tmp_path / "n01443537" / "ILSVRC2012_val_00000001.JPEG")
    touch(tmp_path / "n15075141" / "ILSVRC2012_val_00000002.JPEG")
    found = read_labelled(tmp_path, names, label_set="imagenet")
    assert found.rule == "wnids" and "wnid" in found.description
    assert {s.path.parent.name: s.label for s in found.samples} == {"n01443537": 1, "n15075141": 999}
    assert read_labelled(tmp_path, names).rule == "wnids"  # 1000 classes, no label set: also ImageNet


def test_wnid_folders_refused_for_other_models_and_unknown_synsets(tmp_path: Path) -> None:
    touch(tmp_path / "n01443537" / "a.jpg")
    with pytest.raises(VideoError, match="synset ids.*label set 'ssv2'"):
        read_labelled(tmp_path, load_labels("ssv2"), label_set="ssv2")
    touch(tmp_path / "n99999999" / "b.jpg")
    with pytest.raises(VideoError, match="n99999999 is not one of the 1000"):
        read_labelled(tmp_path, [f"c{i}" for i in range(1000)], label_set="imagenet")


# --------------------------------------------------------------------------- path,label CSV


def test_csv_with_header_names_and_indices(tmp_path: Path) -> None:
    touch(tmp_path / "clips" / "a.mp4")
    touch(tmp_path / "clips" / "b.mp4")
    frames(tmp_path / "clips" / "c")
    table = tmp_path / "val.csv"
    table.write_text("path,label\nclips/a.mp4,Red\nclips/b.mp4,2\nclips/c,GREEN!\n", encoding="utf-8")
    found = read_labelled(table, COLORS)
    assert labels_of(found, tmp_path) == {"clips/a.mp4": 0, "clips/b.mp4": 2, "clips/c": 1}
    assert found.rule == "names-and-indices"
    assert [s.source for s in found.samples] == ["val.csv:2", "val.csv:3", "val.csv:4"]


def test_csv_without_header_and_index_labels(tmp_path: Path) -> None:
    touch(tmp_path / "a.mp4")
    touch(tmp_path / "b.jpg")
    table = tmp_path / "sub" / "list.csv"
    table.parent.mkdir()
    table.write_text("../a.mp4,0\n../b.jpg, 1\n", encoding="utf-8")
    found = read_labelled(table, COLORS)
    assert found.rule == "indices" and "class indices" in found.description
    assert labels_of(found, tmp_path) == {"a.mp4": 0, "b.jpg": 1}


def test_csv_header_columns_found_by_name(tmp_path: Path) -> None:
    touch(tmp_path / "a.mp4")
    table = tmp_path / "val.csv"
    table.write_text("Index,Label,Path\n7,blue,a.mp4\n", encoding="utf-8")
    found = read_labelled(table, COLORS)
    assert found.rule == "names" and [s.label for s in found.samples] == [2]


def test_csv_missing_file_is_listed_and_excluded(tmp_path: Path) -> None:
    touch(tmp_path / "a.mp4")
    table = tmp_path / "val.csv"
    table.write_text("a.mp4,red\ngone.mp4,blue\n", encoding="utf-8")
    found = read_labelled(table, COLORS)
    assert [s.path.name for s in found.samples] == ["a.mp4"]
    (missing,) = found.missing
    assert Path(missing.item).name == "gone.mp4" and missing.source == "val.csv:2"
    assert missing.reason == "no such file or folder"


def test_csv_unknown_class_names_it_the_file_and_the_line(tmp_path: Path) -> None:
    table = tmp_path / "val.csv"
    table.write_text("path,label\na.mp4,red\nb.mp4,Purple\n", encoding="utf-8")
    with pytest.raises(VideoError, match=r"val\.csv:3: unknown class 'Purple'"):
        read_labelled(table, COLORS)
    table.write_text("a.mp4,gren\n", encoding="utf-8")
    with pytest.raises(VideoError, match="did you mean 'green'"):
        read_labelled(table, COLORS)
    table.write_text("a.mp4,3\n", encoding="utf-8")
    with pytest.raises(VideoError, match=r"val\.csv:1: class index 3 is out of range 0..2"):
        read_labelled(table, COLORS)
    table.write_text("a.mp4\n", encoding="utf-8")
    with pytest.raises(VideoError, match=r"val\.csv:1: expected a path and a label"):
        read_labelled(table, COLORS)


def test_names_equal_but_for_case_need_the_exact_name(tmp_path: Path) -> None:
    classes = ("Cardigan", "cardigan", "tench")  # ImageNet has both (a dog and a sweater)
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "b.jpg")  # one input with two labels would be refused
    table = tmp_path / "val.csv"
    table.write_text("a.jpg,cardigan\nb.jpg,Cardigan\n", encoding="utf-8")
    assert [s.label for s in read_labelled(table, classes).samples] == [1, 0]
    table.write_text("a.jpg,CARDIGAN\n", encoding="utf-8")
    with pytest.raises(VideoError, match=r"'CARDIGAN' is ambiguous \(0 \('Cardigan'\), 1 \('cardigan'\)\)"):
        read_labelled(table, classes)


def test_csv_paths_relative_to_videos_when_given(tmp_path: Path) -> None:
    touch(tmp_path / "media" / "a.mp4")
    table = tmp_path / "val.csv"
    table.write_text("a.mp4,red\n", encoding="utf-8")
    found = read_labelled(table, COLORS, videos=tmp_path / "media")
    assert [s.path for s in found.samples] == [tmp_path / "media" / "a.mp4"]


# --------------------------------------------------------------------------- Kinetics CSV


def test_kinetics_csv_finds_videos_in_root_and_label_folders(tmp_path: Path) -> None:
    kinetics = load_labels("kinetics700")
    videos = tmp_path / "val"
    touch(videos / "abc_000010_000020.mp4")
    touch(videos / "acting_in_play" / "def_000000_000010.mp4")
    frames(videos / "ghi_000005_000015")
    table = tmp_path / "validate.csv"
    table.write_text(
        "label,youtube_id,time_start,time_end,split\n"
        "abseiling,abc,10,20,validate\n"
        '"acting in play",def,0,10,validate\n'
        "Air Drumming,ghi,5,15,validate\n"
        "archery,zzz,0,10,validate\n",
        encoding="utf-8",
    )
    found = read_labelled(table, kinetics, videos=videos)
    assert found.rule == "names" and "Kinetics" in found.description
    assert labels_of(found, videos) == {
        "abc_000010_000020.mp4": kinetics.index("abseiling"),
        "acting_in_play/def_000000_000010.mp4": kinetics.index("acting in play"),
        "ghi_000005_000015": kinetics.index("air drumming"),
    }
    (missing,) = found.missing
    assert missing.item == "zzz_000000_000010" and missing.source == "validate.csv:5"
    assert "no video zzz_000000_000010.* or zzz.*" in missing.reason


def test_kinetics_csv_unknown_label_and_needed_video_folder(tmp_path: Path) -> None:
    (tmp_path / "val").mkdir()
    table = tmp_path / "validate.csv"
    table.write_text("label,youtube_id,time_start,time_end,split\nabseiling,a,0,10,val\nflying,b,0,10,val\n")
    with pytest.raises(VideoError, match=r"validate\.csv:3: unknown class 'flying'"):
        read_labelled(table, load_labels("kinetics700"), videos=tmp_path / "val")
    with pytest.raises(InvalidSetting, match="videos: .*Kinetics table: give the folder of its videos"):
        read_labelled(table, load_labels("kinetics700"))


# --------------------------------------------------------------------------- SSv2 JSON


def ssv2_entry(video_id: str, template: str) -> dict[str, object]:
    """One entry of SSv2's validation.json."""
    label = template.replace("[", "").replace("]", "")
    return {"id": video_id, "label": label, "template": template, "placeholders": []}


def test_ssv2_json_matches_templates_and_finds_videos(tmp_path: Path) -> None:
    ssv2 = load_labels("ssv2")
    videos = tmp_path / "videos"
    touch(videos / "74225.webm")
    touch(videos / "part2" / "116154.mp4")
    frames(videos / "198186")
    annotations = tmp_path / "validation.json"
    entries = [
        ssv2_entry("74225", "Putting [something] onto [something]"),
        ssv2_entry("116154", "closing something"),
        ssv2_entry("198186", "Pushing [something] so that it almost falls off but doesn't"),
        ssv2_entry("1", "Closing [something]"),
    ]
    annotations.write_text(json.dumps(entries), encoding="utf-8")
    found = read_labelled(annotations, ssv2, videos=videos)
    assert found.rule == "names" and "SSv2" in found.description
    assert labels_of(found, videos) == {
        "74225.webm": ssv2.index("Putting [something] onto [something]"),
        "part2/116154.mp4": ssv2.index("Closing [something]"),
        "198186": ssv2.index("Pushing [something] so that it almost falls off but doesn't"),
    }
    assert [(m.item, m.source) for m in found.missing] == [("1", "validation.json id 1")]


def test_ssv2_json_unknown_template_and_needed_video_folder(tmp_path: Path) -> None:
    annotations = tmp_path / "validation.json"
    annotations.write_text(json.dumps([ssv2_entry("5", "Juggling [something]")]), encoding="utf-8")
    with pytest.raises(VideoError, match=r"validation\.json entry 1 \(id 5\): unknown class 'Juggling \[something\]'"):
        read_labelled(annotations, load_labels("ssv2"), videos=tmp_path)
    with pytest.raises(InvalidSetting, match="SSv2 annotations: give the folder of its videos"):
        read_labelled(annotations, load_labels("ssv2"))
    annotations.write_text(json.dumps([{"id": "5"}]), encoding="utf-8")
    with pytest.raises(VideoError, match="no template"):
        read_labelled(annotations, load_labels("ssv2"), videos=tmp_path)


# --------------------------------------------------------------------------- dispatch


def test_sources_that_are_not_labelled_sets(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="no such file or folder"):
        read_labelled(tmp_path / "nope.csv", COLORS)
    with pytest.raises(InvalidSetting, match="not a labelled source"):
        read_labelled(touch(tmp_path / "a.mp4"), COLORS)
    touch(tmp_path / "red" / "v.mp4")
    with pytest.raises(InvalidSetting, match="videos: .*holds its videos itself"):
        read_labelled(tmp_path, COLORS, videos=tmp_path)


def test_class_key_drops_case_brackets_and_punctuation() -> None:
    assert class_key("Putting [something] onto [something]") == class_key("putting_something_onto something")
    assert class_key("massaging person's head") == class_key("Massaging-Persons-Head")
