"""The ``cleankit`` command line: one module per command (group), registered on one Typer
app (:mod:`cleankit.cli.app`). Each command imports the machinery it needs when it runs.

``cleankit --version`` is answered before the command modules (and Typer and rich) load:
a preprocessing tool is called in loops and pipes, and the answer needs none of them.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

COMMAND_MODULES = ("clean", "restore", "detect", "config", "rules", "audit", "index")


def load_app() -> typer.Typer:
    """The app with every command registered."""
    from importlib import import_module

    from cleankit.cli.app import app

    for name in COMMAND_MODULES:
        import_module(f"cleankit.cli.{name}")
    return app


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from cleankit import __version__

        sys.stdout.write(f"cleankit {__version__}\n")
        return
    load_app()()


def __getattr__(name: str) -> Any:
    if name == "app":
        return load_app()
    raise AttributeError(f"module 'cleankit.cli' has no attribute {name!r}")
