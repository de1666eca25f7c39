"""``vidm probe``: how well a model's frozen features, layer by layer, separate your classes (linear and
k-NN probes, cross-validated or on VAL, few-shot over seeds), and the best linear probe as a model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.markup import escape

from ._batch import bf16_hint, note_repeats, video_progress, write_report
from ._options import (
    BatchSizeOpt,
    CatalogOpt,
    CheckpointOpt,
    DeviceOpt,
    DtypeOpt,
    FpsOpt,
    FrameFoldersOpt,
    ReportOpt,
    SamplingRateOpt,
    WorkersOpt,
    epilog,
    use_catalog,
)
from ._output import err, show_table

if TYPE_CHECKING:
    from ..probing import ProbeRun

EXAMPLES = (
    "vidm probe train/ --val val/ --model vit_s_none --layers all --out probe/",
    "vidm probe labels.csv --model vit_hvm1_none --layers 8,16,24,-1 --probe linear --out probe/",
    "vidm probe train/ --model vit_s_none --shots 1,5,10,50 --seeds 5 --out fewshot/",
    "vidm probe train/ --val val/ --features feats/train.npy --val-features feats/val.npy --out probe/",
    "vidm classify clips/ --catalog probe/head/catalog.toml --model vit_s_none.probe-L31-cls",
)
OUTPUTS = """\
TRAIN and VAL are labelled sources as vidm evaluate reads them (class folders, a path,label CSV, a
Kinetics CSV or an SSv2 JSON with --videos); the classes are TRAIN's own. Without --val: stratified
K-fold cross-validation on TRAIN (--folds), split by --seed. Features go through vidm embed's
pipeline into OUT/features/train.npy and val.npy (resumable; a rerun reuses them); --layers LIST
or all takes every asked block in one pass, one array per block (train.layer08.npy, ...).
--features takes existing vidm embed outputs instead (rows matched to labels by input path).

