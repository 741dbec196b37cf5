"""What every command shares: the error console, settings loading and common options.

Only light modules are imported here: each command imports the machinery it needs when it
runs, so ``cleankit --version`` and ``--help`` load no stage, no numpy and no OpenCC.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.text import Text

from cleankit.core.errors import ConfigError, SettingsError
from cleankit.core.settings import Settings, load_settings, settings_file, validate
from cleankit.io.files import display

if TYPE_CHECKING:
    from cleankit.core.pipeline import Pipeline

# Markup off: file names and scraped text are printed, and "[red]" in a name is not a style.
err = Console(stderr=True, highlight=False, markup=False)

RulesOption = Annotated[
    Optional[list[Path]],
    typer.Option("--rules", help="Folder of extra boilerplate rule packs (*.yaml); repeatable."),
]
ConfigOption = Annotated[
    Optional[Path], typer.Option("--config", help="Settings file (default: ./cleankit.toml if present).")
]
OutdirArgument = Annotated[Path, typer.Argument(help="Output folder of a clean run.", file_okay=False)]


def failure_line(source: str, error: str) -> Text:
    return Text.assemble(("failed", "red"), f" {display(source)}: {display(error)}")


def load_cli_settings(config: Path | None, **overrides: Any) -> Settings:
    try:
        settings = load_settings(config).updated(**overrides)
        validate(settings)
    except SettingsError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return settings


def with_rule_packs(settings: Settings, folders: list[Path] | None) -> Settings:
    """Add --rules folders to the boilerplate stage's packs."""
    if not folders:
        return settings
    options = {name: dict(values) for name, values in settings.stage_options.items()}
    boilerplate = options.setdefault("boilerplate", {})
    boilerplate["rules"] = [*boilerplate.get("rules", []), *(str(folder) for folder in folders)]
    return settings.updated(stage_options=options)


def build_pipeline(settings: Settings, config: Path | None = None) -> Pipeline:
    """The run's pipeline, built once (rule packs loaded and their examples run). A stage
    refusing its options is reported with the settings file they came from."""
    from cleankit.core.pipeline import Pipeline

    try:
        return Pipeline.from_settings(settings)
    except ConfigError as exc:
        origin = settings_file(config)
        raise typer.BadParameter(f"{origin}: {exc}" if origin else str(exc)) from exc
