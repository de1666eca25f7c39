"""``vidm evaluate --protocol seed``: the seed scripts' val mode, reproducible.

The augmentation is checked against the reference formulas (mae_st ``util/decoder/transform.py``,
written out below with their ``np.random`` calls routed to our generator), the read path against
whole frames augmented by hand, and the command for exact reruns, worker counts, refusals and
its records.
"""

from __future__ import annotations

import copy
import json
import math
import random
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from coloured import use_catalog, write_coloured_set
from torch.utils.data import DataLoader

import vidmenagerie as vm
from vidmenagerie.errors import InvalidSetting, VideoError
from vidmenagerie.feature_store import EmbedSettings
from vidmenagerie.tasks.evaluate import view_settings
from vidmenagerie.tasks.evaluate.predict import protocol_dtype
from vidmenagerie.video import ClipChunks, collate
from vidmenagerie.video.augment import (
    JITTER_SCALES,
    SeedProtocol,
    horizontal_flip,
    input_seed,
    random_crop,
    short_side_scale_jitter,
)
from vidmenagerie.video.read import read_clips
from vidmenagerie.video.sources import open_source
from vidmenagerie.video.transform import FramePixels

from cli import invoke
from oracle import TrainingLoader
from videos import write_video

PER_CLASS = 2
FAST = ("--sampling-rate", "2", "--workers", "0")
SEED = ("--protocol", "seed")


# ----------------------------------------------------------------------------- the reference
def _reference(frames: torch.Tensor, min_scale: int, max_scale: int, crop: int, rng: np.random.Generator):
    """mae_st ``spatial_sampling(spatial_idx=-1)`` with aspect/scale None (utils.py:114-134), its
    transform.py functions as written there; ``np.random`` is the given generator."""
    np_random = SimpleNamespace(uniform=rng.uniform, randint=rng.integers)
    # random_short_side_scale_jitter (transform.py:43-80)
    size = int(round(np_random.uniform(min_scale, max_scale)))
    height, width = frames.shape[2], frames.shape[3]
    if not ((width <= height and width == size) or (height <= width and height == size)):
        new_width = size
        new_height = size
        if width < height:
            new_height = int(math.floor((float(height) / width) * size))
        else:
            new_width = int(math.floor((float(width) / height) * size))
        frames = torch.nn.functional.interpolate(
            frames, size=(new_height, new_width), mode="bilinear", align_corners=False
        )
    # random_crop (transform.py:83-105)
    if not (frames.shape[2] == crop and frames.shape[3] == crop):
        height, width = frames.shape[2], frames.shape[3]
        y_offset = 0
        if height > crop:
            y_offset = int(np_random.randint(0, height - crop))
        x_offset = 0
        if width > crop:
            x_offset = int(np_random.randint(0, width - crop))
        frames = frames[:, :, y_offset : y_offset + crop, x_offset : x_offset + crop]
    # horizontal_flip(0.5) (transform.py:108-121)
    if np_random.uniform() < 0.5:
        frames = frames.flip(-1)
    return frames


@pytest.mark.parametrize("shape", [(3, 4, 40, 57), (3, 4, 57, 40), (3, 2, 40, 40), (3, 2, 32, 45)])
def test_the_augmentation_is_the_reference_formulas(shape: tuple[int, int, int, int]) -> None:
    frames = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    protocol = SeedProtocol(min_scale=32, max_scale=48, crop=28)
    for seed in range(40):
        rng = np.random.default_rng(seed)
        expected = _reference(frames, 32, 48, 28, copy.deepcopy(rng))
        got = protocol.apply(frames, rng)
        assert got.shape == (shape[0], shape[1], 28, 28) and got.is_contiguous()
        assert torch.equal(got, expected), seed


