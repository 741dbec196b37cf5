"""``cleankit index``: inspect and prune the near-duplicate index of an output folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from cleankit.cli.app import app
from cleankit.cli.common import ColorOption, JsonOption, OutdirArgument, usage_error
from cleankit.io.files import INDEX_FILE

if TYPE_CHECKING:
    from cleankit.neardup.index import NearDupIndex


index_app = typer.Typer(help="Inspect and manage the near-duplicate index of an output folder.", no_args_is_help=True)
app.add_typer(index_app, name="index")


def _open_index(outdir: Path) -> NearDupIndex:
    from cleankit.neardup.index import NearDupIndex, index_path

    path = index_path(outdir)
    if not path.is_file():
        usage_error(f"no near-duplicate index in {outdir} ({INDEX_FILE} not found)")
    return NearDupIndex(path)  # one it cannot use: a NearDupIndexError, one line and exit code 2


@index_app.command("stats")
def index_stats(
    outdir: OutdirArgument,
    as_json: JsonOption = False,
    color: ColorOption = "auto",
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
    outdir: OutdirArgument,
    older_than: Annotated[
        Optional[float],
        typer.Option("--older-than", metavar="DAYS", min=0, help="Also drop entries added more than DAYS ago."),
    ] = None,
    duplicates: Annotated[bool, typer.Option("--duplicates", help="Also drop entries of duplicate documents.")] = False,
    color: ColorOption = "auto",
) -> None:
    """Drop index entries whose clean file is gone (and, if asked, old or duplicate ones)."""
    with _open_index(outdir) as index:
        dropped = index.prune(outdir, older_than, duplicates)
        left = index.stats()["documents"]
    typer.echo(f"dropped {dropped} document(s); {left} left")