linear: multinomial logistic regression (scikit-learn, lbfgs) on features standardized with TRAIN's
mean and standard deviation; the L2 strength C chosen from 0.001, 0.01, 0.1, 1, 10 by a stratified
3-fold CV of TRAIN's inputs (reported). knn: cosine similarity to TRAIN's rows; over the k nearest,
score_c = sum exp(sim / 0.07) * [label = c] (DINO's weighted vote). A video's clips are averaged
as vidm evaluate averages views. --shots N draws N inputs per class from TRAIN, --seeds times: mean,
sd and a 95% t-interval over seeds, each seed's Acc@1 with its Wilson interval.

OUT (default vidm-out/probe) gets probe.json (every row, summaries, best; the same bytes for the
same --seed), probe.predictions.csv and probe.per_class.csv (the best probe's), probe.confusion.png,
run.json, index.html, and head/: the best linear probe as a model (standardization folded into the
head) with catalog.toml, so vidm classify and vidm evaluate run it with --catalog OUT/head/catalog.toml."""

Opt = typer.Option
TrainArg = Annotated[Path, typer.Argument(help="TRAIN: labelled inputs (class folders, a .csv or an SSv2 .json).")]
ValOpt = Annotated[
    Optional[Path],  # noqa: UP045
    Opt("--val", help="VAL: labelled inputs scored by probes trained on TRAIN [default: K-fold CV on TRAIN].",
        show_default=False),
]  # fmt: skip
VideosOpt = Annotated[
    Optional[Path],  # noqa: UP045
    Opt("--videos", help="The folder of videos TRAIN's SSv2 JSON or Kinetics CSV names.", show_default=False),
]
ValVideosOpt = Annotated[
    Optional[Path],  # noqa: UP045
    Opt("--val-videos", help="The folder of videos VAL names [default: --videos].", show_default=False),
]
ModelOpt = Annotated[
    Optional[str],  # noqa: UP045
    Opt("--model", "-m", help="The model whose features are probed (a vit or mae; with --features: checked).",
        show_default=False),
]  # fmt: skip
LayersOpt = Annotated[
    str, Opt("--layers", help="Blocks to probe: -1 (the last), a list (8,16,24,-1) or all, in one forward pass.")
]
PoolOpt = Annotated[str, Opt("--pool", help="cls: the final norm of the CLS token; mean: of the mean patch token.")]
ProbeOpt = Annotated[str, Opt("--probe", help="linear, knn or linear,knn.")]
ShotsOpt = Annotated[str, Opt("--shots", help="Inputs per class from TRAIN: all, or a list such as 1,5,10,50,all.")]
SeedsOpt = Annotated[int, Opt("--seeds", min=1, help="Draws per few-shot value (seeds --seed, --seed + 1, ...).")]
FoldsOpt = Annotated[int, Opt("--folds", min=2, help="Cross-validation folds on TRAIN when there is no --val.")]
SeedOpt = Annotated[int, Opt("--seed", help="Seed of the folds, the few-shot draws and the solver.")]
KOpt = Annotated[int, Opt("--k", min=1, help="Neighbours of the k-NN vote: score_c = sum exp(sim / 0.07) [label = c].")]
FeaturesOpt = Annotated[
    Optional[Path],  # noqa: UP045
    Opt("--features", help="An existing vidm embed output (feats.npy) for TRAIN, instead of embedding.",
        show_default=False),
]  # fmt: skip
ValFeaturesOpt = Annotated[
    Optional[Path],  # noqa: UP045
    Opt("--val-features", help="An existing vidm embed output for VAL.", show_default=False),
]
OutOpt = Annotated[Path, Opt("--out", help="Output folder.")]
HeadOpt = Annotated[bool, Opt("--head/--no-head", help="Export the best linear probe as a model in OUT/head/.")]
HeadNameOpt = Annotated[
    Optional[str],  # noqa: UP045
    Opt("--head-name", help="The exported model's name [default: MODEL.probe-L<block>-<pool>].", show_default=False),
]
ResumeOpt = Annotated[
    bool, Opt("--resume/--no-resume", help="Reuse OUT/features of an earlier run with the same settings.")
]


def probe_cmd(
    train: TrainArg,
    val: ValOpt = None,
    model: ModelOpt = None,
    layers: LayersOpt = "-1",
    pool: PoolOpt = "cls",
    probe: ProbeOpt = "linear,knn",
    shots: ShotsOpt = "all",
    seeds: SeedsOpt = 5,
    folds: FoldsOpt = 5,
    seed: SeedOpt = 0,
    k: KOpt = 20,
    videos: VideosOpt = None,
    val_videos: ValVideosOpt = None,
    features: FeaturesOpt = None,
    val_features: ValFeaturesOpt = None,
    out_path: OutOpt = Path("vidm-out/probe"),
    head: HeadOpt = True,
    head_name: HeadNameOpt = None,
    checkpoint: CheckpointOpt = None,
    sampling_rate: SamplingRateOpt = None,
    frame_folders: FrameFoldersOpt = "auto",
    fps: FpsOpt = 30.0,
    device: DeviceOpt = "auto",
    dtype: DtypeOpt = None,
    batch_size: BatchSizeOpt = None,
    workers: WorkersOpt = 2,
    resume: ResumeOpt = True,
    report: ReportOpt = True,
    catalog: CatalogOpt = None,
) -> None:
    """Linear and k-NN probes of a model's frozen features on your labelled inputs, per layer and per shots."""
    from ..errors import InvalidSetting
    from ..probing import ProbeSettings, parse_layers, parse_probes, parse_shots, probe_labels, read_labels
    from ..runtime import Runtime
    from ..video.find import check_frame_folders

    use_catalog(catalog)
    settings = ProbeSettings(probes=parse_probes(probe), shots=parse_shots(shots), seeds=seeds, folds=folds,
                             seed=seed, k=k)  # fmt: skip
    if model is None and features is None:
        raise InvalidSetting("model", "name the model whose features are probed (or give --features)")
    labels = read_labels(train, val, videos=videos, val_videos=val_videos or videos,
                         frame_folders=check_frame_folders(frame_folders))  # fmt: skip
    for labelled in (labels.train, labels.val):
        if labelled is None:
            continue
        err.print(escape(labelled.description), highlight=False)
        note_repeats(labelled.repeats)
        for item in labelled.missing[:5]:
            err.print(f"[yellow]missing[/yellow] {escape(f'{item.item} ({item.source}): {item.reason}')}",
                      highlight=False)  # fmt: skip
    scored = f", {len(labels.val.samples)} VAL inputs" if labels.val else f", {folds}-fold CV"
    err.print(f"{len(labels.names)} classes; {len(labels.train.samples)} TRAIN inputs{scored}", highlight=False)
    total = len(labels.train.samples) + (len(labels.val.samples) if labels.val else 0)
    options: dict[str, object] = {
        "checkpoint": checkpoint,
        "sampling_rate": sampling_rate,
        "folder_fps": fps,
        "dtype": dtype or "float32",
    }
    if features is None:  # features are computed here: say so once if bfloat16 would be much faster
        bf16_hint(Runtime.resolve(device, dtype or "float32"), dtype)
    with video_progress(total, f"probe features ({model or 'given'})") as progress:
        run = probe_labels(
            labels, out_path, settings, model=model, layers=parse_layers(layers), pool=pool, features=features,
            val_features=val_features, head=head, head_name=head_name, embedding_options=options, resume=resume,
            batch_size=batch_size, workers=workers, device=device, hooks=progress.hooks, on_block=_block_done,
        )  # fmt: skip
    _report(run)
    write_report(run.out, report)


def _block_done(block: int, seconds: float) -> None:
    err.print(f"layer {block}: fitted in {seconds:.1f} s", highlight=False)


def _report(run: ProbeRun) -> None:
    """The summaries as a table on stdout; the best, the notes and the head on stderr."""
    rows = []
    for s in run.summary:
        acc = s["acc1"]
        sd = "" if acc["sd"] is None else f"{100 * acc['sd']:.2f}"
        rows.append((s["layer"], s["probe"], s["shots"], f"{100 * acc['mean']:.2f}%",
                     f"{100 * acc['low']:.2f}-{100 * acc['high']:.2f}%", sd,
                     f"{100 * s['mean_class_accuracy']['mean']:.2f}%", _strengths(s)))  # fmt: skip
    show_table("Acc@1 per input (95% interval: Wilson; over seeds: t)",
               ("layer", "probe", "shots", "Acc@1", "95% interval", "sd", "per-class", "C"), rows)  # fmt: skip
    for note in run.notes:
        err.print(f"[yellow]note[/yellow] {escape(note)}", highlight=False)
    for video, reason in run.excluded[:5]:
        err.print(f"[yellow]left out[/yellow] {escape(f'{video}: {reason}')}", highlight=False)
    b = run.best
    err.print(f"best: {b['probe']} at layer {b['layer']} ({b['shots']} shots), Acc@1 {100 * b['acc1']['mean']:.2f}%; "
              f"written to {escape(str(run.files['probe']))}", highlight=False)  # fmt: skip
    if run.head is not None:
        catalog = run.out / run.head["catalog"]
        err.print(f"head: vidm classify INPUTS --catalog {escape(str(catalog))} --model {escape(run.head['name'])}",
                  highlight=False)  # fmt: skip


def _strengths(summary: dict[str, Any]) -> str:
    return ",".join(f"{c:g}" for c in summary.get("c") or [])


probe_cmd.__doc__ = (probe_cmd.__doc__ or "") + "\n\n" + OUTPUTS + "\n\n" + epilog(*EXAMPLES)