def test_jitter_sizes_stay_in_range_and_short_side_matches_are_left_alone() -> None:
    frames = torch.zeros(3, 1, 30, 50)
    short_sides = set()
    for seed in range(300):
        scaled = short_side_scale_jitter(frames, 30, 34, np.random.default_rng(seed))
        short_sides.add(scaled.shape[2])
        assert scaled.shape[3] == math.floor(50 / 30 * scaled.shape[2])  # long side floored
        if scaled.shape[2] == 30:
            assert scaled is frames  # already there: no resampling at all
    assert short_sides == {30, 31, 32, 33, 34}  # int(round(uniform(min, max))): both ends reachable


def test_crop_offsets_exclude_the_upper_end_and_flips_mirror() -> None:
    columns = torch.arange(31, dtype=torch.float32).expand(3, 2, 28, 31)  # each pixel holds its column
    lefts, flips = set(), 0
    for seed in range(400):
        rng = np.random.default_rng(seed)
        cropped = random_crop(columns, 28, rng)
        assert cropped.shape[-2:] == (28, 28)
        lefts.add(int(cropped[0, 0, 0, 0]))
        flipped = horizontal_flip(0.5, cropped, rng)
        if not torch.equal(flipped, cropped):
            flips += 1
            assert torch.equal(flipped, cropped.flip(-1))
    assert lefts == {0, 1, 2}  # np.random.randint(0, 31 - 28): 3 itself never drawn
    assert 150 < flips < 250
    square = torch.randn(3, 2, 28, 28)
    assert random_crop(square, 28, np.random.default_rng(0)) is square
    one_more = torch.randn(3, 2, 28, 29)
    for seed in range(20):  # randint(0, 1) is always 0
        assert torch.equal(random_crop(one_more, 28, np.random.default_rng(seed)), one_more[..., :28])


def test_scales_follow_the_seed_scripts() -> None:
    assert SeedProtocol.for_preprocessing(vm.Preprocessing.for_video(224)) == SeedProtocol(256, 320, 224)
    big = SeedProtocol.for_preprocessing(vm.Preprocessing.for_video(448), seed=3)
    assert big == SeedProtocol(448, 448, 448, seed=3)
    assert JITTER_SCALES[224] == (256, 320)
    assert SeedProtocol.for_preprocessing(vm.Preprocessing.for_video(56)) == SeedProtocol(56, 56, 56)
    with pytest.raises(ValueError, match="area"):
        SeedProtocol.for_preprocessing(vm.Preprocessing.for_images(224))
    with pytest.raises(ValueError, match="crop <= min_scale"):
        SeedProtocol(200, 320, 224)
    assert input_seed(0, "a.mp4", "start") == input_seed(0, "a.mp4", "start")
    assert len({input_seed(0, "a.mp4", "start"), input_seed(1, "a.mp4", "start"), input_seed(0, "b.mp4", "start"),
                input_seed(0, "a.mp4", "pixels")}) == 4  # fmt: skip


# ----------------------------------------------------------------------------- the read path
def _gradient_video(path: Path, frames: int = 24) -> Path:
    """48x64 frames with smooth gradients and a per-frame shift (so scale, crop and flip all show)."""
    y, x = np.mgrid[0:48, 0:64]
    video = np.stack([np.stack([(x * 3 + t * 5) % 256, y * 4, (x + y + 7 * t) % 256], axis=-1) for t in range(frames)])
    return write_video(path, video.astype(np.uint8))


PRE = vm.Preprocessing.for_video(40, num_frames=4).with_sampling_rate(2)  # short side 40 in the recipe
JITTERED = SeedProtocol(min_scale=44, max_scale=60, crop=40, seed=7)


