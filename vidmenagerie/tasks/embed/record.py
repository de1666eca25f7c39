"""``run.json``: what an output is (settings, model, checkpoint, inputs, counts, versions), and the resume check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...batch.outputs import write_json
from ...errors import OutputError
from .settings import EmbedSettings


def read_record(path: Path) -> dict[str, Any] | None:
    """An output's ``run.json``, or None when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        record = json.loads(text)
        EmbedSettings.from_dict(record["settings"])
    except (ValueError, KeyError, TypeError) as exc:
        raise OutputError(
            f"{path}: not a vidm embed run record ({exc})", path=str(path), problem="not-a-record"
        ) from None
    return record


def record_settings(record: dict[str, Any]) -> EmbedSettings:
    """The settings a ``run.json`` holds."""
    return EmbedSettings.from_dict(record["settings"])


def check_resumable(record: dict[str, Any], settings: EmbedSettings, where: Path) -> None:
    """Refuse to mix rows made with other settings into ``where``, naming every difference."""
    changed = settings.differences(record_settings(record))
    if changed:
        raise OutputError(
            f"{where} holds rows made with other settings ({'; '.join(changed)})",
            path=str(where),
            problem="other-settings",
        )


def check_output(run_json: Path, settings: EmbedSettings, where: Path, *, resume: bool = True) -> dict[str, Any] | None:
    """The existing ``run.json`` of an output, after checking that ``settings`` may resume it (None if new)."""
    record = read_record(run_json) if resume else None
    if record is not None:
        check_resumable(record, settings, where)
    return record


def write_record(path: Path, record: dict[str, Any]) -> None:
    """Write ``run.json`` atomically."""
    write_json(path, record)
