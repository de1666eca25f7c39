"""The ``vidm probe`` section: Acc@1 against layer for each probe (and against shots) with interval
bands, the best probe and its confusion, the exported head, and every summary in a sortable table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..header import RunInfo
from ..html import Html, join, scrolling, tag, visible, void
from ..lists import Blob, Column, number, table
from ..paths import Linker
from ..records import read_record
from ..svg import Curve, curves
from .common import failures, section

CONFUSION = "probe.confusion.png"


def probe_section(sid: str, folder: Path, record: dict[str, Any], path: Path) -> Html:
    """The section of the probe recorded in ``path`` (``folder/probe.json``)."""
    summary = [s for s in record.get("summary") or [] if isinstance(s, dict)]
    best = record.get("best") or {}
    largest = _largest(summary)
    confusion = Linker(folder).link(str(folder / CONFUSION))
    excluded = [(str(e.get("input", "")), str(e.get("reason", ""))) for side in ("train", "val")
                for e in ((record.get(side) or {}).get("excluded") or [])]  # fmt: skip
    return section(
        sid,
        "probe",
        "Probes",
        _info(folder, record, path),
        tag("p", _protocol(record), class_="note"),
        tag("h3", "Best"),
        tag("p", _best(best), class_="best"),
        _head(record.get("head")),
        tag("h3", f"Acc@1 against layer ({largest} shots)"),
        _by_layer(sid, summary, largest),
        tag("h3", "Acc@1 against shots"),
        _by_shots(sid, summary, best),
        tag("h3", "Confusion of the best probe"),
        void("img", src=confusion, alt="confusion picture of the best probe", loading="lazy", class_="confusion")
        if confusion else tag("p", f"{CONFUSION} is missing", class_="bad"),
        tag("h3", "Every probe, sortable"),
        _table(sid, summary),
        _notes(record.get("notes")),
        failures(sid, excluded),
    )  # fmt: skip


def _notes(notes: Any) -> Html | None:
    """The run's notes (classes short of a shots value), one item each."""
    if not isinstance(notes, list) or not notes:
        return None
    return tag("ul", join(tag("li", str(n)) for n in notes), class_="note")


def _largest(summary: list[dict[str, Any]]) -> str:
    """The largest shots value present (``all`` beats any number)."""
    values = {str(s.get("shots")) for s in summary}
    if "all" in values or not values:
        return "all"
    return max(values, key=lambda v: int(v) if v.isdigit() else -1)


def _legend(names: list[str]) -> Html:
    return tag("ul", join(tag("li", tag("i", class_=f"c{i}"), name) for i, name in enumerate(names)), class_="legend")


def _by_layer(sid: str, summary: list[dict[str, Any]], shots: str) -> Html:
    """One line per probe over the layers, with its 95% band."""
    probes = list(dict.fromkeys(str(s.get("probe")) for s in summary))
    lines = []
    for i, probe in enumerate(probes):
        points = tuple(_point(float(s["layer"]), s) for s in summary if s.get("probe") == probe
                       and str(s.get("shots")) == shots)  # fmt: skip
        lines.append(Curve(probe, i, tuple(sorted(points))))
    chart = curves(f"{sid}-by-layer", lines, x_name="layer (block)", y_name="Acc@1, per input")
    return join([_legend(probes), scrolling(chart)])


def _by_shots(sid: str, summary: list[dict[str, Any]], best: dict[str, Any]) -> Html:
    """Each probe at the best layer against shots (all last), with its 95% band; a note with one shots value."""
    shots = list(dict.fromkeys(str(s.get("shots")) for s in summary))
    if len(shots) < 2:
        return tag("p", f"One shots value ({shots[0] if shots else 'all'}): give --shots 1,5,10,all for this curve.",
                   class_="note")  # fmt: skip
    order = sorted(shots, key=lambda v: int(v) if v.isdigit() else 10**9)
    position = {v: float(i) for i, v in enumerate(order)}
    layer = best.get("layer")
    probes = list(dict.fromkeys(str(s.get("probe")) for s in summary))
    lines = []
    for i, probe in enumerate(probes):
        points = tuple(_point(position[str(s["shots"])], s) for s in summary
                       if s.get("probe") == probe and s.get("layer") == layer)  # fmt: skip
        lines.append(Curve(probe, i, tuple(sorted(points))))
    chart = curves(f"{sid}-by-shots", lines, x_name=f"inputs per class (layer {layer})", y_name="Acc@1, per input",
                   x_labels={p: v for v, p in position.items()})  # fmt: skip
    return join([_legend(probes), scrolling(chart)])


