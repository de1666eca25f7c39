"""``run.json``: what an output is (settings, model, checkpoint, inputs, counts, versions), and the resume check."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..batch.fingerprint import describe_change, same_checkpoint
from ..batch.lock import refuse_if_locked
from ..batch.outputs import write_json
from ..errors import OutputError
from .layout import OutputLayout
from .manifest import read_videos
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


def inputs_digest(videos: Sequence[str | Path]) -> str:
    """SHA-256 of the input list (absolute paths, in order): two runs over other inputs never mix."""
    return hashlib.sha256(b"\n".join(os.fsencode(os.path.abspath(v)) for v in videos)).hexdigest()  # any name


def check_resumable(
    record: dict[str, Any], settings: EmbedSettings, layout: OutputLayout, inputs: Sequence[str | Path] | None = None
) -> None:
    """Refuse to mix rows made with other settings into an output, or to drop inputs it holds.

    An input list that keeps every earlier input (a folder that grew) resumes; one that leaves
    earlier inputs out would replace their rows, so it is refused.
    """
    where = layout.out
    changed = settings.differences(record_settings(record))
    if changed:
        raise OutputError(
            f"{where} holds rows made with other settings ({'; '.join(changed)})",
            path=str(where),
            problem="other-settings",
        )
    before = record.get("inputs") or {}
    if inputs is None or before.get("sha256") == inputs_digest(inputs):
        return
    try:
        earlier = [s.video for s in read_videos(layout.videos)]
    except (OSError, ValueError, KeyError):
        earlier = None
    now = {os.path.abspath(v) for v in inputs}
    dropped = None if earlier is None else [v for v in earlier if os.path.abspath(v) not in now]
    if dropped == []:
        return
    what = (
        f"{len(dropped)} of its {len(earlier or [])} inputs are not in this run's list (e.g. {dropped[0]})"
        if dropped
        else "the input list differs"
    )
    raise OutputError(
        f"{where} holds a run over other inputs: {what}",
        path=str(where),
        problem="other-inputs",
    )


def check_checkpoint(record: dict[str, Any], now: dict[str, Any] | None, where: Path) -> None:
    """Refuse to resume ``where`` when the checkpoint file its rows came from has changed."""
    before = record.get("checkpoint_fingerprint")
    if not same_checkpoint(before, now):
        assert before is not None and now is not None
        raise OutputError(
            f"{where} holds rows of another checkpoint: {record.get('checkpoint_file')} changed since "
            f"({describe_change(before, now)})",
            path=str(where),
            problem="other-settings",
        )


def check_output(
    layout: OutputLayout,
    settings: EmbedSettings,
    *,
    resume: bool = True,
    inputs: Sequence[str | Path] | None = None,
) -> dict[str, Any] | None:
    """The existing ``run.json`` of an output, after checking that ``settings`` (and ``inputs``,
    when given) may resume it (None if new, or when not resuming). An output another run is
    writing is refused first."""
    refuse_if_locked(layout.lock, layout.out)
    record = read_record(layout.run) if resume else None
    if record is not None:
        check_resumable(record, settings, layout, inputs)
    return record


def output_files(layout: OutputLayout, settings: EmbedSettings, top_k: int) -> dict[str, Any]:
    """The files an output consists of, relative to its folder (``run.json``'s ``files``; several
    layers: ``features`` maps each block to its file)."""
    files: dict[str, Any] = {k: os.path.relpath(getattr(layout, k), layout.folder) for k in ("index", "videos", "run")}
    if not layout.per_video:
        if len(settings.layers) == 1:
            files["features"] = layout.features.name
        else:
            files["features"] = {str(b): path.name for b, path in zip(settings.layers, layout.feature_files)}
        if settings.logits:
            files["logits"] = layout.logits.name
    if top_k and settings.logits:
        files["topk"] = os.path.relpath(layout.topk, layout.folder)
    return files


def write_record(path: Path, record: dict[str, Any]) -> None:
    """Write ``run.json`` atomically."""
    write_json(path, record)
