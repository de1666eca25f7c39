"""Shared fixtures: isolated environment per test, reference data, tiny models and catalogues."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from vidmenagerie import catalog as catalog_module

from tiny import toml_entry, write_checkpoint

if TYPE_CHECKING:
    from hubserver import HubServer

pytest_plugins = ("hubserver",)  # the hub_server and hf_sleeps fixtures

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Stable terminal output and a fresh process-wide catalogue for every test."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("VIDM_NO_HINTS", "1")  # the bfloat16 hint depends on the CPU: tests that want it unset this
    monkeypatch.delenv("VIDM_CATALOG", raising=False)
    monkeypatch.delenv("VIDM_DEBUG", raising=False)
    monkeypatch.setenv("VIDM_CACHE_DIR", str(tmp_path / "vidm-cache"))  # checkpoints verified once, per test
    catalog_module.reset_catalog()
    yield
    catalog_module.reset_catalog()


@pytest.fixture
def reference() -> Path:
    """``../shared/reference`` (tiny checkpoints and reference outputs); skipped where absent."""
    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference is not available")
    return REFERENCE


# --------------------------------------------------------------------------- Hub stand-in + tiny models
TINY_REPO = "me/tiny-models"


@pytest.fixture
def tiny_catalog(tmp_path: Path, hub_server: HubServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A TOML catalogue of tiny models, served by the Hub stand-in (and one local file), registered.

    ``tiny_mae`` and ``tiny_vit`` share ``mae.pth`` (like ``mae_s_none``/``vit_s_none``);
    ``tiny_cls`` is a 5-class finetuned encoder, ``tiny_img`` the same file with the ImageNet
    finetuning recipe (bicubic, ImageNet statistics); ``tiny_local`` reads a local file.
    """
    files = tmp_path / "files"
    mae = write_checkpoint(files / "mae.pth", "mae", seed=0)
    cls = write_checkpoint(files / "cls.pth", "vit", seed=1, num_classes=5)
    write_checkpoint(tmp_path / "catalog" / "local.pth", "mae", seed=2)
    hub_server.add_file(TINY_REPO, "mae.pth", mae.read_bytes())
    hub_server.add_file(TINY_REPO, "cls.pth", cls.read_bytes())
    (tmp_path / "catalog" / "labels.json").write_text('["zero", "one", "two", "three", "four"]')
    path = tmp_path / "catalog" / "tiny.toml"
    path.write_text(
        toml_entry("tiny_mae", "mae", repo_id=TINY_REPO, filename="mae.pth", description="tiny MAE")
        + toml_entry("tiny_vit", "vit", repo_id=TINY_REPO, filename="mae.pth")
        + toml_entry("tiny_cls", "vit", repo_id=TINY_REPO, filename="cls.pth", num_classes=5, labels="labels.json")
        + toml_entry("tiny_img", "vit", repo_id=TINY_REPO, filename="cls.pth", num_classes=5, resize="bicubic")
        + toml_entry("tiny_local", "mae", checkpoint="local.pth")
    )
    monkeypatch.setenv("VIDM_CATALOG", str(path))
    from vidmenagerie.catalog import reset_catalog

    reset_catalog()
    return path
