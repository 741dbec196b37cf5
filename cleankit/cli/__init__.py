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

# The module that registers each top-level command (a group, such as ``rules``, with its
# subcommands), in the order ``--help`` lists them. ``tests/test_cli_conventions.py`` checks
# it against the registrations.
COMMAND_MODULE = {
    "clean": "clean",
    "restore": "restore",
    "detect": "detect",
    "config": "config",
    "rules": "rules",
    "diff": "audit",
    "stats": "audit",
    "report": "audit",
    "index": "index",
}
COMMAND_MODULES = tuple(dict.fromkeys(COMMAND_MODULE.values()))

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
    _in_module_order(app)
    return app


def _in_module_order(app: typer.Typer) -> None:
    """Commands and groups in the order of :data:`COMMAND_MODULES` (as ``--help`` lists
    them), whichever command module a process imported first (:func:`command_alone`)."""

    def rank(callback: Any) -> int:
        module = getattr(callback, "__module__", "").rpartition(".")[2]
        return COMMAND_MODULES.index(module) if module in COMMAND_MODULES else len(COMMAND_MODULES)

    app.registered_commands.sort(key=lambda info: rank(info.callback))
    app.registered_groups.sort(key=lambda info: rank(_group_callback(info)))


def _group_callback(info: Any) -> Any:
    """A function of the module that registered a group: its first command's."""
    commands = info.typer_instance.registered_commands if info.typer_instance is not None else []
    return commands[0].callback if commands else None


def command_alone(name: str) -> typer.Typer | None:
    """An app with only the top-level command (or group) ``name`` on it, its module alone
    imported: what ``cleankit NAME ...`` runs. Building the click commands of all of them
    and importing every command module was ~45 ms of CPU (about 1x a bare ``python -c
    pass``) on each call of one command; help, usage errors and behaviour of the command
    are its own. None for a name that is not a command (the whole app answers that)."""
    import copy
    from importlib import import_module

    from cleankit.cli.app import app

    module = COMMAND_MODULE.get(name)
    if module is None:
        return None
    import_module(f"cleankit.cli.{module}")
    alone = copy.copy(app)
    alone.registered_commands = [info for info in app.registered_commands if _command_name(info) == name]
    alone.registered_groups = [info for info in app.registered_groups if info.name == name]
    return alone if alone.registered_commands or alone.registered_groups else None


def _command_name(info: Any) -> str:
    """A registered command's name as Typer gives it (the function's, dashed, when unnamed)."""
    return info.name or info.callback.__name__.lower().replace("_", "-")


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


class PlainValues:
    """Typer's coercion of one parameter, for the values that need none.

    Typer (0.2x) coerces every parameter value through a pydantic ``TypeAdapter`` it builds for
    the parameter when the command runs, defaults and absent options included: for one page
    through ``cleankit clean -`` that was importing pydantic and building 9 adapters, about a
    quarter of the command's CPU. For the values where that adapter is not needed, this
    answers as Typer would without building it: an absent value (``None``: ``()`` for a
    parameter taking many values, else ``None``, as Typer's ``RuntimeParam.coerce`` answers
    for every kind of parameter), a ``str`` for a plain ``str`` parameter (the same string),
    strings for a plain ``list[str]`` one (a new list of them). Any other value is handed to
    Typer's own coercion, built then (and kept) as Typer builds it.
    ``tests/test_cli_conventions.py`` checks the answers against Typer's for every parameter.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        many = param.multiple or param.nargs == -1
        if value is None:
            return () if many else None
        if self.kind == "str" and type(value) is str and not many:
            return value
        if self.kind == "list[str]" and many and type(value) in (list, tuple) and all(type(v) is str for v in value):
            return list(value)
        from typer._coercion import build_runtime_param

        runtime = build_runtime_param(param.type_descriptor)
        param._runtime_param = runtime
        return runtime.coerce(value, param=param, ctx=ctx)


def plain_values_kind(param: Any) -> str | None:
    """``str`` or ``list[str]`` for a Typer parameter of that plain type (no parser, no file,
    no choices), ``other`` for any other Typer parameter, None for what is not a Typer
    parameter or already has its coercion built."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or getattr(param, "_runtime_param", False) is not None:
        return None
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or getattr(info, "parser", None) is not None or descriptor.is_choice:
        return "other"
    if descriptor.annotation is str:
        return "str"
    if descriptor.annotation == list[str]:
        return "list[str]"
    return "other"


def coerce_plain_values_directly(command: Any) -> None:
    """Give every Typer parameter of ``command`` (and of its subcommands) a
    :class:`PlainValues`, so that running a command builds no pydantic adapter for values
    that need none. Does nothing on a Typer without per-parameter runtime coercion, or whose
    private builder of it (which :class:`PlainValues` hands other values to) is not where
    Typer 0.2x keeps it: such a Typer coerces every value itself, as it would without cleankit."""
    if not callable(getattr(sys.modules.get("typer._coercion"), "build_runtime_param", None)):
        return
    for param in getattr(command, "params", []):
        _coerce_directly(param)
    help_option = getattr(command, "get_help_option", None)
    if help_option is not None:  # --help is made afresh for each context

        def get_help_option(ctx: Any, made: Any = help_option) -> Any:
            return _coerce_directly(made(ctx))

        command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        coerce_plain_values_directly(sub)


def _coerce_directly(param: Any) -> Any:
    kind = plain_values_kind(param)
    if kind is not None:
        param._runtime_param = PlainValues(kind)
    return param


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
    alone = command_alone(args[0]) if args else None
    command = typer.main.get_command(alone if alone is not None else load_app())
    name_arguments_by_their_metavar(command)
    coerce_plain_values_directly(command)
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
