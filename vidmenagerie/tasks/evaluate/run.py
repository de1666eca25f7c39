"""``evaluate_videos``: accuracy of a finetuned model on a labelled set = ``embed --logits`` + scoring.

Every input's views go through ``embed_videos`` into ``OUT/views.npy`` (with its logits and
manifests), so an evaluation resumes, shards and merges exactly as ``vidm embed`` does and
runs at its speed. Each input's views are then combined (mean of softmax probabilities) and
scored against its label: ``OUT/eval.json``, ``eval.predictions.csv``, ``eval.per_class.csv``,
``eval.confusion.png``. Inputs that are missing or fail to decode are listed, not scored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...batch.driver import Hooks
from ...batch.outputs import versions
from ...errors import OutputError
from ...feature_store import EmbedSettings, Shard, load_features, merge_shards
from ...labelled import LabelledSet
from ...models.video_vit import VideoEncoder
from ...scoring import EvalScores, accuracy, score, write_eval_json, write_per_class, write_predictions
from ..embed import embed_videos
from .predict import VIEWS_FILE, Predictions, predictions

FILES = {
    "eval": "eval.json",
    "predictions": "eval.predictions.csv",
    "per_class": "eval.per_class.csv",
    "confusion": "eval.confusion.png",
}


@dataclass(frozen=True)
class EvalRun:
    """What an evaluation found: the scores (None for a shard, or when nothing could be scored),
    the inputs left out and why, and where the files are."""

    out: Path
    labelled: LabelledSet
    scores: EvalScores | None
    failed: list[tuple[str, str]]
    pending: list[str]
    files: dict[str, Path]

    @property
    def excluded(self) -> int:
        """Inputs not scored: missing, failed to decode, or not reached."""
        return len(self.labelled.missing) + len(self.failed) + len(self.pending)


def evaluate_videos(
    labelled: LabelledSet,
    out: str | Path,
    settings: EmbedSettings,
    *,
    model: VideoEncoder | None = None,
    shard: Shard | None = None,
    resume: bool = True,
    batch_size: int | None = None,
    workers: int | None = None,
    device: str | torch.device | None = "auto",
    hooks: Hooks | None = None,
) -> EvalRun:
    """Run the views of every labelled input, then score them (a shard only runs its part: score
    after ``merge_evaluation``). ``settings`` come from ``view_settings``."""
    folder = Path(out)
    inputs = [str(s.path) for s in labelled.samples]
    embed_videos(
        inputs, folder / VIEWS_FILE, settings, model=model, shard=shard, resume=resume, batch_size=batch_size,
        workers=workers, device=device, hooks=hooks,
    )  # fmt: skip
    if shard is not None:
        return EvalRun(folder, labelled, None, [], [], {"views": folder / VIEWS_FILE})
    return score_evaluation(labelled, folder)


def merge_evaluation(labelled: LabelledSet, out: str | Path) -> EvalRun:
    """Join the shards of an evaluation, then score the whole."""
    folder = Path(out)
    merge_shards(folder / VIEWS_FILE)
    return score_evaluation(labelled, folder)


def score_evaluation(labelled: LabelledSet, out: str | Path) -> EvalRun:
    """Score what ``OUT/views.npy`` holds against the labels and write the ``eval.*`` files."""
    folder = Path(out)
    output = load_features(folder / VIEWS_FILE)
    names = labelled.class_names
    found = predictions(output, k=min(5, len(names)))
    truth_of = {str(s.path): s.label for s in labelled.samples}
    _check_same_inputs(folder / VIEWS_FILE, [*found.videos, *(v for v, _ in found.failed), *found.pending], truth_of,
                       labelled)  # fmt: skip
    files = {"views": folder / VIEWS_FILE}
    if not found.videos:
        return EvalRun(folder, labelled, None, found.failed, found.pending, files)
    truth = np.array([truth_of[v] for v in found.videos], dtype=np.int64)
    scores = _with_clips(score(found.probs, truth, names), found, truth)
    files |= {key: folder / name for key, name in FILES.items()}
    write_predictions(files["predictions"], found.videos, found.probs, truth, names)
    write_per_class(files["per_class"], scores.per_class)
    from ...scoring import write_confusion_picture  # pulls in the renderer

    write_confusion_picture(files["confusion"], truth, found.probs.argmax(axis=1), names)
    write_eval_json(files["eval"], scores, _record(output.record, labelled, found))
    return EvalRun(folder, labelled, scores, found.failed, found.pending, files)


def _check_same_inputs(views: Path, videos: list[str], truth_of: dict[str, int], labelled: LabelledSet) -> None:
    """Refuse to score views of inputs ``labelled`` does not list (shards run from another source)."""
    other = [v for v in videos if v not in truth_of]
    if other:
        raise OutputError(
            f"{views} holds views of other inputs than {labelled.source}: {len(other)} of its {len(videos)} inputs "
            f"are not listed there (e.g. {other[0]}); give the source its shards were run on",
            path=str(views),
            problem="mismatch",
        )


def _with_clips(scores: EvalScores, found: Predictions, truth: np.ndarray) -> EvalScores:
    """The scores with per-clip (per-view) Acc@1 and Acc@k, from each view's ranking."""
    ranks = np.concatenate(found.ranked_views)
    clip_truth = np.repeat(truth, [len(r) for r in found.ranked_views])
    top1 = accuracy(ranks[:, 0] == clip_truth)
    topk = accuracy((ranks[:, : scores.top_k] == clip_truth[:, None]).any(axis=1))
    return replace(scores, clips=len(clip_truth), acc1_clip=top1, acc5_clip=topk)


def _record(views: dict[str, Any], labelled: LabelledSet, found: Predictions) -> dict[str, Any]:
    """What ``eval.json`` says besides the scores: model, protocol, views, labels and what was left out."""
    settings = views["settings"]
    return {
        "command": "vidm evaluate",
        "model": views["model"],
        "checkpoint_file": views.get("checkpoint_file"),
        "protocol": _protocol(settings),
        "views": {"clips": settings["clips"], "crops": settings["crops"], "dtype": settings["dtype"]},
        "preprocessing": settings["preprocessing"],
        "labels": {
            "source": str(labelled.source),
            "rule": labelled.rule,
            "description": labelled.description,
            "inputs": len(labelled.samples) + len(labelled.missing),
            "duplicates": labelled.duplicates,  # rows naming an input already listed: scored once
        },
        "excluded": {
            "missing": [{"input": m.item, "where": m.source, "reason": m.reason} for m in labelled.missing],
            "failed": [{"input": v, "reason": r} for v, r in found.failed],
            "pending": found.pending,
        },
        "views_output": VIEWS_FILE,
        "versions": versions(),
    }


def _protocol(settings: dict[str, Any]) -> dict[str, Any]:
    """The test protocol of the views: ``standard``, or ``seed`` with its scales, crop, flip and seed
    (a run.json from before the protocol was recorded is a standard run)."""
    protocol = EmbedSettings.from_dict(settings).seed_protocol
    if protocol is None:
        return {"name": "standard"}
    return {"name": "seed", **protocol.to_dict()}
