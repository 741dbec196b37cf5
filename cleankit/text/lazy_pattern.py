"""Module-level regular expressions compiled when first used, not when their module loads.

Compiling a class of large ranges (``[\\u3400-\\u9fff...]``) costs the standard ``re`` module
several milliseconds; the patterns of the damage repairs and of rarer page kinds (HTML tags,
list items) cost ~40 ms of CPU at every start (about 1x a bare ``python -c pass``), for a
page that never fires them. :func:`lazy_compile` gives an object that compiles its pattern
on the first attribute asked of it (``search``, ``finditer``, ``pattern`` ...) and hands every
attribute to the compiled pattern from then on. It stands for a pattern where its methods
are called; the ``re`` module's own functions (``re.sub(PATTERN, ...)``) want the real one
(:func:`compiled`). ``tests/test_regex_safety.py`` finds these patterns like compiled ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast


class LazyPattern:
    """``compile(pattern, flags)`` on first use: ``re.compile`` for module-level patterns,
    ``regex.compile`` for rule packs (:mod:`cleankit.stages.boilerplate.pack_cache`: compiling
    is most of what loading the cached default packs costs, and a page uses about half of their
    patterns)."""

    __slots__ = ("_compile", "_compiled", "_flags", "pattern")

    def __init__(self, pattern: str, flags: int, compile: Callable[[str, int], Any] = re.compile) -> None:
        self.pattern = pattern
        self._flags = flags
        self._compile = compile
        self._compiled: Any = None

    def compiled(self) -> Any:
        found = self._compiled
        if found is None:
            found = self._compiled = self._compile(self.pattern, self._flags)
        return found

    # The two calls of every page, without the detour through __getattr__.
    def search(self, *args: Any, **kwargs: Any) -> Any:
        return self.compiled().search(*args, **kwargs)

    def finditer(self, *args: Any, **kwargs: Any) -> Any:
        return self.compiled().finditer(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.compiled(), name)

    def __reduce__(self) -> tuple[Any, ...]:
        return (LazyPattern, (self.pattern, self._flags, self._compile))

    def __repr__(self) -> str:
        return f"lazy_compile({self.pattern!r}, {self._flags!r})"


def lazy_compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A pattern compiled when first used (typed as the pattern it stands for)."""
    return cast("re.Pattern[str]", LazyPattern(pattern, flags))


def compiled(pattern: Any) -> Any:
    """The compiled pattern behind ``pattern`` (itself if it is not lazy)."""
    return pattern.compiled() if isinstance(pattern, LazyPattern) else pattern
