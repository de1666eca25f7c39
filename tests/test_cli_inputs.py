"""Every command takes stills, frame folders and videos, with the model's own recipe recorded."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import vidmenagerie as vm
from vidmenagerie.ops.embed import embed

from cli import invoke
from videos import claims_one_second, gradient_frames, index_image, moving_frames, write_video


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A folder with two photos, a broken photo, a frame folder and a video."""
    root = tmp_path / "inputs"
    (root / "photos").mkdir(parents=True)
    Image.fromarray(gradient_frames(1, 90, 120)[0]).save(root / "photos" / "cat.jpg", quality=95)
    Image.fromarray(moving_frames(1, 100, 80, seed=3)[0]).save(root / "photos" / "dog.png")
    (root / "photos" / "broken.jpg").write_bytes(b"not an image")
    (root / "walk").mkdir()
    for i in range(12):
        Image.fromarray(index_image(i, 48, 64)).save(root / "walk" / f"{i:04d}.png")
    write_video(root / "clip.mp4", moving_frames(30, seed=1))
    return root


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_embed_a_mixed_folder_with_an_image_model(tiny_catalog: Path, mixed: Path, tmp_path: Path) -> None:
    out = tmp_path / "feats.npy"
    result = invoke("embed", mixed, "--model", "tiny_img", "--top-k", "2", "--workers", "0", "--out", out)
    assert result.exit_code == 1, result.output  # the broken photo failed; the rest is kept
    assert "broken.jpg: not a readable image" in result.output
    videos = {Path(v["video"]).name: v for v in _csv(tmp_path / "feats.videos.csv")}
    assert {k: v["status"] for k, v in videos.items()} == {
        "clip.mp4": "ok",
        "broken.jpg": "failed",
        "cat.jpg": "ok",
        "dog.png": "ok",
        "walk": "ok",  # the frame folder is one video
    }
    model = vm.load_model("tiny_img", device="cpu")
    pre = model.entry.preprocessing
    assert pre.resize == "bicubic" and pre.mean == (0.485, 0.456, 0.406)
    logits = np.load(tmp_path / "feats.logits.npy")
    rows = {Path(r["video"]).name: int(r["row"]) for r in _csv(tmp_path / "feats.index.csv")}
    with torch.inference_mode():
        cat = model(vm.read_clip(mixed / "photos" / "cat.jpg", preprocessing=pre).frames[None])[0]
    np.testing.assert_allclose(logits[rows["cat.jpg"]], cat.numpy(), atol=1e-5)
    record = json.loads((tmp_path / "feats.run.json").read_text())
    assert record["settings"]["preprocessing"]["resize"] == "bicubic"
    assert record["settings"]["preprocessing"]["sampling_rate"] == 8
    assert {r["video"] for r in _csv(tmp_path / "feats.topk.csv")} >= {str(mixed / "photos" / "cat.jpg")}


def test_frame_folders_mode_and_fps(tiny_catalog: Path, mixed: Path, tmp_path: Path) -> None:
    out = tmp_path / "feats.npy"
    args = ("--model", "tiny_vit", "--workers", "0", "--sampling-rate", "2", "--clips", "uniform:2")
    assert invoke("embed", mixed / "walk", *args, "--fps", "10", "--out", out).exit_code == 0
    rows = _csv(tmp_path / "feats.index.csv")
    # 12 frames at 10 fps: 1.2 s; a clip spans 8/30 s, so the last one starts in frame floor(9.33) = 9
    assert [float(r["start"]) for r in rows] == pytest.approx([0.0, 0.9])
    out = tmp_path / "stills.npy"
    result = invoke("embed", mixed / "walk", *args, "--frame-folders", "never", "--out", out)
    assert result.exit_code == 0, result.output
    assert len(_csv(tmp_path / "stills.videos.csv")) == 12  # every frame is a still now
    bad = invoke("embed", mixed, *args, "--frame-folders", "maybe", "--out", tmp_path / "x.npy")
    assert bad.exit_code == 2 and "--frame-folders" in bad.output


