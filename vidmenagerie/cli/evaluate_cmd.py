"""``vidm evaluate``: recognition accuracy of a finetuned model on labelled inputs; ``vidm classify``: their labels."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.markup import escape

from ..catalog import default_catalog
from ..errors import InvalidSetting
from ._batch import bf16_hint, note_repeats, resolve_inputs, video_progress, write_report
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
    VideosArg,
    WorkersOpt,
    epilog,
    use_catalog,
)
from ._output import err, show_table

if TYPE_CHECKING:
    from ..scoring import Accuracy, EvalScores
    from ..tasks.evaluate import EvalRun

EVAL_EXAMPLES = (
    "vidm evaluate ssv2_val/ --model vit_s_ssv2-50shot",
    "vidm evaluate val.csv --model vit_kinetics_kinetics-50shot --views 5x3 --dtype bfloat16",
    "vidm evaluate validation.json --videos 20bn-something-something-v2/ --model vit_s_ssv2-50shot",
    "vidm evaluate kinetics700_val.csv --videos k700/val/ --model vit_hvm1_kinetics-50shot",
    "vidm evaluate imagenet/val --model vit_hvm1_imagenet-2pt",
    "vidm evaluate ssv2_val/ --model vit_s_ssv2-50shot --out eval/ --shard 0/4   (then: --merge)",
    "vidm evaluate kinetics700_val.csv --videos k700/val/ --model vit_hvm1_kinetics-50shot --protocol seed",
)
CLASSIFY_EXAMPLES = (
    "vidm classify clip.mp4 --model vit_s_ssv2-50shot",
    "vidm classify clips/ --model vit_kinetics_kinetics-50shot --views 5x3 --top-k 3",
)
EVAL_OUTPUTS = """\
SOURCE is a folder with one subfolder per class (matched to the model's classes by name,
ignoring case and punctuation; else sorted-folder order, as the seed scripts did), ImageNet
synset folders, a CSV of path,label (label: index or class name), an SSv2 validation JSON or a
Kinetics CSV (these two with --videos). OUT (default vidm-out/eval) gets eval.json (Acc@1/5
per video and per clip with 95% Wilson intervals, mean per-class accuracy, loss, counts),
eval.predictions.csv (per input: truth and the top 5 with probabilities), eval.per_class.csv,
eval.confusion.png, and views.npy with its manifests (the logits of every view: a rerun
resumes, --shard/--merge scale out as in vidm embed). Views are combined as the mean of their
softmax probabilities. Missing or unreadable inputs are listed and not scored; either makes the exit code 1.

--protocol seed reproduces the seed scripts' val mode (hvm-1 test_video_recognition.py): one
random clip per input, frames at short side 256, a random short side in [256, 320] (448 for the
448-pixel models), a random crop and a horizontal flip with probability 0.5. Each input draws
from (--seed, its path as given), so reruns, worker counts and shards agree exactly. The seed
script ran under fp16 autocast, so on a CUDA GPU --dtype defaults to float16; on a CPU it stays
float32 (no fp16 autocast there), and numbers can differ slightly from the script's."""

Opt = typer.Option
SourceArg = Annotated[Path, typer.Argument(help="Labelled inputs: class folders, a .csv or an SSv2 .json.")]
ModelOpt = Annotated[str, Opt("--model", "-m", help="A finetuned vit model (vit_*_ssv2-*, *_kinetics-*, ...).")]
VideosOpt = Annotated[
    Optional[Path],  # noqa: UP045
    Opt("--videos", help="The folder of videos an SSv2 JSON or a Kinetics CSV names.", show_default=False),
]
ViewsOpt = Annotated[
    str, Opt("--views", help="CLIPSxCROPS per input: 1x1 the centre clip and crop; 5x3 the usual multi-view test.")
]
OutOpt = Annotated[
    Optional[Path],  # noqa: UP045
    Opt("--out", help="Output folder [default: vidm-out/eval, vidm-out/classify].", show_default=False),
]
ShardOpt = Annotated[
    Optional[str],  # noqa: UP045
    Opt("--shard", help="Run part INDEX/COUNT of the inputs; score with --merge once all parts ran.",
        show_default=False),
]  # fmt: skip
MergeOpt = Annotated[bool, Opt("--merge", help="Join the shards in --out and score them.")]
ResumeOpt = Annotated[
    bool, Opt("--resume/--no-resume", help="Keep finished inputs of an earlier run with the same settings.")
]
TopKOpt = Annotated[int, Opt("--top-k", min=1, help="Labels shown and saved per input.")]
ProtocolOpt = Annotated[
    str,
    Opt("--protocol", help="standard: the --views test; seed: the seed scripts' val mode (one random clip, "
        "scale, crop and flip per input, seeded)."),
]  # fmt: skip
EvalSeedOpt = Annotated[
    Optional[int],  # noqa: UP045
    Opt("--seed", help="Seed of --protocol seed [default: 0]; each input draws from (seed, its path).",
        show_default=False),
]  # fmt: skip
EvalDtypeOpt = Annotated[
    Optional[str],  # noqa: UP045
    Opt("--dtype", help="Compute precision: float32, bfloat16 or float16 (autocast; weights stay float32) "
        "[default: float32; float16 with --protocol seed on a CUDA GPU].", show_default=False),
]  # fmt: skip


