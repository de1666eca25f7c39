"""Architecture as data: every published variant's parameter names and shapes, meta-device builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import vidmenagerie as vm

from tiny import TINY_ARCH


@pytest.fixture(scope="module")
def schema() -> dict:
    from conftest import REFERENCE

    path = REFERENCE / "checkpoint-schema.json"
    if not path.is_file():
        pytest.skip("../shared/reference is not available")
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    "variant",
    [
        "mae@224",
        "mae@448",
        "vit@224/None",
        "vit@448/None",
        "vit@224/174",
        "vit@224/700",
        "vit@224/1000",
        "vit@448/1000",
    ],
)
def test_parameter_names_and_shapes_equal_the_published_checkpoints(schema: dict, variant: str) -> None:
    kind, rest = variant.split("@")
    size, _, classes = rest.partition("/")
    num_classes = None if classes in ("", "None") else int(classes)
    with torch.device("meta"):
        model = vm.create_model(kind, img_size=int(size), num_classes=num_classes)
    ours = {k: list(v.shape) for k, v in model.state_dict().items()}
    assert ours == schema[variant]


def test_every_catalogue_model_has_a_published_layout(schema: dict) -> None:
    for name in vm.list_models():
        entry = vm.get_model_entry(name)
        key = f"{entry.kind}@{entry.img_size}" + ("" if entry.kind == "mae" else f"/{entry.num_classes}")
        with torch.device("meta"):
            model = vm.create_model(name)
        assert {k: list(v.shape) for k, v in model.state_dict().items()} == schema[key], name


def test_building_vit_h_on_meta_device_allocates_nothing() -> None:
    with torch.device("meta"):
        model = vm.create_model("mae")
    assert all(p.is_meta for p in model.parameters())
    assert sum(p.numel() for p in model.parameters()) > 600_000_000


def test_tiny_variant_is_one_call_and_runs() -> None:
    model = vm.create_model("vit", **{k: v for k, v in TINY_ARCH.items() if not k.startswith("decoder")}, num_classes=3)
    out = model.eval()(torch.randn(2, 3, 4, 56, 56))
    assert out.shape == (2, 3)
    assert torch.isfinite(out).all()


def test_state_dict_round_trips_through_a_published_style_file(tmp_path: Path) -> None:
    torch.manual_seed(1)
    source = vm.create_model("mae", **TINY_ARCH)
    torch.save({"model": source.state_dict()}, tmp_path / "m.pth")
    with torch.device("meta"):
        target = vm.create_model("mae", **TINY_ARCH)
    vm.load_checkpoint(target, tmp_path / "m.pth")
    x = torch.randn(1, 3, 4, 56, 56)
    mask = vm.make_mask("random", 0.5, (2, 4, 4), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.equal(source.eval()(x, mask), target.eval()(x, mask))


def test_unknown_override_and_bad_sizes_are_clear_errors() -> None:
    with pytest.raises(TypeError, match="unknown architecture field.*embed_dims"):
        vm.create_model("vit", embed_dims=3)
    with pytest.raises(vm.CatalogError, match="not a multiple of patch_size"):
        vm.create_model("vit", img_size=50)
    with pytest.raises(ValueError, match="no classification head"):
        vm.create_model("mae", num_classes=5)


def test_wrong_input_shape_names_the_expected_shape() -> None:
    model = vm.create_model("vit", **{k: v for k, v in TINY_ARCH.items() if not k.startswith("decoder")})
    with pytest.raises(
        ValueError, match=r"expected a video batch of shape \[B, 3, 4, 56, 56\], got \[1, 3, 8, 56, 56\]"
    ):
        model(torch.randn(1, 3, 8, 56, 56))


def test_masks_follow_the_reference_rules() -> None:
    grid = (2, 4, 4)
    center = vm.make_mask("center", 0.25, grid)[0]
    assert center.tolist() == [False] * 12 + [True] * 8 + [False] * 12
    temporal = vm.make_mask("temporal", 0.5, grid)[0]
    assert temporal.tolist() == [False] * 16 + [True] * 16
    for ratio in (0.1, 0.33, 0.9):
        gen = torch.Generator().manual_seed(7)
        random = vm.make_mask("random", ratio, grid, batch=3, generator=gen)
        assert (random.sum(1) == 32 - int(32 * (1 - ratio))).all()
    a = vm.make_mask("random", 0.5, grid, generator=torch.Generator().manual_seed(5))
    b = vm.make_mask("random", 0.5, grid, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    tube = vm.make_mask("tube", 0.5, grid, generator=torch.Generator().manual_seed(5))[0].view(2, 16)
    assert torch.equal(tube[0], tube[1]) and tube[0].sum() == 8
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        vm.make_mask("center", 1.0, grid)


def test_parameter_arithmetic_matches_the_built_modules() -> None:
    from vidmenagerie.factory import build

    def count_parameters(kind: str, arch: vm.Architecture) -> int:
        with torch.device("meta"):
            return sum(p.numel() for p in build(kind, arch).parameters())

    archs = {(e.kind, e.arch) for e in map(vm.get_model_entry, vm.list_models())}
    archs.add(("mae", vm.Architecture(**TINY_ARCH, mlp_ratio=3.0)))
    archs.add(("vit", vm.Architecture(**{**TINY_ARCH, "t_patch_size": 4}, num_classes=7)))
    for kind, arch in archs:
        assert arch.num_parameters(kind) == count_parameters(kind, arch), (kind, arch)
