"""The ``cleankit`` command line: one module per command (group), registered on one Typer
app (:mod:`cleankit.cli.app`). Each command imports the machinery it needs when it runs.

``cleankit --version`` is answered before the command modules (and Typer and rich) load:
a preprocessing tool is called in loops and pipes, and the answer needs none of them.

Every mistake in how cleankit was called — a flag, a settings file, a rule selection — ends
as one line on standard error and exit code 2 (:func:`main`), never as a usage block or a
traceback: a script that calls cleankit logs one line it can show.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

COMMAND_MODULES = ("clean", "restore", "detect", "config", "rules", "audit", "index")

# Exit codes (README, "Exit codes").
EXIT_OK = 0
EXIT_FAILED = 1  # some documents failed
EXIT_USAGE = 2  # the command as given cannot run
EXIT_BUSY = 3  # another run holds the output folder
EXIT_OUTPUT = 4  # the output folder cannot be written (disk full, read-only, a file)
EXIT_NOTHING_MATCHED = 5  # an input does not exist, or --include/--exclude matched nothing
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


def load_app() -> typer.Typer:
    """The app with every command registered."""
    from importlib import import_module

    from cleankit.cli.app import app

    for name in COMMAND_MODULES:
        import_module(f"cleankit.cli.{name}")
    return app


def name_arguments_by_their_metavar(command: Any) -> None:
    """Show each argument in help and usage as the word its metavar gives (``INPUT...``,
    ``OUTDIR``), not decorated with a Python type (``<list[str]>``) or braces, as newer Typer
    versions do; older ones already show the metavar alone."""
    for param in getattr(command, "params", []):
        metavar = getattr(param, "metavar", None)
        if getattr(param, "param_type_name", "") == "argument" and metavar:
            param.display_type_rich = lambda ctx: None
            param.get_usage_pieces = lambda ctx, word=metavar: [word]
    for sub in getattr(command, "commands", {}).values():
        name_arguments_by_their_metavar(sub)


def one_line(message: str) -> str:
    """A message as one line: a multi-line error (a rule pack's) joined with '; '."""
    return "; ".join(part.strip() for part in message.splitlines() if part.strip())


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        from cleankit import __version__

        sys.stdout.write(f"cleankit {__version__}\n")
        return
    import typer.main

    from cleankit.core.errors import ConfigError, UsageError

    # Typer's click (vendored in newer Typer, the click package in older ones) reports usage
    # errors through its ClickException; its module is found from the public BadParameter.
    click_exception: type[Exception] = sys.modules[typer.BadParameter.__module__].ClickException
    command = typer.main.get_command(load_app())
    name_arguments_by_their_metavar(command)
    try:
        code = command.main(args=args, prog_name="cleankit", standalone_mode=False)
    except click_exception as exc:
        hint = ""
        context = getattr(exc, "ctx", None)
        if context is not None and not isinstance(exc, typer.BadParameter):
            hint = f" (see {context.command_path} --help)"
        sys.stderr.write(f"cleankit: error: {one_line(exc.format_message())}{hint}\n")  # type: ignore[attr-defined]
        sys.exit(getattr(exc, "exit_code", EXIT_USAGE))
    except (ConfigError, UsageError) as exc:  # a settings or rule mistake found while the command runs
        sys.stderr.write(f"cleankit: error: {one_line(str(exc))}\n")
        sys.exit(EXIT_USAGE)
    except typer.Abort:  # Ctrl-C outside a run (a run says itself what it finished)
        sys.stderr.write("cleankit: interrupted; nothing was written\n")
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def __getattr__(name: str) -> Any:
    if name == "app":
        return load_app()
    raise AttributeError(f"module 'cleankit.cli' has no attribute {name!r}")
