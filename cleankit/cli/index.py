"""``cleankit index``: inspect and prune the near-duplicate index of an output folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from cleankit.cli.app import app
from cleankit.core.errors import NearDupIndexError
from cleankit.io.files import INDEX_FILE

if TYPE_CHECKING:
    from cleankit.neardup.index import NearDupIndex


index_app = typer.Typer(help="Inspect and manage the near-duplicate index of an output folder.", no_args_is_help=True)
app.add_typer(index_app, name="index")


def _open_index(outdir: Path) -> NearDupIndex:
    from cleankit.neardup.index import NearDupIndex, index_path

    path = index_path(outdir)
    if not path.is_file():
        raise typer.BadParameter(f"no near-duplicate index in {outdir} ({INDEX_FILE} not found)")
    try:
        return NearDupIndex(path)
    except NearDupIndexError as exc:
        raise typer.BadParameter(str(exc)) from exc


@index_app.command("stats")
def index_stats(
    outdir: Annotated[Path, typer.Argument(help="Output folder of a clean run.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """How many documents, band keys and paragraph hashes the index holds."""
    with _open_index(outdir) as index:
        stats = index.stats()
    if as_json:
        from cleankit.core.provenance import dumps

        typer.echo(dumps(stats, indent=2))
        return
    for key, value in stats.items():
        typer.echo(f"{key}: {value}")


@index_app.command("prune")
def index_prune(
    outdir: Annotated[Path, typer.Argument(help="Output folder of a clean run.")],
    older_than: Annotated[
        Optional[float], typer.Option("--older-than", help="Also drop entries added more than DAYS ago.")
    ] = None,
    duplicates: Annotated[bool, typer.Option("--duplicates", help="Also drop entries of duplicate documents.")] = False,
) -> None:
    """Drop index entries whose clean file is gone (and, if asked, old or duplicate ones)."""
    with _open_index(outdir) as index:
        dropped = index.prune(outdir, older_than, duplicates)
        left = index.stats()["documents"]
    typer.echo(f"dropped {dropped} document(s); {left} left")
