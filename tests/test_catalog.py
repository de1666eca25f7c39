"""The built-in catalogue (all 45 published models) and user TOML catalogues."""

from __future__ import annotations

from pathlib import Path

import pytest

import vidmenagerie as vm
from vidmenagerie.catalog import read_catalog_file

from tiny import toml_entry

SEED_NAMES = [
    f"{x}_{y}_{z}"
    for x in ("mae", "vit")
    for y in ("say", "s", "kinetics", "kinetics-200h")
    for z in ("none", "ssv2-10shot", "ssv2-50shot", "kinetics-10shot", "kinetics-50shot")
    if x == "vit" or z == "none"
]


def test_seed_names_exist_exactly_with_their_files() -> None:
    assert len(SEED_NAMES) == 24
    for name in SEED_NAMES:
        entry = vm.get_model_entry(name)
        _, y, z = name.split("_")
        assert entry.family == "video-models"
        assert entry.source.repo_id == "eminorhan/video-models"
        assert entry.source.filename == f"{y}_{z}.pth"
    assert vm.get_model_entry("mae_s_none").source == vm.get_model_entry("vit_s_none").source


def test_hvm1_family_has_21_models_with_unique_names() -> None:
    hvm = [n for n in vm.list_models() if vm.get_model_entry(n).family == "hvm-1"]
    assert len(hvm) == 21
    assert len(vm.list_models()) == 45 == len(set(vm.list_models()))
    kinetics = vm.get_model_entry("vit_kinetics-hvm1_imagenet-2pt")
    assert (kinetics.source.repo_id, kinetics.source.filename) == ("eminorhan/hvm-1", "kinetics_imagenet-2pt.pth")
    assert vm.get_model_entry("vit_kinetics_none").source.repo_id == "eminorhan/video-models"


def test_entries_carry_classes_resolution_preprocessing_and_paper() -> None:
    big = vm.get_model_entry("vit_hvm1@448_ssv2-50shot")
    assert (big.img_size, big.num_classes, big.labels) == (448, 174, "ssv2")
    # --train_jitter_scales 448 448 (scripts/finetune/finetune_sayavakepicutego4d_448_*.sh)
    assert big.preprocessing.short_side == 448 and big.preprocessing.num_frames == 16
    assert big.source.filename == "hvm1@448_ssv2-50shot.pth"
    assert big.paper is not None and big.paper.arxiv == "2407.18067"
    small = vm.get_model_entry("vit_say_kinetics-50shot")
    assert (small.img_size, small.num_classes, small.labels) == (224, 700, "kinetics700")
    assert small.preprocessing.mean == (0.45, 0.45, 0.45) and small.preprocessing.std == (0.225, 0.225, 0.225)
    assert small.paper is not None and small.paper.arxiv == "2402.00300"
    assert vm.get_model_entry("vit_hvm1_imagenet-2pt").num_classes == 1000
    assert vm.get_model_entry("mae_s_none").num_classes is None
    assert "child S" in vm.get_model_entry("vit_s_none").pretraining_data


def test_every_entry_carries_the_recipe_it_was_trained_with() -> None:
    for name in vm.list_models():
        entry = vm.get_model_entry(name)
        pre = entry.preprocessing
        assert pre.sampling_rate == 8 and pre.fps == 30 and pre.num_frames == 16, name  # --sampling_rate 8
        assert entry.mask_ratio == (0.95 if entry.img_size == 448 else 0.9), name
        if name.endswith("_imagenet-2pt"):  # finetune_on_image.py: Resize(img_size + 32, bicubic), ImageNet stats
            assert pre.resize == "bicubic" and pre.short_side == entry.img_size + 32, name
            assert pre.mean == (0.485, 0.456, 0.406) and pre.std == (0.229, 0.224, 0.225), name
        else:  # the Kinetics loader: swscale area to 256 (224 px) or 448 (448 px), 0.45 / 0.225
            assert pre.resize == "area" and pre.short_side == {224: 256, 448: 448}[entry.img_size], name
            assert pre.mean == (0.45,) * 3 and pre.std == (0.225,) * 3, name


def test_user_entries_set_the_recipe(tmp_path: Path) -> None:
    (tmp_path / "cat.toml").write_text(
        toml_entry("img_cls", "vit", checkpoint="x.pth", num_classes=5, resize="bicubic", sampling_rate=4)
        + toml_entry("slow_mae", "mae", checkpoint="y.pth", short_side=64, fps=25.0, mask_ratio=0.75)
    )
    vm.register_catalog(tmp_path / "cat.toml")
    image = vm.get_model_entry("img_cls").preprocessing
    assert (image.resize, image.short_side, image.sampling_rate, image.mean) == (
        "bicubic",
        88,
        4,
        (0.485, 0.456, 0.406),
    )
    slow = vm.get_model_entry("slow_mae")
    assert (slow.preprocessing.short_side, slow.preprocessing.fps, slow.mask_ratio) == (64, 25.0, 0.75)
    (tmp_path / "bad.toml").write_text(toml_entry("bad", "vit", checkpoint="x.pth", resize="lanczos"))
    with pytest.raises(vm.CatalogError, match="bad.toml: entry 'bad': field 'resize' must be one of area, bicubic"):
        vm.register_catalog(tmp_path / "bad.toml")