def test_a_clip_is_the_loaders_frames_of_its_draw_whole_and_augmented(tmp_path: Path) -> None:
    path = _gradient_video(tmp_path / "g.mp4")
    [clip] = read_clips(path, preprocessing=PRE, protocol=JITTERED)
    assert clip.frames.shape == (3, 4, 40, 40) and clip.window == 0 and clip.crop == 0
    # decoder.py: start_idx = random.uniform(0, delta) frames, then the frames of that pts window
    draw = random.Random(input_seed(7, str(path), "start")).random()
    assert JITTERED.draw(str(path)) == draw
    loader = TrainingLoader(path)
    wanted = loader.clip(4, 2, -1, draw=draw)
    assert clip.times == tuple(float(loader.seconds[i]) for i in wanted)
    # the same frames, whole at min_scale, then augmented by the input's generator
    whole = _whole_frames(path, [loader.seconds[i] for i in wanted], FramePixels(PRE, full_frame=44))
    assert whole[0].shape == (3, 44, 59)  # area rule: round(64 * 44 / 48) = 58.67 -> 59
    expected = JITTERED.apply(torch.stack(whole, dim=1), JITTERED.generator(str(path)))
    assert torch.equal(clip.frames, expected)
    again = read_clips(path, preprocessing=PRE, protocol=JITTERED)[0]
    assert torch.equal(again.frames, clip.frames)
    other = read_clips(path, preprocessing=PRE, protocol=SeedProtocol(44, 60, 40, seed=8))[0]
    assert not torch.equal(other.frames, clip.frames)


def _whole_frames(path: Path, times: list[Fraction], pixels: FramePixels) -> list[torch.Tensor]:
    """The whole, normalized frames [3, H, W] shown at ``times`` (seconds from the first frame)."""
    with open_source(path, pixels) as source:
        picked = source.pick(times)
    return [p.value.pixels[0] for p in picked]


def test_stills_and_frame_folders_take_the_protocol_too(tmp_path: Path) -> None:
    from PIL import Image

    still = tmp_path / "still.png"
    picture = np.random.default_rng(0).integers(0, 255, (48, 64, 3)).astype(np.uint8)
    Image.fromarray(picture).save(still)
    [clip] = read_clips(still, preprocessing=PRE, protocol=JITTERED)
    assert clip.frames.shape == (3, 4, 40, 40)
    assert all(torch.equal(clip.frames[:, 0], clip.frames[:, t]) for t in range(4))  # one picture, every frame
    whole = FramePixels(PRE, full_frame=44).rgb(picture)[0]  # [3, 44, 59]
    expected = JITTERED.apply(whole.unsqueeze(1), JITTERED.generator(str(still)))
    assert torch.equal(clip.frames[:, :1], expected)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(12):
        Image.fromarray(np.roll(picture, 3 * i, axis=1)).save(folder / f"{i:03d}.png")
    [frames] = read_clips(folder, preprocessing=PRE, protocol=JITTERED)
    assert frames.frames.shape == (3, 4, 40, 40) and frames.info.kind == "frames"
    for i in range(1, 12, 2):  # every other frame of another size: a clip (frames 0, 2, 4, 7 on) holds both
        Image.fromarray(picture[:40]).save(folder / f"{i:03d}.png")
    with pytest.raises(VideoError, match="frames of different sizes"):
        read_clips(folder, preprocessing=PRE, protocol=SeedProtocol(44, 60, 40, seed=0))
    with pytest.raises(ValueError, match="one random window and crop of its own"):
        read_clips(still, "uniform:2", preprocessing=PRE, protocol=JITTERED)


def test_decoding_workers_do_not_change_a_single_pixel(tmp_path: Path) -> None:
    paths = [_gradient_video(tmp_path / f"{k}.mp4", frames=18 + 3 * k) for k in range(4)]

    def frames(workers: int) -> dict[str, torch.Tensor]:
        dataset = ClipChunks(paths, preprocessing=PRE, protocol=JITTERED)
        loader = DataLoader(dataset, batch_size=1, num_workers=workers, collate_fn=collate)
        return {item.source: item.frames for batch in loader for item in batch}

    alone, shared = frames(0), frames(2)
    assert alone.keys() == shared.keys() == {str(p) for p in paths}
    assert all(torch.equal(alone[k], shared[k]) for k in alone)
    assert not torch.equal(alone[str(paths[0])], alone[str(paths[1])])


