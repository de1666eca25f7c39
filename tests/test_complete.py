"""``vm.complete`` and ``vidm complete`` with tiny MAEs served by the Hub stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

import vidmenagerie as vm
from vidmenagerie.tasks.complete import HIDDEN, HIDDEN_STRIPES

from cli import invoke, run_vidm
from hubserver import HubServer
from videos import moving_frames, write_video

SIZE, FRAMES, PAD = 56, 4, 2  # tiny models: 56 px, 4 frames; grid padding


@pytest.fixture
def clips(tmp_path: Path) -> Path:
    """Two ``clip.mp4`` in different folders, one webm, and a broken file with a video extension."""
    root = tmp_path / "clips"
    for folder in ("a", "b"):
        (root / folder).mkdir(parents=True)
    write_video(root / "a" / "clip.mp4", moving_frames(seed=1))
    write_video(root / "b" / "clip.mp4", moving_frames(seed=2))
    vp9 = {"deadline": "realtime", "cpu-used": "8"}  # lossless VP9 chokes on noise-like frames
    write_video(root / "b" / "other.webm", moving_frames(seed=3), codec="libvpx-vp9", options=vp9, pix_fmt="yuv420p")
    (root / "broken.mp4").write_text("this is not a video")
    return root


def _tile(image: np.ndarray, row: int, col: int) -> np.ndarray:
    labels = image.shape[1] - (FRAMES * (SIZE + PAD) + PAD)  # the row labels' column on the left
    top, left = PAD + row * (SIZE + PAD), labels + PAD + col * (SIZE + PAD)
    return image[top : top + SIZE, left : left + SIZE]


def test_library_complete_keeps_visible_pixels_and_hides_the_exact_count(tiny_catalog: Path) -> None:
    model = vm.load_model("tiny_mae", device="cpu")
    frames = torch.randn(3, 3, FRAMES, SIZE, SIZE)
    result = vm.complete(model, frames, mask="random", ratio=0.6, seed=4)
    assert result.mask.shape == (3, 2, 4, 4)
    assert (result.mask.flatten(1).sum(1) == 32 - int(32 * 0.4)).all()
    visible = ~result.pixel_mask.unsqueeze(1).expand_as(frames)
    assert torch.equal(result.completion[visible], frames[visible])
    assert torch.equal(result.masked[visible], frames[visible])
    assert (result.masked[~visible] == 0).all()
    again = vm.complete(model, frames, mask="random", ratio=0.6, seed=4)
    assert torch.equal(again.mask, result.mask) and torch.equal(again.prediction, result.prediction)
    one = vm.complete(model, frames[0], mask="center", ratio=0.25)
    assert one.original.shape == (1, 3, FRAMES, SIZE, SIZE)


def test_library_complete_refuses_a_plain_encoder(tiny_catalog: Path) -> None:
    with pytest.raises(TypeError, match="needs an MAE"):
        vm.complete(vm.load_model("tiny_vit", device="cpu"), torch.zeros(3, FRAMES, SIZE, SIZE))


def test_complete_writes_grids_metrics_and_run_json(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["complete", clips, "--model", "tiny_mae", "--mask", "center", "--ratio", "0.5"]
    result = invoke(*args, "--format", "png", "--out", out, "--workers", "0", "--sampling-rate", "2")
    assert result.exit_code == 1, result.output  # the broken file fails, the others finish
    assert "broken.mp4" in result.output and "3 of 4 inputs done, 1 failed" in result.output
    pictures = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert pictures == ["a/clip.complete.png", "b/clip.complete.png", "b/other.complete.png"]  # names mirror the inputs
    image = np.asarray(Image.open(out / "a" / "clip.complete.png").convert("RGB"))
    assert image.shape[0] == 3 * (SIZE + PAD) + PAD and image.shape[1] > FRAMES * (SIZE + PAD) + PAD  # + row labels
    labels = image[:, : image.shape[1] - FRAMES * (SIZE + PAD) - PAD]
    assert (labels < 100).any() and (labels > 200).mean() > 0.8  # dark text on the light background
    # center 0.5 hides tokens 8..23 of 32: the second half of slot 0 and the first half of slot 1
    for col in range(FRAMES):
        original, masked, completion = (_tile(image, r, col) for r in range(3))
        hidden_rows = slice(2 * 14, 4 * 14) if col < 2 else slice(0, 2 * 14)
        visible_rows = slice(0, 2 * 14) if col < 2 else slice(2 * 14, 4 * 14)
        assert np.array_equal(masked[visible_rows], original[visible_rows])
        assert np.array_equal(completion[visible_rows], original[visible_rows])
        hidden = masked[hidden_rows].reshape(-1, 3)  # magenta crossed by darker stripes
        magenta = (hidden == HIDDEN).all(axis=1)
        assert (magenta | (hidden == HIDDEN_STRIPES).all(axis=1)).all() and 0.6 < magenta.mean() < 0.85
        assert not np.array_equal(completion[hidden_rows], original[hidden_rows])
    record = json.loads((out / "run.json").read_text())
    assert record["settings"]["mask"] == "center" and record["settings"]["ratio"] == 0.5
    assert record["model"]["checkpoint"].endswith("me/tiny-models/mae.pth")
    assert len(record["clips"]) == 3 and record["failed"][0]["video"].endswith("broken.mp4")
    assert "torch" in record["versions"] and "av" in record["versions"]
    for clip in record["clips"]:
        assert np.isfinite([clip["mse"], clip["psnr"], clip["loss"]]).all() and clip["mse"] > 0
        assert len(clip["times"]) == FRAMES
    assert np.isfinite(record["overall"]["psnr"])
    assert "overall" in result.stdout and "PSNR" in result.stdout


def test_complete_animation_and_arrays(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    video = clips / "a" / "clip.mp4"
    result = invoke(
        "complete",
        video,
        "--model",
        "tiny_mae",
        "--mask",
        "random",
        "--ratio",
        "0.75",
        "--seed",
        "3",
        "--animate",
        "--gif",
        "--save-arrays",
        "--out",
        out,
        "--workers",
        "0",
    )
    assert result.exit_code == 0, result.output
    with av.open(str(out / "clip.complete.mp4")) as container:
        decoded = list(container.decode(video=0))
    assert len(decoded) == FRAMES
    assert decoded[0].width == 3 * SIZE + 2 * PAD
    band = decoded[0].height - SIZE  # the panels' labels (original, masked, completion) above them
    assert 10 <= band <= 24
    text = decoded[0].to_ndarray(format="rgb24")[: band - 2].astype(int).sum(axis=-1) < 300
    assert all(text[:, k * (SIZE + PAD) : k * (SIZE + PAD) + SIZE].sum() > 10 for k in range(3))
    assert Image.open(out / "clip.complete.gif").n_frames == FRAMES
    # the poster frame the page's player shows before it plays: the MP4's first frame
    poster = np.asarray(Image.open(out / "clip.complete.poster.jpg").convert("RGB"), dtype=np.float32)
    first = decoded[0].to_ndarray(format="rgb24").astype(np.float32)
    assert poster.shape == first.shape
    assert np.abs(poster - first).mean() < 6
    assert json.loads((out / "run.json").read_text())["clips"][0]["poster"] == str(out / "clip.complete.poster.jpg")
    arrays = np.load(out / "clip.complete.npz")
    assert arrays["original"].shape == arrays["prediction"].shape == (FRAMES, SIZE, SIZE, 3)
    assert arrays["mask"].shape == (FRAMES, SIZE, SIZE) and arrays["token_mask"].shape == (2, 4, 4)
    assert arrays["token_mask"].sum() == 32 - int(32 * 0.25)
    assert 0 <= arrays["original"].min() and arrays["original"].max() <= 1


def test_same_seed_same_random_mask_whatever_the_batch(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    common = ["--model", "tiny_mae", "--mask", "random", "--ratio", "0.5", "--save-arrays", "--workers", "0"]
    assert (
        invoke("complete", clips / "a", clips / "b", *common, "--batch-size", "1", "--out", tmp_path / "x").exit_code
        == 0
    )
    assert (
        invoke("complete", clips / "a", clips / "b", *common, "--batch-size", "3", "--out", tmp_path / "y").exit_code
        == 0
    )
    for name in ("a/clip.complete.npz", "b/clip.complete.npz", "b/other.complete.npz"):
        x, y = np.load(tmp_path / "x" / name), np.load(tmp_path / "y" / name)
        assert np.array_equal(x["token_mask"], y["token_mask"])
        np.testing.assert_allclose(x["prediction"], y["prediction"], atol=1e-5)


def test_demo_clip_is_the_default_input(tiny_catalog: Path, tmp_path: Path) -> None:
    result = invoke("complete", "--model", "tiny_mae", "--out", tmp_path / "o", "--workers", "0")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "demo.complete.jpg").is_file()


def test_complete_refuses_a_vit_model_naming_the_maes(
    tiny_catalog: Path, hub_server: HubServer, tmp_path: Path
) -> None:
    result = run_vidm(
        "complete", "--model", "tiny_vit", "--out", tmp_path / "o", env={"VIDM_CATALOG": str(tiny_catalog)}
    )
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()[-1]
    assert (
        line.startswith("Error: --model: tiny_vit is a plain encoder") and "mae_s_none" in line and "tiny_mae" in line
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("ratio", ["0", "1", "1.5"])
def test_complete_refuses_ratios_outside_the_open_interval(tiny_catalog: Path, ratio: str) -> None:
    result = invoke("complete", "--model", "tiny_mae", "--ratio", ratio)
    assert result.exit_code == 2 and "strictly between 0 and 1" in result.output


def test_completion_scales_with_the_input_size_like_the_448_models() -> None:
    from tiny import TINY_ARCH

    model = vm.create_model("mae", **{**TINY_ARCH, "img_size": 112}).eval()  # 8x8 grid, as 448 px gives 32x32
    result = vm.complete(model, torch.randn(3, FRAMES, 112, 112), mask="center", ratio=0.5)
    assert result.mask.shape == (1, 2, 8, 8) and result.completion.shape == (1, 3, FRAMES, 112, 112)
    assert int(result.mask.sum()) == 128 - int(128 * 0.5)


def test_inputs_from_unrelated_folders_are_named_by_their_distinct_endings() -> None:
    from vidmenagerie.batch.outputs import output_stems
    from vidmenagerie.report.paths import Names

    videos = [Path("/home/u/demo.mp4"), Path("/data/a/clip.mp4"), Path("/data2/b/clip.mp4")]
    stems = output_stems(videos)  # they share only "/": not mirrored from it (OUT/home/u/demo...)
    assert stems == {videos[0]: Path("demo"), videos[1]: Path("a/clip"), videos[2]: Path("b/clip")}
    names = Names.of([str(v) for v in videos])  # the pages name them alike
    assert [names.short(str(v)) for v in videos] == ["demo.mp4", "a/clip.mp4", "b/clip.mp4"]
    below = [Path("/data/clips/a/x.mp4"), Path("/data/clips/b/y.mp4")]  # a common folder: mirrored below it
    assert output_stems(below) == {below[0]: Path("a/x"), below[1]: Path("b/y")}
