"""The ``cleankit`` Typer application and its ``--version``; each command lives in its own
module of this package and registers itself on :data:`app`."""

from __future__ import annotations

from typing import Annotated

import typer

from cleankit import __version__

app = typer.Typer(
    name="cleankit",
    help="Clean scraped Chinese web text, and show exactly what changed and why.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cleankit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """cleankit: clean, canonical, explainable text from crawled pages."""
