"""Every catalogue field is range-checked when the catalogue is read (issue 11): one CatalogError
line naming the file, the entry and the field, never a raw error later; the library refuses the
same values; label sets must have one name per class."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import vidmenagerie as vm
from vidmenagerie.catalog import read_catalog_file
from vidmenagerie.labels import load_labels
from vidmenagerie.models.config import Architecture
from vidmenagerie.preprocess import Preprocessing

from cli import invoke
from tiny import toml_entry

NAN, INF = float("nan"), float("inf")
BOUND = "(a sanity bound beyond any real model)"

# (kind, field, value, what the message says after "field 'FIELD' ")
BAD_FIELDS = [
    ("mae", "decoder_num_heads", 0, "must be >= 1, got 0"),  # was ZeroDivisionError
    ("mae", "mlp_ratio", -1, "must be > 0, got -1"),
    ("mae", "embed_dim", 1_000_000_000, f"must be <= 65,536 {BOUND}, got 1,000,000,000"),
    ("mae", "decoder_depth", -3, "must be >= 1, got -3"),
    ("mae", "fps", 0, "must be > 0, got 0"),
    ("vit", "img_size", 0, "must be >= 1, got 0"),
    ("vit", "img_size", 4200, f"must be <= 4,096 {BOUND}, got 4,200"),
    ("vit", "patch_size", 0, "must be >= 1, got 0"),  # was ZeroDivisionError
    ("vit", "num_frames", 0, "must be >= 1, got 0"),
    ("vit", "num_frames", 2048, f"must be <= 1,024 {BOUND}, got 2,048"),
    ("vit", "t_patch_size", -2, "must be >= 1, got -2"),
    ("vit", "in_chans", 0, "must be >= 1, got 0"),
    ("vit", "depth", 0, "must be >= 1, got 0"),
    ("vit", "depth", 5000, f"must be <= 1,024 {BOUND}, got 5,000"),
    ("vit", "num_heads", 0, "must be >= 1, got 0"),
    ("mae", "decoder_embed_dim", -32, "must be >= 1, got -32"),
    ("vit", "num_classes", 0, "must be >= 1, got 0"),
    ("vit", "num_classes", 2_000_000, f"must be <= 1,000,000 {BOUND}, got 2,000,000"),
    ("vit", "mlp_ratio", NAN, "must be a finite number, got nan"),
    ("vit", "mlp_ratio", INF, "must be a finite number, got inf"),
    ("vit", "norm_eps", 0.0, "must be > 0, got 0"),
    ("vit", "norm_eps", NAN, "must be a finite number, got nan"),
    ("vit", "drop_path_rate", 1.0, "must be < 1, got 1"),
    ("vit", "drop_path_rate", -0.1, "must be >= 0, got -0.1"),
    ("vit", "drop_path_rate", NAN, "must be a finite number, got nan"),
    ("vit", "short_side", 100_000, f"must be <= 16,384 {BOUND}, got 100,000"),
    ("vit", "short_side", 40, "must be at least img_size (56), got 40"),
    ("vit", "sampling_rate", 0, "must be >= 1, got 0"),
    ("vit", "fps", -30.0, "must be > 0, got -30"),
    ("vit", "fps", NAN, "must be a finite number, got nan"),
    ("vit", "fps", INF, "must be a finite number, got inf"),
    ("vit", "mean", [NAN, 0.45, 0.45], "must be a finite number, got nan"),
    ("vit", "std", [0, 0, 0], "must be > 0, got 0"),  # was NaN features with exit 0
    ("vit", "std", [0.2, -0.2, 0.2], "must be > 0, got -0.2"),
    ("vit", "std", [INF, 0.2, 0.2], "must be a finite number, got inf"),
    ("mae", "mask_ratio", 0, "must be > 0, got 0"),
    ("mae", "mask_ratio", 1.0, "must be < 1, got 1"),
    ("mae", "mask_ratio", NAN, "must be a finite number, got nan"),
]


def _write(tmp_path: Path, text: str, name: str = "tiny.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("kind", "field", "value", "message"), BAD_FIELDS)
def test_bad_field_is_one_catalog_error_naming_file_entry_and_field(
    tmp_path: Path, kind: str, field: str, value: object, message: str
) -> None:
    path = _write(tmp_path, toml_entry("m", kind, checkpoint="m.pth", **{field: value}))
    with pytest.raises(vm.CatalogError) as info:
        read_catalog_file(path)
    assert str(info.value) == f"{path}: entry 'm': field '{field}' {message}"


def test_absurd_parameter_count_says_how_much_memory(tmp_path: Path) -> None:
    path = _write(tmp_path, toml_entry("m", "vit", checkpoint="m.pth", embed_dim=65536, num_heads=16, depth=32))
    with pytest.raises(vm.CatalogError) as info:
        read_catalog_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: entry 'm': invalid architecture: 1,649,")
    assert "parameters would need 6,598 GB of memory in float32 (the limit is 50 billion" in message


def test_largest_real_architectures_are_accepted() -> None:
    vit22b = Architecture(embed_dim=6144, depth=48, num_heads=48, img_size=448, num_classes=1000)
    assert 20e9 < vit22b.num_parameters("vit") < 50e9
    assert Architecture(img_size=4096, num_frames=1024, patch_size=16, t_patch_size=4, embed_dim=1024, depth=24)


@pytest.mark.parametrize(
    ("kind", "field", "value", "message"),
    [row for row in BAD_FIELDS if row[1] in ("decoder_num_heads", "mlp_ratio", "embed_dim", "decoder_depth", "fps")]
    + [("vit", "std", [0, 0, 0], "must be > 0, got 0")],
)
def test_cli_reports_bad_catalogue_as_one_error_line_exit_2(
    tmp_path: Path, kind: str, field: str, value: object, message: str
) -> None:
    path = _write(tmp_path, toml_entry("m", kind, checkpoint="m.pth", **{field: value}), "bad.toml")
    result = invoke("list", "--catalog", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: {path}: entry 'm': field '{field}' {message}\n"
    assert "unexpected" not in result.output


def test_library_refuses_the_same_values() -> None:
    with pytest.raises(ValueError, match="decoder_num_heads: must be >= 1, got 0"):
        Architecture(decoder_num_heads=0)
    with pytest.raises(vm.CatalogError, match="decoder_num_heads: must be >= 1, got 0"):
        vm.create_model("vit", decoder_num_heads=0)
    with pytest.raises(vm.CatalogError, match="embed_dim: must be <= 65,536"):
        vm.create_model("mae", embed_dim=1_000_000_000)
    with pytest.raises(ValueError, match="std: must be > 0, got 0"):
        Preprocessing(std=(0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="fps: must be a finite number, got inf"):
        Preprocessing(fps=INF)
    with pytest.raises(ValueError, match="sampling_rate: must be <= 4,096"):
        Preprocessing().with_sampling_rate(10_000)


# --------------------------------------------------------------------------- labels


def test_label_file_with_too_few_names_is_refused_at_read(tmp_path: Path) -> None:
    (tmp_path / "labels.json").write_text(json.dumps(["a", "b", "c"]))
    path = _write(tmp_path, toml_entry("m", "vit", checkpoint="m.pth", num_classes=5, labels="labels.json"))
    with pytest.raises(vm.CatalogError) as info:
        read_catalog_file(path)
    assert str(info.value) == (
        f"{path}: entry 'm': field 'labels': {tmp_path / 'labels.json'} holds 3 names, the model has 5 classes"
    )


def test_label_file_naming_two_classes_alike_is_refused(tmp_path: Path) -> None:
    (tmp_path / "labels.json").write_text(json.dumps(["a", "a", "b", "c", "d"]))  # issue 19: predictions ambiguous
    path = _write(tmp_path, toml_entry("m", "vit", checkpoint="m.pth", num_classes=5, labels="labels.json"))
    result = invoke("list", "--catalog", path)
    assert result.exit_code == 2 and result.stderr == (
        f"Error: {path}: entry 'm': field 'labels': {tmp_path / 'labels.json'}: classes 0 and 1 are both named 'a': "
        "give each class its own name\n"
    )
    (tmp_path / "labels.json").write_text(json.dumps(["a", "A", "b", "c", "d"]))  # case tells them apart (ImageNet)
    assert load_labels(tmp_path / "labels.json", num_classes=5)[:2] == ("a", "A")


def test_builtin_label_set_of_another_size_is_refused_at_read(tmp_path: Path) -> None:
    path = _write(tmp_path, toml_entry("m", "vit", checkpoint="m.pth", num_classes=5, labels="ssv2"))
    with pytest.raises(vm.CatalogError) as info:
        read_catalog_file(path)
    assert (
        str(info.value)
        == f"{path}: entry 'm': field 'labels': label set 'ssv2' holds 174 names, the model has 5 classes"
    )


def test_missing_label_file_is_refused_at_read_naming_it(tmp_path: Path) -> None:
    path = _write(tmp_path, toml_entry("m", "vit", checkpoint="m.pth", num_classes=5, labels="nope.json"))
    with pytest.raises(vm.CatalogError) as info:
        read_catalog_file(path)
    assert str(info.value) == f"{path}: entry 'm': field 'labels': {tmp_path / 'nope.json'}: label file not found"


def test_load_labels_checks_the_count_when_given(tmp_path: Path) -> None:
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps(["a", "b", "c"]))
    assert load_labels(labels, num_classes=3) == ("a", "b", "c")
    assert load_labels(labels) == ("a", "b", "c")
    with pytest.raises(vm.CatalogError) as info:
        load_labels(labels, num_classes=5)
    assert str(info.value) == f"{labels} holds 3 names, the model has 5 classes"
    with pytest.raises(vm.CatalogError, match="label set 'kinetics700' holds 700 names, the model has 174 classes"):
        load_labels("kinetics700", num_classes=174)
    assert len(load_labels("ssv2", num_classes=174)) == 174


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("name", ["tiny\n", "tiny\x1b[31m", "a\x1b]0;title\x07", "tab\there"])
def test_control_characters_in_model_names_are_refused(tmp_path: Path, name: str) -> None:
    body = toml_entry("PLACEHOLDER", "vit", checkpoint="m.pth").replace("PLACEHOLDER", json.dumps(name))
    path = _write(tmp_path, body)
    with pytest.raises(vm.CatalogError) as info:
        read_catalog_file(path)
    assert str(info.value) == f"{path}: entry {name!r}: invalid model name (letters, digits and _ . @ + - only)"


# --------------------------------------------------------------------------- good catalogues still work


def test_good_user_catalogue_lists_and_shows(tmp_path: Path) -> None:
    (tmp_path / "labels.json").write_text(json.dumps(["zero", "one", "two", "three", "four"]))
    path = _write(
        tmp_path,
        toml_entry("good_mae", "mae", checkpoint="m.pth", mask_ratio=0.9, fps=25.0, drop_path_rate=0.1)
        + toml_entry("good_cls", "vit", checkpoint="c.pth", num_classes=5, labels="labels.json", std=[0.2, 0.2, 0.2]),
        "good.toml",
    )
    listed = invoke("list", "good_*", "--json", "--catalog", path)
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [r["name"] for r in rows] == ["good_mae", "good_cls"]
    assert rows[1]["labels"] == str(tmp_path / "labels.json") and rows[1]["preprocessing"]["std"] == [0.2] * 3
    info = invoke("info", "good_cls", "--json", "--catalog", path)
    assert info.exit_code == 0, info.output
    assert json.loads(info.stdout)["num_classes"] == 5
