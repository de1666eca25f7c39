"""``build_report``: find what the batch commands left in a folder and write its ``index.html``.

A folder may hold a ``complete`` or ``attend`` run (``run.json``), an evaluation (``eval.json``,
whose ``views.*`` embedding is part of it), embedding outputs (``NAME.run.json`` beside
``NAME.npy``, or a ``--per-video`` folder's ``run.json``), or several of these: each becomes a
section. Shards' records are skipped: their page comes with ``--merge``.
A classification (``classify.json``, its ``views.*`` part of it) is a section of its own.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from ..batch.outputs import atomic_path
from ..errors import OutputError, VidmError
from .html import Html, tag
from .page import page
from .sections.attend import attend_section
from .sections.classify import classify_section
from .sections.complete import complete_section
from .sections.evaluate import evaluate_section

PAGE = "index.html"
SHARD = re.compile(r"(^|\.)shard-\d+-of-\d+\.run\.json$")
KINDS = {"complete": "complete", "attend": "attend", "embed": "embed", "evaluate": "evaluate"}


def build_report(out_dir: Path, *, title: str | None = None) -> Path:
    """Write ``out_dir/index.html`` from the run(s) recorded in ``out_dir``; return its path.

    Raises ``OutputError`` when the folder holds no vidm output. A section whose files cannot be
    read shows why, and the rest of the page is still written.
    """
    folder = Path(out_dir)
    builders = _find(folder)
    if not builders:
        raise OutputError(
            f"{folder}: no vidm output here (run.json, eval.json or NAME.run.json); give the --out folder of a run",
            path=str(folder),
            problem="no-output",
        )
    used: Counter[str] = Counter()
    sections = []
    kinds = []
    for kind, build in builders:
        used[kind] += 1
        sid = kind if used[kind] == 1 else f"{kind}-{used[kind]}"
        kinds.append(kind)
        try:
            sections.append(build(sid))
        except (VidmError, OSError, ValueError, KeyError) as exc:  # one damaged output does not cost the page
            sections.append(_broken(sid, kind, exc))
    heading = title or f"vidm {', '.join(dict.fromkeys(kinds))}: {folder.resolve().name}"
    intro = [tag("p", f"Results in {folder.resolve()}", class_="muted")]
    target = folder / PAGE
    with atomic_path(target) as tmp:
        tmp.write_text(page(heading, intro, sections), encoding="utf-8")
    return target


Builder = Callable[[str], Html]


def _find(folder: Path) -> list[tuple[str, Builder]]:
    """A builder for every run recorded in ``folder``, in a fixed order."""
    found: list[tuple[str, Builder]] = []
    run = _record(folder / "run.json")
    command = str(run.get("command", "")).removeprefix("vidm ") if run else ""
    if run and command in ("complete", "attend"):
        section = complete_section if command == "complete" else attend_section
        found.append((command, lambda sid: section(sid, folder, run, folder / "run.json")))
    evaluation = _record(folder / "eval.json")
    if evaluation:
        found.append(("evaluate", lambda sid: evaluate_section(sid, folder, evaluation, folder / "eval.json")))
    classified = _record(folder / "classify.json")
    if classified:
        found.append(
            ("classify", partial(classify_section, folder=folder, record=classified, path=folder / "classify.json"))
        )
    if run and command == "embed":
        found.append(("embed", partial(_per_video_output, folder)))
    views = str(evaluation.get("views_output", "views.npy")) if evaluation else "views.npy" if classified else None
    for path in sorted(folder.glob("*.run.json")):
        features = path.with_name(path.name.removesuffix(".run.json") + ".npy")
        if SHARD.search(path.name) or features.name == views or not features.is_file():
            continue
        if str(_record(path).get("command", "")) == "vidm embed":
            found.append(("embed", partial(_single_output, features)))
    return found


def _single_output(features: Path, sid: str) -> Html:
    from .sections.embed import embed_section  # torch: only for pages with features

    return embed_section(sid, features, per_video=False, heading=f"Features: {features.name}")


def _per_video_output(folder: Path, sid: str) -> Html:
    from .sections.embed import embed_section

    return embed_section(sid, folder, per_video=True)


def _record(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; empty when the file is absent or not one."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _broken(sid: str, kind: str, exc: Exception) -> Html:
    """The section of an output that could not be read: what went wrong."""
    return tag(
        "section",
        tag("h2", f"{kind}: could not be read"),
        tag("p", str(exc), class_="bad"),
        class_="run",
        id=sid,
        data_kind=kind,
    )