def test_label_sets_have_the_head_sizes() -> None:
    for name, size in (("ssv2", 174), ("kinetics700", 700), ("imagenet", 1000)):
        labels = vm.load_labels(name)
        assert len(labels) == size and all(isinstance(s, str) and s for s in labels)


def test_patterns_filter_in_catalogue_order() -> None:
    names = vm.list_models("vit_*ssv2*")
    assert names[:2] == ["vit_say_ssv2-10shot", "vit_say_ssv2-50shot"]
    assert all(n.startswith("vit_") and "ssv2" in n for n in names) and len(names) == 14
    assert vm.get_available_models() == vm.list_models()


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("vit_s_nnone", "did you mean vit_s_none"),
        ("mae_say_ssv2-10shot", "did you mean"),
        ("vit-s-none", "TYPE_DATA_TASK"),
    ],
)
def test_unknown_names_suggest_close_matches(name: str, hint: str) -> None:
    with pytest.raises(vm.UnknownModelError, match=hint) as info:
        vm.get_model_entry(name)
    assert info.value.exit_code == 2 and "\n" not in str(info.value)


def test_user_catalogue_local_and_hub_entries(tmp_path: Path) -> None:
    (tmp_path / "labels.json").write_text('["a", "b", "c", "d", "e"]')
    (tmp_path / "cat.toml").write_text(
        toml_entry("tiny_mae", "mae", checkpoint="tiny_mae.pth", description="my model")
        + toml_entry("tiny_cls", "vit", repo_id="me/my-models", filename="cls.pth", num_classes=5, labels="labels.json")
    )
    added = vm.register_catalog(tmp_path / "cat.toml")
    assert [e.name for e in added] == ["tiny_mae", "tiny_cls"]
    mae = vm.get_model_entry("tiny_mae")
    assert mae.source.local_path == tmp_path / "tiny_mae.pth"
    assert mae.arch.embed_dim == 64 and mae.preprocessing.short_side == 56 and mae.preprocessing.num_frames == 4
    cls = vm.get_model_entry("tiny_cls")
    assert (cls.source.repo_id, cls.source.filename, cls.num_classes) == ("me/my-models", "cls.pth", 5)
    assert vm.load_labels(cls.labels) == ("a", "b", "c", "d", "e")
    assert vm.register_catalog(tmp_path / "cat.toml") == []  # loading twice is harmless
    assert vm.list_models("tiny_*") == ["tiny_mae", "tiny_cls"]


def test_catalogue_from_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vidmenagerie.catalog import reset_catalog

    (tmp_path / "c.toml").write_text(toml_entry("envmodel", "vit", checkpoint="x.pth"))
    monkeypatch.setenv("VIDM_CATALOG", str(tmp_path / "c.toml"))
    reset_catalog()
    assert "envmodel" in vm.list_models()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[models.a]\nkind = "mae"\ncheckpoint = "a.pth"\nembed_dimm = 3\n',
            "entry 'a': unknown field 'embed_dimm' (did you mean 'embed_dim'?)",
        ),
        (
            '[models.a]\nkind = "mae"\ncheckpoint = "a.pth"\ndepth = "two"\n',
            "entry 'a': field 'depth' must be an integer",
        ),
        ('[models.a]\ncheckpoint = "a.pth"\n', "entry 'a': field 'kind' is required"),
        ('[models.a]\nkind = "cnn"\ncheckpoint = "a.pth"\n', "entry 'a': field 'kind' must be \"mae\" or \"vit\""),
        ('[models.a]\nkind = "vit"\nrepo_id = "x/y"\n', "entry 'a': field 'filename' is required"),
        ('[models.a]\nkind = "vit"\ncheckpoint = "a"\nrepo_id = "x/y"\nfilename = "f"\n', "not both"),
        ('[models.a]\nkind = "vit"\ncheckpoint = "a"\nimg_size = 50\n', "entry 'a': invalid architecture: img_size 50"),
        ('[models.a]\nkind = "mae"\ncheckpoint = "a"\nnum_classes = 3\n', 'only for kind "vit"'),
        ('[models.vit_s_none]\nkind = "vit"\ncheckpoint = "a"\n', "'vit_s_none' is already defined (built-in)"),
        ("[models.a\n", "invalid TOML"),
        ('[model.a]\nkind = "vit"\n', "unknown top-level key(s) model"),
    ],
)
def test_malformed_catalogue_names_file_entry_and_field(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(vm.CatalogError) as info:
        vm.register_catalog(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_missing_catalogue_file(tmp_path: Path) -> None:
    with pytest.raises(vm.CatalogError, match="nope.toml: catalogue file not found"):
        read_catalog_file(tmp_path / "nope.toml")
