"""The README's examples run as written: its Python block, and its catalogue TOML.

The Python block names ``vit_s_ssv2-50shot``, a ViT-H/14 (2.5 GB, ~20 s a clip on a CPU): here it
is swapped for a tiny twin with the same head (174 Something-Something classes, ``labels = "ssv2"``)
served by the Hub stand-in, so every line runs, in a fresh process, in an empty folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from hubserver import HubServer
from stores import write_output
from tiny import TINY_ARCH, toml_entry, write_checkpoint

README = Path(__file__).resolve().parents[1] / "README.md"
TWINS = {"vit_s_ssv2-50shot": "tiny_ssv2"}  # a ViT-H name -> the tiny model standing in for it


def blocks(language: str) -> list[str]:
    """The README's fenced code blocks of ``language``, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def test_the_python_example_runs_as_written(hub_server: HubServer, tmp_path: Path) -> None:
    code = blocks("python")[0]
    checkpoint = write_checkpoint(tmp_path / "files" / "ssv2.pth", "vit", seed=3, num_classes=174)
    hub_server.add_file("me/tiny-models", "ssv2.pth", checkpoint.read_bytes())
    catalog = tmp_path / "twins.toml"
    catalog.write_text(
        toml_entry("tiny_ssv2", "vit", repo_id="me/tiny-models", filename="ssv2.pth", num_classes=174, labels="ssv2")
    )
    for name, twin in TWINS.items():
        assert name in code
        code = code.replace(name, twin)
    code += "\nprint('LOGITS', tuple(logits.shape)); print('LABEL', vm.load_labels(entry.labels)[int(logits.argmax())])"
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, **hub_server.env, "VIDM_CATALOG": str(catalog)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "LOGITS (1, 174)" in result.stdout and "LABEL " in result.stdout
    assert (work / "tiny.pth").is_file()  # the custom-checkpoint part saves before it loads


def test_the_catalogue_example_is_read_as_written(tmp_path: Path) -> None:
    [toml] = blocks("toml")
    (tmp_path / "catalog.toml").write_text(toml)
    write_checkpoint(tmp_path / "tiny_mae.pth", "mae")  # the local file its first entry names
    (tmp_path / "labels.json").write_text('["a", "b", "c", "d", "e"]')
    assert TINY_ARCH["embed_dim"] == 64  # the example's tiny_mae is tests/tiny.py's architecture
    env = {**os.environ, "VIDM_CATALOG": str(tmp_path / "catalog.toml"), "HF_HUB_OFFLINE": "1"}
    listed = subprocess.run(
        [sys.executable, "-m", "vidmenagerie", "list", "tiny_*"], env=env, capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == ["tiny_mae", "tiny_cls"]
    code = "import vidmenagerie as vm; m = vm.load_model('tiny_mae'); print(type(m).__name__)"
    loaded = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0 and loaded.stdout.strip(), loaded.stderr


def test_the_compare_example_runs_as_written(tmp_path: Path) -> None:
    """The ``vidm compare`` Python block, on two outputs and a human RDM of 30 inputs written here."""
    [code] = [b for b in blocks("python") if "vm.compare(" in b]
    videos = [f"/stimuli/s{i:02d}.mp4" for i in range(30)]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 1280)).astype(np.float32)
    write_output(tmp_path / "say.npy", x, videos, model="vit_say_none")
    write_output(tmp_path / "kinetics.npy", x + rng.standard_normal((30, 1280)).astype(np.float32), videos,
                 model="vit_kinetics_none")  # fmt: skip
    human = rng.random((30, 30))
    human = human + human.T
    (tmp_path / "human.csv").write_text(
        ",".join(f"s{i:02d}" for i in range(30)) + "\n" + "\n".join(",".join(f"{v:.4f}" for v in r) for r in human)
    )
    code += "\nprint('NAMES', result.names('rsa')); print('PAIR', sorted(result.pairs()[0]))"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "NAMES ['vit_say_none:31', 'vit_kinetics_none:31', 'human']" in result.stdout
    assert "PAIR ['a', 'b', 'high', 'low', 'metric', 'n', 'p', 'value']" in result.stdout
