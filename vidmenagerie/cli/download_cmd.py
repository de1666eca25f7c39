"""``vidm download``: fetch checkpoints into the Hugging Face cache, each shared file once."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ..catalog import default_catalog
from ..errors import InvalidSetting, VidmError
from ..hub import CheckpointSource, cached_checkpoint, fetch_checkpoint
from ._errors import format_error
from ._options import CatalogOpt, epilog, use_catalog
from ._output import err, human_size, out

EXAMPLES = ("vidm download vit_s_none", "vidm download mae_s_none vit_s_ssv2-50shot", "vidm download --all")


def download_cmd(
    names: Annotated[
        list[str] | None, typer.Argument(help="Model names (see `vidm list`).", show_default=False)
    ] = None,  # noqa: UP045
    all_models: Annotated[bool, typer.Option("--all", help="Download every model in the catalogue.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Download again even if cached (repairs a bad file).")] = False,
    catalog: CatalogOpt = None,
) -> None:
    """Download model checkpoints (skips what is cached; a file shared by models is fetched once)."""
    use_catalog(catalog)
    cat = default_catalog()
    if all_models and names:
        raise InvalidSetting("all", "give model names or --all, not both")
    if not all_models and not names:
        raise InvalidSetting("all", "give at least one model name, or --all")
    entries = list(cat) if all_models else [cat.get(n) for n in names or []]
    by_source: dict[CheckpointSource, list[str]] = {}
    for entry in entries:
        by_source.setdefault(entry.source, []).append(entry.name)
    failures = 0
    for source, users in by_source.items():
        who = ", ".join(users)
        try:
            cached = None if force else cached_checkpoint(source)
            if cached is not None:
                err.print(f"[dim]cached[/dim]  {escape(source.label)} ({escape(who)})")
                path = cached
            else:
                err.print(f"[bold]fetch[/bold]   {escape(source.label)} ({escape(who)})")
                path = fetch_checkpoint(source, force=force, progress=True, name=users[0])
        except VidmError as exc:
            failures += 1
            err.print(f"[red]Error:[/red] {escape(format_error(exc)[0])}")
            continue
        out.print(f"{escape(str(path))}  [dim]{human_size(path.stat().st_size)}[/dim]", highlight=False)
    if failures:
        err.print(f"[red]{failures} of {len(by_source)} file{'' if len(by_source) == 1 else 's'} failed[/red]")
        raise typer.Exit(1)


download_cmd.__doc__ = (download_cmd.__doc__ or "") + "\n\n" + epilog(*EXAMPLES)
