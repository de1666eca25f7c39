"""``vidm embed``: features of a whole video collection, resumable, sharded, with a manifest for every row."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.markup import escape

from ..batch.workers import default_workers
from ..catalog import default_catalog
from ..errors import InvalidSetting
from ._batch import bf16_hint, resolve_inputs, video_progress, write_report
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
    from ..feature_store import OutputLayout
    from ..feature_store.assemble import Assembly
    from ..tasks.embed import EmbedRun

EXAMPLES = (
    "vidm embed clips/ --model vit_s_none --out feats.npy",
    "vidm embed list.txt --model vit_hvm1_none --clips sliding --stride 2.0 --out feats/ --per-video",
    "vidm embed clips/ --model vit_s_ssv2-50shot --pool mean --layer -4 --dtype bfloat16 --batch-size 8",
    "vidm embed clips/ --model vit_s_none --layer all --reduce mean --out feats.npy",
    "vidm embed clips/ --model vit_s_ssv2-50shot --clips uniform:4 --crops 3 --reduce mean --top-k 5",
    "vidm embed photos/ --model vit_hvm1_imagenet-2pt --top-k 5",
    "vidm embed clips/ --model vit_s_none --out feats.npy --shard 0/4",
    "vidm embed --merge feats.npy",
)

OUTPUTS = """\
--out feats.npy writes feats.npy ([rows, dim], or [rows, tokens, dim] with --pool tokens) and
beside it feats.index.csv (per row: row, video, clip, crop, start, end in seconds; with
--reduce mean the columns clips and crops count what was averaged), feats.videos.csv (per
video: status ok, failed or pending, first_row, rows, reason), feats.run.json (model,
checkpoint file, every setting, versions), and feats.logits.npy and feats.topk.csv when asked.
--per-video --out DIR writes DIR/<input path>.npy with DIR/index.csv, videos.csv and run.json.
Several blocks (--layer 8,16,-1 or all) are one array per block instead of feats.npy, named by
the block's number: feats.layer08.npy, feats.layer16.npy, feats.layer31.npy (DIR/<input
path>.layer08.npy ...), all rows in the same order, sharing the other files.

