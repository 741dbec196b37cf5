"""``cleankit config``: the effective settings."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cleankit.cli.app import app
from cleankit.cli.common import ConfigOption, load_cli_settings


@app.command("config")
def config_command(
    show: Annotated[bool, typer.Option("--show", help="Print the effective settings as TOML.")] = False,
    config: ConfigOption = None,
) -> None:
    """Show the effective settings (defaults overlaid by the settings file)."""
    settings = load_cli_settings(config)
    if not show:
        typer.echo("use --show to print the effective settings")
        return
    import tomli_w

    data = settings.to_dict()
    stage_options = data.pop("stage_options")
    document: dict[str, Any] = {"clean": {k: v for k, v in data.items() if v is not None}}
    if stage_options:
        document["stage"] = stage_options
    typer.echo(tomli_w.dumps(document), nl=False)
