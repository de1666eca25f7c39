"""Checkpoint integrity (issue 11): damaged, non-finite, low-precision and non-checkpoint files, and how each reads."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import pytest
import torch

import vidmenagerie as vm
from vidmenagerie import verify
from vidmenagerie.checkpoint import CheckpointInfo, read_checkpoint
from vidmenagerie.cli._errors import format_error
from vidmenagerie.hub import CheckpointSource, cached_checkpoint, fetch_checkpoint

from cli import invoke
from conftest import TINY_REPO
from hubserver import HubServer
from tiny import TINY_ARCH, tiny_state_dict, write_checkpoint
from videos import moving_frames, write_video


@pytest.fixture(autouse=True)
def vidm_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private memory of verified files (never ~/.cache)."""
    path = tmp_path / "vidm-cache"
    monkeypatch.setenv(verify.CACHE_ENV, str(path))
    return path


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the CRC pass and the finiteness pass ran."""
    calls = {"crc": 0, "finite": 0}
    crc, finite = verify.zip_crc_problem, verify.non_finite_keys

    def count_crc(path: str | Path) -> str | None:
        calls["crc"] += 1
        return crc(path)

    def count_finite(state_dict: dict[str, torch.Tensor]) -> list[str]:
        calls["finite"] += 1
        return finite(state_dict)

    monkeypatch.setattr(verify, "zip_crc_problem", count_crc)
    monkeypatch.setattr(verify, "non_finite_keys", count_finite)
    return calls


def flip_bytes(path: Path, count: int = 2000) -> str:
    """Invert ``count`` bytes inside the largest record's data (a tensor's storage); returns the record name."""
    with zipfile.ZipFile(path) as archive:
        info = max(archive.infolist(), key=lambda i: i.file_size)
    with path.open("r+b") as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = struct.unpack("<HH", f.read(4))
        start = info.header_offset + 30 + name_len + extra_len + info.file_size // 4
        count = min(count, info.file_size // 2)
        f.seek(start)
        data = f.read(count)
        f.seek(start)
        f.write(bytes(b ^ 0xFF for b in data))
    return info.filename


def memory(cache: Path) -> dict[str, dict]:
    return json.loads((cache / verify.MEMORY_FILE).read_text())["files"]


def mae_model() -> vm.VideoEncoder:
    with torch.device("meta"):
        return vm.create_model("mae", **TINY_ARCH)


# --------------------------------------------------------------------------- 1. bytes
def test_flipped_bytes_are_refused_naming_the_record(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path / "mae.pth")
    record = flip_bytes(path)

    with pytest.raises(vm.CheckpointError) as info:
        vm.load_checkpoint(mae_model(), path, name="tiny_mae")

    assert info.value.reason == f"{path}: checkpoint is corrupt: record {record} fails its CRC-32 check"
    assert str(info.value) == f"{info.value.reason}; fetch it again with vm.load_model('tiny_mae', force_download=True)"
    assert (info.value.damaged, info.value.path, info.value.local) == (True, str(path), False)
    assert format_error(info.value)[0].endswith("; fetch it again with `vidm download tiny_mae --force`")


def test_a_good_file_is_checked_once_per_version(tmp_path: Path, vidm_cache: Path, counted: dict[str, int]) -> None:
    path = write_checkpoint(tmp_path / "mae.pth")

    vm.load_checkpoint(mae_model(), path)
    vm.load_checkpoint(mae_model(), path)
    assert counted == {"crc": 1, "finite": 1}  # the second load reads no byte to verify
    entry = memory(vidm_cache)[str(path.resolve())]
    assert entry == {"size": path.stat().st_size, "mtime_ns": path.stat().st_mtime_ns, "dtype": "float32"}
    assert [p.name for p in vidm_cache.iterdir()] == [verify.MEMORY_FILE]  # no temporary file left

    write_checkpoint(path, seed=3)  # a new version at the same path
    vm.load_checkpoint(mae_model(), path)
    assert counted == {"crc": 2, "finite": 2}


def test_an_unwritable_memory_only_costs_a_second_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: dict[str, int]
) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv(verify.CACHE_ENV, str(tmp_path / "a-file" / "cache"))  # mkdir fails under a file
    path = write_checkpoint(tmp_path / "mae.pth")

    vm.load_checkpoint(mae_model(), path)
    vm.load_checkpoint(mae_model(), path)
    assert counted == {"crc": 2, "finite": 2}


def test_a_garbled_memory_file_is_ignored(tmp_path: Path, vidm_cache: Path, counted: dict[str, int]) -> None:
    vidm_cache.mkdir()
    (vidm_cache / verify.MEMORY_FILE).write_text("{not json")
    path = write_checkpoint(tmp_path / "mae.pth")

    vm.load_checkpoint(mae_model(), path)
    assert counted["crc"] == 1 and str(path.resolve()) in memory(vidm_cache)


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert verify.cache_dir() == tmp_path / "vidm-cache"
    monkeypatch.delenv(verify.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert verify.cache_dir() == tmp_path / "xdg" / "vidmenagerie"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert verify.cache_dir() == tmp_path / "home" / ".cache" / "vidmenagerie"


def test_records_saved_without_crcs_still_load(tmp_path: Path) -> None:
    torch.serialization.set_crc32_options(False)
    try:
        path = write_checkpoint(tmp_path / "mae.pth")
    finally:
        torch.serialization.set_crc32_options(True)
    with zipfile.ZipFile(path) as archive:
        assert {i.CRC for i in archive.infolist() if i.file_size} == {0}  # nothing to check against
    assert verify.zip_crc_problem(path) is None
    vm.load_checkpoint(mae_model(), path)


def test_legacy_format_loads_and_a_truncated_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "legacy.pth"
    torch.save({"model": tiny_state_dict("mae")}, path, _use_new_zipfile_serialization=False)
    _, info = read_checkpoint(path)
    assert info == CheckpointInfo(str(path), "float32", path.stat().st_size, None)

    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(vm.CheckpointError, match=r"legacy.pth: checkpoint is truncated or corrupt \(\w+") as err:
        vm.read_state_dict(path)
    assert err.value.damaged


# --------------------------------------------------------------------------- 2. values
def test_non_finite_weights_are_refused_naming_the_keys(tmp_path: Path, counted: dict[str, int]) -> None:
    state = tiny_state_dict("mae")
    state["blocks.1.mlp.fc1.weight"][3, 4] = float("nan")
    state["decoder_pred.bias"][0] = float("-inf")
    path = tmp_path / "nan.pth"
    torch.save({"model": state}, path)

    keys = "blocks.1.mlp.fc1.weight, decoder_pred.bias"
    message = rf"^{path}: holds NaN or infinite weights in {keys}: refusing to load$"
    for _ in range(2):  # not remembered as good
        with pytest.raises(vm.CheckpointError, match=message) as info:
            vm.load_checkpoint(mae_model(), path)
    assert not info.value.damaged and counted["finite"] == 2
    with pytest.raises(vm.CheckpointError, match=r"^state dict holds NaN or infinite weights in blocks.1.mlp.fc1"):
        vm.load_checkpoint(mae_model(), state)


def test_a_huge_but_finite_tensor_is_not_mistaken_for_inf() -> None:
    state = {"big": torch.full((1000,), 3e38), "half": torch.full((10_000,), 60_000.0, dtype=torch.float16)}
    assert verify.non_finite_keys(state) == []  # their sums overflow; the exact check clears them


# --------------------------------------------------------------------------- 3. stored dtype
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_weights_are_upcast_and_recorded(tiny_catalog: Path, tmp_path: Path, dtype: torch.dtype) -> None:
    state = {k: v.to(dtype) for k, v in tiny_state_dict("mae").items()}
    path = tmp_path / "low.pth"
    torch.save({"model": state}, path)

    model = vm.load_model("tiny_mae", checkpoint=path, device="cpu")

    name = str(dtype).removeprefix("torch.")
    assert model.checkpoint_info == CheckpointInfo(str(path), name, path.stat().st_size, None)
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    reference = vm.load_checkpoint(vm.create_model("mae", **TINY_ARCH), {k: v.float() for k, v in state.items()})
    clip = torch.randn(1, 3, 4, 56, 56)
    with torch.no_grad():
        assert torch.equal(model.forward_features(clip), reference.forward_features(clip))  # today: a dtype error


def test_info_says_a_cached_checkpoint_stores_float16(
    tiny_catalog: Path, hub_server: HubServer, tmp_path: Path
) -> None:
    half = {k: v.half() for k, v in tiny_state_dict("mae").items()}
    torch.save({"model": half}, tmp_path / "half.pth")
    hub_server.add_file(TINY_REPO, "mae.pth", (tmp_path / "half.pth").read_bytes())
    line = "stored as float16 in the checkpoint; computed in float32 (upcast when loaded)"

    assert line not in invoke("info", "tiny_mae").output  # not cached: nothing to read
    assert invoke("download", "tiny_mae").exit_code == 0
    shown = invoke("info", "tiny_mae")
    assert shown.exit_code == 0 and line in shown.output
    assert json.loads(invoke("info", "tiny_mae", "--json").output)["stored_dtype"] == "float16"
    assert "stored as" not in invoke("info", "tiny_cls").output  # float32 (cached or not) says nothing


def test_load_model_records_the_checkpoint(tiny_catalog: Path) -> None:
    model = vm.load_model("tiny_cls", device="cpu")
    path = cached_checkpoint(model.entry.source)
    assert path is not None
    info = model.checkpoint_info
    assert (info.path, info.dtype, info.size_bytes) == (str(path), "float32", path.stat().st_size)
    assert info.sha256 == HubServer.etag(path.read_bytes())  # checked against the Hub after the download


# --------------------------------------------------------------------------- 4. not a checkpoint
@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"epoch 3, loss 0.12\n", "a text file?"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 2\n", "a Git LFS pointer, not the weights"),
        (b"<!DOCTYPE html><html>rate limited</html>", "an HTML page?"),
        (b"\x00\x01\x02\x03binary", "unknown format, starts with 00 01 02 03"),
    ],
)
def test_a_file_that_is_no_checkpoint_says_what_it_looks_like(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "weights.pth"
    path.write_bytes(content)
    with pytest.raises(vm.CheckpointError) as info:
        vm.read_state_dict(path)
    assert str(info.value) == f"{path}: not a PyTorch checkpoint ({reason})"


def test_any_torch_failure_is_one_line_naming_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "odd.pth"
    path.write_bytes(b"\x80\x02" + bytes(range(256)) * 4)  # pickle's first byte, then garbage
    with pytest.raises(vm.CheckpointError) as info:
        vm.read_state_dict(path)
    assert str(info.value) == f"{path}: checkpoint is truncated or corrupt (Unsupported operand 0)"
    assert info.value.damaged

    def index_error(*args: object, **kwargs: object) -> None:
        raise IndexError("list index out of range\nmore detail")

    write_checkpoint(path)
    monkeypatch.setattr(torch, "load", index_error)
    with pytest.raises(vm.CheckpointError) as info:
        vm.read_state_dict(path)
    assert str(info.value) == f"{path}: checkpoint is truncated or corrupt (IndexError: list index out of range)"


# --------------------------------------------------------------------------- 5. the repair hint
def test_a_damaged_local_catalogue_file_is_not_sent_to_the_hub(tiny_catalog: Path) -> None:
    local = tiny_catalog.parent / "local.pth"
    flip_bytes(local)
    with pytest.raises(vm.CheckpointError) as info:
        vm.load_model("tiny_local", device="cpu")
    assert info.value.local and info.value.model == "tiny_local"
    message = format_error(info.value)[0]
    assert message.endswith("; replace the file with a good copy (downloading cannot repair a local file)")
    assert "vidm download" not in message


def test_cli_checkpoint_option_with_a_text_file(tiny_catalog: Path, tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", moving_frames())
    notes = tmp_path / "notes.txt"
    notes.write_text("these are not weights\n")

    result = invoke("attend", video, "--model", "tiny_vit", "--checkpoint", notes, "--out", tmp_path / "out")

    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    advice = "replace the file with a good copy (downloading cannot repair a local file)"
    assert errors == [f"Error: {notes}: not a PyTorch checkpoint (a text file?); {advice}"]


def test_a_damaged_hub_cached_file_gets_the_download_hint(tiny_catalog: Path) -> None:
    path = fetch_checkpoint(CheckpointSource(TINY_REPO, "mae.pth"), progress=False)
    verify.forget(path)  # as if downloaded before this check existed
    record = flip_bytes(path.resolve())

    result = invoke("download", "tiny_mae")  # cached: nothing fetched, nothing read
    assert result.exit_code == 0
    with pytest.raises(vm.CheckpointError) as info:
        vm.load_model("tiny_mae", device="cpu")
    assert format_error(info.value)[0] == (
        f"{path}: checkpoint is corrupt: record {record} fails its CRC-32 check; "
        "fetch it again with `vidm download tiny_mae --force`"
    )
    assert str(info.value) == (  # for Python users, the exception itself says how (issue 19)
        f"{path}: checkpoint is corrupt: record {record} fails its CRC-32 check; "
        "fetch it again with vm.load_model('tiny_mae', force_download=True)"
    )
    assert invoke("download", "tiny_mae", "--force").exit_code == 0
    vm.load_model("tiny_mae", device="cpu")


# --------------------------------------------------------------------------- 6. after a download
def test_a_download_with_a_wrong_hash_is_removed_and_refused(
    tiny_catalog: Path, hub_server: HubServer, vidm_cache: Path, counted: dict[str, int]
) -> None:
    source = CheckpointSource(TINY_REPO, "mae.pth")
    hub_server.corrupt(TINY_REPO, "mae.pth", at=50_000)

    with pytest.raises(vm.CheckpointError) as info:
        fetch_checkpoint(source, progress=False, name="tiny_mae")

    assert str(info.value).startswith(f"the download of {TINY_REPO}/mae.pth is corrupt (SHA-256 ")
    assert str(info.value).endswith(  # the library's own text says how to repair it (issue 19)
        "...); it was removed from the cache; fetch it again with vm.load_model('tiny_mae', force_download=True)"
    )
    assert format_error(info.value)[0].endswith("; fetch it again with `vidm download tiny_mae --force`")
    assert cached_checkpoint(source) is None
    blobs = Path(hub_server.env["HF_HUB_CACHE"]) / "models--me--tiny-models" / "blobs"
    assert list(blobs.iterdir()) == []

    path = fetch_checkpoint(source, progress=False)  # the fault was for one transfer: this one is good
    sha = HubServer.etag(path.read_bytes())
    assert memory(vidm_cache)[str(path.resolve())]["sha256"] == sha
    vm.load_model("tiny_mae", device="cpu")
    assert counted == {"crc": 0, "finite": 1}  # the hash vouched for the bytes: no CRC pass on top


def test_cli_download_reports_a_wrong_hash(tiny_catalog: Path, hub_server: HubServer) -> None:
    hub_server.corrupt(TINY_REPO, "cls.pth", at=1000)
    result = invoke("download", "tiny_cls")
    assert result.exit_code == 1
    assert "is corrupt (SHA-256" in result.output and "`vidm download tiny_cls --force`" in result.output
    assert invoke("download", "tiny_cls").exit_code == 0
