"""``vm.attention``, rollout, threshold masks and ``vidm attend`` with tiny models served by the Hub stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from pictures import colour_ramps
from PIL import Image

import vidmenagerie as vm
from vidmenagerie.heatmap import ALPHA, COLORMAPS, DIM, colormap_table
from vidmenagerie.ops.attention import cls_row
from vidmenagerie.render import colour_bar

from attention_reference import full_attention
from cli import invoke
from tiny import TINY_ARCH, tiny_state_dict
from videos import moving_frames, write_video

SIZE, FRAMES, PAD = 56, 4, 2  # tiny models: 56 px, 4 frames (2 slots of 2), 4x4 patches; grid padding
SLOTS, HEADS, TOKENS = 2, 4, 33


@pytest.fixture
def clips(tmp_path: Path) -> Path:
    """Two ``clip.mp4`` in different folders and a broken file with a video extension."""
    root = tmp_path / "clips"
    for folder in ("a", "b"):
        (root / folder).mkdir(parents=True)
    write_video(root / "a" / "clip.mp4", moving_frames(seed=1))
    write_video(root / "b" / "clip.mp4", moving_frames(seed=2))
    (root / "broken.mp4").write_text("this is not a video")
    return root


@pytest.fixture
def uniform_checkpoint(tmp_path: Path) -> Path:
    """A tiny vit whose query and key weights are zero: every block attends uniformly to all 33 tokens."""
    state = tiny_state_dict("vit", seed=5)
    for name, value in state.items():
        if ".attn.q." in name or ".attn.k." in name:
            value.zero_()
    path = tmp_path / "uniform.pth"
    torch.save({"model": state}, path)
    return path


def _reference_model(reference: Path, ref: dict, file: str, **extra: int) -> vm.VideoEncoder:
    model = vm.create_model("vit", **ref["arch"], **extra)
    return vm.load_checkpoint(model, reference / file).eval()


def _layout(image: np.ndarray, rows: int) -> tuple[int, int]:
    """Top and left offsets of the tiles (column labels above, row labels to the left, the colour
    bar below: the tiles' right edge is the last column with ink in their rows)."""
    bar = colour_bar(np.zeros((2, 3), np.uint8), title="", low="", high="").height  # the same for any text
    top = image.shape[0] - bar - rows * (SIZE + PAD) - PAD
    ink = np.nonzero((image[top + PAD : top + rows * (SIZE + PAD)] < 235).any(axis=(0, 2)))[0]
    left = int(ink.max()) + 1 - SLOTS * (SIZE + PAD)
    assert 0 < top < 40 and 0 < left < 120, image.shape  # labels take some room, not a whole tile
    return top, left


def _tile(image: np.ndarray, offsets: tuple[int, int], row: int, col: int) -> np.ndarray:
    top, left = offsets[0] + PAD + row * (SIZE + PAD), offsets[1] + PAD + col * (SIZE + PAD)
    return image[top : top + SIZE, left : left + SIZE].astype(int)


def _patches(tile: np.ndarray) -> np.ndarray:
    """The colour of each 14 x 14 patch of a uniform-per-patch tile: ``[4, 4, 3]``."""
    blocks = tile.reshape(4, 14, 4, 14, 3)
    assert (blocks == blocks[:, :1, :, :1]).all(), "nearest upsampling: one colour per patch"
    return blocks[:, 0, :, 0]


# --------------------------------------------------------------------------- library


def test_attention_equals_the_reference_last_block_cls_row(reference: Path) -> None:
    ref = torch.load(reference / "reference_outputs.pt", weights_only=True)
    x = ref["input"]
    for file, key, extra in (("mae_tiny.pth", "vit_none", {}), ("vit_tiny_5cls.pth", "vit5", {"num_classes": 5})):
        model = _reference_model(reference, ref, file, **extra)
        maps = vm.attention(model, x)
        expected = ref[f"{key}/last_attn"][:, :, 0, 1:].reshape(2, HEADS, SLOTS, 4, 4)
        assert maps.shape == (2, HEADS, SLOTS, 4, 4) and maps.dtype == torch.float32
        torch.testing.assert_close(maps, expected, atol=1e-5, rtol=0)
        row = cls_row(model, x)
        torch.testing.assert_close(row.sum(-1), torch.ones(2, HEADS))  # patches + the CLS itself
        torch.testing.assert_close(vm.attention(model, x[1]), maps[1:], atol=1e-6, rtol=0)  # one clip
    mae = vm.create_model("mae", **ref["arch"], **ref["decoder"])
    vm.load_checkpoint(mae, reference / "mae_tiny.pth").eval()
    expected = ref["vit_none/last_attn"][:, :, 0, 1:].reshape(2, HEADS, SLOTS, 4, 4)
    torch.testing.assert_close(vm.attention(mae, x), expected, atol=1e-5, rtol=0)  # the encoder, unmasked


def test_attention_of_an_earlier_block_and_under_bfloat16(reference: Path) -> None:
    ref = torch.load(reference / "reference_outputs.pt", weights_only=True)
    model = _reference_model(reference, ref, "mae_tiny.pth")
    x = ref["input"]
    with torch.no_grad():
        first = model.blocks[0]
        full = full_attention(first.attn, first.norm1(model.embed(x)))
    torch.testing.assert_close(vm.attention(model, x, layer=0), full[:, :, 0, 1:].reshape(2, HEADS, SLOTS, 4, 4))
    torch.testing.assert_close(vm.attention(model, x, layer=-2), vm.attention(model, x, layer=0))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = vm.attention(model, x)
    assert low.dtype == torch.float32
    torch.testing.assert_close(low, vm.attention(model, x), atol=1e-2, rtol=0)  # bf16 blocks before
    with pytest.raises(ValueError, match="out of range: the model has 2 blocks"):
        vm.attention(model, x, layer=2)


def test_rollout_equals_the_running_product_of_the_definition(tiny_catalog: Path) -> None:
    model = vm.load_model("tiny_vit", device="cpu")
    x = torch.randn(2, 3, FRAMES, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():  # the textbook way: N x N matrices multiplied forward
        tokens = model.embed(x)
        product = torch.eye(TOKENS).expand(2, -1, -1)
        for block in model.blocks:
            fused = full_attention(block.attn, block.norm1(tokens)).mean(1) + torch.eye(TOKENS)
            product = (fused / fused.sum(-1, keepdim=True)) @ product
            tokens = block(tokens)
    rollout = vm.attention_rollout(model, x)
    assert rollout.shape == (2, 1, SLOTS, 4, 4)
    torch.testing.assert_close(rollout.flatten(1), product[:, 0, 1:], atol=1e-6, rtol=0)
    torch.testing.assert_close(cls_row(model, x, rollout=True)[:, 0, 0], product[:, 0, 0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("layer", [0, -1])
def test_rollout_of_uniform_attention_is_the_hand_computed_row(uniform_checkpoint: Path, layer: int) -> None:
    model = vm.create_model("vit", **{k: v for k, v in TINY_ARCH.items() if not k.startswith("decoder")})
    vm.load_checkpoint(model, uniform_checkpoint).eval()
    x = torch.randn(1, 3, FRAMES, SIZE, SIZE)
    # every block: A = U (all 1/N), so (U + I)/2 per block and U @ U = U: after L blocks
    # e_0 @ ((U + I)/2)^L = 2^-L e_0 + (1 - 2^-L) / N, whatever the tokens.
    blocks = 1 if layer == 0 else 2
    patch, own = (1 - 0.5**blocks) / TOKENS, 0.5**blocks + (1 - 0.5**blocks) / TOKENS
    torch.testing.assert_close(vm.attention_rollout(model, x, layer), torch.full((1, 1, SLOTS, 4, 4), patch))
    assert cls_row(model, x, layer, rollout=True)[0, 0, 0].item() == pytest.approx(own, abs=1e-6)
    torch.testing.assert_close(vm.attention(model, x, layer), torch.full((1, HEADS, SLOTS, 4, 4), 1 / TOKENS))


def test_threshold_keeps_the_smallest_set_holding_the_fraction() -> None:
    maps = torch.tensor([1.0, 4, 2, 2, 6, 1, 0, 0]).view(1, 2, 2, 2) / 16  # sixteenths: exact boundaries
    kept = lambda f: vm.threshold_mask(maps, f).flatten().nonzero().flatten().tolist()  # noqa: E731
    assert kept(6 / 16) == [4]  # the largest patch alone holds 6/16
    assert kept(0.5) == kept(10 / 16) == [1, 4]  # 6/16 + 4/16
    assert len(kept(0.7)) == 3 and {1, 4} <= set(kept(0.7))  # plus one of the two 2/16
    assert kept(1.0) == [0, 1, 2, 3, 4, 5]  # never the empty patches
    assert kept(0.5) == vm.threshold_mask(maps * 0.3, 0.5).flatten().nonzero().flatten().tolist()  # renormalised
    two = torch.stack([maps[0], maps[0].flip(-1)])  # each map thresholded on its own
    assert vm.threshold_mask(two, 0.5).sum((1, 2, 3)).tolist() == [2, 2]
    with pytest.raises(ValueError, match=r"fraction in \(0, 1\]"):
        vm.threshold_mask(maps, 0.0)


def test_builtin_colormaps_are_close_to_matplotlib() -> None:
    for name in COLORMAPS:
        table = colormap_table(name)
        assert table.shape == (256, 3) and table.dtype == np.uint8
    assert colormap_table("gray")[[0, 255]].tolist() == [[0, 0, 0], [255, 255, 255]]
    matplotlib = pytest.importorskip("matplotlib")
    for name in COLORMAPS:
        expected = matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255
        assert np.abs(colormap_table(name) - expected).max() <= 5, name


# --------------------------------------------------------------------------- command line


def test_attend_writes_grids_raw_maps_and_run_json(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["attend", clips, "--model", "tiny_vit", "--format", "png", "--save-maps", "--workers", "0"]
    result = invoke(*args, "--out", out, "--batch-size", "3")
    assert result.exit_code == 1, result.output  # the broken file fails, the others finish
    assert "broken.mp4" in result.output and "2 of 3 inputs done, 1 failed" in result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == [
        "a/clip.attend.png",
        "b/clip.attend.png",
    ]
    record = json.loads((out / "run.json").read_text())
    assert record["command"] == "attend" and record["settings"]["heads"] == "mean"
    assert record["model"]["checkpoint"].endswith("me/tiny-models/mae.pth")
    assert len(record["clips"]) == 2 and record["failed"][0]["video"].endswith("broken.mp4")
    for clip in record["clips"]:
        maps = np.load(clip["maps"])
        assert maps.shape == (HEADS, SLOTS, 4, 4) and maps.dtype == np.float32
        np.testing.assert_allclose(maps.sum((1, 2, 3)) + clip["cls_self"], 1.0, atol=1e-5)
    assert "strongest patch" in result.stdout

    image = np.asarray(Image.open(out / "a" / "clip.attend.png").convert("RGB"))
    offsets = _layout(image, rows=2)  # frames, then the mean of the heads
    mean = np.load(out / "a" / "clip.attend.npy").mean(0)
    scaled = (mean - mean.min()) / (mean.max() - mean.min())
    table = colormap_table("inferno").astype(int)
    for slot in range(SLOTS):
        frame, overlay = _tile(image, offsets, 0, slot), _tile(image, offsets, 1, slot)
        colour = table[np.round(scaled[slot] * 255).astype(int)].repeat(14, 0).repeat(14, 1)
        assert np.abs(overlay - ((1 - ALPHA) * frame + ALPHA * colour)).max() <= 1  # blended onto its own frame


def test_heatmap_rows_per_head_and_chosen_heads(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    video = clips / "a" / "clip.mp4"
    common = ["--model", "tiny_vit", "--format", "png", "--save-maps", "--workers", "0", "--style", "heatmap"]
    assert invoke("attend", video, *common, "--heads", "all", "--out", tmp_path / "all").exit_code == 0
    assert invoke("attend", video, *common, "--heads", "3,1", "--out", tmp_path / "two").exit_code == 0
    every = np.asarray(Image.open(tmp_path / "all" / "clip.attend.png").convert("RGB"))
    two = np.asarray(Image.open(tmp_path / "two" / "clip.attend.png").convert("RGB"))
    assert every.shape[0] - two.shape[0] == 2 * (SIZE + PAD)  # 1 + 4 rows against 1 + 2
    maps = np.load(tmp_path / "all" / "clip.attend.npy")
    np.testing.assert_array_equal(maps, np.load(tmp_path / "two" / "clip.attend.npy"))  # saved raw, all heads
    table = colormap_table("inferno").astype(int)
    for image, heads in ((every, [0, 1, 2, 3]), (two, [3, 1])):
        offsets = _layout(image, rows=1 + len(heads))
        for row, head in enumerate(heads, start=1):
            colours = np.stack([_patches(_tile(image, offsets, row, s)) for s in range(SLOTS)])
            top = np.unravel_index(maps[head].argmax(), maps[head].shape)
            low = np.unravel_index(maps[head].argmin(), maps[head].shape)
            assert colours[top].tolist() == table[255].tolist()  # each row scaled from its min to its max
            assert colours[low].tolist() == table[0].tolist()


@pytest.mark.parametrize("style", ["mask", "contour"])
def test_threshold_draws_the_kept_patches(tiny_catalog: Path, clips: Path, tmp_path: Path, style: str) -> None:
    out = tmp_path / style
    args = ["attend", clips / "a" / "clip.mp4", "--model", "tiny_vit", "--format", "png", "--save-maps"]
    result = invoke(
        *args, "--out", out, "--workers", "0", "--style", "heatmap", "--threshold", "0.5", "--threshold-style", style
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["settings"]["threshold"] == 0.5
    mean = torch.from_numpy(np.load(out / "clip.attend.npy")).mean(0)
    kept = vm.threshold_mask(mean, 0.5).numpy()
    assert 0 < kept.sum() < kept.size
    image = np.asarray(Image.open(out / "clip.attend.png").convert("RGB"))
    offsets = _layout(image, rows=2)
    table = colormap_table("inferno").astype(int)
    scaled = ((mean - mean.min()) / (mean.max() - mean.min())).numpy()
    for slot in range(SLOTS):
        tile = _tile(image, offsets, 1, slot)
        colour = table[np.round(scaled[slot] * 255).astype(int)].repeat(14, 0).repeat(14, 1)
        inside = kept[slot].repeat(14, 0).repeat(14, 1)
        if style == "mask":  # the kept patches as they are, the rest dimmed
            assert np.array_equal(tile[inside], colour[inside])
            assert np.abs(tile[~inside] - DIM * colour[~inside]).max() <= 1
        else:  # a white line just inside the border of the kept region, black inside it, the map elsewhere
            assert np.array_equal(tile[~inside], colour[~inside])
            for r, c in zip(*np.nonzero(kept[slot])):
                if r > 0 and not kept[slot, r - 1, c]:  # a kept patch below a dropped one: its top edge
                    assert tile[r * 14, c * 14 + 7].tolist() == [255, 255, 255]
                    assert tile[r * 14 + 1, c * 14 + 7].tolist() == [0, 0, 0]


@pytest.mark.parametrize("layer", ["0", "-1"])
def test_rollout_through_the_cli_on_uniform_attention(
    tiny_catalog: Path, clips: Path, uniform_checkpoint: Path, tmp_path: Path, layer: str
) -> None:
    out = tmp_path / "out"
    args = ["attend", clips / "a" / "clip.mp4", "--model", "tiny_vit", "--checkpoint", uniform_checkpoint]
    result = invoke(*args, "--rollout", "--layer", layer, "--save-maps", "--out", out, "--workers", "0")
    assert result.exit_code == 0, result.output
    blocks = 1 if layer == "0" else 2
    maps = np.load(out / "clip.attend.npy")
    assert maps.shape == (1, SLOTS, 4, 4)
    np.testing.assert_allclose(maps, (1 - 0.5**blocks) / TOKENS, atol=1e-6)
    record = json.loads((out / "run.json").read_text())
    assert record["clips"][0]["cls_self"] == pytest.approx([0.5**blocks + (1 - 0.5**blocks) / TOKENS], abs=1e-6)
    assert record["settings"]["rollout"] is True and record["model"]["checkpoint"] == str(uniform_checkpoint)


def test_animation_holds_each_map_for_the_frames_it_covers(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["attend", clips / "a" / "clip.mp4", "--model", "tiny_vit", "--animate", "--gif", "--heads", "0,2"]
    result = invoke(*args, "--out", out, "--workers", "0", "--style", "heatmap")
    assert result.exit_code == 0, result.output
    with av.open(str(out / "clip.attend.mp4")) as container:
        stream = container.streams.video[0]
        decoded = list(container.decode(video=0))
        assert float(stream.average_rate) == pytest.approx(30 / 8)  # the model's sampling rate, 8
    assert len(decoded) == FRAMES
    assert decoded[0].width == 3 * SIZE + 2 * PAD  # frames, head 0, head 2
    gif = Image.open(out / "clip.attend.gif")
    assert gif.n_frames == FRAMES
    maps = []
    for i in range(FRAMES):
        gif.seek(i)
        maps.append(np.asarray(gif.convert("RGB")).astype(int)[:, SIZE + PAD :])  # the two map panels
    held = [np.abs(maps[i + 1] - maps[i]).mean() for i in range(FRAMES - 1)]
    assert held[0] < 1 and held[2] < 1 < held[1]  # frames 0-1 share slot 0's maps, 2-3 slot 1's
    assert json.loads((out / "run.json").read_text())["clips"][0]["animations"][1].endswith("clip.attend.gif")


def test_demo_clip_and_an_mae_model_by_default_inputs(tiny_catalog: Path, tmp_path: Path) -> None:
    result = invoke("attend", "--model", "tiny_mae", "--out", tmp_path / "o", "--workers", "0")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "demo.attend.jpg").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--heads", "4"], "no head 4: the model has 4 heads"),
        (["--heads", "first"], "use mean, all or head numbers"),
        (["--heads", "all", "--rollout"], "rollout fuses the heads by their mean"),
        (["--layer", "2"], "layer 2 is out of range"),
        (["--threshold", "0"], "fraction in (0, 1]"),
        (["--style", "contour"], "use one of overlay, heatmap"),
        (["--threshold-style", "fill"], "use one of contour, mask"),
        (["--colormap", "no-such-map"], "unknown colormap 'no-such-map'"),
    ],
)
def test_attend_refuses_settings_it_cannot_honour(tiny_catalog: Path, args: list[str], message: str) -> None:
    result = invoke("attend", "--model", "tiny_vit", *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_the_help_lists_every_built_in_colormap() -> None:
    from vidmenagerie.cli.attend_cmd import COLORMAP_NAMES

    assert COLORMAP_NAMES == COLORMAPS


def _boxes(frame: np.ndarray, colours: list[tuple[int, int, int]]) -> list[tuple[int, int, int, int]]:
    """The bounding box (top, left, bottom, right) of the pixels of each colour."""
    boxes = []
    for colour in colours:
        ys, xs = np.nonzero((frame == colour).all(axis=-1))
        boxes.append((int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1))
    return boxes


def test_panel_grid_lays_many_panels_out_in_labelled_rows() -> None:
    from vidmenagerie.render import panel_grid

    colours = [(15 * i, 255 - 10 * i, 100) for i in range(17)]  # the frames and 16 heads of a ViT-H
    panels = [np.broadcast_to(np.array(c, np.uint8), (3, 224, 224, 3)) for c in colours]
    labels = ["frames", *(f"head {h}" for h in range(16))]
    grid = panel_grid(panels, labels)
    assert grid.shape[0] == 3 and grid.shape[1] % 2 == 0 == grid.shape[2] % 2  # even sides for H.264
    assert grid.shape[2] < 2 * grid.shape[1]  # a grid, not a 3840 x 224 strip
    boxes = _boxes(grid[0], colours)
    assert all(bottom - top == 224 and right - left == 224 for top, left, bottom, right in boxes), boxes
    columns = len({left for _, left, _, _ in boxes})
    assert columns == 6 and len({top for top, _, _, _ in boxes}) == 3  # 6 x 3 cells, 17 used, in order
    assert [b[1] for b in boxes[:columns]] == sorted(b[1] for b in boxes[:columns])
    for top, left, _, right in boxes:  # each panel's label: dark text in the white band above it
        band = grid[0, max(0, top - 16) : top, left:right].astype(int)
        assert (band.sum(axis=-1) < 200).sum() > 20, (top, left)
    assert (grid[0] == grid[2]).all()  # the labels sit on every frame


def test_all_heads_animation_is_a_grid_with_a_label_per_panel(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["attend", clips / "a" / "clip.mp4", "--model", "tiny_vit", "--animate", "--heads", "all"]
    assert invoke(*args, "--out", out, "--workers", "0").exit_code == 0
    with av.open(str(out / "clip.attend.mp4")) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    poster = np.asarray(Image.open(out / "clip.attend.poster.jpg").convert("RGB"), dtype=int)
    assert first.shape == poster.shape
    # frames and 4 heads: 3 columns, 2 rows of 56 px panels, each under a label band
    assert first.shape[1] == 3 * SIZE + 2 * PAD and 2 * SIZE < first.shape[0] < 2 * (SIZE + 24)
    band = first.shape[0] // 2 - SIZE  # a label band's height (about, the rows share the picture)
    for row in range(2):
        top = row * (first.shape[0] // 2)
        for col in range(3):
            left = col * (SIZE + PAD)
            text = (first[top : top + band - 2, left : left + SIZE].sum(axis=-1) < 300).sum()
            if row == 1 and col == 2:
                assert text == 0  # the empty sixth cell
            else:
                assert text > 10, (row, col)


def _tile_runs(image: np.ndarray, y: int) -> list[int]:
    """The lengths of the runs of ink (not white) along row ``y``, left to right."""
    ink = (image[y] < 235).any(axis=1).astype(int)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], ink, [0]])))
    return [int(b - a) for a, b in zip(edges[::2], edges[1::2])]


def test_picture_scale_and_a_still_in_one_column(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    still = clips / "still.png"
    Image.fromarray(moving_frames(1, 64, 64, seed=4)[0]).save(still)
    out = tmp_path / "out"
    args = ["attend", clips / "a" / "clip.mp4", still, "--model", "tiny_vit", "--colormap", "viridis"]
    assert invoke(*args, "--out", out, "--workers", "0").exit_code == 0
    record = json.loads((out / "run.json").read_text())
    assert "maps_note" not in record and "one column" in record["pictures_note"]  # no .npy was asked for
    video = np.asarray(Image.open(out / "a" / "clip.attend.jpg").convert("RGB"))
    picture = np.asarray(Image.open(out / "still.attend.jpg").convert("RGB"))
    for image in (video, picture):  # the colour bar of the run's colormap, under the tiles
        ramps = colour_ramps(Image.fromarray(image), colormap_table("viridis"), length=100)
        assert ramps and min(ramps) > image.shape[0] - 50, ramps
        assert not colour_ramps(Image.fromarray(image), colormap_table("inferno"), length=100)
    top, _ = _layout(video, rows=2)
    runs = _tile_runs(video, top + PAD + SIZE - 2)
    assert len(runs) >= SLOTS and all(abs(n - SIZE) <= 2 for n in runs[-SLOTS:]), runs  # a column per slot
    assert (video[:top] < 128).any()
    # a still: one column (its slots all show the same picture), no times above it
    bar = colour_bar(np.zeros((2, 3), np.uint8), title="", low="", high="").height
    rows = picture[: picture.shape[0] - bar]
    runs = _tile_runs(rows, PAD + SIZE - 2)
    assert abs(runs[-1] - SIZE) <= 2 and len(runs) <= 2, runs  # the row's label (if it reaches), one tile
    assert rows.shape[0] == 2 * (SIZE + PAD) + PAD  # no line of times above the tiles
    ranges = (rows[SIZE + 2 * PAD :, :30] < 128).any(axis=(1, 2))  # the map row's label
    assert np.count_nonzero(np.diff(ranges.astype(int)) == 1) >= 2  # two lines: its name and its range


def test_maps_note_only_with_saved_maps(tiny_catalog: Path, clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["attend", clips / "a" / "clip.mp4", "--model", "tiny_vit", "--save-maps", "--workers", "0"]
    assert invoke(*args, "--out", out).exit_code == 0
    record = json.loads((out / "run.json").read_text())
    assert ".npy" in record["maps_note"] and ".npy" not in record["pictures_note"]