# ----------------------------------------------------------------------------- the command
@pytest.fixture
def coloured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three classes of coloured videos and ``tiny_rgb``, whose fitted head names them (``coloured.py``)."""
    root, catalog = write_coloured_set(tmp_path, PER_CLASS)
    use_catalog(monkeypatch, catalog)
    return root


def _run(root: Path, out: Path, *args: object) -> tuple[dict, np.ndarray]:
    """eval.json and the views' logits of one ``vidm evaluate`` run."""
    result = invoke("evaluate", root, "--model", "tiny_rgb", "--sampling-rate", "2", *args, "--out", out)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return json.loads((out / "eval.json").read_text()), np.load(out / "views.logits.npy")


def test_reruns_agree_exactly_and_another_seed_differs(coloured: Path, tmp_path: Path) -> None:
    first, logits = _run(coloured, tmp_path / "a", *SEED, "--workers", "0")
    again, same = _run(coloured, tmp_path / "b", *SEED, "--workers", "0", "--seed", "0")
    pooled, parallel = _run(coloured, tmp_path / "c", *SEED, "--workers", "2")
    _, other = _run(coloured, tmp_path / "d", *SEED, "--workers", "0", "--seed", "1")
    assert logits.shape == (3 * PER_CLASS, 3)
    assert np.array_equal(logits, same) and np.array_equal(logits, parallel)
    assert first["scores"] == again["scores"] == pooled["scores"]
    assert not np.array_equal(logits, other)
    assert first["protocol"] == {"name": "seed", "min_scale": 56, "max_scale": 56, "crop": 56, "flip": True, "seed": 0}
    assert first["views"] == {"clips": "random:1", "crops": 1, "dtype": "float32"}
    assert first["scores"]["clips"] == 3 * PER_CLASS
    run = json.loads((tmp_path / "a" / "views.run.json").read_text())
    assert run["settings"]["protocol"] == "seed" and run["settings"]["seed"] == 0
    standard, _ = _run(coloured, tmp_path / "s", *FAST)
    assert standard["protocol"] == {"name": "standard"}


def test_the_library_gives_the_command_s_numbers(coloured: Path, tmp_path: Path) -> None:
    record, _ = _run(coloured, tmp_path / "e", *SEED, "--seed", "5", "--workers", "0")
    scores = vm.evaluate("tiny_rgb", coloured, protocol="seed", seed=5, workers=0, sampling_rate=2, device="cpu")
    assert scores is not None and scores.to_dict() == record["scores"]


def test_many_views_or_a_stray_seed_are_refused(coloured: Path, tmp_path: Path) -> None:
    many = invoke("evaluate", coloured, "--model", "tiny_rgb", *SEED, "--views", "5x3", "--out", tmp_path / "x")
    assert many.exit_code == 2 and "one random clip and one crop per input: use 1x1, not 5x3" in many.output
    stray = invoke("evaluate", coloured, "--model", "tiny_rgb", "--seed", "3", "--out", tmp_path / "y")
    assert stray.exit_code == 2 and "only applies to --protocol seed" in stray.output
    unknown = invoke("evaluate", coloured, "--model", "tiny_rgb", "--protocol", "val", "--out", tmp_path / "z")
    assert unknown.exit_code == 2 and "standard, seed" in unknown.output
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_resume_refuses_another_protocol_or_seed(coloured: Path, tmp_path: Path) -> None:
    out = tmp_path / "e"
    _run(coloured, out, *SEED, "--workers", "0")
    other_seed = invoke("evaluate", coloured, "--model", "tiny_rgb", *FAST, *SEED, "--seed", "2", "--out", out)
    assert other_seed.exit_code != 0 and "other settings" in other_seed.output and "seed 0 -> 2" in other_seed.output
    standard = invoke("evaluate", coloured, "--model", "tiny_rgb", *FAST, "--out", out)
    assert standard.exit_code != 0 and "protocol 'seed' -> 'standard'" in standard.output
    _run(coloured, out, *SEED, "--workers", "0")  # the same protocol and seed resume


