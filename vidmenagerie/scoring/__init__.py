"""Scoring for ``vidm evaluate``: combine views, compute accuracies with intervals, write the result files.

>>> from vidmenagerie.scoring import combine_views, score
>>> videos, probs = combine_views(logits, video_ids)         # doctest: +SKIP
>>> scores = score(probs, truth, class_names)                # doctest: +SKIP
>>> scores.acc1_video.value, scores.acc1_video.low           # doctest: +SKIP

Names are imported on first use: only the picture pulls in the rendering helpers (and torch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "views": ("combine_views", "parse_views", "softmax"),
        "metrics": ("Accuracy", "Z_95", "accuracy", "cross_entropy", "ranked", "top_k_hits", "wilson_interval"),
        "confusion": ("ConfusedPair", "confusion_matrix", "most_confused"),
        "per_class": ("ClassScore", "per_class_scores"),
        "scores": ("EvalScores", "score"),
        "report_files": ("write_eval_json", "write_per_class", "write_predictions"),
        "confusion_drawing": ("confusion_picture", "write_confusion_picture"),
    },
)

if TYPE_CHECKING:
    from .confusion import ConfusedPair, confusion_matrix, most_confused
    from .confusion_drawing import confusion_picture, write_confusion_picture
    from .metrics import Z_95, Accuracy, accuracy, cross_entropy, ranked, top_k_hits, wilson_interval
    from .per_class import ClassScore, per_class_scores
    from .report_files import write_eval_json, write_per_class, write_predictions
    from .scores import EvalScores, score
    from .views import combine_views, parse_views, softmax
