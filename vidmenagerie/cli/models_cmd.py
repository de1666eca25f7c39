"""``vidm list`` and ``vidm info``: the catalogue as a table, JSON, or one model in full."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from ..catalog import ModelEntry, default_catalog
from ..hub import cached_checkpoint
from ._options import CatalogOpt, JsonOpt, epilog, use_catalog
from ._output import clean, err, human_count, human_size, out, print_columns, print_json

LIST_EXAMPLES = ("vidm list", "vidm list 'vit_*ssv2*' --json", "vidm list --downloaded")
INFO_EXAMPLES = ("vidm info vit_s_none", "vidm info mae_hvm1@448_none --json")


def file_parameters(entry: ModelEntry) -> int:
    """Parameters stored in the entry's checkpoint file (a ``vit_*_none`` reads the MAE's file)."""
    kind = "mae" if entry.kind == "vit" and entry.num_classes is None and entry.arch.decoder_depth else entry.kind
    return entry.arch.num_parameters(kind)


def _row(entry: ModelEntry) -> dict[str, Any]:
    path = cached_checkpoint(entry.source)
    row = entry.to_dict()
    row["parameters"] = entry.arch.num_parameters(entry.kind)
    row["downloaded"] = path is not None
    row["cached_path"] = str(path) if path else None
    row["size_bytes"] = path.stat().st_size if path else None
    row["expected_bytes"] = 4 * file_parameters(entry)  # float32 weights
    return row


def _file_size(row: dict[str, Any]) -> str:
    """The checkpoint's size as one token (awk-friendly): ``2.6GB``, or ``~2.6GB`` expected before download."""
    size = human_size(row["size_bytes"]) if row["downloaded"] else "~" + human_size(row["expected_bytes"])
    return size.replace(" ", "")


