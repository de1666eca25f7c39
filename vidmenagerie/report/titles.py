"""A page's title: what it shows and with which model, read from the run's records (not the
command's name twice, as "vidm complete: complete" said). None where a record cannot say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .records import read_record


def page_title(kinds: list[str], folder: Path, features: Path | None = None) -> str | None:
    """The title of a page of ``kinds`` of output in ``folder`` (``features``: a page of one
    ``NAME.npy``); phrases of several outputs joined with "; "."""
    phrases = [_phrase(kind, folder, features) for kind in dict.fromkeys(kinds)]
    known = [p for p in phrases if p]
    return "; ".join(known) if known and len(known) == len(phrases) else None


def _phrase(kind: str, folder: Path, features: Path | None) -> str | None:
    """What one output shows, with its model and the settings that define it."""
    if kind == "classify":
        record = read_record(folder / "classify.json")
        model = record.get("model")
        return f"Labels from {model}" if isinstance(model, str) and model else None
    if kind == "compare":
        record = read_record(folder / "run.json")
        models = [str(o.get("model")) for o in record.get("outputs", []) if isinstance(o, dict)]
        metrics = (record.get("settings") or {}).get("metrics") or []
        if not models or not isinstance(metrics, list):
            return None
        shown = ", ".join(list(dict.fromkeys(models))[:4]) + (", ..." if len(set(models)) > 4 else "")
        return f"Representational similarity ({', '.join(str(m).upper() for m in metrics)}) of {shown}"
    if kind == "probe":
        record = read_record(folder / "probe.json")
        source = Path(str(_get(record, "train", "source") or "")).name
        model = record.get("model")
        return f"Probes of {model} on {source}" if model and source else None
    if kind == "evaluate":
        record = read_record(folder / "eval.json")
        source = Path(str(_get(record, "labels", "source") or "")).name
        model = _get(record, "model", "name")
        return f"Accuracy of {model} on {source}" if model and source else None
    if features is not None:
        record = read_record(features.with_name(features.name.removesuffix(".npy") + ".run.json"))
    elif kind == "embed":  # a per-video output's run.json, else the first NAME.run.json of an embed
        found = (read_record(p) for p in [folder / "run.json", *sorted(folder.glob("*.run.json"))])
        record = next((r for r in found if r.get("command") == "vidm embed"), {})
    else:
        record = read_record(folder / "run.json")
    settings = _get(record, "settings")
    if not isinstance(settings, dict) or not settings.get("model"):
        return None
    model = settings["model"]
    if kind == "complete":
        return f"MAE completions by {model} ({settings.get('mask')} mask, ratio {settings.get('ratio'):g})"
    if kind == "attend":
        what = "rollout" if settings.get("rollout") else f"layer {settings.get('layer')}, heads {settings.get('heads')}"
        return f"Attention maps of {model} ({what})"
    if kind == "embed":
        clips = f", {settings.get('clips')} clips" if settings.get("clips") not in (None, "center") else ""
        layers = layers_text(settings.get("layers", [settings.get("layer")]))
        return f"Features from {model} ({settings.get('pool')} of {layers}{clips})"
    return None


def layers_text(layers: Any) -> str:
    """``layer -1``, ``layers 0-31`` (a run of blocks) or ``layers 8, 16, 31``: the layers of a run, short."""
    values = list(layers) if isinstance(layers, (list, tuple)) else [layers]
    if len(values) == 1:
        return f"layer {values[0]}"
    if all(isinstance(v, int) for v in values) and values == list(range(values[0], values[0] + len(values))):
        return f"layers {values[0]}-{values[-1]}"
    return "layers " + ", ".join(map(str, values))


def _get(record: Any, *keys: str) -> Any:
    """``record[k1][k2]...``, None where a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record
