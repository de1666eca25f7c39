"""``vidm evaluate`` and ``vidm classify`` on a labelled set whose right answers are known.

Three classes of short videos that differ plainly (mostly red, green or blue); a tiny encoder
with a linear head fitted in the test (least squares on its features, well under a second)
separates them, so a correct evaluation reports 100%.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from coloured import CLASSES, use_catalog, write_coloured_set
from PIL import Image

import vidmenagerie as vm
from vidmenagerie.render import denormalize
from vidmenagerie.tasks.evaluate import view_settings

from cli import invoke
from tiny import toml_entry

PER_CLASS = 4
FAST = ("--sampling-rate", "2", "--workers", "0")


@pytest.fixture
def coloured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three classes of coloured videos and ``tiny_rgb``, whose fitted head names them (``coloured.py``)."""
    root, catalog = write_coloured_set(tmp_path, PER_CLASS)
    use_catalog(monkeypatch, catalog)
    return root


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _evaluate(*args: object) -> dict:
    result = invoke("evaluate", *args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return json.loads((Path(str(args[args.index("--out") + 1])) / "eval.json").read_text())


def test_a_separable_set_scores_100_percent(coloured: Path, tmp_path: Path) -> None:
    result = invoke("evaluate", coloured, "--model", "tiny_rgb", *FAST, "--out", tmp_path / "e")
    assert result.exit_code == 0, result.output
    assert "class folders matched to class names (ignoring case and punctuation): 3 folders" in result.output
    record = json.loads((tmp_path / "e" / "eval.json").read_text())
    scores = record["scores"]
    assert scores["acc1_video"]["correct"] == scores["acc1_video"]["total"] == 3 * PER_CLASS
    assert scores["acc1_video"]["value"] == 1.0 and scores["acc1_video"]["low"] > 0.7
    assert scores["acc1_clip"]["value"] == 1.0 and scores["clips"] == 3 * PER_CLASS
    assert scores["mean_class_accuracy"] == 1.0 and scores["classes_present"] == 3
    assert record["labels"]["rule"] == "names"
    predictions = _csv(tmp_path / "e" / "eval.predictions.csv")
    assert len(predictions) == 12 and all(row["correct"] == "1" for row in predictions)
    assert {row["top1"] for row in predictions} == set(CLASSES)
    assert [row["label"] for row in _csv(tmp_path / "e" / "eval.per_class.csv")] == list(CLASSES)
    assert (tmp_path / "e" / "eval.confusion.png").stat().st_size > 1000
    assert "100.00% (12/12)" in result.output


def test_shuffled_labels_score_about_chance(coloured: Path, tmp_path: Path) -> None:
    paths = sorted(coloured.rglob("*.mp4"))
    shuffled = [CLASSES[(CLASSES.index(p.parent.name) + 1 + i % 2) % 3] for i, p in enumerate(paths)]  # never right
    table = tmp_path / "wrong.csv"
    table.write_text("path,label\n" + "".join(f"{p},{label}\n" for p, label in zip(paths, shuffled)))
    record = _evaluate(table, "--model", "tiny_rgb", *FAST, "--out", tmp_path / "w")
    assert record["scores"]["acc1_video"]["value"] == 0.0 and record["labels"]["rule"] == "names"


def test_views_agree_on_easy_data_and_match_embed_logits(coloured: Path, tmp_path: Path) -> None:
    one = _evaluate(coloured, "--model", "tiny_rgb", *FAST, "--out", tmp_path / "a")
    many = _evaluate(coloured, "--model", "tiny_rgb", *FAST, "--views", "5x3", "--out", tmp_path / "b")
    assert one["scores"]["acc1_video"]["value"] == many["scores"]["acc1_video"]["value"] == 1.0
    assert many["scores"]["clips"] == 12 * 15 and many["views"] == {
        "clips": "uniform:5",
        "crops": 3,
        "dtype": "float32",
    }
    top1 = {r["video"]: r["top1"] for r in _csv(tmp_path / "b" / "eval.predictions.csv")}
    invoke("embed", coloured, "--model", "tiny_rgb", *FAST, "--top-k", "1", "--out", tmp_path / "f.npy")
    logits = np.load(tmp_path / "f.logits.npy")
    videos = [r["video"] for r in _csv(tmp_path / "f.index.csv")]
    assert {v: CLASSES[int(row.argmax())] for v, row in zip(videos, logits)} == {
        r["video"]: r["top1"] for r in _csv(tmp_path / "a" / "eval.predictions.csv")
    }
    assert set(top1.values()) == set(CLASSES)


def test_missing_and_broken_inputs_are_listed_not_scored(coloured: Path, tmp_path: Path) -> None:
    (coloured / "red" / "broken.mp4").write_bytes(b"not a video")
    table = tmp_path / "t.csv"
    table.write_text(f"{coloured / 'blue' / '0.mp4'},blue\n{tmp_path / 'gone.mp4'},red\n")
    result = invoke("evaluate", coloured, "--model", "tiny_rgb", *FAST, "--out", tmp_path / "e")
    assert result.exit_code == 1 and "1 of 13 inputs not scored (0 missing, 1 failed, 0 pending)" in result.output
    record = json.loads((tmp_path / "e" / "eval.json").read_text())
    assert record["scores"]["acc1_video"]["total"] == 12 and "broken.mp4" in record["excluded"]["failed"][0]["input"]
    result = invoke("evaluate", table, "--model", "tiny_rgb", *FAST, "--out", tmp_path / "t")
    assert result.exit_code == 1 and "missing" in result.output and "gone.mp4" in result.output  # like a failure
    assert json.loads((tmp_path / "t" / "eval.json").read_text())["scores"]["videos"] == 1


def test_an_unknown_class_name_is_one_clear_line(coloured: Path, tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text(f"path,label\n{coloured / 'blue' / '0.mp4'},purple\n")
    result = invoke("evaluate", table, "--model", "tiny_rgb", *FAST, "--out", tmp_path / "t")
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert result.exit_code != 0 and len(lines) == 1 and "purple" in lines[0] and "t.csv:2" in lines[0]


def test_shards_then_merge_give_the_same_scores(coloured: Path, tmp_path: Path) -> None:
    whole = _evaluate(coloured, "--model", "tiny_rgb", *FAST, "--out", tmp_path / "one")
    for i in range(2):
        result = invoke(
            "evaluate", coloured, "--model", "tiny_rgb", *FAST, "--out", tmp_path / "s", "--shard", f"{i}/2"
        )
        assert result.exit_code == 0 and "--merge" in result.output
    merged = _evaluate(coloured, "--model", "tiny_rgb", *FAST, "--out", tmp_path / "s", "--merge")
    assert merged["scores"] == whole["scores"]


def test_library_evaluate_returns_the_same_numbers(coloured: Path, tmp_path: Path) -> None:
    record = _evaluate(coloured, "--model", "tiny_rgb", *FAST, "--out", tmp_path / "e")
    entry = vm.get_model_entry("tiny_rgb")
    settings = view_settings(entry, "1x1", sampling_rate=2)
    assert settings.clips == "center" and settings.logits
    scores = vm.evaluate("tiny_rgb", coloured, workers=0, sampling_rate=2)
    assert scores is not None and scores.to_dict() == record["scores"]


def test_classify_prints_and_saves_the_best_labels(coloured: Path, tmp_path: Path) -> None:
    result = invoke("classify", coloured / "green", "--model", "tiny_rgb", *FAST, "--top-k", "2",
                    "--out", tmp_path / "c")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = _csv(tmp_path / "c" / "classify.csv")
    assert len(rows) == PER_CLASS and all(r["label1"] == "green" for r in rows)
    assert all(float(r["p1"]) > float(r["p2"]) for r in rows) and "green (" in result.output
    saved = json.loads((tmp_path / "c" / "classify.json").read_text())
    assert len(saved["labels"]) == PER_CLASS
    # a picture per input for the page: the first frame of its centre clip, as the model saw it
    pre = vm.get_model_entry("tiny_rgb").preprocessing.with_sampling_rate(2)
    for k in range(PER_CLASS):
        picture = tmp_path / "c" / f"{k}.classify.jpg"
        assert saved["pictures"][str(coloured / "green" / f"{k}.mp4")] == str(picture)
        shown = np.asarray(Image.open(picture).convert("RGB"), dtype=np.float32)
        clip = vm.read_clip(coloured / "green" / f"{k}.mp4", preprocessing=pre)
        first = denormalize(clip.frames, pre)[0].astype(np.float32)
        assert shown.shape == first.shape == (56, 56, 3) and np.abs(shown - first).mean() < 4
    # and the page: a classify section (not the views' embedding map) with a card per input
    page = (tmp_path / "c" / "index.html").read_text()
    assert 'data-kind="classify"' in page and 'data-kind="embed"' not in page and "<svg" not in page
    assert "<title>Labels from tiny_rgb</title>" in page  # titled by what it shows


def test_a_model_without_a_head_is_refused(coloured: Path, tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text(toml_entry("plain", "vit", checkpoint=str(tmp_path / "none.pth")))
    result = invoke("evaluate", coloured, "--model", "plain", "--catalog", tmp_path / "x.toml")
    assert result.exit_code == 2 and "has no classification head" in result.output


def test_ssv2_json_and_kinetics_csv_with_a_video_folder(coloured: Path, tmp_path: Path) -> None:
    flat = tmp_path / "flat"
    flat.mkdir()
    entries, rows = [], ["label,youtube_id,time_start,time_end,split"]
    for i, path in enumerate(sorted(coloured.rglob("*.mp4"))):
        (flat / f"{1000 + i}.mp4").write_bytes(path.read_bytes())
        (flat / f"yt{i}_000002_000012.mp4").write_bytes(path.read_bytes())
        entries.append({"id": str(1000 + i), "label": path.parent.name, "template": f"[{path.parent.name}]"})
        rows.append(f"{path.parent.name.upper()},yt{i},2,12,val")
    (tmp_path / "validation.json").write_text(json.dumps(entries))
    (tmp_path / "k.csv").write_text("\n".join(rows) + "\n")
    ssv2 = _evaluate(
        tmp_path / "validation.json", "--videos", flat, "--model", "tiny_rgb", *FAST, "--out", tmp_path / "s"
    )
    kinetics = _evaluate(tmp_path / "k.csv", "--videos", flat, "--model", "tiny_rgb", *FAST, "--out", tmp_path / "k")
    for record in (ssv2, kinetics):
        assert record["scores"]["acc1_video"]["value"] == 1.0 and record["scores"]["videos"] == 12
    result = invoke("evaluate", tmp_path / "validation.json", "--model", "tiny_rgb")
    assert result.exit_code == 2 and "--videos" in result.output