def list_models_cmd(
    pattern: Annotated[Optional[str], typer.Argument(help="Shell-style filter, e.g. 'vit_*ssv2*'.")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
    downloaded: Annotated[bool, typer.Option("--downloaded", help="Only models whose checkpoint is cached.")] = False,
    catalog: CatalogOpt = None,
) -> None:
    """List every model: classes, resolution, parameters, file size and whether it is cached.

    One plain line per model (names never wrap: `vidm list | grep ssv2` works); the name says
    the type, the pretraining data and the finetuning task. A summary line goes to stderr.
    """
    use_catalog(catalog)
    cat = default_catalog()
    rows = [_row(cat.get(name)) for name in cat.names(pattern)]
    if downloaded:
        rows = [r for r in rows if r["downloaded"]]
    if as_json:
        print_json(rows)
        return
    if not rows:  # a bare header says nothing: say why there is nothing
        matching = f" matching {pattern!r}" if pattern else ""
        if downloaded and cat.names(pattern):
            err.print(f"nothing downloaded yet{matching} (vidm download NAME fetches a model)", highlight=False)
        else:
            err.print(f"no model matches {pattern!r} (vidm list shows all {len(cat.names())})", highlight=False)
        return
    columns = ("name", "classes", "px", "params", "file", "cached")
    body = [
        (
            r["name"],
            r["num_classes"] or "-",
            r["img_size"],
            human_count(r["parameters"]),
            _file_size(r),
            "yes" if r["downloaded"] else "no",
        )
        for r in rows
    ]
    files = {(r["repo_id"], r["filename"], r["local_path"]): r for r in rows}
    total = sum(r["size_bytes"] or r["expected_bytes"] for r in files.values())
    cached = sum(1 for r in files.values() if r["downloaded"])
    summary = (
        f"{len(rows)} model{'s' if len(rows) != 1 else ''}" + (f" matching {pattern!r}" if pattern else "")
        + f": {len(files)} checkpoint files, about {human_size(total)} in all, {cached} cached"
    )  # fmt: skip
    print_columns(columns, body)
    err.print(summary, highlight=False)


def info_cmd(
    name: Annotated[str, typer.Argument(help="Model name (see `vidm list`).")],
    as_json: JsonOpt = False,
    catalog: CatalogOpt = None,
) -> None:
    """Everything about one model: data, task, classes, input, preprocessing, checkpoint and paper."""
    use_catalog(catalog)
    entry = default_catalog().get(name)
    row = _row(entry)
    row["stored_dtype"] = _stored_dtype(row["cached_path"])
    if as_json:
        print_json(row)
        return
    pre = entry.preprocessing
    a = entry.arch
    lines = [
        ("name", entry.name),
        ("description", entry.description),
        ("family", entry.family),
        (
            "type",
            "MAE: encoder + decoder" if entry.kind == "mae" else "ViT encoder" + (" + head" if a.num_classes else ""),
        ),
        ("pretraining data", entry.pretraining_data),
        ("finetuning", entry.finetuning_task),
        ("classes", f"{a.num_classes} ({entry.labels})" if a.num_classes else "none (features)"),
        ("input", f"{pre.num_frames} frames x {pre.img_size}x{pre.img_size}"),
        (
            "frames",
            f"sampling rate {pre.sampling_rate} at {pre.fps:g} fps (a clip spans {pre.span_seconds:.2f} s): "
            f"frames floor(linspace(0, L - 1, {pre.num_frames})) of its L source frames"
            + ("; a still fills every frame" if pre.resize == "bicubic" else ""),
        ),
        ("pixels", pre.describe()),
        (
            "mask ratio",
            f"{entry.mask_ratio:g} (MAE pretraining)" if entry.mask_ratio is not None else "not recorded",
        ),
        (
            "architecture",
            f"patch {a.t_patch_size}x{a.patch_size}x{a.patch_size}, width {a.embed_dim}, depth {a.depth}, "
            f"{a.num_heads} heads, MLP x{a.mlp_ratio:g}"
            + (f"; decoder width {a.decoder_embed_dim}, {a.decoder_depth} blocks" if entry.kind == "mae" else ""),
        ),
        ("parameters", f"{row['parameters']:,}"),
        ("checkpoint", entry.source.label),
        (
            "cached",
            f"yes, {human_size(row['size_bytes'])} at {row['cached_path']}"
            if row["downloaded"]
            else "no (vidm download)",
        ),
        *_weights_line(row["stored_dtype"]),
        ("paper", entry.paper.cite() if entry.paper else "-"),
    ]
    if not out.is_terminal:  # a log or a pipe: plain lines, nothing split or boxed
        for key, value in lines:
            print(f"{key}: {clean(str(value)) or '-'}")
    else:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(justify="right", style="bold", no_wrap=True)
        grid.add_column(overflow="fold")  # long values wrap inside the panel instead of being cut off
        for key, value in lines:
            grid.add_row(key, escape(clean(str(value))))
        out.print(Panel(grid, title=escape(entry.name), expand=False))
    print(f"example: {clean(_example(entry))}")  # plain, on one line, so it pastes whole


def _stored_dtype(cached_path: str | None) -> str | None:
    """The dtype a cached checkpoint stores its weights in: remembered from a load, else read lazily (torch)."""
    if cached_path is None:
        return None
    from ..verify import remembered_dtype

    dtype = remembered_dtype(cached_path)
    if dtype is None:
        from ..checkpoint import checkpoint_dtype

        dtype = checkpoint_dtype(cached_path)
    return dtype


def _weights_line(dtype: str | None) -> list[tuple[str, str]]:
    """A row only when the file stores weights in a lower precision than they are computed in."""
    if dtype is None or dtype == "float32":
        return []
    return [("weights", f"stored as {dtype} in the checkpoint; computed in float32 (upcast when loaded)")]


def _example(entry: ModelEntry) -> str:
    if entry.kind == "mae":
        return f"vidm complete --model {entry.name}"
    if entry.is_finetuned and entry.preprocessing.resize == "bicubic":
        return f"vidm embed photos/ --model {entry.name} --top-k 5 --out feats.npy"
    if entry.is_finetuned:
        return f"vidm embed clips/ --model {entry.name} --logits --top-k 5 --out feats.npy"
    return f"vidm attend --model {entry.name}"


list_models_cmd.__doc__ = (list_models_cmd.__doc__ or "") + "\n\n" + epilog(*LIST_EXAMPLES)
info_cmd.__doc__ = (info_cmd.__doc__ or "") + "\n\n" + epilog(*INFO_EXAMPLES)