def evaluate_cmd(
    source: SourceArg,
    model: ModelOpt = "vit_s_ssv2-50shot",
    videos: VideosOpt = None,
    views: ViewsOpt = "1x1",
    protocol: ProtocolOpt = "standard",
    seed: EvalSeedOpt = None,
    out_path: OutOpt = None,
    sampling_rate: SamplingRateOpt = None,
    frame_folders: FrameFoldersOpt = "auto",
    fps: FpsOpt = 30.0,
    device: DeviceOpt = "auto",
    dtype: EvalDtypeOpt = None,
    batch_size: BatchSizeOpt = None,
    workers: WorkersOpt = 2,
    shard: ShardOpt = None,
    merge: MergeOpt = False,
    resume: ResumeOpt = True,
    checkpoint: CheckpointOpt = None,
    report: ReportOpt = True,
    catalog: CatalogOpt = None,
) -> None:
    """Accuracy of a finetuned model on labelled videos or images (Acc@1/5 with intervals, per class, confusions)."""
    from ..feature_store import Shard, shard_from_env
    from ..labelled import read_labelled
    from ..runtime import Runtime
    from ..tasks.evaluate import class_names, evaluate_videos, merge_evaluation, view_settings
    from ..tasks.evaluate.predict import protocol_dtype
    from ..video.find import check_frame_folders

    use_catalog(catalog)
    entry = default_catalog().get(model)
    if seed is not None and protocol != "seed":
        raise InvalidSetting("seed", "only applies to --protocol seed")
    settings = view_settings(
        entry, views, checkpoint=checkpoint, sampling_rate=sampling_rate, folder_fps=fps,
        dtype=protocol_dtype(protocol, dtype, device), protocol=protocol, seed=seed or 0,
    )  # fmt: skip
    bf16_hint(Runtime.resolve(device, settings.dtype), dtype)
    folder = out_path or Path("vidm-out/eval")
    mode = check_frame_folders(frame_folders)
    labelled = read_labelled(source, class_names(entry), videos=videos, label_set=entry.labels, frame_folders=mode)
    err.print(f"{escape(labelled.description)}", highlight=False)
    note_repeats(labelled.repeats)
    if labelled.duplicates:
        many = "rows name" if labelled.duplicates > 1 else "row names"
        err.print(
            f"[yellow]note[/yellow] {labelled.duplicates} {many} an input already listed (with the same label): "
            "each input is scored once",
            highlight=False,
        )
    for item in labelled.missing[:5]:
        err.print(f"[yellow]missing[/yellow] {escape(f'{item.item} ({item.source}): {item.reason}')}", highlight=False)
    if len(labelled.missing) > 5:
        err.print(f"[yellow]missing[/yellow] ... and {len(labelled.missing) - 5} more (listed in eval.json)")
    if merge:
        _report(merge_evaluation(labelled, folder), model, report)
        return
    part = Shard.parse(shard) if shard else shard_from_env()
    part = part if part is not None and part.count > 1 else None
    if not labelled.samples:
        raise InvalidSetting("source", f"{source}: no input to evaluate ({len(labelled.missing)} missing)")
    mine = part.select(labelled.samples) if part else labelled.samples
    what = f"seed protocol, seed {settings.seed}" if protocol == "seed" else views
    with video_progress(len(mine), f"evaluate ({model}, {what})", settings.plan().clips_per_input) as progress:
        run = evaluate_videos(
            labelled, folder, settings, shard=part, resume=resume, batch_size=batch_size, workers=workers,
            device=device, hooks=progress.hooks,
        )  # fmt: skip
    if part is not None:
        err.print(f"shard {part.index}/{part.count} done; after every shard: vidm evaluate ... --out {folder} --merge")
        return
    _report(run, model, report)


