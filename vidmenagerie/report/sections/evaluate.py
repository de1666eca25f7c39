"""The ``vidm evaluate`` section: accuracies with their 95% intervals, per-class accuracy bars,
the most confused pairs, the confusion picture, and the misclassified inputs with their top 5."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from ...batch.outputs import read_csv
from ..header import RunInfo
from ..html import Html, join, scrolling, tag, visible, void
from ..lists import Blob, Column, number, table
from ..paths import Linker, Names
from ..records import read_record
from ..svg import Bar, bars
from .common import failures, section

FILES = {"predictions": "eval.predictions.csv", "per_class": "eval.per_class.csv", "confusion": "eval.confusion.png"}
METRICS = (("acc1_video", "Acc@1, per input"), ("acc5_video", "Acc@{k}, per input"),
           ("acc1_clip", "Acc@1, per view"), ("acc5_clip", "Acc@{k}, per view"))  # fmt: skip
PAIRS = 25  # most confused pairs listed


def evaluate_section(sid: str, folder: Path, record: dict[str, Any], path: Path) -> Html:
    """The section of the evaluation recorded in ``path`` (``folder/eval.json``)."""
    scores = record.get("scores") or {}
    predictions_file, per_class_file = folder / FILES["predictions"], folder / FILES["per_class"]
    predictions, per_class = _csv(predictions_file), _csv(per_class_file)  # None: the file is missing
    excluded = record.get("excluded") or {}
    left_out = [(str(m.get("input", "")), str(m.get("reason", "missing"))) for m in excluded.get("missing", [])]
    left_out += [(str(f.get("input", "")), str(f.get("reason", ""))) for f in excluded.get("failed", [])]
    left_out += [(str(p), "not reached: the run was interrupted") for p in excluded.get("pending", [])]
    names = Names.of([r["video"] for r in predictions or []] + [v for v, _ in left_out])
    confusion = Linker(folder).link(str(folder / FILES["confusion"]))
    labels = record.get("labels") or {}
    return section(
        sid,
        "evaluate",
        "Evaluation",
        _info(folder, record, path),
        tag("p", _labels_note(labels), class_="note"),
        tag("h3", "Accuracy"),
        accuracy_table(f"{sid}-accuracy", scores),
        tag("h3", "Per class"),
        _per_class(sid, per_class) if per_class is not None else _missing(per_class_file),
        tag("h3", "Most confused pairs"),
        _pairs(sid, predictions) if predictions is not None else _missing(predictions_file),
        tag("h3", "Confusion"),
        void("img", src=confusion, alt="confusion picture", loading="lazy", class_="confusion") if confusion
        else _missing(folder / FILES["confusion"]),
        tag("h3", "Misclassified" if predictions is None else
            f"Misclassified ({sum(r.get('correct') == '0' for r in predictions)} of {len(predictions)})"),
        tag("p", f"inputs under {names.root}", class_="note") if names.root else None,
        _misclassified(sid, predictions, names) if predictions is not None else _missing(predictions_file),
        failures(sid, [(names.short(v), r) for v, r in left_out]),
    )  # fmt: skip


def accuracy_table(table_id: str, scores: dict[str, Any]) -> Html:
    """``table.accuracy``: one ``tr[data-metric]`` per accuracy (value, correct, total, 95% interval),
    then mean per-class accuracy and loss."""
    k = scores.get("top_k", 5)
    rows = []
    for key, label in METRICS:
        value = scores.get(key)
        if not isinstance(value, dict):
            continue
        rows.append(tag(
            "tr", tag("th", label.format(k=k)), _cell(_pct(value.get("value"))), _cell(value.get("correct")),
            _cell(value.get("total")), _cell(f"{_pct(value.get('low'))} \u2013 {_pct(value.get('high'))}"),
            data_metric=key,
        ))  # fmt: skip
    for key, label, text in (
        ("mean_class_accuracy", "mean per-class accuracy", _pct(scores.get("mean_class_accuracy"))),
        ("loss", "loss (cross-entropy)", _fixed(scores.get("loss"))),
    ):
        if key in scores:
            rows.append(tag("tr", tag("th", label), _cell(text), tag("td"), tag("td"), tag("td"), data_metric=key))
    head = tag("tr", join(tag("th", h) for h in ("", "value", "correct", "total", "95% interval")))
    counts = (
        f"{scores.get('videos', '?')} inputs, {scores.get('clips', '?')} views, "
        f"{scores.get('classes_present', '?')} classes in the truth of {scores.get('classes_model', '?')}"
    )
    return join([scrolling(tag("table", tag("thead", head), tag("tbody", join(rows)), id=table_id, class_="accuracy")),
                 tag("p", counts, class_="note")])  # fmt: skip


def _per_class(sid: str, per_class: list[dict[str, str]]) -> Html:
    """Bars of every class's accuracy (classes in index order; by accuracy when there are many), and a table."""
    if not per_class:
        return tag("p", "No per-class table was written.", class_="note")
    items = [
        Bar(visible(r.get("label", "")), number(r.get("accuracy")) or 0.0,
            f"{visible(r.get('label', ''))}: {r.get('correct')}/{r.get('videos')} right")
        for r in per_class
    ]  # fmt: skip
    if len(items) > 60:
        items.sort(key=lambda b: -b.value)
    rows = [
        [_int(r.get("class")), visible(r.get("label", "")), _int(r.get("videos")), _int(r.get("correct")),
         number(r.get("accuracy")), visible(r.get("confused_label", "")), _int(r.get("confused_count"))]
        for r in per_class
    ]  # fmt: skip
    blob = Blob(f"{sid}-per-class-data", rows)
    columns = (
        Column("class", 0, "num"), Column("label", 1), Column("inputs", 2, "num"), Column("right", 3, "num"),
        Column("accuracy", 4, "pct"), Column("most often taken for", 5), Column("times", 6, "num"),
    )  # fmt: skip
    return join([scrolling(bars(f"{sid}-bars", items)), table(f"{sid}-per-class", blob, columns), blob.markup()])