def test_python_example_and_vidm_embed_agree_by_default(tiny_catalog: Path, mixed: Path, tmp_path: Path) -> None:
    out = tmp_path / "feats.npy"
    assert invoke("embed", mixed / "clip.mp4", "--model", "tiny_cls", "--logits", "--workers", "0", "--out", out)
    entry = vm.get_model_entry("tiny_cls")
    model = vm.load_model("tiny_cls", device="cpu")
    clip = vm.read_clip(mixed / "clip.mp4", preprocessing=entry.preprocessing)  # the README's example
    with torch.inference_mode():
        logits = model(clip.frames[None])
    np.testing.assert_allclose(np.load(tmp_path / "feats.logits.npy"), logits.numpy(), atol=1e-5)


def test_attend_and_complete_take_stills(tiny_catalog: Path, mixed: Path, tmp_path: Path) -> None:
    cat = mixed / "photos" / "cat.jpg"
    attend = invoke("attend", cat, "--model", "tiny_vit", "--workers", "0", "--out", tmp_path / "a")
    assert attend.exit_code == 0, attend.output
    assert Image.open(tmp_path / "a" / "cat.attend.jpg").size[0] > 56
    record = json.loads((tmp_path / "a" / "run.json").read_text())
    assert record["preprocessing"]["sampling_rate"] == 8 and record["clips"][0]["times"] == [0.0] * 4
    complete = invoke("complete", mixed / "photos" / "dog.png", "--model", "tiny_mae", "--workers", "0",
                      "--out", tmp_path / "c", "--sampling-rate", "4")  # fmt: skip
    assert complete.exit_code == 0, complete.output
    record = json.loads((tmp_path / "c" / "run.json").read_text())
    assert record["preprocessing"]["sampling_rate"] == 4 and record["settings"]["sampling_rate"] == 4
    assert Image.open(tmp_path / "c" / "dog.complete.jpg").size[1] >= 3 * 56  # original / masked / completion rows


def test_embed_of_a_still_with_a_video_model_repeats_one_frame(tiny_catalog: Path, mixed: Path) -> None:
    model = vm.load_model("tiny_vit", device="cpu")
    clip = vm.read_clip(mixed / "photos" / "cat.jpg", preprocessing=model.entry.preprocessing)
    assert all(torch.equal(clip.frames[:, 0], clip.frames[:, t]) for t in range(4))
    assert embed(model, clip.frames[None]).shape == (1, 64)


def test_what_is_found_about_a_video_is_said(tiny_catalog: Path, tmp_path: Path) -> None:
    path = write_video(tmp_path / "long.mp4", moving_frames(90, seed=2), options={"bf": "0"})
    claims_one_second(path)
    out = tmp_path / "feats.npy"
    result = invoke("embed", path, "--model", "tiny_vit", "--clips", "sliding", "--workers", "0", "--out", out)
    assert result.exit_code == 0, result.output
    assert "note" in result.output and "header claims 1.00 s but the video data runs to 3.00 s" in result.output
    assert len(np.load(out)) == 3  # sliding clips over all 3 s


def test_the_readme_python_example_runs_as_written(
    tiny_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    block = readme.split("### Python", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    assert "vm.demo_video_path()" in block  # runs on the bundled clip, not a placeholder file
    from tiny import write_checkpoint

    write_checkpoint(tmp_path / "tiny.pth", "mae")
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(block.replace('"vit_s_ssv2-50shot"', '"tiny_cls"'), scope)  # the published model, swapped for a tiny one
    logits = scope["logits"]
    assert isinstance(logits, torch.Tensor) and logits.shape == (1, 5) and not logits.requires_grad


def test_off_a_terminal_each_finished_input_gets_a_line(tiny_catalog: Path, mixed: Path, tmp_path: Path) -> None:
    result = invoke("embed", mixed / "photos", "--model", "tiny_vit", "--workers", "0", "--out", tmp_path / "f.npy")
    lines = [line for line in result.stderr.splitlines() if line.startswith(("done", "failed"))]
    assert lines[0].startswith("failed 1/3 ") and "broken.jpg: not a readable image" in lines[0]
    assert lines[1].startswith("done 2/3 ") and lines[2].startswith("done 3/3 ")  # a Slurm log shows progress