Every write is atomic. Finished videos are kept in feats.parts/ until the run completes:
rerunning an interrupted command resumes it (other settings are refused). Exits 1 if any
video failed."""

Opt = typer.Option
ModelOpt = Annotated[str, Opt("--model", "-m", help="A vit model (features before any head) or an mae (its encoder).")]
OutOpt = Annotated[
    Optional[Path],  # noqa: UP045
    Opt(
        "--out",
        help="A .npy file, or a folder with --per-video [default: vidm-out/feats.npy, vidm-out/feats/].",
        show_default=False,
    ),
]
PerVideoOpt = Annotated[bool, Opt("--per-video", help="One .npy per video ([clips, dim]) named like the inputs.")]
PoolOpt = Annotated[
    str,
    Opt(
        "--pool",
        help="cls: final LayerNorm of the CLS token (the model's feature); mean: of the mean patch token; "
        "tokens: every patch token.",
    ),
]
LayerOpt = Annotated[
    str,
    Opt(
        "--layer",
        help="Take block K's output (negative: from the end) instead of the last; a list (8,16,-1) or all "
        "takes each from ONE pass, one array per block: feats.layer08.npy, ... (DIR/<input>.layer08.npy).",
    ),
]
ClipsOpt = Annotated[str, Opt("--clips", help="Clips of each video: center, uniform:N or sliding (see --stride).")]
StrideOpt = Annotated[
    Optional[float],  # noqa: UP045
    Opt("--stride", help="Seconds between sliding clips [default: one clip length].", show_default=False),
]
CropsOpt = Annotated[
    int,
    Opt(
        "--crops",
        help="1: centre crop; 3: mae_st's multi-view test (short side scaled to the crop size, then both ends "
        "and the centre of the long side).",
    ),
]
ReduceOpt = Annotated[str, Opt("--reduce", help="none: a row per clip and crop; mean: one row per video.")]
LogitsOpt = Annotated[bool, Opt("--logits", help="Also save a finetuned vit model's class scores (.logits.npy).")]
TopKOpt = Annotated[
    int, Opt("--top-k", min=0, help="Print (and save, .topk.csv) each video's N best labels; implies --logits.")
]
ShardOpt = Annotated[
    Optional[str],  # noqa: UP045
    Opt(
        "--shard",
        help="Process part INDEX/COUNT (0-based) of the inputs [default: from torchrun's RANK/WORLD_SIZE "
        "or a Slurm array's SLURM_ARRAY_TASK_ID/COUNT].",
        show_default=False,
    ),
]
MergeOpt = Annotated[
    Optional[Path],  # noqa: UP045
    Opt("--merge", help="Join the shards written to this --out into one output, and stop.", show_default=False),
]
ResumeOpt = Annotated[
    bool, Opt("--resume/--no-resume", help="Keep finished videos of an output with the same settings, or start over.")
]
DEFAULT_WORKERS = default_workers()


def embed_cmd(
    videos: VideosArg = None,
    model: ModelOpt = "vit_s_none",
    out_path: OutOpt = None,
    per_video: PerVideoOpt = False,
    pool: PoolOpt = "cls",
    layer: LayerOpt = "-1",
    clips: ClipsOpt = "center",
    stride: StrideOpt = None,
    sampling_rate: SamplingRateOpt = None,
    frame_folders: FrameFoldersOpt = "auto",
    fps: FpsOpt = 30.0,
    crops: CropsOpt = 1,
    reduce: ReduceOpt = "none",
    logits: LogitsOpt = False,
    top_k: TopKOpt = 0,
    device: DeviceOpt = "auto",
    dtype: DtypeOpt = None,
    batch_size: BatchSizeOpt = None,
    workers: WorkersOpt = DEFAULT_WORKERS,
    shard: ShardOpt = None,
    merge: MergeOpt = None,
    resume: ResumeOpt = True,
    checkpoint: CheckpointOpt = None,
    report: ReportOpt = True,
    catalog: CatalogOpt = None,
) -> None:
    """Features of every clip of every video: one .npy plus a manifest that says what each row is."""
    from ..feature_store import EmbedSettings, OutputLayout, Shard, merge_shards, shard_from_env
    from ..feature_store.record import check_output
    from ..runtime import Runtime
    from ..tasks.embed import embed_videos

    use_catalog(catalog)
    if merge is not None:
        if videos:
            raise InvalidSetting("merge", "joins the shards of an existing output: give no inputs")
        layout, assembly = merge_shards(merge, per_video=True if per_video else None)
        write_report(layout.out, report)  # feats.html beside feats.npy; DIR/index.html
        _finish(layout, assembly, f"merged {len(layout.shard_records())} shards into")
        return
    settings = EmbedSettings.for_model(
        default_catalog().get(model),
        checkpoint=str(checkpoint) if checkpoint else None,
        pool=pool,
        layer=layer,
        clips=clips,
        stride=stride,
        sampling_rate=sampling_rate,
        folder_fps=fps,
        crops=crops,
        reduce=reduce,
        logits=logits or top_k > 0,
        dtype=dtype or "float32",
    )
    part = Shard.parse(shard) if shard else shard_from_env()
    part = part if part is not None and part.count > 1 else None
    target = out_path or Path("vidm-out/feats" if per_video else "vidm-out/feats.npy")
    layout = OutputLayout(target, per_video, part, settings.layer_tags)
    bf16_hint(Runtime.resolve(device, settings.dtype), dtype)
    inputs = resolve_inputs(videos, None, 0, frame_folders)
    layout.check([str(v) for v in inputs])
    check_output(layout, settings, resume=resume, inputs=[str(v) for v in inputs])  # all checked: nothing fetched
    mine = part.select(inputs) if part else inputs
    if part is not None:
        err.print(f"shard {part.index}/{part.count} (from {escape(part.origin)}): {len(mine)} of {len(inputs)} videos")
    what = f"{model}, {pool}" + (f", {len(settings.layers)} layers" if len(settings.layers) > 1 else "")
    with video_progress(len(mine), f"embed ({what})", settings.plan().clips_per_input) as progress:
        run = embed_videos(
            inputs, target, settings, per_video=per_video, shard=part, resume=resume, batch_size=batch_size,
            workers=workers, device=device, top_k=top_k, hooks=progress.hooks,
        )  # fmt: skip
    _print_topk(run)
    done = f"{run.resumed} resumed, " if run.resumed else ""
    speed = f" at {run.clips / run.seconds:.2f} clips/s" if run.clips and run.seconds else ""
    write_report(run.layout.out, report and part is None)  # a shard's page comes with --merge
    _finish(run.layout, run.assembly, f"{done}{run.clips} clip{'' if run.clips == 1 else 's'}{speed}; written to")


def _print_topk(run: EmbedRun) -> None:
    """Each video's best labels as a table on stdout."""
    best = run.assembly.topk
    if not best:
        return
    k = max(len(v) for v in best.values())
    rows = [(video, *(f"{t.label} ({t.score:.1%})" for t in items)) for video, items in best.items()]
    show_table(f"{run.settings.model}: top {k}", ("input", *(f"#{i}" for i in range(1, k + 1))), rows)


def _finish(layout: OutputLayout, assembly: Assembly, what: str) -> None:
    """The summary line on stderr; exit 1 when any video failed."""
    ok, failed, pending = (assembly.count(s) for s in ("ok", "failed", "pending"))
    text = f"{ok} of {len(assembly.statuses)} inputs ok" + (f", {failed} failed" if failed else "")
    text += f", {pending} pending" if pending else ""
    files = layout.feature_files
    where: Path | str = layout.out if layout.per_video else files[0]
    if not layout.per_video and len(files) > 1:
        where = f"{files[0]} ... {files[-1].name} ({len(files)} layers)"
    style = "red" if failed else "green"
    rows = f"{assembly.rows} row{'' if assembly.rows == 1 else 's'}"
    err.print(f"[{style}]{text}[/{style}]; {rows}; {what} {escape(str(where))}")
    if failed:
        raise typer.Exit(1)


embed_cmd.__doc__ = (embed_cmd.__doc__ or "") + "\n\n" + OUTPUTS + "\n\n" + epilog(*EXAMPLES)
