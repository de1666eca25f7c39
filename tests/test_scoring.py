"""Scoring for ``vidm evaluate``: views, accuracies and intervals, per-class numbers, files and picture (pure numpy)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pictures import colour_ramps
from PIL import Image

from vidmenagerie.scoring import (
    EvalScores,
    combine_views,
    confusion_matrix,
    confusion_picture,
    most_confused,
    parse_views,
    ranked,
    score,
    softmax,
    top_k_hits,
    wilson_interval,
    write_confusion_picture,
    write_eval_json,
    write_per_class,
    write_predictions,
)
from vidmenagerie.scoring.confusion import ConfusedPair
from vidmenagerie.scoring.confusion_drawing import BAR, LINE

# Six videos of three classes (and a fourth class the truth never holds), worked out by hand:
# predictions 0, 1, 0, 1, 0, 1 -> right: v0, v2, v3 (Acc@1 3/6).
NAMES = ("cat", "dog", "emu", "yak")
PROBS = np.array(
    [
        [0.7, 0.2, 0.1, 0.0],
        [0.2, 0.5, 0.3, 0.0],
        [0.6, 0.3, 0.1, 0.0],
        [0.1, 0.8, 0.1, 0.0],
        [0.5, 0.4, 0.1, 0.0],
        [0.1, 0.6, 0.3, 0.0],
    ]
)
TRUTH = np.array([0, 0, 0, 1, 1, 2])
VIDEOS = [f"v{i}" for i in range(6)]


# --------------------------------------------------------------------------- views
@pytest.mark.parametrize(("spec", "expected"), [("5x3", (5, 3)), ("1x1", (1, 1)), (" 2X3 ", (2, 3)), ("10x1", (10, 1))])
def test_parse_views(spec: str, expected: tuple[int, int]) -> None:
    assert parse_views(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("5", "must be CLIPSxCROPS, e.g. 5x3"),
        ("", "must be CLIPSxCROPS"),
        ("0x3", "clips must be at least 1 (got 0)"),
        ("-1x3", "clips must be at least 1 (got -1)"),
        ("ax3", "clips must be a positive whole number (got 'a')"),
        ("5x2", "crops must be 1 (centre) or 3 (left, centre, right), got 2"),
        ("5x0", "crops must be at least 1 (got 0)"),
        ("5x3x1", "crops must be a positive whole number (got '3x1')"),
        ("2.5x3", "clips must be a positive whole number (got '2.5')"),
    ],
)
def test_parse_views_errors(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        parse_views(spec)


def _softmax_by_hand(row: list[float]) -> list[float]:
    exps = [math.exp(x) for x in row]
    return [e / sum(exps) for e in exps]


def test_combine_views_is_the_mean_of_softmax_not_of_logits() -> None:
    # Two views say class 1 moderately, one says class 0 very confidently: the mean logits
    # ([3.33, 1.33]) pick class 0, the mean probabilities (0.41 vs 0.59) pick class 1.
    rows = [[0.0, 2.0], [10.0, 0.0], [0.0, 2.0]]
    videos, probs = combine_views(np.array(rows, dtype=np.float32), ["a", "a", "a"])
    expected = np.mean([_softmax_by_hand(r) for r in rows], axis=0)
    assert videos == ["a"]
    assert probs.dtype == np.float64
    np.testing.assert_allclose(probs[0], expected, rtol=1e-12)
    assert probs[0].argmax() == 1
    assert np.array(rows).mean(axis=0).argmax() == 0


def test_combine_views_keeps_first_appearance_order_and_counts_views() -> None:
    logits = np.array([[1.0, 0.0], [0.0, 0.0], [3.0, 1.0], [5.0, 5.0], [2.0, 0.0]])
    videos, probs = combine_views(logits, ["b", "a", "b", "c", "b"])
    assert videos == ["b", "a", "c"]
    b = np.mean([_softmax_by_hand([1, 0]), _softmax_by_hand([3, 1]), _softmax_by_hand([2, 0])], axis=0)
    np.testing.assert_allclose(probs, [b, [0.5, 0.5], [0.5, 0.5]], rtol=1e-12)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_softmax_is_stable_for_large_logits() -> None:
    probs = softmax(np.array([[1000.0, 0.0], [-1000.0, -1000.0], [1e308, 1e308]]))
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs, [[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]])


@pytest.mark.parametrize(
    ("logits", "ids", "message"),
    [
        (np.zeros(3), ["a"] * 3, r"\[rows, classes\]"),
        (np.zeros((3, 2)), ["a"] * 2, "3 rows of logits but 2 video ids"),
        (np.array([[0.0, 1.0], [np.nan, 0.0]]), ["a", "b"], r"row 1 \(b\) are not finite"),
        (np.array([[0.0, np.inf]]), ["a"], "not finite"),
    ],
)
def test_combine_views_refuses(logits: np.ndarray, ids: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        combine_views(logits, ids)


def test_combine_views_of_nothing() -> None:
    videos, probs = combine_views(np.zeros((0, 4)), [])
    assert videos == [] and probs.shape == (0, 4)


# --------------------------------------------------------------------------- ranking and intervals
def test_ties_rank_the_lower_class_index_first() -> None:
    probs = np.array([[0.1, 0.3, 0.3, 0.3], [0.25, 0.25, 0.25, 0.25]])
    assert ranked(probs, 4).tolist() == [[1, 2, 3, 0], [0, 1, 2, 3]]
    assert top_k_hits(probs, np.array([2, 0]), 1).tolist() == [False, True]


def test_top5_tie_at_the_boundary() -> None:
    # Sorted: 0 (.3), 2 (.2), 3 and 4 (.15), then 1 and 6 tie at .1: class 1 takes the 5th place.
    row = np.array([[0.3, 0.1, 0.2, 0.15, 0.15, 0.0, 0.1]])
    assert ranked(row, 5).tolist() == [[0, 2, 3, 4, 1]]
    assert top_k_hits(row, np.array([1]), 5).tolist() == [True]
    assert top_k_hits(row, np.array([6]), 5).tolist() == [False]
    assert top_k_hits(row, np.array([6]), 7).tolist() == [True]


@pytest.mark.parametrize(
    ("correct", "total", "low", "high"),
    [
        (8, 10, 0.4902, 0.9433),  # by hand: centre 0.71675, half 0.22658
        (0, 10, 0.0, 0.2775),  # low 0, high z^2 / (n + z^2)
        (10, 10, 0.7225, 1.0),  # low n / (n + z^2)
        (1, 2, 0.0945, 0.9055),
        (50, 100, 0.4038, 0.5962),
    ],
)
def test_wilson_interval(correct: int, total: int, low: float, high: float) -> None:
    got = wilson_interval(correct, total)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_refuses() -> None:
    with pytest.raises(ValueError, match="at least one trial"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="between 0 and 3"):
        wilson_interval(4, 3)


# --------------------------------------------------------------------------- score
def test_score_by_hand() -> None:
    scores = score(PROBS, TRUTH, NAMES)
    assert (scores.videos, scores.classes_present, scores.classes_model, scores.top_k) == (6, 3, 4, 4)
    assert (scores.acc1_video.correct, scores.acc1_video.total, scores.acc1_video.value) == (3, 6, 0.5)
    assert (scores.acc1_video.low, scores.acc1_video.high) == wilson_interval(3, 6)
    assert (scores.acc5_video.correct, scores.acc5_video.value) == (6, 1.0)  # Acc@4: 4 classes
    assert scores.acc1_clip is None and scores.acc5_clip is None and scores.clips is None
    assert scores.mean_class_accuracy == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)
    expected_loss = -sum(math.log(p) for p in (0.7, 0.2, 0.6, 0.8, 0.4, 0.3)) / 6
    assert scores.loss == pytest.approx(expected_loss, rel=1e-12)
    assert scores.loss == pytest.approx(0.8033912, abs=1e-6)
    rows = [
        (c.index, c.name, c.videos, c.correct, c.confused_with, c.confused_name, c.confused_count)
        for c in scores.per_class
    ]
    assert rows == [(0, "cat", 3, 2, 1, "dog", 1), (1, "dog", 2, 1, 0, "cat", 1), (2, "emu", 1, 0, 1, "dog", 1)]


def test_score_acc5_with_many_classes_and_clips() -> None:
    # 7 classes; video 0 as in the boundary test (true 6: out of the top 5), video 1 right.
    probs = np.array([[0.3, 0.1, 0.2, 0.15, 0.15, 0.0, 0.1], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]])
    clip_logits = np.array(
        [
            [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # all tie: predicts 0, top 5 = 0..4; true 6 -> miss, miss
            [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 9.0],  # true 6: hit, hit
            [5.0, 4.0, 3.0, 2.0, 1.0, 0.0, 1.5],  # true 6: 5th (1.5 beats 1.0) -> top-5 hit only
        ]
    )
    scores = score(probs, [6, 6], [str(i) for i in range(7)], clip_logits=clip_logits, clip_truth=[6, 6, 6])
    assert scores.top_k == 5
    assert (scores.acc1_video.correct, scores.acc5_video.correct) == (1, 1)
    assert scores.clips == 3
    assert scores.acc1_clip is not None and scores.acc5_clip is not None
    assert (scores.acc1_clip.correct, scores.acc1_clip.total, scores.acc5_clip.correct) == (1, 3, 2)
    assert scores.loss == pytest.approx((-math.log(0.1) - math.log(1.0)) / 2)


def test_loss_clips_zero_probabilities() -> None:
    scores = score(np.array([[1.0, 0.0], [0.5, 0.5]]), [1, 0], ["a", "b"])
    assert scores.loss == pytest.approx((-math.log(1e-12) - math.log(0.5)) / 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"probs": np.array([[2.0, -1.0]]), "truth": [0]}, "probabilities .* not logits"),
        ({"probs": np.array([[0.5, 0.5]]), "truth": [2]}, "holds class 2, outside 0..1"),
        ({"probs": np.array([[0.5, 0.5]]), "truth": [0, 1]}, "one class index per row"),
        ({"probs": np.array([[0.5, 0.5]]), "truth": [0.0]}, "integers"),
        ({"probs": np.zeros((0, 2)), "truth": np.zeros(0, dtype=int)}, "nothing to score"),
        ({"probs": np.array([[1 / 3] * 3]), "truth": [0]}, r"\[rows, 2\]"),
        ({"probs": np.array([[0.5, 0.5]]), "truth": [0], "clip_logits": np.zeros((1, 2))}, "give both or neither"),
    ],
)
def test_score_refuses(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        score(class_names=["a", "b"], **kwargs)


def test_to_dict_and_eval_json(tmp_path: Path) -> None:
    scores = score(PROBS, TRUTH, NAMES)
    path = write_eval_json(tmp_path / "eval.json", scores, {"model": "m", "views": [5, 3]})
    data = json.loads(path.read_text())
    assert data["model"] == "m" and data["views"] == [5, 3]
    s = data["scores"]
    assert s["acc1_video"] == {
        "correct": 3,
        "total": 6,
        "value": 0.5,
        "low": scores.acc1_video.low,
        "high": scores.acc1_video.high,
    }
    assert s["acc1_clip"] is None and "per_class" not in s
    assert s["interval"] == {"method": "wilson", "level": 0.95, "z": 1.959963984540054}
    assert s["classes_present"] == 3 and s["classes_model"] == 4 and s["top_k"] == 4
    assert [name for name, _ in scores.rows()][:2] == ["Acc@1 (input)", "Acc@4 (input)"]
    assert isinstance(scores, EvalScores)


# --------------------------------------------------------------------------- files
def _csv(path: Path) -> str:
    return path.read_bytes().decode("utf-8").replace("\r\n", "\n")


def test_predictions_csv(tmp_path: Path) -> None:
    names = ("cat", "dog, big", "emu", "yak")  # a comma in a name is quoted
    path = write_predictions(tmp_path / "eval.predictions.csv", VIDEOS, PROBS, TRUTH, names)
    assert _csv(path) == (
        "video,true,true_label,correct,top1,top2,top3,top4,p1,p2,p3,p4\n"
        'v0,0,cat,1,cat,"dog, big",emu,yak,0.700000,0.200000,0.100000,0.000000\n'
        'v1,0,cat,0,"dog, big",emu,cat,yak,0.500000,0.300000,0.200000,0.000000\n'
        'v2,0,cat,1,cat,"dog, big",emu,yak,0.600000,0.300000,0.100000,0.000000\n'
        'v3,1,"dog, big",1,"dog, big",cat,emu,yak,0.800000,0.100000,0.100000,0.000000\n'
        'v4,1,"dog, big",0,cat,"dog, big",emu,yak,0.500000,0.400000,0.100000,0.000000\n'
        'v5,2,emu,0,"dog, big",emu,cat,yak,0.600000,0.300000,0.100000,0.000000\n'
    )
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically: no temporary file left


def test_predictions_csv_has_five_columns_with_many_classes(tmp_path: Path) -> None:
    probs = np.array([[0.3, 0.1, 0.2, 0.15, 0.15, 0.0, 0.1]])
    path = write_predictions(tmp_path / "p.csv", ["x"], probs, [6], list("abcdefg"))
    assert _csv(path) == (
        "video,true,true_label,correct,top1,top2,top3,top4,top5,p1,p2,p3,p4,p5\n"
        "x,6,g,0,a,c,d,e,b,0.300000,0.200000,0.150000,0.150000,0.100000\n"
    )


def test_per_class_csv(tmp_path: Path) -> None:
    probs = np.vstack([PROBS, [[0.0, 0.0, 0.9, 0.1]]])  # a right emu: emu now 1 of 2, yak still absent
    scores = score(probs, np.append(TRUTH, 2), NAMES)
    path = write_per_class(tmp_path / "eval.per_class.csv", scores.per_class)
    assert _csv(path) == (
        "class,label,videos,correct,accuracy,confused_with,confused_label,confused_count\n"
        "0,cat,3,2,0.666667,1,dog,1\n"
        "1,dog,2,1,0.500000,0,cat,1\n"
        "2,emu,2,1,0.500000,1,dog,1\n"
    )
    perfect = score(np.eye(2), [0, 1], ["a", "b"])
    assert _csv(write_per_class(tmp_path / "p.csv", perfect.per_class)).splitlines()[1:] == [
        "0,a,1,1,1.000000,,,0",
        "1,b,1,1,1.000000,,,0",
    ]


# --------------------------------------------------------------------------- confusion
def test_confusion_matrix_and_most_confused_order() -> None:
    truth = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3])
    pred = np.array([1, 1, 0, 0, 2, 0, 0, 3, 2])
    matrix = confusion_matrix(truth, pred, 4)
    assert matrix.tolist() == [[1, 2, 0, 0], [1, 0, 1, 0], [2, 0, 0, 1], [0, 0, 1, 0]]
    # Count first, then true class, then predicted class.
    assert most_confused(matrix, 4) == [
        ConfusedPair(0, 1, 2),
        ConfusedPair(2, 0, 2),
        ConfusedPair(1, 0, 1),
        ConfusedPair(1, 2, 1),
    ]
    assert len(most_confused(matrix, 100)) == 6
    assert most_confused(np.eye(3, dtype=int)) == []
    with pytest.raises(ValueError, match="within 0..3"):
        confusion_matrix(np.array([4]), np.array([0]), 4)


def _bar_bands(image: Image.Image) -> int:
    """How many separate horizontal bands of bar colour the picture holds."""
    pixels = np.asarray(image.convert("RGB"))
    rows = (pixels == np.array(BAR, dtype=np.uint8)).all(axis=2).any(axis=1)
    return int(np.count_nonzero(rows[1:] & ~rows[:-1]) + rows[0])


def test_confusion_picture_for_many_classes_shows_pairs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    names = [f"class {i}" for i in range(30)]
    truth = np.repeat(np.arange(30), 4)
    pred = truth.copy()
    pred[::4] = (truth[::4] + 1) % 30  # 30 distinct pairs of 1 ...
    pred[1:8:4] = 5  # ... and (0 -> 5), (1 -> 5) twice over
    rng.shuffle(pred[40:])  # more scattered mistakes
    path = write_confusion_picture(tmp_path / "eval.confusion.png", truth, pred, names)
    image = Image.open(path)
    assert 400 <= image.width <= 1400 and 300 <= image.height <= 600
    assert _bar_bands(image) == 20  # the top 20 pairs, one bar each
    gray = np.asarray(image.convert("L"))
    assert gray.min() < 50 and (gray < 128).mean() > 0.05  # text and bars, not a blank page


def test_confusion_picture_without_mistakes_says_so() -> None:
    names = [f"c{i}" for i in range(25)]
    image = confusion_picture(np.arange(25), np.arange(25), names)
    assert _bar_bands(image) == 0
    assert np.asarray(image.convert("L")).min() < 50  # the message is drawn


def test_confusion_picture_for_few_classes_is_a_grid(tmp_path: Path) -> None:
    truth = np.array([0, 0, 0, 1, 1, 2])
    pred = np.array([0, 1, 0, 1, 0, 1])
    names = ["cat", "dog", "emu", "yak"]  # yak is never true nor predicted: left out of the grid
    path = write_confusion_picture(tmp_path / "grid.png", truth, pred, names)
    image = Image.open(path)
    assert 150 <= image.width <= 600 and 100 <= image.height <= 600
    pixels = np.asarray(image.convert("RGB")).astype(int)
    bar = np.array(BAR)
    assert (np.abs(pixels - bar).sum(axis=2) < 10).any()  # emu -> dog is all of emu's row: full colour
    lines = (pixels == np.array(LINE)).all(axis=2)
    assert np.count_nonzero(lines.sum(axis=0) > 60) == 4  # 3 x 3 cells (yak left out): 4 lines each way
    assert np.count_nonzero(lines.sum(axis=1) > 60) == 4
    assert image.width < _ring_grid(tmp_path, 12).width  # the grid grows with the classes
    scale = colour_ramps(image, np.round(255 + np.linspace(0, 1, 64)[:, None] * (bar - 255)))
    assert scale and min(scale) > np.nonzero(lines.sum(axis=1) > 60)[0].max()  # the colour bar, under the grid


def _ring_grid(folder: Path, classes: int) -> Image.Image:
    """The grid picture of ``classes`` classes, each taken for the next."""
    truth = np.arange(classes)
    names = [f"c{i}" for i in range(classes)]
    return Image.open(write_confusion_picture(folder / f"g{classes}.png", truth, (truth + 1) % classes, names))


def test_picture_needs_a_known_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported image format"):
        write_confusion_picture(tmp_path / "c.bmp", np.array([0]), np.array([0]), ["a"])


def test_scoring_imports_no_torch() -> None:
    code = (
        "import sys; from vidmenagerie.scoring import score, combine_views, write_predictions; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
