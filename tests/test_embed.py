"""``vidm embed`` and ``vm.embed``: rows, manifests, failures, resume after a kill, shards, settings checks.

Tiny models from the test catalogue (56 px, 4 frames, embed_dim 64) on 1-second 64x48 videos;
``--sampling-rate 2`` makes a clip span 8 frames (0.267 s at 30 fps).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import vidmenagerie as vm
from vidmenagerie.feature_store import load_features
from vidmenagerie.ops.embed import embed, embed_batch
from vidmenagerie.video import read_clips

from cli import committed, invoke, run_vidm
from tiny import TINY_ARCH
from videos import write_video

FAST = ("--sampling-rate", "2", "--workers", "0")
SPAN = 8 / 30  # seconds one clip covers


def _frames(n: int, seed: int) -> np.ndarray:
    """``n`` frames of 48x64 random blocks (compressible, different per video)."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 255, (n, 6, 8, 3), dtype=np.uint8)
    return np.repeat(np.repeat(blocks, 8, axis=1), 8, axis=2)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of three good videos: a.mp4 (1 s), b.mp4 (1.33 s), sub/c.mp4 (0.5 s)."""
    root = tmp_path_factory.mktemp("clips")
    (root / "sub").mkdir()
    for name, n, seed in (("a.mp4", 30, 1), ("b.mp4", 40, 2), ("sub/c.mp4", 15, 3)):
        write_video(root / name, _frames(n, seed))
    return root


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _embed(*args: object) -> None:
    result = invoke("embed", *map(str, args))
    assert result.exit_code == 0, result.output + repr(result.exception)


# --------------------------------------------------------------------------- library


def test_cls_embedding_matches_the_reference(reference: Path) -> None:
    ref = torch.load(reference / "reference_outputs.pt", weights_only=True)
    arch = {k: v for k, v in TINY_ARCH.items() if not k.startswith("decoder")}
    vit = vm.load_checkpoint(vm.create_model("vit", **arch), reference / "mae_tiny.pth").eval()
    x = ref["input"]
    torch.testing.assert_close(embed(vit, x), ref["vit_none/features"], atol=1e-4, rtol=0)
    assert embed(vit, x, pool="mean").shape == (2, 64)
    assert embed(vit, x, pool="tokens", layer=0).shape == (2, 32, 64)
    cls5 = vm.load_checkpoint(vm.create_model("vit", num_classes=5, **arch), reference / "vit_tiny_5cls.pth").eval()
    out = embed_batch(cls5, x, pool="mean", layer=-2, logits=True)  # logits still come from the last block
    torch.testing.assert_close(out.logits, ref["vit5/logits"], atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="finetuned vit"):
        embed_batch(vit, x, logits=True)
    with pytest.raises(ValueError, match="out of range"):
        embed(vit, x, layer=2)


# --------------------------------------------------------------------------- rows and manifest


@pytest.mark.parametrize(
    ("spec", "crops", "starts_a"),
    [
        (("--clips", "center"), 1, [0.366667]),
        (("--clips", "uniform:3"), 3, [0.0, 0.366667, 0.733333]),
        (("--clips", "sliding", "--stride", "0.5"), 1, [0.0, 0.5, 0.733333]),
    ],
)
def test_rows_and_manifest_per_clip_mode(
    tiny_catalog: Path, clips: Path, tmp_path: Path, spec: tuple[str, ...], crops: int, starts_a: list[float]
) -> None:
    out = tmp_path / "feats.npy"
    _embed(clips, "--model", "tiny_vit", *spec, "--crops", crops, *FAST, "--out", out)
    rows = _csv(tmp_path / "feats.index.csv")
    features = np.load(out)
    assert features.shape == (len(rows), 64) and features.dtype == np.float32
    assert [r["row"] for r in rows] == [str(i) for i in range(len(rows))]
    a = [r for r in rows if r["video"] == str(clips / "a.mp4")]
    assert [float(r["start"]) for r in a if r["crop"] == "0"] == pytest.approx(starts_a, abs=1e-6)
    assert all(float(r["end"]) - float(r["start"]) == pytest.approx(SPAN, abs=1e-5) for r in rows)
    assert [(r["clip"], r["crop"]) for r in a] == [(str(w), str(c)) for w in range(len(starts_a)) for c in range(crops)]
    videos = _csv(tmp_path / "feats.videos.csv")
    assert [v["video"] for v in videos] == [str(clips / n) for n in ("a.mp4", "b.mp4", "sub/c.mp4")]
    assert {v["status"] for v in videos} == {"ok"} and sum(int(v["rows"]) for v in videos) == len(rows)
    counts = [int(v["rows"]) for v in videos]
    assert [int(v["first_row"]) for v in videos] == [0, counts[0], counts[0] + counts[1]]
    record = json.loads((tmp_path / "feats.run.json").read_text())
    assert record["complete"] and record["counts"] == {"ok": 3, "failed": 0, "pending": 0, "rows": len(rows)}
    assert record["settings"]["preprocessing"]["sampling_rate"] == 2 and record["settings"]["crops"] == crops
    assert record["model"]["name"] == "tiny_vit" and record["checkpoint_file"].endswith("mae.pth")
    assert "torch" in record["versions"]
    assert not (tmp_path / "feats.parts").exists()  # a finished run leaves no parts behind


@pytest.mark.parametrize(("pool", "layer"), [("cls", "-1"), ("mean", "-2"), ("tokens", "-1")])
def test_rows_equal_vm_embed_on_the_same_clips(
    tiny_catalog: Path, clips: Path, tmp_path: Path, pool: str, layer: str
) -> None:
    out = tmp_path / "feats.npy"
    workers = "2" if pool == "cls" else "0"  # once through real DataLoader worker processes
    _embed(clips, "--model", "tiny_vit", "--clips", "uniform:2", "--crops", "3", "--pool", pool, "--layer", layer,
           "--sampling-rate", "2", "--workers", workers, "--batch-size", "4", "--out", out)  # fmt: skip
    model = vm.load_model("tiny_vit", device="cpu")
    expected = []
    for name in ("a.mp4", "b.mp4", "sub/c.mp4"):
        found = read_clips(clips / name, "uniform:2", sampling_rate=2, crops=3, preprocessing=model.entry.preprocessing)
        expected.append(embed(model, torch.stack([c.frames for c in found]), pool=pool, layer=int(layer)))
    np.testing.assert_allclose(np.load(out), torch.cat(expected).numpy(), atol=1e-5, rtol=0)


def test_mae_embeds_with_its_encoder_like_the_vit_of_the_same_file(
    tiny_catalog: Path, clips: Path, tmp_path: Path
) -> None:
    _embed(clips, "--model", "tiny_vit", *FAST, "--out", tmp_path / "vit.npy")
    _embed(clips, "--model", "tiny_mae", *FAST, "--out", tmp_path / "mae.npy")
    np.testing.assert_allclose(np.load(tmp_path / "mae.npy"), np.load(tmp_path / "vit.npy"), atol=1e-6)


def test_reduce_mean_logits_and_top_k(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "feats.npy"
    result = invoke("embed", clips, "--model", "tiny_cls", "--clips", "uniform:2", "--crops", "3", "--reduce", "mean",
                    "--top-k", "2", *FAST, "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert np.load(out).shape == (3, 64) and np.load(tmp_path / "feats.logits.npy").shape == (3, 5)
    rows = _csv(tmp_path / "feats.index.csv")
    assert list(rows[0]) == ["row", "video", "clips", "crops", "start", "end"]
    assert (rows[0]["clips"], rows[0]["crops"], rows[0]["start"]) == ("2", "3", "0.000000")
    top = _csv(tmp_path / "feats.topk.csv")
    assert len(top) == 6 and {t["label"] for t in top} <= {"zero", "one", "two", "three", "four"}
    assert top[0]["label"] in result.stdout and "tiny_cls: top 2" in result.stdout
    model = vm.load_model("tiny_cls", device="cpu")
    found = read_clips(clips / "a.mp4", "uniform:2", sampling_rate=2, crops=3, preprocessing=model.entry.preprocessing)
    with torch.inference_mode():
        logits = model(torch.stack([c.frames for c in found])).mean(0)
    np.testing.assert_allclose(np.load(tmp_path / "feats.logits.npy")[0], logits.numpy(), atol=1e-5)
    assert top[0]["class"] == str(int(logits.argmax()))


def test_top_k_is_the_mean_of_the_views_softmax(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    """Several rows per video combine as evaluate and classify combine views, not as one softmax of mean logits."""
    out = tmp_path / "feats.npy"
    result = invoke("embed", clips, "--model", "tiny_cls", "--clips", "uniform:3", "--top-k", "5", *FAST, "--out", out)
    assert result.exit_code == 0, result.output
    logits = np.load(tmp_path / "feats.logits.npy").astype(np.float64)
    index = _csv(tmp_path / "feats.index.csv")
    top = _csv(tmp_path / "feats.topk.csv")
    for video in {r["video"] for r in index}:
        rows = logits[[int(r["row"]) for r in index if r["video"] == video]]
        assert len(rows) == 3
        probs = np.exp(rows - rows.max(axis=1, keepdims=True))
        expected = (probs / probs.sum(axis=1, keepdims=True)).mean(axis=0)
        shown = {int(t["class"]): float(t["score"]) for t in top if t["video"] == video}
        assert shown == pytest.approx({i: expected[i] for i in range(5)}, abs=2e-6)


def test_logits_need_a_finetuned_model(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    result = invoke("embed", clips, "--model", "tiny_vit", "--logits", *FAST, "--out", tmp_path / "f.npy")
    assert isinstance(result.exception, ValueError) and "finetuned vit" in str(result.exception)
    assert not (tmp_path / "f.npy").exists()


def test_per_video_files_mirror_the_inputs(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "feats"
    _embed(clips, "--model", "tiny_vit", "--clips", "sliding", *FAST, "--out", out, "--per-video")
    videos = _csv(out / "videos.csv")
    assert [v["file"] for v in videos] == ["a.npy", "b.npy", "sub/c.npy"]
    rows = _csv(out / "index.csv")
    for v in videos:
        mine = [r for r in rows if r["file"] == v["file"]]
        assert np.load(out / v["file"]).shape == (int(v["rows"]), 64) == (len(mine), 64)
        assert [r["row"] for r in mine] == [str(i) for i in range(len(mine))]
    loaded = load_features(out)
    assert loaded.features is None and set(loaded.finished) == {v["video"] for v in videos}


# --------------------------------------------------------------------------- failures


def test_broken_files_are_listed_with_their_reason_not_dropped(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("a.mp4", "b.mp4"):
        (folder / name).write_bytes((clips / name).read_bytes())
    (folder / "garbage.mp4").write_bytes(b"this is not a video\n" * 20)
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "half.mp4").write_bytes((clips / "b.mp4").read_bytes()[:3000])
    out = tmp_path / "feats.npy"
    result = run_vidm("embed", folder, "--model", "tiny_vit", *FAST, "--out", out)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    for name in ("garbage.mp4", "empty.mp4", "half.mp4"):
        lines = [line for line in result.stderr.splitlines() if name in line]
        assert len(lines) == 1 and lines[0].startswith("failed"), result.stderr
    assert "2 of 5 inputs ok, 3 failed" in result.stderr
    videos = {Path(v["video"]).name: v for v in _csv(tmp_path / "feats.videos.csv")}
    assert {n: v["status"] for n, v in videos.items()} == {
        "a.mp4": "ok", "b.mp4": "ok", "empty.mp4": "failed", "garbage.mp4": "failed", "half.mp4": "failed",
    }  # fmt: skip
    assert "empty" in videos["empty.mp4"]["reason"] and videos["garbage.mp4"]["reason"]
    assert np.load(out).shape[0] == len(_csv(tmp_path / "feats.index.csv")) == 2
    assert json.loads((tmp_path / "feats.run.json").read_text())["counts"]["failed"] == 3


# --------------------------------------------------------------------------- resume


def _start(*args: object, pause: float) -> subprocess.Popen[str]:
    """``vidm embed ARGS`` in a subprocess that waits ``pause`` seconds after each finished video."""
    env = {**os.environ, "NO_COLOR": "1", "VIDM_EMBED_TEST_PAUSE": str(pause)}
    command = [sys.executable, "-m", "vidmenagerie", "embed", *map(str, args)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_part(parts: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not committed(parts, "*.json"):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no part was written"
        time.sleep(0.02)


def _same_output(a: Path, b: Path) -> None:
    np.testing.assert_allclose(np.load(a), np.load(b), atol=1e-6, rtol=0)
    for suffix in (".index.csv", ".videos.csv"):
        assert a.with_suffix(suffix).read_text() == b.with_suffix(suffix).read_text()


ARGS = ("--model", "tiny_vit", "--clips", "uniform:2", *FAST, "--batch-size", "1")


def test_killed_run_resumes_to_the_uninterrupted_result(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    _embed(clips, *ARGS, "--out", tmp_path / "full.npy")
    out = tmp_path / "killed" / "feats.npy"
    proc = _start(clips, *ARGS, "--out", out, pause=60)
    _wait_for_part(out.parent / "feats.parts", proc)
    proc.kill()
    proc.communicate()
    assert len(committed(out.parent / "feats.parts", "*.npy")) == 1 and not out.exists()
    result = invoke("embed", clips, *ARGS, "--out", out)
    assert result.exit_code == 0, result.output
    assert "1 resumed" in result.output
    _same_output(out, tmp_path / "full.npy")
    assert not (out.parent / "feats.parts").exists()


def test_ctrl_c_leaves_a_consistent_partial_result(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "feats.npy"
    proc = _start(clips, *ARGS, "--out", out, pause=60)
    _wait_for_part(tmp_path / "feats.parts", proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in stderr
    videos = _csv(tmp_path / "feats.videos.csv")
    assert [v["status"] for v in videos] == ["ok", "pending", "pending"]
    assert np.load(out).shape == (2, 64) and len(_csv(tmp_path / "feats.index.csv")) == 2
    record = json.loads((tmp_path / "feats.run.json").read_text())
    assert record["complete"] is False and record["counts"]["pending"] == 2
    _embed(clips, *ARGS, "--out", out)
    _embed(clips, *ARGS, "--out", tmp_path / "full.npy")
    _same_output(out, tmp_path / "full.npy")


def test_resume_adds_new_videos_and_redoes_damaged_ones(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.mp4").write_bytes((clips / "a.mp4").read_bytes())
    out = tmp_path / "pv"
    _embed(folder, *ARGS, "--out", out, "--per-video")
    (folder / "b.mp4").write_bytes((clips / "b.mp4").read_bytes())
    result = invoke("embed", folder, *ARGS, "--out", out, "--per-video")
    assert result.exit_code == 0 and "1 resumed, 2 clips" in result.output
    (out / "a.npy").write_bytes((out / "a.npy").read_bytes()[:100])  # damaged on disk
    result = invoke("embed", folder, *ARGS, "--out", out, "--per-video")
    assert result.exit_code == 0 and "redoing" in result.output and "1 resumed, 2 clips" in result.output
    _embed(folder, *ARGS, "--out", tmp_path / "fresh", "--per-video")
    for name in ("a.npy", "b.npy", "index.csv", "videos.csv"):
        assert (out / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name


def test_other_settings_are_refused_with_the_differences(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "feats.npy"
    _embed(clips, *ARGS, "--out", out)
    before = out.read_bytes()
    result = run_vidm("embed", clips, *ARGS, "--pool", "mean", "--layer", "-2", "--out", out)
    assert result.returncode == 2
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("Error: ") and "pool 'cls' -> 'mean'" in message and "layer -1 -> -2" in message
    assert "--no-resume" in message and out.read_bytes() == before
    _embed(clips, *ARGS, "--pool", "mean", "--out", out, "--no-resume")
    assert json.loads((tmp_path / "feats.run.json").read_text())["settings"]["pool"] == "mean"


# --------------------------------------------------------------------------- shards


def test_shards_merged_equal_one_run(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    _embed(clips, *ARGS, "--out", tmp_path / "one" / "feats.npy")
    out = tmp_path / "sharded" / "feats.npy"
    for index in range(3):
        _embed(clips, *ARGS, "--out", out, "--shard", f"{index}/3")
    assert not out.exists() and (out.parent / "feats.shard-2-of-3.npy").exists()
    _embed("--merge", out)
    _same_output(out, tmp_path / "one" / "feats.npy")
    assert np.load(out).tobytes() == np.load(tmp_path / "one" / "feats.npy").tobytes()
    record = json.loads((out.parent / "feats.run.json").read_text())
    assert record["inputs"]["shard"] is None and record["counts"]["ok"] == 3
    assert record["merged_from"] == [f"feats.shard-{i}-of-3.run.json" for i in range(3)]


def test_shard_from_torchrun_env_and_missing_shard_refused(
    tiny_catalog: Path, clips: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    out = tmp_path / "pv"
    result = invoke("embed", clips, *ARGS, "--out", out, "--per-video")
    assert result.exit_code == 0 and "shard 1/2 (from RANK/WORLD_SIZE (torchrun)): 2 of 3 videos" in result.output
    assert [v["file"] for v in _csv(out / "shard-1-of-2.videos.csv")] == ["b.npy", "sub/c.npy"]
    merged = invoke("embed", "--merge", out)
    assert "shard 0 of 2 missing" in str(merged.exception)
    _embed(clips, *ARGS, "--out", out, "--per-video", "--shard", "0/2")
    _embed("--merge", out)
    _embed(clips, *ARGS, "--out", tmp_path / "one", "--per-video", "--shard", "0/1")
    for name in ("index.csv", "videos.csv"):
        assert (out / name).read_text() == (tmp_path / "one" / name).read_text()


def test_off_a_terminal_a_cpu_run_says_each_clip_with_an_eta(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    # batch size 1 on a CPU by default: one line per clip as it goes through the model, not one per batch
    result = invoke("embed", clips, "--model", "tiny_cls", "--clips", "uniform:2", *FAST, "--out", tmp_path / "f.npy")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("clip ")]
    assert [line.split()[1] for line in lines] == ["1/6", "2/6", "3/6", "4/6", "5/6", "6/6"]
    assert all(line.endswith(" left)") and "about" in line for line in lines)
    explicit = invoke("embed", clips, "--model", "tiny_cls", "--clips", "uniform:2", "--batch-size", "4", *FAST,
                      "--out", tmp_path / "g.npy")  # fmt: skip
    assert [line.split()[1] for line in explicit.stderr.splitlines() if line.startswith("clip ")] == ["4/6", "6/6"]
    assert np.array_equal(np.load(tmp_path / "f.npy"), np.load(tmp_path / "g.npy"))  # the batch changes no number


@pytest.mark.parametrize("per_video", [False, True])
def test_an_input_resumes_however_its_path_is_spelled(
    tiny_catalog: Path, clips: Path, tmp_path: Path, per_video: bool
) -> None:
    """``clips/a.mp4`` from one folder and ``/abs/clips/a.mp4`` are one input: a rerun resumes it."""
    out = tmp_path / ("pv" if per_video else "feats.npy")
    extra = ["--per-video"] if per_video else []
    first = run_vidm("embed", "a.mp4", "sub/c.mp4", *ARGS, "--out", out, *extra, cwd=clips)
    assert first.returncode == 0, first.stderr
    again = run_vidm("embed", clips / "a.mp4", clips / "sub" / "c.mp4", *ARGS, "--out", out, *extra)
    assert again.returncode == 0 and "2 resumed, 0 clips" in again.stderr, again.stderr
    videos = _csv(out / "videos.csv" if per_video else tmp_path / "feats.videos.csv")
    assert [v["video"] for v in videos] == [str(clips / "a.mp4"), str(clips / "sub" / "c.mp4")]  # as now given
