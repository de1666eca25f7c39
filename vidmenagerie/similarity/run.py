"""``compare``: CKA and RSA between every (model, layer) of some embed outputs and the users' RDMs.

One layer's features are in memory at a time: each (output, layer) is read once, for the
matched rows only, and reduced to what the metrics need, its centred Gram matrix (packed upper
triangle, float32) and its RDM; every pair is then an inner product or a correlation of those.
Bootstrap resamples gather from the cached matrices, never from the features again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import CompareError, InvalidSetting
from .alignment import ESTIMATORS, center_gram, choose_estimator, cka_from_inner, gram, inner_products, pack
from .dissimilarity import DISTANCES, condensed_rdm
from .inputs import REDUCES, Matched, Source, UserRdm, match_rows, open_sources, place_names, read_user_rdm
from .resample import (
    bootstrap_draws,
    generator,
    interval,
    p_value,
    packed_index,
    pair_index,
    permutations,
    permuted_index,
)
from .rsa import METHODS, comparison_matrix, tau_a, unit_vector

METRICS: tuple[str, ...] = ("cka", "rsa")
MIN_INPUTS = 4  # the debiased CKA needs 4; an RDM of 3 inputs has only 3 pairs to correlate
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class CompareSettings:
    """What a comparison computes: ``metrics`` (cka, rsa), the CKA estimator (``auto``: debiased below
    1,000 inputs), the RDM distance and comparison, bootstrap resamples and permutations (0: none),
    their seed, and ``reduce`` (``mean``: one row per input, the mean of its rows)."""

    metrics: tuple[str, ...] = METRICS
    cka: str = "auto"
    rsa_distance: str = "correlation"
    rsa_compare: str = "spearman"
    bootstrap: int = 1000
    permutations: int = 1000
    seed: int = 0
    reduce: str = "none"

    def __post_init__(self) -> None:
        """Refuse values no comparison could use, naming the setting."""
        metrics = tuple(self.metrics)
        if not metrics or any(m not in METRICS for m in metrics) or len(set(metrics)) != len(metrics):
            raise InvalidSetting("metric", f"use cka, rsa or cka,rsa, not {','.join(metrics) or 'nothing'}")
        object.__setattr__(self, "metrics", metrics)
        choices = {
            "cka": ("auto", *ESTIMATORS),
            "rsa_distance": DISTANCES,
            "rsa_compare": METHODS,
            "reduce": REDUCES,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise InvalidSetting(name, f"use one of {', '.join(allowed)}, not {getattr(self, name)!r}")
        for name in ("bootstrap", "permutations", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidSetting(name, f"must be a whole number >= 0, got {value!r}")
        if 0 < self.bootstrap < 20:
            raise InvalidSetting(
                "bootstrap", f"a 95% interval needs at least 20 resamples (0: none), got {self.bootstrap}"
            )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metrics"] = list(self.metrics)
        return data


@dataclass(frozen=True)
class Representation:
    """One thing compared: a (model, layer) of an embed output, or a user's RDM."""

    name: str
    kind: Literal["model", "rdm"]
    path: str
    model: str | None = None
    layer: int | None = None  # as stored
    block: int | None = None  # the block index it names
    source: int | None = None  # the output's position among the outputs


@dataclass
class Scores:
    """One metric over its representations (positions in ``Comparison.representations``): values,
    bootstrap 95% interval (NaN without resamples) and permutation p-values (NaN where none)."""

    metric: str
    members: list[int]
    value: np.ndarray
    low: np.ndarray
    high: np.ndarray
    p: np.ndarray


