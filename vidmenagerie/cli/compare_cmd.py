"""``vidm compare``: CKA and RSA between the layers of embed outputs and people's RDMs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.markup import escape

from ..errors import InvalidSetting
from ._batch import write_report
from ._options import ReportOpt, epilog
from ._output import err, show_table

if TYPE_CHECKING:
    from ..similarity import Comparison

EXAMPLES = (
    "vidm compare say.npy kinetics.npy --out cmp/",
    "vidm compare say.npy kinetics.npy hvm1.npy --rdm human.csv --metric rsa --out cmp/",
    "vidm compare feats/ other/ --reduce mean --rdm neural.npy --rsa-compare kendall --bootstrap 200 --seed 1",
    "vidm compare all_layers.npy --metric cka --cka plain --bootstrap 0 --out layers/",
)
OUTPUTS = """\
Each OUTPUT is what vidm embed --out wrote (NAME.npy, or a --per-video folder); every layer it
stores is compared. Rows are matched by (input, clip, crop) (--reduce mean: by input, its rows
averaged); inputs some output lacks are named and left out. --rdm FILE adds a user's
dissimilarity matrix over the same inputs: a CSV whose header row names the inputs, or NAME.npy
with the names in NAME.names.txt (a name is an input's path, a path ending, or its file name).

CKA: linear centred kernel alignment (Kornblith et al. 2019), debiased (unbiased HSIC) below
1,000 inputs by default. RSA: each representation's RDM (1 - Pearson correlation of two inputs'
features by default), compared by Spearman's rho of the upper triangles. Intervals: 95%
bootstrap over inputs; p: one-sided permutation test against each --rdm (its inputs shuffled).

