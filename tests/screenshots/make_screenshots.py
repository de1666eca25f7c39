"""The README's report screenshots, made from the demo clip: one run of each batch command, then
its ``index.html`` opened in headless Chromium and photographed (the top of the page).

Run from the repository root (needs the ``chromium`` package)::

    python tests/screenshots/make_screenshots.py           # the published models (downloads them)
    python tests/screenshots/make_screenshots.py --tiny    # tiny test checkpoints, no download

The inputs are the demo clip and pieces of it: ``complete`` and ``attend`` take four clips of the
demo; ``embed``, ``evaluate`` and ``classify`` six 2 s pieces of it (every other one mirrored) in three group
folders, labelled by a ``labels.csv`` with the classifier's first three classes (so the labels say
nothing about the content). A file that is not a video goes into every run, so that every page
shows its failures. ``--tiny`` writes tiny checkpoints of seeded random weights (64 wide, 2 blocks,
56 px; ``tests/tiny.py``) and needs nothing outside the project: the pictures then show the page,
not a model's skill.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/ for browser.py, tiny.py and videos.py

from browser import Browser, find_chromium  # noqa: E402

from vidmenagerie.video.demo import demo_video_path  # noqa: E402

from tiny import toml_entry, write_checkpoint  # noqa: E402
from videos import write_video  # noqa: E402

TINY_LABELS = ["ball", "square", "triangle", "pan", "sky"]
PIECES = 6


@dataclass(frozen=True)
class Models:
    """Which model each page is made with."""

    mae: str
    vit: str
    classifier: str


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny checkpoints of seeded random weights (tests/tiny.py)")
    parser.add_argument("--out", type=Path, default=HERE, help="where the PNGs go (default: beside this script)")
    parser.add_argument("--keep", type=Path, help="keep the runs' output folders here")
    parser.add_argument("--width", type=int, default=1280, help="browser window width in CSS pixels")
    parser.add_argument("--height", type=int, default=1400, help="browser window height in CSS pixels")
    args = parser.parse_args()
    browser = find_chromium()
    if browser is None:
        sys.exit("no Chromium found: install Debian's chromium package (apt install chromium)")
    work = args.keep or Path(tempfile.mkdtemp(prefix="vidm-shots-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NO_COLOR": "1"}
    if args.tiny:
        models = Models("tiny_mae", "tiny_vit", "tiny_cls")
        env["VIDM_CATALOG"] = str(_tiny_catalog(work))
    else:
        models = Models("mae_s_none", "vit_s_none", "vit_s_ssv2-50shot")
    pages = _runs(work, models, env)
    args.out.mkdir(parents=True, exist_ok=True)
    with Browser(browser, width=args.width, height=args.height) as page:
        for kind, where in pages.items():
            page.open(where, settle=1.0)
            if page.errors():
                sys.exit(f"{kind}: the page logged errors: {page.errors()}")
            shot = page.screenshot(work / f"{kind}.png", full_page=False)
            target = args.out / f"report-{kind}.png"
            _shrink(shot, target)
            print(f"{target} ({target.stat().st_size // 1024} KiB)")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


def _runs(work: Path, models: Models, env: dict[str, str]) -> dict[str, Path]:
    """Run the seven batch commands as a user would; return each one's page (``index.html``, ``feats.html``)."""
    demo = demo_video_path()
    broken = work / "inputs" / "broken.mp4"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text("this is not a video")
    labelled = _pieces(demo, work / "labelled")
    (labelled / "broken.mp4").write_text("not a video either")
    table = _label_table(labelled, models.classifier, env)
    out = {kind: work / kind for kind in ("complete", "attend", "embed", "evaluate", "classify", "probe", "compare")}
    _vidm(env, "complete", demo, broken, "--model", models.mae, "--clip", "uniform:4", "--animate",
          "--out", out["complete"])  # fmt: skip
    _vidm(env, "attend", demo, broken, "--model", models.vit, "--clip", "uniform:4", "--heads", "all",
          "--animate", "--out", out["attend"])  # fmt: skip
    _vidm(env, "embed", labelled, "--model", models.classifier, "--clips", "uniform:4", "--top-k", "5",
          "--out", out["embed"] / "feats.npy")  # fmt: skip
    _vidm(env, "evaluate", table, "--model", models.classifier, "--views", "2x1", "--out", out["evaluate"])
    _vidm(env, "classify", labelled, "--model", models.classifier, "--out", out["classify"])
    _vidm(env, "probe", table, "--model", models.vit, "--layers", "all", "--shots", "1,all", "--seeds", "3",
          "--folds", "2", "--out", out["probe"])  # fmt: skip
    layered = []
    for model in (models.vit, models.classifier):
        layered.append(work / "layers" / f"{model}.npy")
        _vidm(env, "embed", labelled, "--model", model, "--layer", "all", "--reduce", "mean", "--out", layered[-1])
    _vidm(env, "compare", *layered, "--rdm", _group_rdm(labelled), "--bootstrap", "100", "--permutations", "100",
          "--out", out["compare"])  # fmt: skip
    return {kind: folder / "index.html" for kind, folder in out.items()} | {"embed": out["embed"] / "feats.html"}