@dataclass
class Comparison:
    """What ``compare`` found: the representations, the inputs compared (and those left out), each
    metric's scores, the RDMs (square, inputs in ``inputs`` order) and the inputs' display order."""

    settings: CompareSettings
    representations: list[Representation]
    inputs: list[str]
    missing: list[tuple[str, str]]
    scores: dict[str, Scores]
    estimator: str | None
    rdms: dict[int, np.ndarray] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    started: str = ""
    seconds: float = 0.0

    @property
    def n(self) -> int:
        """The number of inputs every value rests on."""
        return len(self.inputs)

    def names(self, metric: str) -> list[str]:
        """The representations' names on ``metric``'s axes."""
        return [self.representations[i].name for i in self.scores[metric].members]

    def pairs(self) -> list[dict[str, Any]]:
        """Every pair once per metric: names, value, interval, p-value (None where there is none), n."""
        found = []
        for metric, scores in self.scores.items():
            k = len(scores.members)
            for i in range(k):
                for j in range(i + 1, k):
                    a, b = (self.representations[x] for x in (scores.members[i], scores.members[j]))
                    found.append({
                        "a": a.name, "b": b.name, "metric": metric,
                        "value": _number(scores.value[i, j]), "low": _number(scores.low[i, j]),
                        "high": _number(scores.high[i, j]), "p": _number(scores.p[i, j]), "n": self.n,
                    })  # fmt: skip
        return found

    def value(self, metric: str, a: str, b: str) -> float:
        """``metric`` between the representations named ``a`` and ``b``."""
        names = self.names(metric)
        return float(self.scores[metric].value[names.index(a), names.index(b)])