def _missing(path: Path) -> Html:
    """What stands where a file of the evaluation is gone: it is said to be missing, not taken for empty."""
    return tag("p", f"{path.name} is missing, so this cannot be shown: run the evaluation again to write it.",
               class_="bad")  # fmt: skip


def _pairs(sid: str, predictions: list[dict[str, str]]) -> Html:
    """The (true, predicted) pairs most often wrong, with their share of the true class's inputs."""
    counts = Counter((r["true_label"], r["top1"]) for r in predictions if r.get("correct") == "0")
    if not counts:
        return tag("p", "No input was misclassified.", class_="note")
    size = Counter(r["true_label"] for r in predictions)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:PAIRS]
    rows = [[visible(t), visible(p), n, number(n / size[t])] for (t, p), n in ranked]
    blob = Blob(f"{sid}-pairs-data", rows)
    columns = (Column("true", 0), Column("predicted", 1), Column("inputs", 2, "num"), Column("share", 3, "pct"))
    return join([table(f"{sid}-pairs", blob, columns), blob.markup()])


def _misclassified(sid: str, predictions: list[dict[str, str]], names: Names) -> Html:
    """Every wrong input with its true label and its top 5 (labels stored once, as an ``enum``)."""
    wrong = [r for r in predictions if r.get("correct") == "0"]
    k = sum(1 for key in (predictions[0] if predictions else {}) if key.startswith("top"))
    enum: dict[str, int] = {}
    rows = []
    for r in wrong:
        ranked: list[float | int] = []
        for n in range(1, k + 1):
            ranked += [enum.setdefault(visible(r[f"top{n}"]), len(enum)), number(r[f"p{n}"]) or 0.0]
        rows.append([visible(names.short(r["video"])), enum.setdefault(visible(r["true_label"]), len(enum)), ranked,
                     number(r.get("p1"))])  # fmt: skip
    blob = Blob(f"{sid}-misclassified-data", rows, list(enum))
    columns = (
        Column("input", 0), Column("true", 1, "enum"), Column(f"top {k}", 2, "ranked"),
        Column("p(top 1)", 3, "num", digits=3),
    )  # fmt: skip
    return join([table(f"{sid}-misclassified", blob, columns), blob.markup()])


def _info(folder: Path, record: dict[str, Any], path: Path) -> RunInfo:
    """Head of the evaluation; its start and duration are those of the views' embedding run."""
    stem = str(record.get("views_output", "views.npy")).removesuffix(".npy")
    views = read_record(folder / f"{stem}.run.json")
    labels = record.get("labels") or {}
    settings = {
        "protocol": record.get("protocol"),
        "views": record.get("views"),
        "preprocessing": record.get("preprocessing"),
        "labels": {"source": labels.get("source"), "rule": labels.get("rule"), "inputs": labels.get("inputs")},
        "checkpoint_file": record.get("checkpoint_file"),
    }
    return RunInfo(
        command=str(record.get("command", "vidm evaluate")),
        model=record.get("model", {}),
        settings=settings,
        versions=record.get("versions", {}),
        started=views.get("started"),
        seconds=views.get("seconds"),
        written=path.stat().st_mtime,
    )


def _csv(path: Path) -> list[dict[str, str]] | None:
    """The rows of one of the evaluation's tables; None when the file is not there."""
    if not path.is_file():
        return None
    return read_csv(path)


def _cell(value: object) -> Html:
    return tag("td", "" if value is None else value, class_="num")


def _pct(value: Any) -> str:
    x = number(value)
    return "\u2013" if x is None else f"{x * 100:.2f}%"


def _fixed(value: Any) -> str:
    x = number(value)
    return "\u2013" if x is None else f"{x:.4f}"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _labels_note(labels: dict[str, Any]) -> str:
    """Where the labels came from, as the reader wrote it ("labels from val.csv: ..."), and the matching rule."""
    description = str(labels.get("description") or "labels: source not recorded")
    return f"{description[:1].upper()}{description[1:]}; rule: {labels.get('rule', '?')}."