def _point(x: float, s: dict[str, Any]) -> tuple[float, float, float, float]:
    acc = s.get("acc1") or {}
    value = number(acc.get("mean")) or 0.0
    return (x, value, number(acc.get("low")) or value, number(acc.get("high")) or value)


def _table(sid: str, summary: list[dict[str, Any]]) -> Html:
    rows = []
    for s in summary:
        acc, per_class = s.get("acc1") or {}, s.get("mean_class_accuracy") or {}
        strengths = ", ".join(f"{c:g}" for c in s.get("c") or [] if isinstance(c, (int, float)))
        rows.append([s.get("layer"), visible(s.get("probe", "")), visible(s.get("shots", "")), number(acc.get("mean")),
                     number(acc.get("low")), number(acc.get("high")), number(acc.get("sd")),
                     number(per_class.get("mean")), s.get("n_val"), strengths])  # fmt: skip
    blob = Blob(f"{sid}-summary-data", rows)
    columns = (
        Column("layer", 0, "num"), Column("probe", 1), Column("shots", 2), Column("Acc@1", 3, "pct"),
        Column("low", 4, "pct"), Column("high", 5, "pct"), Column("sd", 6, "pct"),
        Column("per-class", 7, "pct"), Column("scored", 8, "num"), Column("C", 9),
    )  # fmt: skip
    return join([table(f"{sid}-summary", blob, columns), blob.markup()])


def _best(best: dict[str, Any]) -> str:
    acc = best.get("acc1") or {}
    value, low, high = (number(acc.get(k)) for k in ("mean", "low", "high"))
    if value is None:
        return "No probe was scored."
    interval = f" (95% interval {100 * (low or 0):.2f}\u2013{100 * (high or 0):.2f}%)" if low is not None else ""
    return (f"{best.get('probe')} probe on layer {best.get('layer')}, {best.get('shots')} shots: Acc@1 "
            f"{100 * value:.2f}%{interval}.")  # fmt: skip


def _head(head: Any) -> Html | None:
    if not isinstance(head, dict):
        return None
    command = f"vidm classify INPUTS --catalog {head.get('catalog')} --model {head.get('name')}"
    return tag("p", f"The best linear probe (layer {head.get('layer')}, C = {head.get('c')}) is a model: ",
               tag("code", command), class_="note")  # fmt: skip


def _protocol(record: dict[str, Any]) -> str:
    train = record.get("train") or {}
    val = record.get("val") or {}
    classes = record.get("classes") or []
    scored = f"scored on {val.get('inputs')} VAL inputs" if val else str(record.get("protocol", ""))
    return (f"{len(classes)} classes; {train.get('inputs')} TRAIN inputs; {scored}. Intervals: 95% Wilson for one "
            "draw, 95% Student t over seeds for few-shot draws. k-NN: score_c = sum over the k nearest (cosine) of "
            "exp(sim / 0.07) [label = c].")  # fmt: skip


def _info(folder: Path, record: dict[str, Any], path: Path) -> RunInfo:
    run = read_record(folder / "run.json")
    settings = {"pool": record.get("pool"), "layers": record.get("layers"), "protocol": record.get("protocol"),
                "probe": record.get("settings"), "features": record.get("features"),
                "labels": {"train": (record.get("train") or {}).get("source"),
                           "val": (record.get("val") or {}).get("source")}}  # fmt: skip
    return RunInfo(
        command="vidm probe", model={"name": record.get("model")}, settings=settings,
        versions=run.get("versions", {}), started=run.get("started"), seconds=run.get("seconds"),
        written=path.stat().st_mtime,
    )  # fmt: skip
