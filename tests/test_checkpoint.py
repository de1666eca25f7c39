"""Safe, strict checkpoint loading: what loads, what is refused, and how the errors read."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch

import vidmenagerie as vm
from vidmenagerie.cli._errors import format_error

from tiny import TINY_ARCH, tiny_state_dict

VIT_ARCH = {k: v for k, v in TINY_ARCH.items() if not k.startswith("decoder")}


class _Exploit:
    def __reduce__(self) -> tuple:
        return (os.system, ("echo pwned",))


def test_plain_encoder_ignores_only_the_decoder_keys(tmp_path: Path) -> None:
    torch.save({"model": tiny_state_dict("mae")}, tmp_path / "mae.pth")
    model = vm.load_checkpoint(vm.create_model("vit", **VIT_ARCH), tmp_path / "mae.pth")
    assert not any(k.startswith("decoder") for k in model.state_dict())


def test_mae_needs_every_key_and_names_the_missing_ones(tmp_path: Path) -> None:
    state = tiny_state_dict("mae")
    del state["decoder_pred.weight"], state["mask_token"]
    torch.save({"model": state}, tmp_path / "mae.pth")
    with pytest.raises(vm.CheckpointError, match=r"missing keys: decoder_pred.weight, mask_token"):
        vm.load_checkpoint(vm.create_model("mae", **TINY_ARCH), tmp_path / "mae.pth")


def test_finetuned_encoder_refuses_extra_keys_and_wrong_shapes(tmp_path: Path) -> None:
    state = tiny_state_dict("vit", num_classes=5, **{k: v for k, v in TINY_ARCH.items() if k.startswith("decoder")})
    state["head.extra"] = torch.zeros(1)
    with pytest.raises(vm.CheckpointError, match=r"unexpected keys: head.extra"):
        vm.load_checkpoint(vm.create_model("vit", **VIT_ARCH, num_classes=5), state)
    del state["head.extra"]
    with pytest.raises(vm.CheckpointError, match=r"shape mismatch: head.bias \[5\] vs model \[7\]"):
        vm.load_checkpoint(vm.create_model("vit", **VIT_ARCH, num_classes=7), state)


def test_finetuned_encoder_cannot_load_a_headless_file(tmp_path: Path) -> None:
    with pytest.raises(vm.CheckpointError, match="missing keys: head.bias, head.weight"):
        vm.load_checkpoint(vm.create_model("vit", **VIT_ARCH, num_classes=5), tiny_state_dict("mae"))


def test_checkpoint_that_would_run_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"model": tiny_state_dict("mae"), "payload": _Exploit()}, path)
    with pytest.raises(
        vm.CheckpointError, match=r"evil.pth: refusing to load: the file would run pickled code \(.*system"
    ):
        vm.read_state_dict(path)


def test_legacy_plain_pickle_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "legacy.pth"
    path.write_bytes(pickle.dumps({"x": _Exploit()}))
    with pytest.raises(vm.CheckpointError, match="legacy.pth"):
        vm.read_state_dict(path)


def test_truncated_file_says_how_to_redownload(tmp_path: Path) -> None:
    good = tmp_path / "good.pth"
    torch.save({"model": tiny_state_dict("mae")}, good)
    bad = tmp_path / "bad.pth"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(vm.CheckpointError, match=r"bad.pth: checkpoint is truncated or corrupt") as info:
        vm.read_state_dict(bad, model="tiny")
    assert (info.value.damaged, info.value.model) == (True, "tiny")
    assert format_error(info.value)[0].endswith("; fetch it again with `vidm download tiny --force`")


def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty.pth").write_bytes(b"")
    with pytest.raises(vm.CheckpointError, match="empty.pth: checkpoint file is empty"):
        vm.read_state_dict(tmp_path / "empty.pth")
    with pytest.raises(vm.CheckpointError, match="nope.pth: checkpoint file not found"):
        vm.read_state_dict(tmp_path / "nope.pth")


def test_file_without_tensors_is_explained(tmp_path: Path) -> None:
    torch.save({"epoch": 3}, tmp_path / "x.pth")
    with pytest.raises(vm.CheckpointError, match="holds no model state dict"):
        vm.read_state_dict(tmp_path / "x.pth")


def test_loading_into_meta_model_assigns_memory_mapped_tensors(tmp_path: Path) -> None:
    torch.save({"model": tiny_state_dict("mae")}, tmp_path / "m.pth")
    with torch.device("meta"):
        model = vm.create_model("mae", **TINY_ARCH)
    vm.load_checkpoint(model, tmp_path / "m.pth")
    assert not any(p.is_meta for p in model.parameters())
    assert model.cls_token.device.type == "cpu"