def _vidm(env: dict[str, str], *args: object) -> None:
    """``vidm ARGS``; exit 1 (some input failed, as planned) is fine, anything else stops."""
    command = [sys.executable, "-m", "vidmenagerie", *map(str, args)]
    print("$ vidm " + " ".join(map(str, args)), flush=True)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"vidm {args[0]} failed (exit {done.returncode}):\n{done.stderr}")


def _pieces(demo: Path, root: Path) -> Path:
    """``PIECES`` overlapping 2 s pieces of the demo, every other one mirrored, in three group folders."""
    with av.open(str(demo)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    length = 60
    for k, start in enumerate(np.linspace(0, len(frames) - length, PIECES).astype(int)):
        piece = frames[start : start + length]
        piece = piece[:, :, ::-1] if k % 2 else piece
        name = f"group-{'abc'[k % 3]}/piece{k}{'-mirrored' if k % 2 else ''}.mp4"
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        write_video(root / name, np.ascontiguousarray(piece), codec="libx264", options={"crf": "23"},
                    pix_fmt="yuv420p")  # fmt: skip
    return root


def _label_table(root: Path, model: str, env: dict[str, str]) -> Path:
    """``labels.csv`` beside the pieces: group k's pieces get the classifier's class k (and the
    file that is not a video a label too, so it shows as a failure, not as missing)."""
    os.environ.update(env)  # the catalogue the runs use
    from vidmenagerie.catalog import default_catalog
    from vidmenagerie.tasks.evaluate.predict import class_names

    classes = class_names(default_catalog().get(model))
    table = root / "labels.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label"])
        for path in sorted(root.rglob("*.mp4")):
            group = path.parent.name.removeprefix("group-")
            writer.writerow([path.relative_to(root).as_posix(), classes["abc".find(group) if group in "abc" else 0]])
    return table


def _group_rdm(root: Path) -> Path:
    """A people's-data stand-in for ``compare --rdm``: pieces of one group folder at dissimilarity 0,
    of different groups at 1 (a CSV with a header row of input names)."""
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.mp4") if p.name != "broken.mp4")
    table = root.parent / "groups.rdm.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["", *names])
        for a in names:
            writer.writerow([a, *(0 if a.split("/")[0] == b.split("/")[0] else 1 for b in names)])
    return table


def _tiny_catalog(work: Path) -> Path:
    """A catalogue of tiny checkpoints in the published layout (seeded random weights, written by
    ``tests/tiny.py``: nothing outside the project is needed), with class names that fit the demo."""
    labels = work / "tiny-labels.json"
    labels.write_text(json.dumps(TINY_LABELS))
    catalog = work / "tiny.toml"
    mae = write_checkpoint(work / "mae_tiny.pth", "mae", seed=0).as_posix()
    cls = write_checkpoint(work / "vit_tiny_5cls.pth", "vit", seed=1, num_classes=len(TINY_LABELS)).as_posix()
    catalog.write_text(
        toml_entry("tiny_mae", "mae", checkpoint=mae)
        + toml_entry("tiny_vit", "vit", checkpoint=mae)
        + toml_entry("tiny_cls", "vit", checkpoint=cls, num_classes=5, labels=labels.as_posix())
    )
    return catalog


def _shrink(shot: Path, target: Path, width: int = 1000) -> None:
    """The screenshot at ``width`` pixels wide, as a small PNG (a palette of 256 colours)."""
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
        small = rgb.resize((width, round(rgb.height * width / rgb.width)), Image.Resampling.LANCZOS)
        small.quantize(256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


if __name__ == "__main__":
    main()
