"""Shared fixtures: isolated environment per test, reference data, tiny models and catalogues."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidmenagerie import catalog as catalog_module

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Stable terminal output and a fresh process-wide catalogue for every test."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.delenv("VIDM_CATALOG", raising=False)
    monkeypatch.delenv("VIDM_DEBUG", raising=False)
    catalog_module.reset_catalog()
    yield
    catalog_module.reset_catalog()


@pytest.fixture
def reference() -> Path:
    """``../shared/reference`` (tiny checkpoints and reference outputs); skipped where absent."""
    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference is not available")
    return REFERENCE
