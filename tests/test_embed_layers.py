"""``vidm embed --layer LIST|all``: every asked block from one pass, one array per block, equal to
single-layer runs; per-video, shards, resume, reading back and bad values.

Tiny models from the test catalogue (2 blocks, embed_dim 64) on short 64x48 videos.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import vidmenagerie as vm
from vidmenagerie.errors import OutputError
from vidmenagerie.feature_store import EmbedSettings, load_features
from vidmenagerie.feature_store.settings import parse_layers
from vidmenagerie.ops.embed import embed, embed_batch

from cli import invoke, run_vidm
from tiny import TINY_ARCH
from videos import write_video

FAST = ("--sampling-rate", "2", "--workers", "0", "--clips", "uniform:2")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two videos of random blocks: a.mp4 (1 s) and sub/b.mp4 (0.7 s)."""
    root = tmp_path_factory.mktemp("clips")
    (root / "sub").mkdir()
    rng = np.random.default_rng(7)
    for name, n in (("a.mp4", 30), ("sub/b.mp4", 21)):
        blocks = rng.integers(0, 255, (n, 6, 8, 3), dtype=np.uint8)
        write_video(root / name, np.repeat(np.repeat(blocks, 8, axis=1), 8, axis=2))
    return root


def _embed(*args: object) -> None:
    result = invoke("embed", *map(str, args))
    assert result.exit_code == 0, result.output + repr(result.exception)


def _vit() -> vm.VideoEncoder:
    arch = {k: v for k, v in TINY_ARCH.items() if not k.startswith("decoder")}
    torch.manual_seed(0)
    return vm.create_model("vit", num_classes=5, **arch).eval()


# --------------------------------------------------------------------------- library


def test_one_pass_gives_every_asked_block_and_stops_at_the_deepest() -> None:
    model = _vit()
    x = torch.randn(2, 3, 4, 56, 56)
    ran: list[int] = []
    for i, block in enumerate(model.blocks):
        block.register_forward_hook(lambda *_, i=i: ran.append(i))
    both = embed(model, x, pool="mean", layer=[0, 1])
    assert both.shape == (2, 2, 64) and ran == [0, 1]
    ran.clear()
    first = embed(model, x, pool="mean", layer=[0])
    assert first.shape == (2, 1, 64) and ran == [0]  # block 1 never ran
    ran.clear()
    for k in (0, 1):
        assert torch.equal(both[:, k], embed(model, x, pool="mean", layer=k))
    out = embed_batch(model, x, pool="tokens", layer=[0, -1], logits=True)
    assert out.features.shape == (2, 2, 32, 64) and out.logits is not None
    assert torch.equal(out.logits, embed_batch(model, x, logits=True).logits)


@pytest.mark.parametrize(
    ("given", "depth", "want"),
    [(-1, 32, (-1,)), ("8", 32, (8,)), ("8,16,-1", 32, (8, 16, 31)), ("all", 4, (0, 1, 2, 3)),
     ("-1,31", 32, (31,)), ([3, 1, 3], 4, (1, 3)), (" ALL ", 2, (0, 1))],
)  # fmt: skip
def test_layer_lists_resolve_to_sorted_block_indices(given: object, depth: int, want: tuple[int, ...]) -> None:
    assert parse_layers(given, depth) == want  # type: ignore[arg-type]


@pytest.mark.parametrize(("given", "message"), [("32", "out of range"), ("a,b", "comma-separated"), ("", "at least")])
def test_bad_layer_lists_are_one_clear_setting_error(given: str, message: str) -> None:
    with pytest.raises(vm.InvalidSetting, match=message):
        parse_layers(given, 32)


def test_records_of_one_layer_still_read_back() -> None:
    entry = vm.get_model_entry("vit_s_none")
    data = EmbedSettings.for_model(entry, layer=-4).to_dict()
    assert data["layers"] == [-4]
    old = {k: v for k, v in data.items() if k != "layers"} | {"layer": -4}  # run.json before --layer LIST
    assert EmbedSettings.from_dict(old) == EmbedSettings.for_model(entry, layer=-4)
    many = EmbedSettings.for_model(entry, layer="all")
    assert many.layers == tuple(range(32)) and many.layer_tags[0] == "layer00" and many.layer_tags[-1] == "layer31"
    assert EmbedSettings.from_dict(json.loads(json.dumps(many.to_dict()))) == many
    change = EmbedSettings.for_model(entry, layer="4,8").differences(many)
    assert change == [f"layers {','.join(map(str, range(32)))} -> 4,8"]


# --------------------------------------------------------------------------- command


