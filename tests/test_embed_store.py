"""The feature store's small parts: shard choice, output names, settings records, part checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import vidmenagerie as vm
from vidmenagerie.feature_store import EmbedSettings, OutputLayout, RowInfo, Shard, shard_from_env
from vidmenagerie.feature_store.parts import PartStore
from vidmenagerie.feature_store.settings import clip_spec


def test_shards_cut_the_list_into_contiguous_blocks_that_join_back() -> None:
    items = list(range(10))
    blocks = [Shard(i, 4).select(items) for i in range(4)]
    assert sum(blocks, []) == items and [len(b) for b in blocks] == [2, 3, 2, 3]
    assert Shard.parse(" 2 / 8 ") == Shard(2, 8) and Shard(2, 16).label == "shard-02-of-16"
    for bad in ("2", "8/8", "-1/4", "a/b"):
        with pytest.raises(ValueError, match="INDEX/COUNT"):
            Shard.parse(bad)


def test_shard_defaults_come_from_torchrun_or_a_slurm_array() -> None:
    assert shard_from_env({}) is None
    assert shard_from_env({"RANK": "3", "WORLD_SIZE": "4"}) == Shard(3, 4, "RANK/WORLD_SIZE (torchrun)")
    assert shard_from_env({"RANK": "0", "WORLD_SIZE": "1"}) is None
    slurm = {"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_MIN": "1"}
    assert shard_from_env(slurm) == Shard(4, 8, "SLURM_ARRAY_TASK_ID (Slurm array)")


def test_output_names() -> None:
    single = OutputLayout(Path("out/feats.npy"))
    assert (single.index, single.videos, single.run, single.parts) == (
        Path("out/feats.index.csv"), Path("out/feats.videos.csv"), Path("out/feats.run.json"), Path("out/feats.parts"),
    )  # fmt: skip
    assert single.for_shard(Shard(1, 3)).features == Path("out/feats.shard-1-of-3.npy")
    per_video = OutputLayout(Path("out/pv"), per_video=True, shard=Shard(0, 2))
    assert per_video.videos == Path("out/pv/shard-0-of-2.videos.csv")
    assert per_video.parts == Path("out/pv/.shard-0-of-2.parts")
    assert per_video.video_features(Path("sub/clip")) == Path("out/pv/sub/clip.npy")
    with pytest.raises(ValueError, match="--per-video"):
        OutputLayout(Path("feats"))
    with pytest.raises(ValueError, match="folder"):
        OutputLayout(Path("feats.npy"), per_video=True)


def test_settings_round_trip_and_name_their_differences() -> None:
    entry = vm.get_model_entry("vit_s_ssv2-50shot")
    options = {"pool": "tokens", "layer": -4, "clips": "sliding", "stride": 2.0, "logits": True}
    settings = EmbedSettings.for_model(entry, **options)
    assert settings.feature_shape == (8 * 16 * 16, 1280) and settings.num_classes == 174
    assert settings.clips == "sliding:2" and settings.preprocessing.sampling_rate == 8 and settings.dtype == "float32"
    assert EmbedSettings.from_dict(settings.to_dict()) == settings
    other = EmbedSettings.for_model(entry, **options, dtype="bf16")
    assert other.differences(settings) == ["dtype 'float32' -> 'bfloat16'"]
    assert clip_spec("centre") == "center" and clip_spec("uniform:4") == "uniform:4"
    with pytest.raises(ValueError, match="stride: only applies to --clips sliding"):
        clip_spec("center", 2.0)
    with pytest.raises(ValueError, match="no classification head"):
        EmbedSettings.for_model(vm.get_model_entry("vit_s_none"), logits=True)
    with pytest.raises(ValueError, match="out of range"):
        EmbedSettings.for_model(entry, layer=32)


def test_parts_are_checked_before_they_count(tmp_path: Path) -> None:
    settings = EmbedSettings.for_model(vm.get_model_entry("vit_s_none"))
    layout = OutputLayout(tmp_path / "feats.npy")
    store = PartStore(layout, settings)
    rows = [RowInfo(0, 0, 0.0, 4.2), RowInfo(1, 0, 1.0, 5.2)]
    store.write("a.mp4", rows, np.ones((2, 1280), np.float32), None)
    store.write("b.mp4", rows, np.ones((2, 1280), np.float32), None)
    found, refused = store.load(["a.mp4", "b.mp4", "c.mp4"])
    assert set(found) == {"a.mp4", "b.mp4"} and not refused
    assert found["a.mp4"].rows == tuple(rows) and found["a.mp4"].features[0].read().shape == (2, 1280)
    next(layout.parts.glob("b-*.npy")).write_bytes(b"\x93NUMPY broken")
    other = PartStore(layout, EmbedSettings.for_model(vm.get_model_entry("vit_s_none"), pool="mean"))
    assert other.load(["a.mp4"]) == ({}, {"a.mp4": "part was written for another video or other settings"})
    found, refused = store.load(["a.mp4", "b.mp4"])
    assert set(found) == {"a.mp4"} and set(refused) == {"b.mp4"}
