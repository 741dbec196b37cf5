"""The ``cleankit`` command line: one module per command (group), registered on one Typer
app. Each command imports the machinery it needs when it runs."""

from cleankit.cli import audit, clean, config, detect, index, restore, rules  # noqa: F401  (registers the commands)
from cleankit.cli.app import app

__all__ = ["app"]
