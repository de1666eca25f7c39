"""``vidm evaluate`` and ``vidm classify``: class probabilities of labelled or unlabelled inputs.

>>> import vidmenagerie as vm
>>> scores = vm.evaluate("vit_s_ssv2-50shot", "ssv2_val/", views="1x1")   # doctest: +SKIP
>>> scores.acc1_video.value, scores.acc1_video.low, scores.acc1_video.high  # doctest: +SKIP
"""

from __future__ import annotations

from .api import evaluate
from .classify import ClassifyRun, classify_videos
from .predict import VIEWS_FILE, Predictions, class_names, predictions, view_settings
from .run import EvalRun, evaluate_videos, merge_evaluation, score_evaluation

__all__ = [
    "VIEWS_FILE",
    "ClassifyRun",
    "EvalRun",
    "Predictions",
    "class_names",
    "classify_videos",
    "evaluate",
    "evaluate_videos",
    "merge_evaluation",
    "predictions",
    "score_evaluation",
    "view_settings",
]
