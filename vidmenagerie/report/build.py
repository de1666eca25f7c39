"""``build_report``: find what the batch commands left in a folder and write its ``index.html``.

A folder may hold a ``complete`` or ``attend`` run (``run.json``), an evaluation (``eval.json``,
whose ``views.*`` embedding is part of it), embedding outputs (``NAME.run.json`` beside
``NAME.npy``, or a ``--per-video`` folder's ``run.json``), or several of these: each becomes a
section. Shards' records are skipped: their page comes with ``--merge``. One embedding output
``NAME.npy`` may also get a page of its own, ``NAME.html``. A record edited into another shape
(``report.records``) gives a section that says which field is unreadable. A classification
(``classify.json``, its ``views.*`` part of it) is a section of its own, and so is a probe
(``probe.json``; its features are in ``features/``, not pages of their own) and a comparison
(``compare.json`` with its ``run.json``).
"""

from __future__ import annotations

import glob
import os
import re
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

from ..batch.outputs import atomic_path
from ..errors import OutputError, VidmError
from .html import Html, tag
from .page import GENERATOR_MARK, page
from .records import COMPARISON, EVALUATION, PER_CLIP_RUN, misfit, read_record
from .sections.attend import attend_section
from .sections.classify import classify_section
from .sections.compare import compare_section
from .sections.complete import complete_section
from .sections.evaluate import evaluate_section
from .sections.probe import probe_section
from .titles import page_title

PAGE = "index.html"
SHARD = re.compile(r"(^|\.)shard-\d+-of-\d+\.run\.json$")
KINDS = {"complete": "complete", "attend": "attend", "embed": "embed", "evaluate": "evaluate", "compare": "compare"}


def build_report(out_dir: Path, *, title: str | None = None) -> Path:
    """Write the page of the run(s) recorded at ``out_dir`` and return its path: ``out_dir/index.html``
    for a folder, ``NAME.html`` beside ``NAME.npy`` for one embedding output (a ``--out feats.npy``
    run's page, so a folder shared with other files keeps its own ``index.html``).

    Raises ``OutputError`` when there is no vidm output there, or when the page's file exists and
    vidm did not write it (a user's own ``index.html`` is never replaced). A section whose files
    cannot be read shows why, and the rest of the page is still written.
    """
    where = Path(out_dir)
    single = where.suffix.lower() == ".npy" and not where.is_dir()
    folder = where.parent if single else where
    builders = _single(where) if single else _find(folder)
    if not builders:
        wanted = "NAME.npy with its NAME.run.json" if single else "run.json, eval.json or NAME.run.json"
        raise OutputError(
            f"{where}: no vidm output here ({wanted}); give the --out of a run",
            path=str(where),
            problem="no-output",
        )
    target = where.with_suffix(".html") if single else folder / PAGE
    check_page(target)
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
        except (TypeError, AttributeError, IndexError) as exc:  # a record of an unforeseen shape: the same
            sections.append(_broken(sid, kind, f"a record here has an unexpected shape ({type(exc).__name__}: {exc})"))
    name = where.name if single else folder.resolve().name
    heading = title or page_title(kinds, folder, where if single else None)
    heading = heading or f"vidm {', '.join(dict.fromkeys(kinds))}: {name}"
    intro = [tag("p", f"Results in {folder.resolve()}", class_="muted")]
    with atomic_path(target) as tmp:
        tmp.write_text(page(heading, intro, sections), encoding="utf-8")
    return target


