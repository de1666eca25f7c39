"""``vidm attend``: where the model looks, as CLS attention maps over each video's frames."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._batch import bf16_hint, finish, interrupted, picture_format, prepare, video_progress, write_report
from ._options import (
    AnimateOpt,
    BatchSizeOpt,
    CatalogOpt,
    ClipOpt,
    DeviceOpt,
    DtypeOpt,
    FormatOpt,
    FpsOpt,
    FrameFoldersOpt,
    GifOpt,
    NumVidsOpt,
    ReportOpt,
    SamplingRateOpt,
    SeedOpt,
    VideosArg,
    WorkersOpt,
    epilog,
    use_catalog,
)
from ._output import show_table

EXAMPLES = (
    "vidm attend",
    "vidm attend clips/ --model vit_s_none --num-vids 16 --seed 0",
    "vidm attend a.mp4 --model vit_hvm1@448_none --heads all --animate --save-maps",
    "vidm attend a.mp4 --threshold 0.6 --threshold-style mask --style heatmap --colormap viridis",
    "vidm attend a.mp4 --rollout",
)

OUTPUTS = """\
Per video (names mirror the inputs: a/x.mp4 -> OUT/a/x.attend.jpg): a picture with the first
frame of each 2-frame slot on top and one map row below (the mean of the heads, each chosen
head, or the rollout), columns labelled with the frame times; with --animate an MP4 (and GIF)
of every frame with the map of its slot; with --save-maps a .npy [heads, T/2, H/14, W/14]
float32 of the raw CLS attention (each head's values plus its CLS-to-CLS weight, in run.json
as cls_self, sum to 1). Maps are upsampled by nearest neighbour; colours are scaled per row
from its min to its max over the clip. run.json records every setting. Exits 1 if any video
failed."""

Opt = typer.Option
# heatmap.COLORMAPS, spelled out so that `vidm --help` need not import numpy (a test keeps them equal).
COLORMAP_NAMES = ("viridis", "magma", "inferno", "plasma", "turbo", "jet", "gray")
HeadsOpt = Annotated[str, Opt("--heads", help="mean (of all heads), all (one row each), or a list like 3,7.")]
LayerOpt = Annotated[int, Opt("--layer", help="Block whose attention is shown (negative: from the end).")]
RolloutOpt = Annotated[
    bool,
    Opt(
        "--rollout",
        help="Attention rollout through blocks 0..--layer instead (heads averaged, identity added, "
        "rows renormalised, multiplied through); keeps every block's tokens (1.3 GB per clip at 448 px).",
    ),
]
ThresholdOpt = Annotated[
    Optional[float],  # noqa: UP045
    Opt(
        "--threshold",
        help="Keep the smallest set of patches holding this fraction of each map's mass over the whole clip "
        "(map renormalised over its patches, CLS left out), as in DINO.",
        show_default=False,
    ),
]
ThresholdStyleOpt = Annotated[
    str, Opt("--threshold-style", help="Draw the kept patches as an outline (contour) or dim the rest (mask).")
]
StyleOpt = Annotated[str, Opt("--style", help="overlay: colours blended onto the frame; heatmap: the map alone.")]
ColormapOpt = Annotated[
    str, Opt("--colormap", help=f"{', '.join(COLORMAP_NAMES)}, or any matplotlib name if it is installed.")
]


def attend_cmd(
    videos: VideosArg = None,
    model: Annotated[str, Opt("--model", "-m", help="A vit model, or an MAE (its encoder, unmasked).")] = "vit_s_none",
    heads: HeadsOpt = "mean",
    layer: LayerOpt = -1,
    rollout: RolloutOpt = False,
    threshold: ThresholdOpt = None,
    threshold_style: ThresholdStyleOpt = "contour",
    style: StyleOpt = "overlay",
    colormap: ColormapOpt = "inferno",
    num_vids: NumVidsOpt = None,
    seed: SeedOpt = 0,
    clip: ClipOpt = "center",
    sampling_rate: SamplingRateOpt = None,
    frame_folders: FrameFoldersOpt = "auto",
    fps: FpsOpt = 30.0,
    device: DeviceOpt = "auto",
    dtype: DtypeOpt = None,
    batch_size: BatchSizeOpt = None,
    workers: WorkersOpt = 2,
    out_dir: Annotated[Path, Opt("--out", help="Output folder.")] = Path("vidm-out/attend"),
    image_format: FormatOpt = "jpg",
    animate: AnimateOpt = False,
    gif: GifOpt = False,
    save_maps: Annotated[bool, Opt("--save-maps", help="Also save the raw per-head maps (.npy).")] = False,
    checkpoint: Annotated[
        Optional[Path],  # noqa: UP045
        Opt("--checkpoint", help="Use this local checkpoint file instead of the Hub.", dir_okay=False),
    ] = None,
    report: ReportOpt = True,
    catalog: CatalogOpt = None,
) -> None:
    """Show where the model looks: the CLS token's attention over every patch of each video."""
    from ..tasks._per_clip import check_outputs
    from ..tasks.attend import AttendSettings, load_attention_model, run_attention

    use_catalog(catalog)
    settings = AttendSettings(
        model=model,
        heads=heads,
        layer=layer,
        rollout=rollout,
        threshold=threshold,
        threshold_style=threshold_style,
        style=style,
        colormap=colormap,
        seed=seed,
        clip=clip,
        sampling_rate=sampling_rate,
        folder_fps=fps,
        device=device,
        dtype=dtype or "float32",
        batch_size=batch_size,
        workers=workers,
        image_format=picture_format(image_format),
        animate=animate or gif,
        gif=gif,
        save_maps=save_maps,
        checkpoint=str(checkpoint) if checkpoint else None,
    )
    runtime, found = prepare(settings, videos, num_vids, frame_folders)
    bf16_hint(runtime, dtype)
    inputs = found.selected
    check_outputs(out_dir, inputs, "attend", found.found)  # every option and the output checked: nothing fetched yet
    encoder = load_attention_model(settings, runtime)
    what = "rollout" if rollout else f"layer {layer}, heads {heads}"
    with video_progress(len(inputs), f"attend ({what})", settings.plan().clips_per_input) as progress:
        try:
            result = run_attention(
                inputs, out_dir, settings, model=encoder, hooks=progress.hooks, protected=found.found
            )
        except KeyboardInterrupt:
            raise interrupted(progress.report, len(inputs), out_dir) from None
    rows = [
        (
            str(c.picture),
            f"slot {c.peak[0]}, row {c.peak[1]}, col {c.peak[2]} ({_percent(c.peak[3])})",
            _percent(sum(c.cls_self) / len(c.cls_self)),
        )
        for c in result.clips
    ]
    if rows:
        show_table(f"{model}: CLS attention ({what})", ("picture", "strongest patch", "CLS itself"), rows)
    write_report(out_dir, report)
    finish(progress.report, out_dir)


attend_cmd.__doc__ = (attend_cmd.__doc__ or "") + "\n\n" + OUTPUTS + "\n\n" + epilog(*EXAMPLES)


def _percent(share: float) -> str:
    """A share as a percentage with two significant digits (near-uniform maps have tiny shares)."""
    return f"{share * 100:.2g}%"
