"""``cleankit config``: where the settings come from, and every effective setting."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cleankit.cli.app import app
from cleankit.cli.common import ColorOption, ConfigOption, load_cli_settings, settings_file
from cleankit.io.files import display


def effective_settings(settings: Any) -> dict[str, Any]:
    """Every setting as TOML data: ``[clean]`` and a ``[stage.NAME]`` table for every
    registered stage, its defaults overlaid by the settings' options (so the output, read
    back as a settings file, gives the same settings)."""
    from cleankit.core.stage import canonical_stage_name, stage_option_defaults, stage_registry

    data = settings.to_dict()
    given = {canonical_stage_name(name): values for name, values in data.pop("stage_options").items()}
    stages: dict[str, Any] = {}
    for name in stage_registry():
        options = {**stage_option_defaults(name), **given.get(name, {})}
        # TOML has no null: an option whose default is None (unset) is left out.
        stages[name] = {key: value for key, value in options.items() if value is not None}
    return {"clean": {k: v for k, v in data.items() if v is not None}, "stage": stages}


@app.command("config")
def config_command(
    show: Annotated[
        bool, typer.Option("--show", help="Print every effective setting as TOML, stage defaults included.")
    ] = False,
    config: ConfigOption = None,
    color: ColorOption = "auto",
) -> None:
    """Say which settings file is used; with --show, print every effective setting."""
    found = settings_file(config)
    settings = load_cli_settings(config)
    origin = display(str(found.resolve())) if found else "defaults (no cleankit.toml or [tool.cleankit] found)"
    if not show:
        typer.echo(f"settings: {origin}")
        typer.echo("cleankit config --show prints every effective setting")
        return
    import tomli_w

    # The origin on standard error: standard output is the settings file itself.
    typer.echo(f"settings: {origin}", err=True)
    typer.echo(tomli_w.dumps(effective_settings(settings)), nl=False)