def written_by_vidm(path: Path) -> bool:
    """Whether the page at ``path`` carries our generator mark (in its head, within the first 4 KB)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return GENERATOR_MARK in head


def check_page(target: Path) -> None:
    """Refuse to replace a page that vidm did not write (a user's own ``index.html``)."""
    if target.is_dir() or (os.path.lexists(target) and not written_by_vidm(target)):
        raise OutputError(
            f"{target} was not written by vidm, so it is left as it is: move it away to get the page",
            path=str(target),
            problem="not-ours",
        )


Builder = Callable[[str], Html]


def _find(folder: Path) -> list[tuple[str, Builder]]:
    """A builder for every run recorded in ``folder``, in a fixed order."""
    found: list[tuple[str, Builder]] = []
    run_path, eval_path = folder / "run.json", folder / "eval.json"
    run = read_record(run_path)
    command = str(run.get("command", "")).removeprefix("vidm ") if run else ""
    if run_path.exists() and not run:
        found.append(("run", partial(_unreadable, run_path, "not a JSON object")))
    elif command in ("complete", "attend"):
        section = complete_section if command == "complete" else attend_section
        problem = misfit(run, PER_CLIP_RUN)
        found.append((command, partial(_unreadable, run_path, problem) if problem
                      else lambda sid: section(sid, folder, run, run_path)))  # fmt: skip
    evaluation = read_record(eval_path)
    if eval_path.exists() and not evaluation:
        found.append(("evaluate", partial(_unreadable, eval_path, "not a JSON object")))
    elif evaluation:
        problem = misfit(evaluation, EVALUATION)
        found.append(("evaluate", partial(_unreadable, eval_path, problem) if problem
                      else lambda sid: evaluate_section(sid, folder, evaluation, eval_path)))  # fmt: skip
    compared = read_record(folder / "compare.json")
    if command == "compare" or compared:
        problem = misfit(compared, COMPARISON) if compared else "missing or not a JSON object"
        found.append(("compare", partial(_unreadable, folder / "compare.json", problem) if problem
                      else lambda sid: compare_section(sid, folder, compared, folder / "compare.json")))  # fmt: skip
    probed = read_record(folder / "probe.json")
    if probed and probed.get("command") == "vidm probe":
        found.append(("probe", lambda sid: probe_section(sid, folder, probed, folder / "probe.json")))
    classified = read_record(folder / "classify.json")
    if classified:
        found.append(
            ("classify", partial(classify_section, folder=folder, record=classified, path=folder / "classify.json"))
        )
    if run and command == "embed":
        found.append(("embed", partial(_per_video_output, folder)))
    views = str(evaluation.get("views_output", "views.npy")) if evaluation else "views.npy" if classified else None
    for path in sorted(folder.glob("*.run.json")):
        features = path.with_name(path.name.removesuffix(".run.json") + ".npy")
        if SHARD.search(path.name) or features.name == views or not _has_rows(features):
            continue
        if str(read_record(path).get("command", "")) == "vidm embed":
            found.append(("embed", partial(_single_output, features)))
    return found


def _unreadable(record: Path, problem: str, sid: str) -> Html:
    """The builder of a section whose record is not what vidm wrote: its failure says why."""
    raise OutputError(
        f"{record.name}: {problem} (edited by hand?); rerun the command to write it again",
        path=str(record),
        problem="unreadable",
    )


def _single(features: Path) -> list[tuple[str, Builder]]:
    """The builder of one embedding output ``NAME.npy``, when its ``NAME.run.json`` records a finished embed."""
    record = read_record(features.with_name(features.name[: -len(".npy")] + ".run.json"))
    if not _has_rows(features) or str(record.get("command", "")) != "vidm embed":
        return []
    return [("embed", partial(_single_output, features))]


def _has_rows(features: Path) -> bool:
    """Whether an embedding output ``NAME.npy`` has its rows: the file, or one per layer (``NAME.layer08.npy``)."""
    stem = glob.escape(features.name[: -len(".npy")])
    return features.is_file() or any(features.parent.glob(f"{stem}.layer[0-9][0-9]*.npy"))


def _single_output(features: Path, sid: str) -> Html:
    from .sections.embed import embed_section  # torch: only for pages with features

    return embed_section(sid, features, per_video=False, heading=f"Features: {features.name}")


def _per_video_output(folder: Path, sid: str) -> Html:
    from .sections.embed import embed_section

    return embed_section(sid, folder, per_video=True)


def _broken(sid: str, kind: str, exc: Exception | str) -> Html:
    """The section of an output that could not be read: what went wrong."""
    return tag(
        "section",
        tag("h2", f"{kind}: could not be read"),
        tag("p", str(exc), class_="bad"),
        class_="run",
        id=sid,
        data_kind=kind,
    )
