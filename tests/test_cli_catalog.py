"""``vidm list``, ``vidm info``, ``vidm download`` and ``vm.load_model`` against the Hub stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import vidmenagerie as vm

from cli import invoke, run_vidm
from conftest import TINY_REPO
from hubserver import HubServer, set_hub_offline


def test_list_table_shows_every_model_with_its_facts() -> None:
    result = invoke("list")
    assert result.exit_code == 0, result.output
    assert "45 models: 38 checkpoint files, about 96.5 GB in all, 0 cached" in result.stderr
    for text in ("vit_s_ssv2-50shot", "mae_hvm1@448_none", "vit_kinetics-hvm1_imagenet-2pt", "631.8M", "~2.6GB"):
        assert text in result.stdout


def test_list_json_rows_are_machine_readable() -> None:
    result = invoke("list", "vit_*ssv2*", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert len(rows) == 14 and all(r["kind"] == "vit" and r["num_classes"] == 174 for r in rows)
    big = next(r for r in rows if r["name"] == "vit_hvm1@448_ssv2-10shot")
    assert big["img_size"] == 448 and big["preprocessing"]["short_side"] == 448
    assert big["preprocessing"]["sampling_rate"] == 8 and big["pretraining_mask_ratio"] == 0.95
    assert big["downloaded"] is False and big["parameters"] > 600_000_000


def test_download_then_cache_hit_then_list_downloaded(tiny_catalog: Path, hub_server: HubServer) -> None:
    first = invoke("download", "tiny_mae", "tiny_vit")
    assert first.exit_code == 0, first.output
    assert len(hub_server.calls("GET", "mae.pth")) == 1  # shared file fetched once
    path = Path(first.stdout.split()[0])
    assert path.read_bytes() == (tiny_catalog.parent.parent / "files" / "mae.pth").read_bytes()
    again = invoke("download", "tiny_vit")
    assert again.exit_code == 0 and "cached" in again.output
    assert len(hub_server.calls("GET", "mae.pth")) == 1
    rows = json.loads(invoke("list", "tiny_*", "--json", "--downloaded").output)
    assert [r["name"] for r in rows] == ["tiny_mae", "tiny_vit", "tiny_local"]
    assert rows[0]["size_bytes"] == path.stat().st_size


def test_force_download_fetches_again(tiny_catalog: Path, hub_server: HubServer) -> None:
    assert invoke("download", "tiny_cls").exit_code == 0
    assert invoke("download", "tiny_cls", "--force").exit_code == 0
    assert len(hub_server.calls("GET", "cls.pth")) == 2


def test_download_404_is_one_line_and_nonzero(tiny_catalog: Path, hub_server: HubServer) -> None:
    hub_server.remove_file(TINY_REPO, "cls.pth")
    result = invoke("download", "tiny_cls", "tiny_mae")
    assert result.exit_code == 1
    assert "cls.pth" in result.output and "1 of 2 files failed" in result.output
    assert "Traceback" not in result.output


def test_load_model_downloads_builds_and_loads(tiny_catalog: Path, hub_server: HubServer) -> None:
    model = vm.load_model("tiny_cls", device="cpu")
    assert isinstance(model, vm.VisionTransformer) and not model.training
    assert model.entry.name == "tiny_cls"
    expected = torch.load(tiny_catalog.parent.parent / "files" / "cls.pth", weights_only=True)["model"]
    assert torch.equal(model.head.weight, expected["head.weight"])
    out = model(torch.zeros(1, 3, 4, 56, 56))
    assert out.shape == (1, 5)
    gets = len(hub_server.calls("GET"))
    vm.load_model("tiny_cls", device="cpu")  # cached: no new download
    assert len(hub_server.calls("GET")) == gets


def test_offline_mode_uses_the_cache_and_explains_misses(
    tiny_catalog: Path, hub_server: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    vm.load_model("tiny_mae", device="cpu")
    set_hub_offline(monkeypatch)
    assert isinstance(vm.load_model("tiny_mae", device="cpu"), vm.MaskedAutoencoder)
    with pytest.raises(vm.DownloadError, match="offline"):
        vm.load_model("tiny_cls", device="cpu")


def test_local_checkpoint_entry_and_override(tiny_catalog: Path, tmp_path: Path) -> None:
    model = vm.load_model("tiny_local", device="cpu")
    assert isinstance(model, vm.MaskedAutoencoder)
    other = vm.load_model("tiny_mae", checkpoint=tiny_catalog.parent / "local.pth", device="cpu")
    assert torch.equal(other.cls_token, model.cls_token)


def test_corrupt_cached_file_says_how_to_repair(tiny_catalog: Path, hub_server: HubServer) -> None:
    path = vm.fetch_checkpoint(vm.get_model_entry("tiny_cls").source)
    path.resolve().write_bytes(path.resolve().read_bytes()[:1000])
    with pytest.raises(vm.CheckpointError, match="truncated or corrupt") as info:
        vm.load_model("tiny_cls", device="cpu")
    assert info.value.model == "tiny_cls" and info.value.damaged
    failed = run_vidm(
        "embed",
        "--model",
        "tiny_cls",
        "--out",
        path.parent / "x.npy",
        env=hub_server.env | {"VIDM_CATALOG": str(tiny_catalog)},
    )
    assert failed.returncode == 1 and "fetch it again with `vidm download tiny_cls --force`" in failed.stderr
    assert invoke("download", "tiny_cls", "--force").exit_code == 0
    assert vm.load_model("tiny_cls", device="cpu").head.weight.shape == (5, 64)


def test_info_shows_everything_about_a_model() -> None:
    result = invoke("info", "vit_hvm1@448_ssv2-50shot")
    assert result.exit_code == 0
    for text in (
        "448x448",
        "short side 448",
        "sampling rate 8",
        "0.95",
        "174 (ssv2)",
        "arXiv:2407.18067",
        "vidm embed",
    ):
        assert text in result.output
    data = json.loads(invoke("info", "mae_s_none", "--json").output)
    assert data["filename"] == "s_none.pth" and data["kind"] == "mae"


def test_unknown_name_is_one_line_exit_2_through_the_real_entry_point() -> None:
    result = run_vidm("info", "vit_s_nnone")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: unknown model 'vit_s_nnone'; did you mean vit_s_none, vit_say_none, vit_hvm1_none?"
    )
    assert "Traceback" not in result.stderr


def test_malformed_catalogue_is_one_line_through_the_real_entry_point(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[models.x]\nkind = "vit"\ncheckpoint = "a"\nwidth = 3\n')
    result = run_vidm("list", "--catalog", bad)
    assert result.returncode == 2
    assert result.stderr.strip() == f"Error: {bad}: entry 'x': unknown field 'width' (did you mean 'depth'?)"


def test_download_subprocess_against_the_stand_in(tiny_catalog: Path, hub_server: HubServer) -> None:
    env = {**hub_server.env, "VIDM_CATALOG": str(tiny_catalog)}
    result = run_vidm("download", "tiny_cls", env=env)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.split()[0]).is_file()
    offline = run_vidm("download", "tiny_mae", env={**env, "HF_HUB_OFFLINE": "1"})
    assert offline.returncode == 1 and "offline" in offline.stderr and "Traceback" not in offline.stderr


def test_version_and_help_with_examples() -> None:
    assert invoke("--version").output.strip() == f"vidm {vm.__version__}"
    for command in ("list", "info", "download"):
        result = invoke(command, "--help")
        assert result.exit_code == 0 and "Examples:" in result.output and "$ vidm" in result.output
