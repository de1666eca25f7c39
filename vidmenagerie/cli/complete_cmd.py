"""``vidm complete``: MAE completion pictures, animations and error numbers for videos."""

from __future__ import annotations

import math
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
    "vidm complete",
    "vidm complete clips/ --model mae_s_none --mask center --ratio 0.25 --num-vids 16 --seed 0",
    "vidm complete a.mp4 --mask random --ratio 0.9 --animate --out results/",
    "vidm complete cat.png frames/ --fps 25",
)


def complete_cmd(
    videos: VideosArg = None,
    model: Annotated[str, typer.Option("--model", "-m", help="An MAE model (mae_*).")] = "mae_s_none",
    mask: Annotated[
        str,
        typer.Option(
            "--mask",
            help="Which tokens to hide: random; temporal (the last frames); center (the middle frames: tokens "
            "are in time order, so the middle of the token list is the middle of the clip); tube (one random "
            "spatial mask on every frame).",
        ),
    ] = "center",
    ratio: Annotated[float, typer.Option("--ratio", help="Fraction of tokens hidden, in (0, 1).")] = 0.25,
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
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("vidm-out/complete"),
    image_format: FormatOpt = "jpg",
    animate: AnimateOpt = False,
    gif: GifOpt = False,
    save_arrays: Annotated[
        bool, typer.Option("--save-arrays", help="Also save original, prediction and mask (.npz).")
    ] = False,
    checkpoint: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--checkpoint", help="Use this local checkpoint file instead of the Hub.", dir_okay=False),
    ] = None,
    report: ReportOpt = True,
    catalog: CatalogOpt = None,
) -> None:
    """Hide part of each video and let an MAE fill it in: picture (original / masked / completion) and errors."""

    from ..tasks._per_clip import check_outputs
    from ..tasks.complete import CompletionSettings, load_completion_model, run_completion

    use_catalog(catalog)
    settings = CompletionSettings(
        model=model,
        mask=mask,
        ratio=ratio,
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
        save_arrays=save_arrays,
        checkpoint=str(checkpoint) if checkpoint else None,
    )
    runtime, found = prepare(settings, videos, num_vids, frame_folders)
    bf16_hint(runtime, dtype)
    inputs = found.selected
    check_outputs(out_dir, inputs, "complete", found.found)  # every option and the output checked: nothing fetched yet
    mae = load_completion_model(settings, runtime)
    with video_progress(len(inputs), f"complete ({mask} {ratio:g})", settings.plan().clips_per_input) as progress:
        try:
            result = run_completion(inputs, out_dir, settings, model=mae, hooks=progress.hooks, protected=found.found)
        except KeyboardInterrupt:
            raise interrupted(progress.report, len(inputs), out_dir) from None
    rows = [(str(v.picture), f"{v.score.mse:.5f}", _fmt_db(v.score.psnr), f"{v.score.loss:.4f}") for v in result.clips]
    if rows and result.overall is not None:
        overall = result.overall
        rows.append(("overall", f"{overall.mse:.5f}", _fmt_db(overall.psnr), f"{overall.loss:.4f}"))
        show_table(f"{model}: {mask} mask, ratio {ratio:g} (hidden pixels)", ("picture", "MSE", "PSNR", "loss"), rows)
    write_report(out_dir, report)
    finish(progress.report, out_dir)


def _fmt_db(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:.2f} dB"


complete_cmd.__doc__ = (complete_cmd.__doc__ or "") + "\n\n" + epilog(*EXAMPLES)