def test_settings_written_before_the_protocol_read_as_standard(coloured: Path) -> None:
    entry = vm.get_model_entry("tiny_rgb")
    settings = view_settings(entry, "1x1", sampling_rate=2)
    old = settings.to_dict()
    del old["protocol"], old["seed"]
    read = EmbedSettings.from_dict(old)
    assert read.protocol == "standard" and read.seed == 0 and read.differences(settings) == []
    seeded = view_settings(entry, "1x1", protocol="seed", seed=4)
    assert EmbedSettings.from_dict(seeded.to_dict()) == seeded and seeded.differences(settings)
    with pytest.raises(ValueError, match="settings fields differ"):
        EmbedSettings.from_dict({**old, "shiny": 1})


def test_image_models_and_odd_settings_are_refused(coloured: Path) -> None:
    entry = vm.get_model_entry("tiny_rgb")
    seeded = view_settings(entry, "1x1", protocol="seed", seed=4)
    images = vm.Preprocessing.for_images(56)
    with pytest.raises(InvalidSetting, match="finetuned on images"):
        EmbedSettings(**{**seeded.__dict__, "preprocessing": images})
    with pytest.raises(InvalidSetting, match="one random clip and crop"):
        EmbedSettings(**{**seeded.__dict__, "clips": "center"})
    with pytest.raises(InvalidSetting, match="only applies to the seed protocol"):
        view_settings(entry, "1x1", seed=4)


def test_float16_by_default_only_for_the_seed_protocol_on_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    import vidmenagerie.tasks.evaluate.predict as predict

    assert protocol_dtype("seed", None, "cpu") == protocol_dtype("standard", None, "cpu") == "float32"
    monkeypatch.setattr(predict, "resolve_device", lambda device: torch.device("cuda"))
    assert protocol_dtype("seed", None, "cuda") == "float16"
    assert protocol_dtype("standard", None, "cuda") == "float32"
    assert protocol_dtype("seed", "bfloat16", "cuda") == "bfloat16"  # an explicit --dtype wins


def test_every_draw_takes_the_loaders_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 25 fps and a 1/12800 time base: the drawn start is fractional, the window begins at the first frame
    # at or after it and holds one frame fewer than the 20 the clip spans (its last frame repeats) unless
    # the start falls within a tick of a frame. Names relative to the folder, so the draws are the same
    # on every run.
    monkeypatch.chdir(tmp_path)
    video = write_video(Path("v.mp4"), np.zeros((60, 16, 16, 3), np.uint8), fps=25)
    loader = TrainingLoader(video)
    pre = vm.Preprocessing.for_video(16, num_frames=8).with_sampling_rate(3)  # 20 of 60 frames per clip
    protocol = SeedProtocol(16, 16, 16, flip=False)
    repeated = 0
    for k in range(40):
        name = Path(f"v{k}.mp4")
        name.symlink_to(video.name)
        [clip] = read_clips(name, preprocessing=pre, protocol=protocol)
        wanted = loader.clip(8, 3, -1, draw=protocol.draw(str(name)))
        assert clip.times == tuple(float(loader.seconds[i]) for i in wanted), name
        repeated += clip.info.repeated_frames > 0
    assert repeated == 39  # all but one window one frame short (that start falls within a tick of a frame)


def test_draws_are_per_input_and_in_the_unit_interval() -> None:
    protocol = SeedProtocol(56, 56, 56)
    draws = [protocol.draw(f"v{k}.mp4") for k in range(1000)]
    assert all(0 <= x < 1 for x in draws) and len(set(draws)) == 1000
    assert draws == [SeedProtocol(56, 56, 56).draw(f"v{k}.mp4") for k in range(1000)]
    assert SeedProtocol(56, 56, 56, seed=1).draw("v0.mp4") != draws[0]