def test_layer_all_writes_one_array_per_block_equal_to_single_layer_runs(
    tiny_catalog: Path, clips: Path, tmp_path: Path
) -> None:
    out = tmp_path / "feats.npy"
    _embed(clips, "--model", "tiny_cls", *FAST, "--layer", "all", "--logits", "--out", out)
    assert not out.exists()  # a reader can't mistake one layer's array for the output
    assert sorted(p.name for p in tmp_path.glob("feats.layer*.npy")) == ["feats.layer00.npy", "feats.layer01.npy"]
    record = json.loads((tmp_path / "feats.run.json").read_text())
    assert record["settings"]["layers"] == [0, 1]
    assert record["files"]["features"] == {"0": "feats.layer00.npy", "1": "feats.layer01.npy"}
    both = load_features(out)
    assert both.layers == (0, 1) and both.layer_names() == "blocks 0-1"
    for block in (0, 1):
        single = tmp_path / f"single{block}.npy"
        _embed(clips, "--model", "tiny_cls", *FAST, "--layer", block, "--logits", "--out", single)
        one = load_features(single)
        assert np.array_equal(both.layer_features(block), one.features)
        assert np.array_equal(both.logits, one.logits)
        assert both.rows == one.rows
    assert np.array_equal(both.layer_features(-1), both.layer_features(1))
    with pytest.raises(OutputError, match="holds 2 layers"):
        _ = both.features
    last = load_features(tmp_path / "single1.npy")
    assert last.layers == (1,) and np.array_equal(last.layer_features(-1), last.features)
    with pytest.raises(OutputError, match="holds no block 0"):
        last.layer_features(0)
    page = (tmp_path / "feats.html").read_text()
    assert "layers 0-1" in page and "the map and the neighbours use block 1" in page


def test_per_video_layers_resume_and_shards(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    folder = tmp_path / "per"
    _embed(clips, "--model", "tiny_vit", *FAST, "--layer", "0,-1", "--per-video", "--out", folder)
    assert (folder / "a.layer00.npy").is_file() and (folder / "sub" / "b.layer01.npy").is_file()
    assert not (folder / "a.npy").exists()
    whole = tmp_path / "whole.npy"
    _embed(clips, "--model", "tiny_vit", *FAST, "--layer", "0,-1", "--out", whole)
    per, single = load_features(folder), load_features(whole)
    for block in (0, 1):
        assert np.array_equal(per.layer_features(block), single.layer_features(block))
    # a rerun resumes every input, and rewrites nothing
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*.npy")}
    result = run_vidm("embed", clips, "--model", "tiny_vit", *FAST, "--layer", "0,-1", "--per-video", "--out", folder)
    assert result.returncode == 0 and "2 resumed" in result.stderr
    assert before == {p: p.stat().st_mtime_ns for p in folder.rglob("*.npy")}
    # all is 0,-1 on a 2-block model: the same settings, so it resumes; other layers are refused
    result = run_vidm("embed", clips, "--model", "tiny_vit", *FAST, "--layer", "all", "--out", whole)
    assert result.returncode == 0 and "2 resumed" in result.stderr
    result = run_vidm("embed", clips, "--model", "tiny_vit", *FAST, "--layer", "0", "--out", whole)
    assert result.returncode == 2 and "(layers 0,1 -> 0)" in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith("pass --no-resume to replace it")
    # starting over with one layer leaves no array of the old layers behind, and back again
    _embed(clips, "--model", "tiny_vit", *FAST, "--layer", "0", "--no-resume", "--out", whole)
    assert sorted(p.name for p in tmp_path.glob("whole*.npy")) == ["whole.npy"]
    _embed(clips, "--model", "tiny_vit", *FAST, "--layer", "0,1", "--no-resume", "--out", whole)
    assert sorted(p.name for p in tmp_path.glob("whole*.npy")) == ["whole.layer00.npy", "whole.layer01.npy"]
    # shards of a multi-layer output merge into the same arrays
    sharded = tmp_path / "sh.npy"
    for i in range(2):
        _embed(clips, "--model", "tiny_vit", *FAST, "--layer", "0,-1", "--out", sharded, "--shard", f"{i}/2")
    _embed("--merge", sharded)
    merged = load_features(sharded)
    for block in (0, 1):
        assert np.array_equal(merged.layer_features(block), single.layer_features(block))


def test_bad_layer_is_one_line_before_any_work(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    for value, words in (("5", "out of range"), ("0,x", "comma-separated list")):
        result = run_vidm("embed", clips, "--model", "tiny_vit", "--layer", value, "--out", tmp_path / "f.npy")
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("Error: --layer: ") and words in result.stderr
    assert list(tmp_path.glob("f.*")) == []