def _number(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def compare(
    outputs: Sequence[str | Path],
    *,
    rdms: Sequence[str | Path] = (),
    settings: CompareSettings | None = None,
    order: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """CKA and RSA between every (model, layer) of the embed ``outputs`` (``feats.npy`` files or
    ``--per-video`` folders) and the users' ``rdms``, with bootstrap intervals over inputs and
    permutation p-values against each user RDM, as ``vidm compare`` computes them (it writes
    them with ``similarity.write_comparison``). ``order``: input names for the RDM pictures'
    order (default: the first RDM's average-linkage clustering)."""
    settings = settings or CompareSettings()
    began, clock = datetime.now(timezone.utc), time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    sources = open_sources(outputs)
    users = [read_user_rdm(p) for p in rdms]
    matched = match_rows(sources, settings.reduce)
    matched, user_matrices, missing = _with_user_rdms(matched, users)
    reps = _representations(sources, users)
    _check_enough(matched, sources, reps, settings)
    n = matched.n
    rsa = "rsa" in settings.metrics
    estimator = choose_estimator(settings.cka, n) if "cka" in settings.metrics else None
    models = [i for i, r in enumerate(reps) if r.kind == "model"]
    packed = np.empty((len(models), n * (n + 1) // 2), dtype=np.float32) if estimator else None
    triangles: list[np.ndarray] = []
    for position, index in enumerate(models):
        rep = reps[index]
        report("features", position, len(models))
        x = _features(sources[rep.source or 0], rep, matched)
        if packed is not None and estimator is not None:
            packed[position] = pack(center_gram(gram(x), estimator))
        if rsa:
            triangles.append(_model_rdm(x, rep, matched, settings.rsa_distance))
        del x
    report("features", len(models), len(models))
    if rsa:
        triangles += [_triangle(m) for m in user_matrices]
    rng = generator(settings.seed)
    draws = bootstrap_draws(rng, n, settings.bootstrap)
    shuffles = permutations(rng, n, settings.permutations if rsa and users else 0)
    scores: dict[str, Scores] = {}
    if packed is not None and estimator is not None:
        scores["cka"] = _cka_scores(packed, estimator, draws, models, report)
    if rsa:
        members = models + [i for i, r in enumerate(reps) if r.kind == "rdm"]
        scores["rsa"] = _rsa_scores(triangles, settings.rsa_compare, draws, shuffles, members, len(models), report)
    squares = {}
    if rsa:
        from scipy.spatial.distance import squareform  # type: ignore[import-untyped]

        squares = {i: squareform(t, checks=False) for i, t in zip(scores["rsa"].members, triangles)}
    shown = _order(order, matched, triangles[0] if triangles else None)
    return Comparison(
        settings, reps, matched.names, missing, scores, estimator, squares, shown, sources,
        began.isoformat(timespec="seconds"), time.perf_counter() - clock,
    )  # fmt: skip


def _with_user_rdms(matched: Matched, users: Sequence[UserRdm]) -> tuple[Matched, list[np.ndarray], list]:
    """The inputs the outputs share and every RDM names, and each RDM's matrix on them in that order."""
    missing = list(matched.missing)
    if not users:
        return matched, [], missing
    videos = matched.videos
    if len(set(videos)) != len(videos):
        raise CompareError(
            f"{users[0].path}: an RDM has one row per input, and the outputs hold several rows per input (clips or "
            "crops): add --reduce mean to compare each input's mean row",
            path=str(users[0].path),
            problem="inputs",
        )
    placements = [place_names(u, videos) for u in users]
    for user, placed in zip(users, placements):
        missing += [(name, f"only in {user.path.name}") for row, name in enumerate(user.names) if row not in placed]
    named = [set(p.values()) for p in placements]
    keep = [i for i in range(matched.n) if all(i in s for s in named)]
    for i in range(matched.n):
        lacking = [u.path.name for u, s in zip(users, named) if i not in s]
        if lacking:
            missing.append((videos[i], f"not in {', '.join(lacking)}"))
    matrices = []
    for user, placed in zip(users, placements):
        row_of = {position: row for row, position in placed.items()}
        rows = np.array([row_of[i] for i in keep], dtype=np.int64)
        matrices.append(user.matrix[np.ix_(rows, rows)])
    return matched.select(keep), matrices, missing


def _representations(sources: Sequence[Source], users: Sequence[UserRdm]) -> list[Representation]:
    """Every (output, layer), in the outputs' order then the layers', then every user RDM."""
    reps = [
        Representation(f"{s.label}:{block}", "model", str(s.path), s.model, layer, block, k)
        for k, s in enumerate(sources)
        for layer, block in zip(s.layers, s.blocks)
    ]
    labels = {r.name for r in reps}
    for user in users:
        name = user.label if user.label not in labels else f"{user.label} (RDM)"
        labels.add(name)
        reps.append(Representation(name, "rdm", str(user.path)))
    return reps


def _check_enough(
    matched: Matched, sources: Sequence[Source], reps: Sequence[Representation], settings: CompareSettings
) -> None:
    """At least two things to compare, on at least ``MIN_INPUTS`` inputs."""
    models = [r for r in reps if r.kind == "model"]
    usable = len(models) if "rsa" not in settings.metrics else len(reps)
    if usable < 2:
        only = sources[0].path if sources else "nothing"
        what = "a user RDM (--rdm) or another output" if "rsa" in settings.metrics else "another output or layer"
        raise CompareError(
            f"{only}: one layer of one model is nothing to compare with: give {what}",
            path=str(only),
            problem="nothing",
        )
    if matched.n < MIN_INPUTS:
        lost = f" ({len(matched.missing)} left out because not every output has them)" if matched.missing else ""
        raise CompareError(
            f"{sources[0].path}: {matched.n} input{'' if matched.n == 1 else 's'} in common{lost}; a comparison needs "
            f"at least {MIN_INPUTS} inputs that every output (and RDM) has",
            path=str(sources[0].path),
            problem="too-few",
        )


def _features(source: Source, rep: Representation, matched: Matched) -> np.ndarray:
    """The matched rows of one (output, layer) in float64 (each input's mean with ``reduce="mean"``),
    refusing rows with NaN or infinity."""
    stored = source.features(rep.layer if rep.layer is not None else -1)
    rows = matched.rows[rep.source or 0]
    if all(len(r) == 1 for r in rows):
        x = np.asarray(stored[np.concatenate(rows) if rows else np.zeros(0, np.int64)], dtype=np.float64)
    else:
        x = np.stack([np.asarray(stored[r], dtype=np.float64).mean(axis=0) for r in rows])
    x = x.reshape(len(x), -1)
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        first = int(np.argmax(bad))
        raise CompareError(
            f"{source.path}: layer {rep.layer} of {matched.names[first]} holds NaN or infinite values "
            f"({int(bad.sum())} such row{'s' if bad.sum() > 1 else ''}): embed that input again",
            path=str(source.path),
            problem="nan",
        )
    return x


def _model_rdm(x: np.ndarray, rep: Representation, matched: Matched, distance: str) -> np.ndarray:
    """The RDM of one representation, refusing one with undefined distances (a row with no variance)."""
    triangle = condensed_rdm(x, distance)
    if not np.isfinite(triangle).all():
        flat = np.flatnonzero(~np.isfinite(x - x.mean(axis=1, keepdims=True)).all(axis=1) | (x.std(axis=1) == 0))
        who = matched.names[int(flat[0])] if len(flat) else "an input"
        raise CompareError(
            f"{rep.path}: layer {rep.layer} of {who} is constant (or all zeros), so its {distance} distance to other "
            "inputs is undefined: try --rsa-distance euclidean",
            path=rep.path,
            problem="nan",
        )
    return triangle


def _triangle(square: np.ndarray) -> np.ndarray:
    rows, cols = np.triu_indices(len(square), 1)
    return np.asarray(square[rows, cols], dtype=np.float64)


def _cka_scores(packed: np.ndarray, estimator: str, draws: np.ndarray, members: list[int], report: Progress) -> Scores:
    """CKA of every pair of cached Gram matrices, and again on every bootstrap resample."""
    value = cka_from_inner(inner_products(packed))
    n = len(draws[0]) if len(draws) else 0
    samples = np.empty((len(draws), *value.shape))
    resampled = np.empty_like(packed)
    for b, draw in enumerate(draws):
        report("CKA bootstrap", b, len(draws))
        index, scale = packed_index(n, draw)
        for k in range(len(packed)):
            square = packed[k][index] * scale
            resampled[k] = pack(center_gram(square, estimator))  # type: ignore[arg-type]
        samples[b] = cka_from_inner(inner_products(resampled))
    low, high = interval(samples)
    return Scores("cka", members, value, low, high, np.full(value.shape, np.nan))


def _rsa_scores(
    triangles: list[np.ndarray],
    method: str,
    draws: np.ndarray,
    shuffles: np.ndarray,
    members: list[int],
    models: int,
    report: Progress,
) -> Scores:
    """RDM comparisons of every pair, their bootstrap intervals and, for pairs with a user RDM,
    permutation p-values (the user RDM's inputs shuffled)."""
    value = comparison_matrix(triangles, method)
    n = len(draws[0]) if len(draws) else len(shuffles[0]) if len(shuffles) else 0
    samples = np.empty((len(draws), *value.shape))
    for b, draw in enumerate(draws):
        report("RSA bootstrap", b, len(draws))
        pairs = pair_index(n, draw)
        samples[b] = comparison_matrix([t[pairs] for t in triangles], method)
    low, high = interval(samples)
    p = np.full(value.shape, np.nan)
    users = range(models, len(triangles))
    if len(shuffles) and len(users):
        units = None if method == "kendall" else np.stack([unit_vector(t, method) for t in triangles])
        null = np.empty((len(shuffles), len(triangles), len(triangles)))
        for s, order in enumerate(shuffles):
            report("permutations", s, len(shuffles))
            where = permuted_index(n, order)
            for u in users:
                if units is not None:
                    null[s, :, u] = units @ units[u][where]
                else:
                    null[s, :, u] = [tau_a(t, triangles[u][where]) for t in triangles]
        for u in users:
            for k in range(len(triangles)):
                if k != u:
                    p[k, u] = p[u, k] = p_value(value[k, u : u + 1], null[:, k, u : u + 1])[0]
    return Scores("rsa", members, value, low, high, p)


def _order(names: Sequence[str] | None, matched: Matched, first: np.ndarray | None) -> list[int]:
    """The inputs' order in the RDM pictures: as ``names`` lists them, else the average-linkage
    clustering of the first RDM (the first output's), else as matched."""
    n = matched.n
    if names:
        from .inputs import name_matches

        chosen: list[int] = []
        for name in names:
            found = [i for i, v in enumerate(matched.videos) if name_matches(name, v) and i not in chosen]
            chosen += found[:1]
        return chosen + [i for i in range(n) if i not in chosen]
    if first is None or n < 3:
        return list(range(n))
    from scipy.cluster.hierarchy import leaves_list, linkage  # type: ignore[import-untyped]

    return [int(i) for i in leaves_list(linkage(first, method="average"))]
