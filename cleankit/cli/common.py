"""What every command shares: the two consoles, settings loading and common options.

Only light modules are imported here: each command imports the machinery it needs when it
runs, so ``cleankit --version`` and ``--help`` load no stage, no numpy and no OpenCC.

Output conventions (as ripgrep and ruff have them):

- colour (and every other terminal style: bold, strike-through) only when ``--color``
  says so: ``auto`` (the default) styles a stream that is a terminal unless ``NO_COLOR`` is
  set; ``always`` styles even a pipe (``| less -R``); ``never`` never does;
- a stream that is not a terminal (a pipe, a log file) is never wrapped at 80 columns: a
  line is as long as what it says.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional

import typer

from cleankit.core.errors import ConfigError, UsageError
from cleankit.core.settings import Settings, find_settings_file, load_settings, validate
from cleankit.io.files import display

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from cleankit.core.pipeline import Pipeline

COLOR_MODES = ("auto", "always", "never")
# Width given to a console that writes to a pipe or file: wide enough that nothing is wrapped.
UNWRAPPED_WIDTH = 100_000


class Consoles:
    """Standard output and standard error as rich consoles, styled as ``--color`` says.

    Built on first use after the options are parsed (``--color`` is an eager option), so
    every command module can ``from cleankit.cli.common import consoles`` at import time.
    """

    def __init__(self) -> None:
        self.color = "auto"
        self._made: dict[bool, Console] = {}

    def set_color(self, mode: str) -> None:
        self.color = mode
        self._made.clear()

    def styled(self, stream: Any) -> bool:
        if self.color == "never":
            return False
        if self.color == "always":
            return True
        return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"

    def plain(self, stderr: bool) -> bool:
        """Is the stream certainly no terminal to rich, and unstyled: not a terminal, no
        ``--color always``, and none of the variables that make rich treat a pipe as a
        terminal (``FORCE_COLOR``, ``TTY_COMPATIBLE``)? A printable line is then written as
        it is, which is what the rich console writes, without importing rich (~40 ms of
        CPU for one page through ``cleankit clean -``, which says a note)."""
        stream = sys.stderr if stderr else sys.stdout
        if self.color == "always" or "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
            return False
        return not stream.isatty()

    def say(self, line: str, stderr: bool = True) -> None:
        """Print one line of plain text (no markup, no style), as ``print`` on the console does."""
        if line.isprintable() and self.plain(stderr):
            (sys.stderr if stderr else sys.stdout).write(line + "\n")
        else:
            (self.err if stderr else self.out).print(line)

    def _make(self, stderr: bool) -> Console:
        from rich.console import Console

        stream = sys.stderr if stderr else sys.stdout
        terminal = stream.isatty()
        styled = self.styled(stream)
        # Markup and emoji off: file names and scraped text are printed, and "[red]" or
        # ":smile:" in a name is data, not a style.
        return Console(
            stderr=stderr,
            highlight=False,
            markup=False,
            emoji=False,
            soft_wrap=not terminal,
            color_system=("standard" if not terminal else "auto") if styled else None,
            force_terminal=styled if self.color == "always" else None,
            width=None if terminal else UNWRAPPED_WIDTH,
        )

    @property
    def out(self) -> Console:
        if False not in self._made:
            self._made[False] = self._make(stderr=False)
        return self._made[False]

    @property
    def err(self) -> Console:
        if True not in self._made:
            self._made[True] = self._make(stderr=True)
        return self._made[True]


consoles = Consoles()


def _set_color(value: str) -> str:
    if value not in COLOR_MODES:
        raise typer.BadParameter(f"{value!r}: choose one of {', '.join(COLOR_MODES)}")
    consoles.set_color(value)
    return value


ColorOption = Annotated[
    str,
    typer.Option(
        "--color",
        metavar="WHEN",
        callback=_set_color,
        is_eager=True,
        help="Colour and styles: auto (on a terminal, unless NO_COLOR is set), always, never.",
    ),
]
RulesOption = Annotated[
    Optional[list[Path]],
    typer.Option("--rules", metavar="DIR", help="Folder of extra boilerplate rule packs (*.yaml); repeatable."),
]
ConfigOption = Annotated[
    Optional[Path],
    typer.Option(
        "--config",
        metavar="FILE",
        help="Settings file (default: cleankit.toml, or [tool.cleankit] in pyproject.toml, "
        "in this folder or the nearest parent that has one).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON, for machines.")]
OutdirArgument = Annotated[
    Path, typer.Argument(metavar="OUTDIR", help="Output folder of a clean run.", file_okay=False)
]


def usage_error(message: str) -> NoReturn:
    """Stop: the command as given cannot run (one line on standard error, exit code 2)."""
    raise UsageError(message)


def warn(message: str) -> None:
    if consoles.plain(stderr=True):
        consoles.say(f"warning: {message}")
        return
    from rich.text import Text

    consoles.err.print(Text.assemble(("warning", "yellow"), f": {message}"))


def note(message: str) -> None:
    consoles.say(f"note: {message}")


def failure_line(source: str, error: str) -> Text:
    from rich.text import Text

    return Text.assemble(("failed", "red"), f" {display(source)}: {display(error)}")


def settings_file(config: Path | None) -> Path | None:
    """The settings file a command reads: ``--config``, else the one found upward."""
    return config if config is not None else find_settings_file(Path.cwd())


def load_cli_settings(config: Path | None, **overrides: Any) -> Settings:
    """Defaults, the settings file, then flags; every mistake a :class:`ConfigError`."""
    settings = load_settings(settings_file(config)).updated(**overrides)
    validate(settings, "command line")
    return settings


def with_rule_packs(settings: Settings, folders: list[Path] | None) -> Settings:
    """Add --rules folders to the boilerplate stage's packs."""
    if not folders:
        return settings
    options = {name: dict(values) for name, values in settings.stage_options.items()}
    boilerplate = options.setdefault("boilerplate", {})
    boilerplate["rules"] = [*boilerplate.get("rules", []), *(str(folder) for folder in folders)]
    return settings.updated(stage_options=options)


def build_pipeline(settings: Settings, origin: Path | None = None) -> Pipeline:
    """The run's pipeline, built once (rule packs loaded and their examples run); a stage
    refusing its options is a :class:`ConfigError` (one line, exit code 2) that names the
    settings file ``origin`` the options came from."""
    from cleankit.core.pipeline import Pipeline

    try:
        return Pipeline.from_settings(settings)
    except ConfigError as exc:
        if origin is None:
            raise
        raise type(exc)(f"{display(str(origin))}: {exc}") from exc