def _report(run: EvalRun, model: str, page: bool) -> None:
    """The scores as a table on stdout, what was left out and where the files are on stderr, and
    the run's ``index.html`` (unless ``page`` is off)."""
    scores = run.scores
    left = f"{run.excluded} of {len(run.labelled.samples) + len(run.labelled.missing)} inputs not scored"
    detail = f" ({len(run.labelled.missing)} missing, {len(run.failed)} failed, {len(run.pending)} pending)"
    if scores is None:
        err.print(f"[red]nothing scored[/red]: {left}{detail}")
        raise typer.Exit(1)
    show_table(f"{model} on {run.labelled.source}", ("metric", "value", "95% interval"), _rows(scores))
    scored = f"{scores.videos} input{'' if scores.videos == 1 else 's'} scored"
    summary = scored + (f"; {left}{detail}" if run.excluded else "")
    err.print(f"{summary}; written to {escape(str(run.files['eval']))}", highlight=False)
    write_report(run.out, page)
    if run.failed or run.labelled.missing:  # an input listed but not scored, for either reason
        raise typer.Exit(1)


def _rows(scores: EvalScores) -> list[tuple[str, str, str]]:
    """``(metric, value, interval)`` table rows."""
    rows = []
    for name, value in scores.rows():
        if hasattr(value, "correct"):
            acc: Accuracy = value  # type: ignore[assignment]
            rows.append((name, f"{100 * acc.value:.2f}% ({acc.correct}/{acc.total})",
                         f"{100 * acc.low:.2f}-{100 * acc.high:.2f}%"))  # fmt: skip
        elif isinstance(value, float):
            shown = f"{100 * value:.2f}%" if "accuracy" in name else f"{value:.4f}"
            rows.append((name, shown, ""))
        else:
            rows.append((name, str(value), ""))
    return rows


def classify_cmd(
    videos: VideosArg = None,
    model: ModelOpt = "vit_s_ssv2-50shot",
    views: ViewsOpt = "1x1",
    top_k: TopKOpt = 5,
    out_path: OutOpt = None,
    sampling_rate: SamplingRateOpt = None,
    frame_folders: FrameFoldersOpt = "auto",
    fps: FpsOpt = 30.0,
    device: DeviceOpt = "auto",
    dtype: DtypeOpt = None,
    batch_size: BatchSizeOpt = None,
    workers: WorkersOpt = 2,
    resume: ResumeOpt = True,
    checkpoint: CheckpointOpt = None,
    report: ReportOpt = True,
    catalog: CatalogOpt = None,
) -> None:
    """The best labels of each video or image, with probabilities (a table, classify.csv, classify.json and a page)."""
    from ..runtime import Runtime
    from ..tasks.evaluate import classify_videos, view_settings

    use_catalog(catalog)
    entry = default_catalog().get(model)
    settings = view_settings(
        entry, views, checkpoint=checkpoint, sampling_rate=sampling_rate, folder_fps=fps, dtype=dtype or "float32"
    )
    bf16_hint(Runtime.resolve(device, settings.dtype), dtype)
    inputs = resolve_inputs(videos, None, 0, frame_folders)
    folder = out_path or Path("vidm-out/classify")
    with video_progress(len(inputs), f"classify ({model}, {views})", settings.plan().clips_per_input) as progress:
        run = classify_videos(
            inputs, folder, settings, top_k=top_k, resume=resume, batch_size=batch_size, workers=workers,
            device=device, hooks=progress.hooks,
        )  # fmt: skip
    if run.labels:
        k = max(len(v) for v in run.labels.values())
        rows = [(video, *(f"{n} ({p:.1%})" for n, p in top)) for video, top in run.labels.items()]
        show_table(f"{model}: top {k}", ("input", *(f"#{i}" for i in range(1, k + 1))), rows)
    text = f"{len(run.labels)} of {len(inputs)} inputs classified"
    text += f", {len(run.failed)} failed" if run.failed else ""
    err.print(f"{text}; written to {escape(str(run.files['csv']))}", highlight=False)
    write_report(run.out, report)
    if run.failed:
        raise typer.Exit(1)


evaluate_cmd.__doc__ = (evaluate_cmd.__doc__ or "") + "\n\n" + EVAL_OUTPUTS + "\n\n" + epilog(*EVAL_EXAMPLES)
classify_cmd.__doc__ = (classify_cmd.__doc__ or "") + "\n\n" + epilog(*CLASSIFY_EXAMPLES)
