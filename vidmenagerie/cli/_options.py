"""Option types shared by every command, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..catalog import CATALOG_ENV, register_catalog

CatalogOpt = Annotated[
    Optional[Path],  # noqa: UP045 - typer needs Optional on older Pythons
    typer.Option(
        "--catalog",
        help=f"TOML file with extra model entries (also: {CATALOG_ENV}).",
        show_default=False,
        dir_okay=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]


def use_catalog(path: Path | None) -> None:
    """Load a ``--catalog`` file into the process-wide catalogue."""
    if path is not None:
        register_catalog(path)


def epilog(*examples: str) -> str:
    """A ``--help`` epilog listing example invocations (one per line)."""
    lines = "\n\n".join(f"  $ {e}" for e in examples)
    return f"Examples:\n\n{lines}"


# --------------------------------------------------------------------------- batch commands
VideosArg = Annotated[
    Optional[list[Path]],  # noqa: UP045
    typer.Argument(
        help="Videos, images, frame folders, folders of these (searched recursively) or .txt lists of paths; "
        "default: the demo clip.",
        show_default=False,
    ),
]
SamplingRateOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--sampling-rate",
        min=1,
        help="The training loader's sampling_rate: a clip spans RATE x 16 / 30 s of video [default: the "
        "model's, 8 for every published model].",
        show_default=False,
    ),
]
FrameFoldersOpt = Annotated[
    str,
    typer.Option(
        "--frame-folders",
        help="Read a folder of numbered images as one video: auto (only images, one evenly stepped number in "
        "their names), always, or never (images are stills).",
    ),
]
FpsOpt = Annotated[float, typer.Option("--fps", min=0.001, help="Frame rate of frame folders (frames per second).")]
NumVidsOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--num-vids", min=1, help="Pick this many videos at random (seeded); default all.", show_default=False
    ),
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed for video picking, random clips and random masks.")]
ClipOpt = Annotated[
    str,
    typer.Option(
        "--clip",
        help="Which clip of each video: center, start, random[:N] (seeded) or uniform:N; several clips give one "
        "output each (NAME_clipK).",
    ),
]
CheckpointOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--checkpoint", help="Use this local checkpoint file instead of the Hub.", dir_okay=False),
]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps.")]
DtypeOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--dtype",
        help="Compute precision: float32 (the default: exact), bfloat16 or float16 (autocast; weights stay "
        "float32). On a CPU that computes bfloat16 in hardware, bfloat16 is about 2x faster for ViT-H (README: "
        "Performance); the run says so when --dtype is not given (VIDM_NO_HINTS=1 hides it).",
    ),
]
BatchSizeOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--batch-size",
        min=1,
        help="Clips per forward pass (default: 1 on a CPU, where a larger batch is no faster and progress "
        "moves clip by clip; 4 for complete and attend, 8 for embed and evaluate on a GPU).",
    ),
]
WorkersOpt = Annotated[
    int, typer.Option("--workers", min=0, help="Decoding worker processes (0 decodes in the main process).")
]
FormatOpt = Annotated[str, typer.Option("--format", help="Picture format: jpg or png.")]
AnimateOpt = Annotated[bool, typer.Option("--animate", help="Also write an MP4 animation (and a GIF with --gif).")]
GifOpt = Annotated[bool, typer.Option("--gif", help="Write the animation as GIF too.")]
ReportOpt = Annotated[
    bool,
    typer.Option(
        "--report/--no-report",
        help="Write a page of every result: index.html in the output folder (NAME.html beside NAME.npy).",
    ),
]
