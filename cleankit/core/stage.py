"""What a stage is, how stages register themselves, and the one helper most rule-based
stages share.

A stage is an object with a ``name`` and ``run(document) -> document`` that changes the
text only through :meth:`Document.apply`, so every change is logged and undoable. A stage
module registers its class with :func:`register_stage`, giving its name and its default
position (``order``); the default pipeline is every registered stage with ``default=True``
in ``order``. Adding a stage is adding one module under :mod:`cleankit.stages`: the
registry imports every module of that package the first time it is asked for.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from cleankit.core.document import Document, Edit, EditRun

if TYPE_CHECKING:
    from cleankit.core.corpus_pass import CorpusPass
    from cleankit.core.settings import Settings


@runtime_checkable
class Stage(Protocol):
    """A pipeline step: ``run`` changes ``document.text`` only through ``document.apply``."""

    name: str

    def run(self, document: Document) -> Document: ...


@runtime_checkable
class NeedsCorpus(Protocol):
    """A stage that learns from the whole corpus before documents are cleaned (site
    furniture): the runner asks it for a :class:`CorpusPass` and runs that pass first."""

    def corpus_pass(self, settings: Settings) -> CorpusPass | None: ...


@runtime_checkable
class Warms(Protocol):
    """A stage that loads tables on first use (a language model, OpenCC converters, compiled
    rule patterns): ``warm`` loads them now. The parent of a run with several workers calls it
    before forking them, so each worker inherits the tables instead of loading its own copy
    (:mod:`cleankit.run.warm`); it must not change what ``run`` decides."""

    def warm(self) -> None: ...


@dataclass(frozen=True)
class StageInfo:
    name: str
    factory: Callable[..., Stage]
    order: int
    default: bool
    summary: str


_REGISTRY: dict[str, StageInfo] = {}
# Names a stage had in earlier versions, accepted in settings (``skip``, ``[stage.NAME]``).
STAGE_ALIASES: dict[str, str] = {}

S = TypeVar("S")


def register_stage(
    name: str, *, order: int, default: bool = True, aliases: tuple[str, ...] = ()
) -> Callable[[type[S]], type[S]]:
    """Class decorator: make a stage known under ``name`` at position ``order``."""

    def decorate(cls: type[S]) -> type[S]:
        if name in _REGISTRY and _REGISTRY[name].factory is not cls:
            raise RuntimeError(f"two stages registered as {name!r}")
        doc = (cls.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = StageInfo(name, cls, order, default, doc[0] if doc else "")  # type: ignore[arg-type]
        for alias in aliases:
            STAGE_ALIASES[alias] = name
        return cls

    return decorate


_loaded = False


def stage_registry() -> dict[str, StageInfo]:
    """Every registered stage, in default order. The built-in stages (every module of
    :mod:`cleankit.stages`) are imported, and so registered, on first use."""
    global _loaded
    if not _loaded:
        import pkgutil
        from importlib import import_module

        import cleankit.stages

        for module in pkgutil.iter_modules(cleankit.stages.__path__):
            import_module(f"cleankit.stages.{module.name}")
        _loaded = True
    return dict(sorted(_REGISTRY.items(), key=lambda item: item[1].order))


def default_stage_names() -> list[str]:
    return [name for name, info in stage_registry().items() if info.default]


def canonical_stage_name(name: str) -> str:
    return STAGE_ALIASES.get(name, name)


def regex_edits(
    text: str,
    pattern: re.Pattern[str],
    rule: str,
    replacement: str | Callable[[re.Match[str]], str],
    reason: str = "",
) -> list[Edit]:
    """One edit per match whose replacement differs from the match, in text order."""
    if isinstance(replacement, str):
        # The common case (hygiene's passes: thousands of matches a page), kept to the
        # least work per match: one list built in C's loop, no generator to resume.
        return [
            Edit("", rule, match.start(), match.end(), old, replacement, reason)
            for match in pattern.finditer(text)
            if (old := match.group()) != replacement
        ]
    edits = []
    for match in pattern.finditer(text):
        old = match.group()
        new = replacement(match)
        if new != old:
            edits.append(Edit("", rule, match.start(), match.end(), old, new, reason))
    return edits


# Each pattern apply_regex splits with: itself inside one capturing group (None: it cannot be).
_SPLITTERS: dict[re.Pattern[str], re.Pattern[str] | None] = {}


def _splitter(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    try:
        return _SPLITTERS[pattern]
    except KeyError:
        pass
    # A pattern with groups of its own would split off their text too; in verbose mode a
    # comment on its last line would swallow the closing parenthesis.
    splitter = None
    if not pattern.groups and not pattern.flags & re.VERBOSE:
        splitter = re.compile(f"({pattern.pattern})", pattern.flags)
    _SPLITTERS[pattern] = splitter
    return splitter


def apply_regex(
    document: Document, stage: str, pattern: re.Pattern[str], rule: str, replacement: str, reason: str
) -> int:
    """``document.apply(stage, regex_edits(document.text, pattern, rule, replacement, reason))``,
    the same step, built and applied as one :class:`EditRun`: ``split`` on the pattern in a
    capturing group hands over the matches and the text between them in one C loop, from
    which the run's columns and the new text come without a Python step per match.

    When a match is empty or already ``replacement`` (not an edit, which a run cannot leave
    out), or the pattern cannot be split on, the edits are built one by one as before.
    Returns the number of edits applied.
    """
    splitter = _splitter(pattern)
    if splitter is not None:
        parts = splitter.split(document.text)
        if len(parts) == 1:
            return 0
        made = EditRun.from_split(rule, replacement, reason, parts)
        if made is not None:
            return document.apply_parts(stage, [made[0]], made[1])
    return document.apply(stage, regex_edits(document.text, pattern, rule, replacement, reason))


def stage_option_defaults(name: str) -> dict[str, Any]:
    """The options a stage takes (``[stage.NAME]``) with their defaults, for a stage that is
    a dataclass; ``name`` itself and fields set after construction are not options."""
    info = stage_registry().get(name)
    factory: Any = info.factory if info else None
    if factory is None or not dataclasses.is_dataclass(factory):
        return {}
    defaults: dict[str, Any] = {}
    for item in dataclasses.fields(factory):
        if not item.init or item.name == "name" or item.name.startswith("_"):
            continue
        if item.default is not dataclasses.MISSING:
            defaults[item.name] = item.default
        elif item.default_factory is not dataclasses.MISSING:
            defaults[item.name] = item.default_factory()
    return defaults


def check_stage_options(name: str, options: dict[str, Any]) -> None:
    """Refuse an option the stage does not take, or a value of another type than its
    default, with one line naming the table, the option and what it takes."""
    from cleankit.core.errors import SettingsError

    defaults = stage_option_defaults(name)
    if not defaults:
        return
    for key, value in options.items():
        if key not in defaults:
            raise SettingsError(f"[stage.{name}] unknown option {key!r} (known: {', '.join(defaults)})")
        default = defaults[key]
        if default is None:
            continue
        expected: tuple[type[Any], ...] = (int, float) if isinstance(default, float) else (type(default),)
        if isinstance(value, bool) != isinstance(default, bool) or not isinstance(value, expected):
            raise SettingsError(f"[stage.{name}] {key} must be {type(default).__name__}, not {type(value).__name__}")


def build_stage(name: str, options: dict[str, Any]) -> Stage:
    """The stage ``name`` built with ``options``; a :class:`SettingsError` (one line naming
    ``[stage.NAME]``) when it refuses them."""
    from cleankit.core.errors import ConfigError, SettingsError

    info = stage_registry().get(name)
    if info is None:
        raise SettingsError(f"unknown stage {name!r} (known: {', '.join(stage_registry())})")
    check_stage_options(name, options)
    try:
        return info.factory(**options)
    except ConfigError as exc:
        message = str(exc)
        raise type(exc)(message if message.startswith("[stage.") else f"[stage.{name}] {message}") from exc
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"[stage.{name}] {exc}") from exc
