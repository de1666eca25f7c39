"""``vidm compare`` and ``vm.compare``/``vm.cka``/``vm.rdm``: numbers against independent computations
(a transcription of the papers' formulas, scipy, rsatoolbox), resampling by seed, bad input as
one line, and the command end to end on outputs written with known features (``stores.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rsatoolbox
from scipy.spatial.distance import pdist
from scipy.stats import pearsonr, spearmanr

import vidmenagerie as vm
from vidmenagerie.errors import CompareError
from vidmenagerie.similarity import CompareSettings, compare_rdms, tau_a
from vidmenagerie.similarity.resample import bootstrap_draws, generator, pair_index

from cli import invoke, run_vidm
from stores import write_output

VIDEOS = [f"/data/stimuli/s{i:02d}.mp4" for i in range(24)]


# --------------------------------------------------------------------------- CKA
def _hsic_plain(k: np.ndarray, l: np.ndarray) -> float:  # noqa: E741 - the paper's L
    """Kornblith et al. 2019, eq. 3: tr(K H L H) / (n - 1)^2, H the centring matrix."""
    n = len(k)
    h = np.eye(n) - np.ones((n, n)) / n
    return float(np.trace(k @ h @ l @ h)) / (n - 1) ** 2


def _hsic_unbiased(k: np.ndarray, l: np.ndarray) -> float:  # noqa: E741
    """Song et al. 2012, eq. 5, as written: diagonals zeroed, then three terms over n(n-3)."""
    n = len(k)
    kt, lt = k - np.diag(np.diag(k)), l - np.diag(np.diag(l))
    one = np.ones(n)
    term = np.trace(kt @ lt) + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
    term -= 2 / (n - 2) * (one @ kt @ lt @ one)
    return float(term / (n * (n - 3)))


def _paper_cka(x: np.ndarray, y: np.ndarray, hsic) -> float:  # type: ignore[no-untyped-def]
    k, l = x @ x.T, y @ y.T  # noqa: E741
    return hsic(k, l) / np.sqrt(hsic(k, k) * hsic(l, l))


@pytest.mark.parametrize("debiased", [True, False])
def test_cka_of_x_with_itself_a_rotation_or_a_scaling_is_one(debiased: bool) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 12)) + 3.0  # not centred: CKA centres
    rotation, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    for y in (x, x @ rotation, 7.5 * x, -0.1 * x @ rotation):
        assert vm.cka(x, y, debiased=debiased) == pytest.approx(1.0, abs=1e-10)


def test_debiased_cka_of_independent_matrices_is_near_zero_and_plain_is_not() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((50, 500)), rng.standard_normal((50, 500))
    assert abs(vm.cka(x, y, debiased=True)) < 0.05
    assert vm.cka(x, y, debiased=False) > 0.5  # the bias the debiased estimator removes (n = 50 << 500)


def test_cka_equals_a_transcription_of_the_papers_formulas() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((30, 8))
    y = x @ rng.standard_normal((8, 5)) + rng.standard_normal((30, 5))
    assert vm.cka(x, y, debiased=False) == pytest.approx(_paper_cka(x, y, _hsic_plain), abs=1e-12)
    assert vm.cka(x, y, debiased=True) == pytest.approx(_paper_cka(x, y, _hsic_unbiased), abs=1e-12)


# --------------------------------------------------------------------------- RDMs and RSA
def _dataset(x: np.ndarray) -> rsatoolbox.data.Dataset:
    return rsatoolbox.data.Dataset(x, obs_descriptors={"stimulus": np.arange(len(x))})


def test_rdms_equal_scipys_and_rsatoolboxs() -> None:
    x = np.random.default_rng(3).standard_normal((15, 9))
    for distance in ("correlation", "cosine", "euclidean"):
        ours = vm.rdm(x, distance=distance)
        assert ours.shape == (15, 15) and np.allclose(ours, ours.T) and np.allclose(np.diag(ours), 0)
        assert np.allclose(ours[np.triu_indices(15, 1)], pdist(x, metric=distance))
    theirs = rsatoolbox.rdm.calc_rdm(_dataset(x), method="correlation").get_vectors()[0]
    assert np.allclose(vm.rdm(x)[np.triu_indices(15, 1)], theirs)
    # rsatoolbox's euclidean is the squared distance over the number of features
    squared = rsatoolbox.rdm.calc_rdm(_dataset(x), method="euclidean").get_vectors()[0]
    assert np.allclose(vm.rdm(x, distance="euclidean")[np.triu_indices(15, 1)] ** 2 / 9, squared)


def test_rsa_equals_scipys_and_rsatoolboxs() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((12, 6)), rng.standard_normal((12, 6))
    ra, rb = vm.rdm(a), vm.rdm(b)
    va, vb = ra[np.triu_indices(12, 1)], rb[np.triu_indices(12, 1)]
    assert compare_rdms(ra, rb, "spearman") == pytest.approx(spearmanr(va, vb).statistic, abs=1e-12)
    assert compare_rdms(va, vb, "pearson") == pytest.approx(pearsonr(va, vb).statistic, abs=1e-12)
    da, db = (rsatoolbox.rdm.calc_rdm(_dataset(x), method="correlation") for x in (a, b))
    assert compare_rdms(va, vb, "spearman") == pytest.approx(rsatoolbox.rdm.compare_spearman(da, db)[0, 0])
    assert compare_rdms(va, vb, "pearson") == pytest.approx(rsatoolbox.rdm.compare(da, db, method="corr")[0, 0])
    assert compare_rdms(va, vb, "kendall") == pytest.approx(rsatoolbox.rdm.compare(da, db, method="tau-a")[0, 0])


def test_tau_a_counts_ties_as_neither_as_rsatoolbox_does() -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(0, 4, 40).astype(float)  # many ties, where tau-a and tau-b differ
    y = x + rng.integers(0, 3, 40)
    from rsatoolbox.rdm.compare import _tau_a

    assert tau_a(x, y) == pytest.approx(_tau_a(x, y), abs=1e-12)
    assert tau_a(np.ones(5), np.arange(5.0)) == 0.0
    brute = sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j]) for i in range(40) for j in range(i)) / (40 * 39 / 2)
    assert tau_a(x, y) == pytest.approx(brute, abs=1e-12)


# --------------------------------------------------------------------------- vm.compare on stored outputs
@pytest.fixture
def three(tmp_path: Path) -> dict[str, Path]:
    """Three outputs of 24 inputs: b = a rotated and scaled, c independent of both."""
    rng = np.random.default_rng(6)
    a = rng.standard_normal((24, 10))
    rotation, _ = np.linalg.qr(rng.standard_normal((10, 10)))
    return {
        "a": write_output(tmp_path / "a.npy", a, VIDEOS),
        "b": write_output(tmp_path / "b.npy", 2 * a @ rotation, VIDEOS, model="vit_say_none"),
        "c": write_output(tmp_path / "c.npy", rng.standard_normal((24, 10)), VIDEOS, model="vit_kinetics_none"),
    }


def _features(path: Path) -> np.ndarray:
    return np.asarray(vm.load_features(path).features, dtype=np.float64)


def test_compare_gives_the_helpers_numbers_for_every_pair(three: dict[str, Path]) -> None:
    settings = CompareSettings(bootstrap=0, permutations=0)
    result = vm.compare(list(three.values()), settings=settings)
    assert result.n == 24 and result.estimator == "debiased" and result.missing == []
    names = result.names("cka")
    assert names == ["vit_s_none:31", "vit_say_none:31", "vit_kinetics_none:31"]
    x = {k: _features(p) for k, p in three.items()}
    for (i, a), (j, b) in [((0, "a"), (1, "b")), ((0, "a"), (2, "c")), ((1, "b"), (2, "c"))]:
        assert result.scores["cka"].value[i, j] == pytest.approx(vm.cka(x[a], x[b]), abs=1e-6)
        expected = compare_rdms(vm.rdm(x[a]), vm.rdm(x[b]))
        assert result.scores["rsa"].value[i, j] == pytest.approx(expected, abs=1e-12)
    assert result.value("cka", names[0], names[1]) == pytest.approx(1.0, abs=1e-6)
    plain = vm.compare(list(three.values()), settings=CompareSettings(cka="plain", bootstrap=0, metrics=("cka",)))
    assert plain.estimator == "plain" and "rsa" not in plain.scores
    assert plain.scores["cka"].value[0, 2] == pytest.approx(vm.cka(x["a"], x["c"], debiased=False), abs=1e-6)


def test_bootstrap_follows_rsatoolbox_and_resampling_is_reproducible_by_seed(three: dict[str, Path]) -> None:
    x = {k: _features(p) for k, p in three.items()}
    draw = bootstrap_draws(generator(0), 24, 1)[0]
    # rsatoolbox's pattern bootstrap: diagonal NaN, rows and columns resampled, NaN pairs dropped in compare
    da, db = (rsatoolbox.rdm.calc_rdm(_dataset(x[k]), method="correlation", descriptor="stimulus") for k in "ac")
    theirs = rsatoolbox.rdm.compare_spearman(da.subsample_pattern("stimulus", draw),
                                             db.subsample_pattern("stimulus", draw))  # fmt: skip
    ours = compare_rdms(vm.rdm(x["a"])[np.triu_indices(24, 1)][pair_index(24, draw)],
                        vm.rdm(x["c"])[np.triu_indices(24, 1)][pair_index(24, draw)])  # fmt: skip
    assert ours == pytest.approx(theirs[0, 0], abs=1e-12)  # rsatoolbox sorts the draw; a correlation does not care
    settings = CompareSettings(bootstrap=50, permutations=0, seed=3)
    first, again = (vm.compare(list(three.values()), settings=settings) for _ in range(2))
    other = vm.compare(list(three.values()), settings=CompareSettings(bootstrap=50, permutations=0, seed=4))
    for metric in ("cka", "rsa"):
        assert np.array_equal(first.scores[metric].low, again.scores[metric].low, equal_nan=True)
        assert np.array_equal(first.scores[metric].high, again.scores[metric].high, equal_nan=True)
        assert not np.array_equal(first.scores[metric].low, other.scores[metric].low, equal_nan=True)
        low, value, high = (getattr(first.scores[metric], k)[0, 2] for k in ("low", "value", "high"))
        assert low < high and low - 0.2 < value < high + 0.2
    cka = first.scores["cka"]
    assert cka.low[0, 1] == pytest.approx(1.0, abs=1e-5) and cka.low[0, 2] < 0 < cka.high[0, 2]


def test_permutation_p_values_find_a_related_rdm_and_not_an_unrelated_one(
    three: dict[str, Path], tmp_path: Path
) -> None:
    x = _features(three["a"])
    related = vm.rdm(x) + 0.05 * np.random.default_rng(7).random((24, 24))
    related = (related + related.T) / 2
    np.fill_diagonal(related, 0)
    np.save(tmp_path / "human.npy", related)
    (tmp_path / "human.names.txt").write_text("\n".join(f"s{i:02d}" for i in range(24)) + "\n")
    settings = CompareSettings(bootstrap=0, permutations=200, seed=1, metrics=("rsa",))
    result = vm.compare([three["a"], three["c"]], rdms=[tmp_path / "human.npy"], settings=settings)
    names = result.names("rsa")
    assert names == ["vit_s_none:31", "vit_kinetics_none:31", "human"]
    p = result.scores["rsa"].p
    assert p[0, 2] == pytest.approx(1 / 201) and p[1, 2] > 0.05 and np.isnan(p[0, 1])
    again = vm.compare([three["a"], three["c"]], rdms=[tmp_path / "human.npy"], settings=settings)
    assert np.array_equal(p, again.scores["rsa"].p, equal_nan=True)


def test_reduce_mean_compares_each_inputs_mean_row(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    clips = rng.standard_normal((24 * 3, 6))
    means = clips.reshape(24, 3, 6).mean(axis=1)
    other = rng.standard_normal((24, 6))
    a = write_output(tmp_path / "a.npy", clips, VIDEOS, clips=3)
    b = write_output(tmp_path / "b.npy", other, VIDEOS, model="vit_say_none", reduce="mean")
    with pytest.raises(CompareError, match="--reduce mean"):
        vm.compare([a, b], settings=CompareSettings(bootstrap=0))
    result = vm.compare([a, b], settings=CompareSettings(bootstrap=0, reduce="mean"))
    assert result.n == 24
    assert result.scores["cka"].value[0, 1] == pytest.approx(vm.cka(means, other), abs=1e-6)


# --------------------------------------------------------------------------- bad input: one line each
def _error(*args: object) -> str:
    result = invoke("compare", *args)
    assert result.exit_code == 2, result.output + repr(result.exception)
    [line] = [x for x in result.stderr.splitlines() if x.startswith("Error: ")]
    return line


def _csv(path: Path, names: list[str], matrix: np.ndarray) -> Path:
    path.write_text(",".join(names) + "\n" + "\n".join(",".join(f"{v:g}" for v in row) for row in matrix) + "\n")
    return path


def test_bad_input_is_one_clear_line_and_writes_nothing(three: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    a, c = three["a"], three["c"]
    assert "nothing to compare with" in _error(a, "--out", out)
    few = write_output(tmp_path / "few.npy", np.ones((2, 10)), VIDEOS[:2], model="vit_say_none")
    line = _error(a, few, "--out", out)
    assert "2 inputs in common (22 left out" in line and "at least 4" in line and "vidm embed LIST" in line
    names = [f"s{i:02d}" for i in range(24)]
    square = vm.rdm(_features(a))
    assert "a square matrix: 24 names, 23 rows" in _error(
        a, c, "--rdm", _csv(tmp_path / "r.csv", names, square[:23]), "--out", out
    )
    lopsided = square.copy()
    lopsided[0, 5] += 1
    line = _error(a, c, "--rdm", _csv(tmp_path / "asym.csv", names, lopsided), "--out", out)
    assert "asym.csv: not symmetric: 's00' to 's05'" in line
    strangers = [f"x{i}" for i in range(24)]
    line = _error(a, c, "--rdm", _csv(tmp_path / "other.csv", strangers, square), "--out", out)
    assert "other.csv: none of its 24 names ('x0', 'x1', 'x2', ...) matches an input" in line
    np.save(tmp_path / "bare.npy", square)
    assert "write them to bare.names.txt" in _error(a, c, "--rdm", tmp_path / "bare.npy", "--out", out)
    broken = _features(c).astype(np.float32)
    broken[3, 2] = np.nan
    nan = write_output(tmp_path / "nan.npy", broken, VIDEOS, model="vit_kinetics_none")
    line = _error(a, nan, "--out", out)
    assert "nan.npy: layer -1 of /data/stimuli/s03.mp4 holds NaN or infinite values" in line
    assert "--bootstrap: a 95% interval needs at least 20" in _error(a, c, "--bootstrap", "5", "--out", out)
    assert "--metric: use cka, rsa" in _error(a, c, "--metric", "cca", "--out", out)
    assert not out.exists()  # nothing that looks like a result


def test_inputs_some_output_lacks_are_named_and_left_out(three: dict[str, Path], tmp_path: Path) -> None:
    part = write_output(tmp_path / "part.npy", _features(three["c"])[:20], VIDEOS[:20], model="vit_kinetics_none")
    result = invoke("compare", three["a"], part, "--bootstrap", "0", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "left out /data/stimuli/s20.mp4: not in vit_kinetics_none" in result.stderr
    assert "2 representations on 20 inputs (4 left out)" in result.stderr


# --------------------------------------------------------------------------- the command end to end
def test_the_command_writes_its_files_and_a_readable_table(three: dict[str, Path], tmp_path: Path) -> None:
    names = [f"s{i:02d}" for i in range(24)]
    human = _csv(tmp_path / "human.csv", names, vm.rdm(_features(three["b"])))
    out = tmp_path / "cmp"
    done = run_vidm("compare", *three.values(), "--rdm", human, "--bootstrap", "40", "--permutations", "60",
                    "--out", out, env={"COLUMNS": "80"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "CKA (debiased), 24 inputs" and lines[1].split() == ["a", "b", "value", "95%", "interval", "p"]
    assert not any(ch in done.stdout for ch in "\u2500\u2502\u250f\u2503")  # no boxes in a pipe
    assert all(len(line) <= 80 for line in lines), lines
    rsa = lines[lines.index("RSA (spearman of correlation RDMs), 24 inputs") + 2].split()
    assert rsa[:2] == ["vit_s_none:31", "human"] and float(rsa[-1]) < 0.05
    assert "CKA debiased (fewer than 1,000 inputs)" in done.stderr
    record = json.loads((out / "compare.json").read_text())
    assert record["n"] == 24 and record["estimator"] == "debiased"
    assert len(record["pairs"]) == 3 + 6  # CKA: 3 models; RSA: 3 models and the human RDM
    pair = next(
        p for p in record["pairs"] if p["metric"] == "rsa" and p["b"] == "human" and p["a"] == "vit_say_none:31"
    )
    assert pair["value"] == pytest.approx(1.0) and pair["p"] == pytest.approx(1 / 61) and pair["n"] == 24
    matrix = (out / "compare.cka.matrix.csv").read_text().splitlines()
    assert matrix[0] == ",vit_s_none:31,vit_say_none:31,vit_kinetics_none:31" and len(matrix) == 4
    assert np.load(out / "rdms" / "human.npy").shape == (24, 24)
    assert np.allclose(np.load(out / "rdms" / "vit_s_none_31.npy"), vm.rdm(_features(three["a"])), atol=1e-6)
    run = json.loads((out / "run.json").read_text())
    assert run["command"] == "vidm compare" and run["settings"]["bootstrap"] == 40 and len(run["outputs"]) == 3
    assert (out / "index.html").is_file()
    (out / "index.html").unlink()
    rebuilt = invoke("report", out)
    assert rebuilt.exit_code == 0 and (out / "index.html").is_file()


def test_the_page_of_20_models_by_33_layers_stays_small_and_labelled(tmp_path: Path) -> None:
    """660 representations: the heatmap is one 660 x 660 picture with one model name per model and
    a layer number every few layers, and the page stays small (the table lists the first pairs)."""
    from vidmenagerie.report import build_report

    models, layers = [f"vit_model{m:02d}_none" for m in range(20)], range(33)
    reps = [{"name": f"{m}:{b}", "kind": "model", "output": f"/x/{m}.npy", "model": m, "layer": b, "block": b,
             "rdm": None} for m in models for b in layers]  # fmt: skip
    names = [r["name"] for r in reps]
    model, block = np.repeat(np.arange(20), 33), np.tile(np.arange(33), 20)
    values = np.exp(-np.abs(block[:, None] - block[None, :]) / 8) * np.where(model[:, None] == model, 1.0, 0.6)
    pairs = [
        {"a": names[i], "b": names[j], "metric": "cka", "value": round(float(values[i, j]), 4), "low": None,
         "high": None, "p": None, "n": 2000}
        for i in range(len(names)) for j in range(i + 1, len(names))
    ]  # fmt: skip
    record = {"command": "vidm compare", "n": 2000, "estimator": "plain", "bootstrap": 0, "permutations": 0, "seed": 0,
              "metrics": {"cka": {"members": names, "description": "linear CKA, plain"}}, "representations": reps,
              "pairs": pairs, "order": []}  # fmt: skip
    (tmp_path / "compare.json").write_text(json.dumps(record))
    run = {"command": "vidm compare", "settings": {"metrics": ["cka"]}, "outputs": [{"model": m} for m in models]}
    (tmp_path / "run.json").write_text(json.dumps(run))
    page = build_report(tmp_path).read_text()
    assert page.count('class="cells"') == 1 and 'data-count="660"' in page
    assert all(page.count(f">{m}<title>") == 2 for m in models)  # each model named once on each axis
    ticks = page.count('class="tick"')
    assert 2 * 20 * 3 <= ticks <= 2 * 20 * 9  # a layer number every few layers: legible, not 1,320 of them
    assert "The first 5000 of 217470 pairs" in page
    assert len(page) < 1_500_000, len(page)


def test_a_multi_layer_output_gives_every_layer_and_embed_outputs_compare_end_to_end(
    tiny_catalog: Path, tmp_path: Path
) -> None:
    """Stored layers: every (model, layer) is compared, named by block; then real ``vidm embed --layer all``
    outputs of two tiny models, one single-file and one ``--per-video``, compared by the command."""
    rng = np.random.default_rng(10)
    stack = rng.standard_normal((3, 24, 6))
    deep = write_output(tmp_path / "deep.npy", stack, VIDEOS, layers=(0, 1, 2))
    result = vm.compare([deep], settings=CompareSettings(bootstrap=0, metrics=("cka",)))
    assert result.names("cka") == ["vit_s_none:0", "vit_s_none:1", "vit_s_none:2"]
    assert result.scores["cka"].value[0, 2] == pytest.approx(vm.cka(stack[0], stack[2]), abs=1e-6)

    from videos import moving_frames, write_video

    clips = tmp_path / "clips"
    clips.mkdir()
    for seed in range(5):
        write_video(clips / f"v{seed}.mp4", moving_frames(8, seed=seed))
    fast = ("--sampling-rate", "2", "--workers", "0", "--layer", "all")
    one = invoke("embed", clips, "--model", "tiny_vit", *fast, "--out", tmp_path / "vit.npy")
    per = invoke("embed", clips, "--model", "tiny_cls", *fast, "--per-video", "--out", tmp_path / "cls")
    assert one.exit_code == 0 and per.exit_code == 0, one.output + per.output
    out = tmp_path / "cmp"
    done = invoke("compare", tmp_path / "vit.npy", tmp_path / "cls", "--bootstrap", "20", "--out", out)
    assert done.exit_code == 0, done.output + repr(done.exception)
    record = json.loads((out / "compare.json").read_text())
    assert record["n"] == 5 and record["metrics"]["cka"]["members"] == [
        "tiny_vit:0", "tiny_vit:1", "tiny_cls:0", "tiny_cls:1"
    ]  # fmt: skip
    [same] = [p for p in record["pairs"] if p["metric"] == "cka" and p["a"] == "tiny_vit:1" and p["b"] == "tiny_cls:1"]
    assert -1.0 <= same["value"] <= 1.0 and same["low"] <= same["high"]