OUT (default vidm-out/compare) gets compare.json (every pair: value, interval, p, n),
compare.cka.matrix.csv and compare.rsa.matrix.csv, compare.inputs.csv, rdms/*.npy, run.json and
index.html (heatmaps, layer curves against each RDM, RDM pictures)."""
QUIET, EVERY = 3.0, 10.0  # seconds before the first progress line, and between lines
SHOWN = 30  # pairs per metric in the terminal table; every pair is in compare.json

Opt = typer.Option
OutputsArg = Annotated[list[Path], typer.Argument(help="Embed outputs (NAME.npy or --per-video folders).")]
RdmOpt = Annotated[
    Optional[list[Path]],  # noqa: UP045
    Opt("--rdm", help="A user's RDM over the same inputs: CSV with a header row of names, or NAME.npy + "
        "NAME.names.txt. Repeat for several.", show_default=False),
]  # fmt: skip
MetricOpt = Annotated[str, Opt("--metric", help="cka, rsa or cka,rsa.")]
CkaOpt = Annotated[str, Opt("--cka", help="CKA estimator: auto (debiased below 1,000 inputs), debiased or plain.")]
DistanceOpt = Annotated[str, Opt("--rsa-distance", help="RDM distance: correlation, cosine or euclidean.")]
CompareOpt = Annotated[str, Opt("--rsa-compare", help="RDM comparison: spearman, pearson or kendall (tau-a).")]
BootstrapOpt = Annotated[int, Opt("--bootstrap", help="Bootstrap resamples of the inputs for 95% intervals (0: none).")]
PermutationsOpt = Annotated[int, Opt("--permutations", help="Permutations for p-values against each --rdm (0: none).")]
SeedOpt = Annotated[int, Opt("--seed", help="Seed of the resamples and permutations.")]
ReduceOpt = Annotated[str, Opt("--reduce", help="none: compare rows (clips, crops); mean: one mean row per input.")]
OrderOpt = Annotated[
    Optional[Path],  # noqa: UP045
    Opt("--order", help="Order of the inputs in the RDM pictures: a file of input names, one per line "
        "[default: the first RDM's clustering].", show_default=False, dir_okay=False),
]  # fmt: skip
OutOpt = Annotated[
    Optional[Path],  # noqa: UP045
    Opt("--out", help="Output folder [default: vidm-out/compare].", show_default=False),
]


def compare_cmd(
    outputs: OutputsArg,
    rdm: RdmOpt = None,
    metric: MetricOpt = "cka,rsa",
    cka: CkaOpt = "auto",
    rsa_distance: DistanceOpt = "correlation",
    rsa_compare: CompareOpt = "spearman",
    bootstrap: BootstrapOpt = 1000,
    permutations: PermutationsOpt = 1000,
    seed: SeedOpt = 0,
    reduce: ReduceOpt = "none",
    order: OrderOpt = None,
    out_path: OutOpt = None,
    report: ReportOpt = True,
) -> None:
    """Representational similarity (CKA and RSA) between models, layers and people's RDMs."""
    from ..report.build import PAGE, check_page
    from ..similarity import CompareSettings, compare, write_comparison

    settings = CompareSettings(
        metrics=tuple(m.strip() for m in metric.split(",") if m.strip()), cka=cka, rsa_distance=rsa_distance,
        rsa_compare=rsa_compare, bootstrap=bootstrap, permutations=permutations, seed=seed, reduce=reduce,
    )  # fmt: skip
    folder = out_path or Path("vidm-out/compare")
    if folder.exists() and not folder.is_dir():
        raise InvalidSetting("out", f"{folder} is a file: name a folder")
    if report:
        check_page(folder / PAGE)  # a page vidm did not write stops the run before any work
    names = _order(order) if order else None
    result = compare(outputs, rdms=rdm or (), settings=settings, order=names, progress=_progress())
    files = write_comparison(result, folder)
    _show(result)
    _summary(result, files["json"])
    write_report(folder, report)


def _order(path: Path) -> list[str]:
    """The input names of an ``--order`` file, one per line."""
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as exc:
        raise InvalidSetting("order", f"{path}: {exc.strerror or exc}") from None


def _progress() -> Callable[[str, int, int], None]:
    """A progress callback for long comparisons: a stderr line (``CKA bootstrap 120/1000``) once a
    stage has run for ``QUIET`` seconds, then every ``EVERY`` seconds; a quick comparison prints none."""
    began = time.monotonic()
    last = [began]

    def report(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if total <= 0 or now - began < QUIET or now - last[0] < EVERY:
            return
        last[0] = now
        err.print(f"{stage} {done}/{total}", highlight=False)

    return report


def _show(result: Comparison) -> None:
    """Per metric, the pairs as a table (pairs with a user RDM first), at most ``SHOWN`` of them."""
    for metric in result.scores:
        pairs = [p for p in result.pairs() if p["metric"] == metric]
        user = {r.name for r in result.representations if r.kind == "rdm"}
        pairs.sort(key=lambda p: p["a"] not in user and p["b"] not in user)
        rows = [
            (p["a"], p["b"], _fixed(p["value"]),
             f"{_fixed(p['low'])} to {_fixed(p['high'])}" if p["low"] is not None else "-",
             "-" if p["p"] is None else f"{p['p']:.3g}")
            for p in pairs[:SHOWN]
        ]  # fmt: skip
        title = {"cka": f"CKA ({result.estimator})", "rsa": _rsa_title(result)}[metric]
        show_table(f"{title}, {result.n} inputs", ("a", "b", "value", "95% interval", "p"), rows)
        if len(pairs) > SHOWN:
            err.print(f"... and {len(pairs) - SHOWN} more {metric.upper()} pairs in compare.json", highlight=False)


def _rsa_title(result: Comparison) -> str:
    s = result.settings
    return f"RSA ({s.rsa_compare} of {s.rsa_distance} RDMs)"


def _fixed(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _summary(result: Comparison, where: Path) -> None:
    """What was compared, on how many inputs, how; what was left out; where the files are (stderr)."""
    for name, reason in result.missing[:5]:
        err.print(f"[yellow]left out[/yellow] {escape(f'{name}: {reason}')}", highlight=False)
    if len(result.missing) > 5:
        err.print(f"[yellow]left out[/yellow] ... and {len(result.missing) - 5} more (listed in run.json)")
    s = result.settings
    parts = [f"{len(result.representations)} representations on {result.n} inputs"]
    if result.missing:
        parts[0] += f" ({len(result.missing)} left out)"
    if result.estimator:
        why = " (fewer than 1,000 inputs)" if s.cka == "auto" and result.estimator == "debiased" else ""
        parts.append(f"CKA {result.estimator}{why}")
    tested = any(r.kind == "rdm" for r in result.representations) and "rsa" in result.scores
    parts.append(f"{s.bootstrap} bootstrap resamples" + (f", {s.permutations} permutations" if tested else "")
                 + f", seed {s.seed}")  # fmt: skip
    err.print(f"{'; '.join(parts)}; written to {escape(str(where))}", highlight=False)


compare_cmd.__doc__ = (compare_cmd.__doc__ or "") + "\n\n" + OUTPUTS + "\n\n" + epilog(*EXAMPLES)
