"""The head of a run's section: the model (with its data, task and paper), every setting, the
vidm version, when the run started and how long it took."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..errors import VidmError
from .html import Html, join, tag
from .titles import layers_text

ARXIV = "https://arxiv.org/abs/"


@dataclass(frozen=True)
class RunInfo:
    """What a run's head shows: the model's catalogue fields, the settings (nested dicts allowed),
    the package versions, and its start (ISO text) and duration when recorded; ``written`` is the
    record's modification time, shown when the start was not recorded."""

    command: str
    model: Mapping[str, Any]
    settings: Mapping[str, Any]
    versions: Mapping[str, str] = field(default_factory=dict)
    started: str | None = None
    seconds: float | None = None
    written: float | None = None


def model_facts(model: Mapping[str, Any]) -> dict[str, Any]:
    """The run's model fields, completed from the catalogue entry of that name when the run
    recorded only its name (``complete`` and ``attend`` do); the run's own fields win."""
    facts = dict(model)
    if "pretraining_data" in facts or not facts.get("name"):
        return facts
    from ..catalog import default_catalog

    try:
        entry = default_catalog().get(str(facts["name"])).to_dict()
    except VidmError:  # a user entry no longer in the catalogue: show what the run recorded
        return facts
    return {**entry, **facts}


def run_head(info: RunInfo) -> Html:
    """The head: model table, settings table, and the when/versions line."""
    facts = model_facts(info.model)
    model_rows = [
        ("model", facts.get("name")),
        ("pretraining data", facts.get("pretraining_data")),
        ("task", facts.get("finetuning_task")),
        ("classes", facts.get("num_classes")),
        ("checkpoint", facts.get("checkpoint")),
    ]
    paper = facts.get("paper") or None
    paper_cell = (
        tag("a", paper.get("title") or paper.get("arxiv"), href=ARXIV + quote(str(paper.get("arxiv")), safe="./"),
            class_="paper")
        if isinstance(paper, Mapping) and paper.get("arxiv") else "none recorded"
    )  # fmt: skip
    model = tag(
        "table",
        join(_kv(k, v) for k, v in model_rows if v not in (None, "")),
        _kv("paper", paper_cell),
        class_="kv model",
    )
    rows = list(flatten(info.settings))
    settings = tag("table", join(_kv(k, v) for k, v in rows), class_="kv settings")
    fold = tag("details", tag("summary", f"all {len(rows)} settings"), settings, class_="settings")
    return tag(
        "div",
        tag("div", tag("h3", "Model"), model, when(info)),
        tag("div", tag("h3", "Settings"), _key_settings(info.settings), fold),
        class_="run-head",
    )


def when(info: RunInfo) -> Html:
    """``started … · took … · vidm X``, and every package version under a fold."""
    parts = []
    if info.started:
        parts.append(f"started {info.started.replace('T', ' ')}")
    elif info.written is not None:
        parts.append("written " + time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(info.written)))
    parts.append(f"took {duration(info.seconds)}" if info.seconds is not None else "duration not recorded")
    parts.append(f"{info.command}, vidmenagerie {info.versions.get('vidmenagerie', 'unknown')}")
    versions = tag(
        "details",
        tag("summary", "versions"),
        tag("table", join(_kv(k, v) for k, v in info.versions.items()), class_="kv versions"),
    )
    # Each part stays on one line ("vidmenagerie 0.1.0" was split across two in a narrow column).
    line = join([join([" \u00b7 " if i else "", tag("span", part, class_="part")]) for i, part in enumerate(parts)])
    return join([tag("p", line, class_="when"), versions])


def duration(seconds: float) -> str:
    """``0.19 s``, ``3 min 12 s``, ``2 h 05 min``."""
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


# The settings that say what a run did, shown on one line above the fold with all of them.
KEY_SETTINGS = (
    "mask", "ratio", "clip", "clips", "heads", "layer", "layers", "rollout", "pool", "crops", "reduce",
    "protocol.name", "views.clips", "views.crops", "dtype", "preprocessing.sampling_rate",
)  # fmt: skip


def _key_settings(settings: Mapping[str, Any]) -> Html | None:
    """``mask center · ratio 0.25 · clip uniform:4 · ...``: the run's defining settings at a glance."""
    found = dict(flatten(settings))
    if "layers" in settings:  # ``layer -1``, or ``layers 0-31`` rather than 32 numbers
        name, text = layers_text(settings["layers"]).split(" ", 1)
        del found["layers"]
        found[name] = text
    shown = [f"{_label(key)} {found[key]}" for key in KEY_SETTINGS if key in found]
    return tag("p", " \u00b7 ".join(shown), class_="keys") if shown else None


def _label(key: str) -> str:
    """A settings key as a word: its last part (``preprocessing.sampling_rate`` -> ``sampling rate``),
    or its group's name where the last part is only ``name`` (``protocol.name`` -> ``protocol``)."""
    parts = key.split(".")
    word = parts[-2] if parts[-1] == "name" and len(parts) > 1 else parts[-1]
    return word.replace("_", " ")


def flatten(settings: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Nested settings as ``a.b`` keys; lists joined by commas; ``None`` as ``none``."""
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten(value, f"{name}.")
        elif isinstance(value, (list, tuple)):
            yield name, ", ".join(_text(v) for v in value)
        else:
            yield name, _text(value)


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _kv(key: str, value: object) -> Html:
    return tag("tr", tag("th", key), tag("td", value))
