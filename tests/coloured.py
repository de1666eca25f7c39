"""A labelled set whose right answers are known: short videos of three plain colours, and a
catalogue entry ``tiny_rgb`` whose head (fitted by least squares on their features) names them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

import vidmenagerie as vm
from vidmenagerie.catalog import CATALOG_ENV, reset_catalog

from tiny import TINY_ARCH, tiny_state_dict, toml_entry
from videos import write_video

CLASSES = ("red", "green", "blue")


def coloured_video(colour: int, seed: int) -> np.ndarray:
    """20 frames of 48x64 noise with one colour channel lifted well above the others."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 90, (20, 6, 8, 3)).astype(np.uint8)
    frames[..., colour] += 150
    return np.repeat(np.repeat(frames, 8, axis=1), 8, axis=2)


def write_coloured_set(folder: Path, per_class: int) -> tuple[Path, Path]:
    """``folder/set/<class>/<k>.mp4`` and ``folder/catalog/cat.toml`` naming ``tiny_rgb``; returns both."""
    root = folder / "set"
    for colour, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for k in range(per_class):
            write_video(root / name / f"{k}.mp4", coloured_video(colour, 10 * colour + k))
    encoder = {k: v for k, v in TINY_ARCH.items() if not k.startswith("decoder")}
    state = tiny_state_dict("vit", seed=0, num_classes=3)
    model = vm.create_model("vit", num_classes=3, **encoder)
    model.load_state_dict(state)
    model.eval()
    pre = vm.Preprocessing.for_video(56, num_frames=4).with_sampling_rate(2)
    paths = sorted(root.rglob("*.mp4"))
    clips = torch.stack([vm.read_clip(p, preprocessing=pre).frames for p in paths])
    with torch.no_grad():
        features = vm.embed(model, clips).double()
    targets = torch.zeros(len(paths), 3, dtype=torch.float64)
    for i, path in enumerate(paths):
        targets[i, CLASSES.index(path.parent.name)] = 10.0
    design = torch.cat([features, torch.ones(len(paths), 1, dtype=torch.float64)], dim=1)
    solution = torch.linalg.lstsq(design, targets).solution  # [65, 3]
    state["head.weight"] = solution[:-1].T.float().contiguous()
    state["head.bias"] = solution[-1].float().contiguous()
    catalog = folder / "catalog"
    catalog.mkdir()
    torch.save({"model": state}, catalog / "rgb.pth")
    (catalog / "rgb.json").write_text(json.dumps(list(CLASSES)))
    (catalog / "cat.toml").write_text(
        toml_entry("tiny_rgb", "vit", checkpoint="rgb.pth", num_classes=3, labels="rgb.json")
    )
    return root, catalog / "cat.toml"


def use_catalog(monkeypatch: object, path: Path) -> None:
    """Make ``path`` the process-wide catalogue for this test."""
    monkeypatch.setenv(CATALOG_ENV, str(path))  # type: ignore[attr-defined]
    reset_catalog()
