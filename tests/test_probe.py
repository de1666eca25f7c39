"""``vidm probe`` on synthetic features whose answers are known, against scikit-learn and numpy, and
the exported head round trip through ``vidm classify`` with a tiny model."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from coloured import CLASSES, coloured_video, use_catalog, write_coloured_set
from probe_data import blobs, labelled_table, write_output

import vidmenagerie as vm
from vidmenagerie.errors import ProbeError
from vidmenagerie.probing.splits import draw_shots

from cli import invoke, run_vidm
from tiny import toml_entry, write_checkpoint
from videos import write_video

NAMES = ("ant", "bee", "cat", "dog", "eel", "fox")


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _set(tmp_path: Path, name: str, features: np.ndarray, labels: np.ndarray, **kw: object) -> tuple[Path, Path]:
    """Features of inputs ``name/<k>.mp4`` as an embed output, and their ``path,label`` table."""
    videos = [str(tmp_path / name / f"{k:03d}.mp4") for k in range(len(labels))]
    table = labelled_table(tmp_path / f"{name}.csv", videos, [NAMES[c] for c in labels])
    return table, write_output(tmp_path / "feats" / f"{name}.npy", videos, features, **kw)  # type: ignore[arg-type]


def test_separable_classes_score_100_percent(tmp_path: Path) -> None:
    x, y = blobs(4, 10, 16, spread=0.05, seed=0)
    table, feats = _set(tmp_path, "train", x, y)
    run = vm.probe(table, model="vit_s_none", features=feats, out=tmp_path / "p", folds=5)
    assert {(s["probe"], s["acc1"]["mean"]) for s in run.summary} == {("linear", 1.0), ("knn", 1.0)}
    record = json.loads((tmp_path / "p" / "probe.json").read_text())
    assert record["classes"] == list(NAMES[:4]) and record["protocol"] == "5-fold cross-validation on TRAIN"
    assert len(record["rows"]) == 2 * 5 and sum(r["n_val"] for r in record["rows"] if r["probe"] == "knn") == 40
    row = record["rows"][0]
    assert set(row) >= {"layer", "probe", "shots", "seed", "fold", "acc1", "acc5", "mean_class_accuracy", "n_train",
                        "n_val", "c"}  # fmt: skip
    assert row["layer"] == 31 and row["acc5"] is None  # 4 classes: no Acc@5
    assert record["best"]["acc1"]["mean"] == 1.0 and (tmp_path / "p" / "head" / "catalog.toml").is_file()
    predictions = _csv(tmp_path / "p" / "probe.predictions.csv")
    assert len(predictions) == 40 and all(r["correct"] == "1" for r in predictions)
    assert [r["label"] for r in _csv(tmp_path / "p" / "probe.per_class.csv")] == list(NAMES[:4])


def test_shuffled_labels_give_chance(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(100, 16)), np.repeat(np.arange(4), 25)
    table, feats = _set(tmp_path, "train", x, rng.permutation(y))
    run = vm.probe(table, features=feats, out=tmp_path / "p", head=False)
    for s in run.summary:
        assert s["acc1"]["low"] <= 0.25 <= s["acc1"]["high"], s
    assert run.head is None and not (tmp_path / "p" / "head").exists()


def _val_run(tmp_path: Path, probe: str, **kw: object) -> tuple[vm.probing.ProbeRun, np.ndarray, np.ndarray]:
    x, y = blobs(4, 30, 12, spread=1.2, seed=2)  # overlapping: predictions are not all certain
    order = np.random.default_rng(3).permutation(len(y))
    train, val = order[:80], order[80:]
    table, feats = _set(tmp_path, "train", x[train], y[train])
    val_table, val_feats = _set(tmp_path, "val", x[val], y[val])
    run = vm.probe(table, val=val_table, features=feats, val_features=val_feats, probes=probe, out=tmp_path / "p",
                   **kw)  # type: ignore[arg-type]  # fmt: skip
    return run, (x[train], y[train]), (x[val], y[val])  # type: ignore[return-value]


def test_linear_equals_scikit_learn_on_the_same_split_and_strength(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    run, (x, y), (xv, yv) = _val_run(tmp_path, "linear")
    c = run.rows[0]["c"]
    assert run.rows[0]["c_chosen_by"] == "cv" and c in (0.001, 0.01, 0.1, 1.0, 10.0)
    reference = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1000)).fit(x, y)
    probs = reference.predict_proba(xv.astype(np.float32).astype(np.float64))
    predictions = _csv(tmp_path / "p" / "probe.predictions.csv")
    assert [NAMES.index(r["top1"]) for r in predictions] == list(probs.argmax(axis=1))
    assert np.allclose([float(r["p1"]) for r in predictions], probs.max(axis=1), atol=2e-5)
    assert run.rows[0]["acc1"]["correct"] == int((probs.argmax(axis=1) == yv).sum())


def test_knn_equals_a_brute_force_computation(tmp_path: Path) -> None:
    run, (x, y), (xv, yv) = _val_run(tmp_path, "knn", k=7)
    a = x.astype(np.float32).astype(np.float64)
    b = xv.astype(np.float32).astype(np.float64)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    sims = b @ a.T
    expected = np.zeros((len(b), 4))
    for i in range(len(b)):
        for j in np.argsort(-sims[i])[:7]:
            expected[i, y[j]] += np.exp(sims[i, j] / 0.07)
    expected /= expected.sum(axis=1, keepdims=True)
    predictions = _csv(tmp_path / "p" / "probe.predictions.csv")
    assert [NAMES.index(r["top1"]) for r in predictions] == list(expected.argmax(axis=1))
    assert np.allclose([float(r["p1"]) for r in predictions], expected.max(axis=1), atol=1e-5)
    assert run.rows[0]["acc1"]["correct"] == int((expected.argmax(axis=1) == yv).sum())


def test_few_shot_draws_are_reproducible_with_exact_counts(tmp_path: Path) -> None:
    labels = np.array([0] * 10 + [1] * 3 + [2] * 7)
    pool = np.arange(len(labels))
    first, again, other = (draw_shots(labels, pool, 5, s) for s in (4, 4, 5))
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert np.bincount(labels[first]).tolist() == [5, 3, 5]
    x, y = blobs(3, 1, 8, spread=0.0, seed=4)
    x, y = np.concatenate([x + 0.1 * k for k in range(8)]), np.tile(y, 8)
    y[y == 2] = np.where(np.arange((y == 2).sum()) < 3, 2, 1)  # class cat: 3 examples
    table, feats = _set(tmp_path, "train", x, y)
    run = vm.probe(table, features=feats, out=tmp_path / "p", shots="5,all", seeds=3, folds=2)
    assert any("'cat' has" in note and "fewer than 5 shots" in note for note in run.notes)
    fewshot = [s for s in run.summary if s["shots"] == "5"]
    assert all(len(s["acc1_per_seed"]) == 3 and s["acc1"]["interval"] == "t over seeds" for s in fewshot)
    rows = [r for r in run.rows if r["shots"] == "5" and r["probe"] == "knn"]
    assert {r["seed"] for r in rows} == {0, 1, 2} and {r["fold"] for r in rows} == {0, 1}


def test_layers_are_swept_from_one_multi_layer_output(tmp_path: Path) -> None:
    x, y = blobs(4, 10, 16, spread=0.05, seed=9)
    noise = np.random.default_rng(9).normal(size=x.shape)
    videos = [str(tmp_path / "train" / f"{k:03d}.mp4") for k in range(len(y))]
    table = labelled_table(tmp_path / "train.csv", videos, [NAMES[c] for c in y])
    feats = write_output(tmp_path / "feats" / "train.npy", videos, {0: noise, 5: x, 31: 0.3 * x + noise})
    assert (tmp_path / "feats" / "train.layer05.npy").is_file()
    run = vm.probe(table, features=feats, layers="0,5,-1", probes="linear", out=tmp_path / "p")
    assert [s["layer"] for s in run.summary] == [0, 5, 31]
    assert run.best["layer"] == 5 and run.best["acc1"]["mean"] == 1.0 and run.head and run.head["layer"] == 5
    with pytest.raises(ProbeError, match="not block 7"):
        vm.probe(table, features=feats, layers="7", out=tmp_path / "q")


def test_a_second_run_writes_the_same_bytes(tmp_path: Path) -> None:
    x, y = blobs(6, 12, 10, spread=1.0, seed=5)
    table, feats = _set(tmp_path, "train", x, y)
    first = invoke("probe", table, "--features", feats, "--shots", "2,all", "--seeds", "2", "--out", tmp_path / "p",
                   "--no-report")  # fmt: skip
    assert first.exit_code == 0, first.output
    before = (tmp_path / "p" / "probe.json").read_bytes()
    again = invoke("probe", table, "--features", feats, "--shots", "2,all", "--seeds", "2", "--out", tmp_path / "p",
                   "--no-report")  # fmt: skip
    assert again.exit_code == 0 and (tmp_path / "p" / "probe.json").read_bytes() == before
    record = json.loads(before)
    assert record["rows"][0]["acc5"] is not None  # 6 classes: Acc@5 reported
    assert "best: " in first.output and "head: vidm classify" in first.output


# --------------------------------------------------------------------------- bad input: one line, no result


def _refused(tmp_path: Path, *args: object) -> str:
    result = invoke("probe", *args, "--out", tmp_path / "bad", "--no-report")
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "bad").exists()  # nothing written at all
    lines = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_bad_inputs_are_one_line_each(tmp_path: Path) -> None:
    x, y = blobs(2, 6, 8, spread=0.1, seed=6)
    table, feats = _set(tmp_path, "train", x, y)
    assert "at least 2 classes" in _refused(tmp_path, labelled_table(tmp_path / "one.csv", [str(tmp_path / "o.mp4")],
                                                                     ["ant"]), "--features", feats)  # fmt: skip
    single = labelled_table(tmp_path / "single.csv", [str(tmp_path / "train" / f"{k:03d}.mp4") for k in range(7)],
                            ["ant"] * 6 + ["bee"])  # fmt: skip
    assert "'bee' has one example" in _refused(tmp_path, single, "--features", feats)
    extra = labelled_table(tmp_path / "extra.csv", [str(tmp_path / "train" / f"{k:03d}.mp4") for k in range(13)],
                           [NAMES[c] for c in y] + ["bee"])  # fmt: skip
    assert "has no features" in _refused(tmp_path, extra, "--features", feats)
    fewer = labelled_table(tmp_path / "fewer.csv", [str(tmp_path / "train" / f"{k:03d}.mp4") for k in range(1, 12)],
                           [NAMES[c] for c in y[1:]])  # fmt: skip
    assert "have no label" in _refused(tmp_path, fewer, "--features", feats)
    assert "not of vit_hvm1_none" in _refused(tmp_path, table, "--features", feats, "--model", "vit_hvm1_none")
    assert "--pool cls features, not --pool mean" in _refused(tmp_path, table, "--features", feats, "--pool", "mean")
    assert "--shots: examples per class must be at least 1" in _refused(tmp_path, table, "--features", feats,
                                                                        "--shots", "0")  # fmt: skip
    broken = x.copy()
    broken[3, 2] = np.nan
    _, nan_feats = _set(tmp_path, "nan", broken, y)
    nan_table = labelled_table(tmp_path / "nan.csv", [str(tmp_path / "nan" / f"{k:03d}.mp4") for k in range(12)],
                               [NAMES[c] for c in y])  # fmt: skip
    assert "row 3" in _refused(tmp_path, nan_table, "--features", nan_feats) and "NaN" in _refused(
        tmp_path, nan_table, "--features", nan_feats
    )
    with pytest.raises(ProbeError, match="VAL labels have no features"):
        vm.probe(table, val=table, features=feats, out=tmp_path / "bad")


def test_the_real_entry_point_prints_one_error_line(tmp_path: Path) -> None:
    x, y = blobs(2, 3, 4, spread=0.1, seed=8)
    table, feats = _set(tmp_path, "train", x, y)
    done = run_vidm("probe", table, "--features", feats, "--model", "vit_s_none", "--pool", "mean", "--out",
                    tmp_path / "bad", timeout=120)  # fmt: skip
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert done.returncode == 2 and errors == [f"Error: {feats}: holds --pool cls features, not --pool mean"]
    assert done.stderr.strip().splitlines()[-1] == errors[0] and not (tmp_path / "bad" / "probe.json").exists()


def test_help_states_the_knn_formula() -> None:
    result = invoke("probe", "--help")
    assert result.exit_code == 0 and "exp(sim / 0.07)" in result.stdout and "Examples:" in result.stdout


# --------------------------------------------------------------------------- the exported head, with a tiny model


@pytest.fixture
def coloured_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """TRAIN (4 videos a colour), VAL (3 others a colour) and ``tiny_enc``: a plain tiny encoder read from an
    MAE file (its decoder left out), in the catalogue."""
    train, catalog = write_coloured_set(tmp_path, 4)
    val = tmp_path / "val"
    for colour, name in enumerate(CLASSES):
        (val / name).mkdir(parents=True)
        for k in range(3):
            write_video(val / name / f"v{k}.mp4", coloured_video(colour, 100 + 10 * colour + k))
    write_checkpoint(catalog.parent / "enc.pth", "mae", seed=3)
    with catalog.open("a") as handle:
        handle.write(toml_entry("tiny_enc", "vit", checkpoint="enc.pth"))
    use_catalog(monkeypatch, catalog)
    return train, val, catalog


FAST = ("--sampling-rate", "2", "--workers", "0", "--no-report")


@pytest.mark.parametrize("layer", ["-1", "0", "all"])
def test_the_exported_head_classifies_as_the_probe_predicted(coloured_encoder, tmp_path: Path, layer: str) -> None:
    train, val, _ = coloured_encoder
    result = invoke("probe", train, "--val", val, "--model", "tiny_enc", "--probe", "linear", "--layers", layer,
                    "--out", tmp_path / "p", *FAST)  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "p" / "probe.json").read_text())
    block = {"-1": 1, "0": 0}.get(layer, record["head"]["layer"])
    assert record["head"]["name"] == f"tiny_enc.probe-L{block}-cls" and record["head"]["layer"] == block
    assert record["layers"] == ([0, 1] if layer == "all" else [block])
    stored = "train.layer00.npy" if layer == "all" else "train.npy"  # one array per block of a multi-layer run
    assert (tmp_path / "p" / "features" / stored).is_file() and (tmp_path / "p" / "features" / "val.run.json").is_file()
    catalog = tmp_path / "p" / "head" / "catalog.toml"
    name = record["head"]["name"]
    classified = invoke("classify", val, "--catalog", catalog, "--model", name, "--out", tmp_path / "c", *FAST)
    assert classified.exit_code == 0, classified.output
    top1 = {r["video"]: r["label1"] for r in _csv(tmp_path / "c" / "classify.csv")}
    predicted = {r["video"]: r["top1"] for r in _csv(tmp_path / "p" / "probe.predictions.csv")}
    assert top1 == predicted and len(top1) == 9
    model = vm.load_model(name, device="cpu")
    assert len(model.blocks) == block + 1 and model.entry.head.layer == block  # type: ignore[union-attr]
    clip = vm.read_clip(next(val.rglob("*.mp4")), preprocessing=model.entry.preprocessing)  # type: ignore[union-attr]
    backbone = vm.load_model("tiny_enc", device="cpu")
    with torch.no_grad():
        feature = vm.embed(backbone, clip.frames[None], layer=block)
        assert torch.allclose(model(clip.frames[None]), model.head(feature), atol=1e-5)
    evaluated = invoke("evaluate", val, "--catalog", catalog, "--model", name, "--out", tmp_path / "e", *FAST)
    assert evaluated.exit_code == 0, evaluated.output
    scores = json.loads((tmp_path / "e" / "eval.json").read_text())["scores"]
    assert scores["acc1_video"]["correct"] == record["rows"][0]["acc1"]["correct"]


def test_a_head_file_that_does_not_fit_is_refused(coloured_encoder, tmp_path: Path) -> None:
    train, _, catalog = coloured_encoder
    head = tmp_path / "h"
    head.mkdir()
    torch.save({"model": {"head.weight": torch.zeros(3, 64)}}, head / "head.pth")
    (head / "labels.json").write_text(json.dumps(list(CLASSES)))
    (head / "catalog.toml").write_text(toml_entry("bad_head", "vit", checkpoint=str(catalog.parent / "enc.pth"),
                                                  num_classes=3, labels="labels.json", head="head.pth",
                                                  head_layer=0))  # fmt: skip
    vm.register_catalog(head / "catalog.toml")
    with pytest.raises(vm.CheckpointError, match="missing keys: head.bias"):
        vm.load_model("bad_head", device="cpu")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"head": "head.pth"}, "needs both 'head' (its file) and 'head_layer'"),
        ({"head": "head.pth", "head_layer": 2}, "'head_layer' must be a block of 0..1, got 2"),
        ({"head": "head.pth", "head_layer": 0, "head_pool": "tokens"}, "'head_pool' must be"),
    ],
)
def test_catalogue_head_fields_are_checked(tmp_path: Path, fields: dict[str, object], message: str) -> None:
    path = tmp_path / "cat.toml"
    path.write_text(toml_entry("h", "vit", checkpoint="x.pth", num_classes=3, **fields))
    with pytest.raises(vm.CatalogError, match=re.escape(message)):
        vm.register_catalog(path)


def test_a_head_entry_reads_its_block_and_pool(tmp_path: Path) -> None:
    path = tmp_path / "cat.toml"
    path.write_text(toml_entry("h", "vit", checkpoint="x.pth", num_classes=3, head="head.pth", head_layer=0,
                               head_pool="mean"))  # fmt: skip
    [entry] = vm.register_catalog(path)
    assert entry.arch.depth == 1 and entry.head is not None and entry.head.pool == "mean"
    assert entry.to_dict()["probe_head"] == {"path": str(tmp_path / "head.pth"), "layer": 0, "pool": "mean"}
    model = vm.create_model("h")
    assert type(model).__name__ == "ProbeHeadTransformer" and model.head_pool == "mean" and len(model.blocks) == 1
