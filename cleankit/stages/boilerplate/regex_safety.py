"""Pattern safety: what a rule pattern may contain, and searches bounded in time.

Nested quantifiers (``(a+)+``), repeated alternations (``(a|ab)*``) and backreferences are
refused when a pack is loaded: they are what makes a regular expression backtrack
catastrophically. Every search of a user pack also runs with a time limit (the ``regex``
package's ``timeout``), so a pattern that slips through costs at most that limit per line.
The pattern is inspected with the standard library's own parser (``re._parser``), the
only complete reader of Python's pattern syntax.
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
from collections.abc import Iterable
from typing import Any

import regex

from cleankit.core.errors import RuleError

MAX_PATTERN_CHARS = 2000
# Seconds one search may take before it is abandoned (counts as no match, and is reported).
SEARCH_TIMEOUT = 0.05

REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None))


def _walk(items: Iterable[Any], inside_repeat: bool, problems: list[str]) -> None:
    for op, arg in items:
        if op in REPEATS and op is not None:
            low, high, body = arg
            variable = high != low
            if inside_repeat and variable:
                problems.append("nested quantifiers (a repeat inside a repeat), e.g. (a+)+")
            _walk(body, inside_repeat or high > 1, problems)
        elif op is sre_constants.BRANCH:
            if inside_repeat:
                problems.append("an alternation inside a repeat, e.g. (a|ab)*")
            for branch in arg[1]:
                _walk(branch, inside_repeat, problems)
        elif op is sre_constants.SUBPATTERN:
            _walk(arg[-1], inside_repeat, problems)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            _walk(arg[1], inside_repeat, problems)
        elif op is getattr(sre_constants, "ATOMIC_GROUP", None):
            _walk(arg, inside_repeat, problems)
        elif op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            problems.append("backreferences")


def pattern_problems(pattern: str) -> list[str]:
    """Why ``pattern`` may not be used (empty list: it may)."""
    if not pattern:
        return ["the pattern is empty"]
    if len(pattern) > MAX_PATTERN_CHARS:
        return [f"the pattern is longer than {MAX_PATTERN_CHARS} characters"]
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        return [f"not a valid regular expression: {exc}"]
    if parsed.state.flags & ~(re.UNICODE | re.IGNORECASE) & (re.MULTILINE | re.DOTALL | re.VERBOSE):
        return ["inline flags other than (?i) are not allowed"]
    problems: list[str] = []
    _walk(parsed, False, problems)
    return sorted(set(problems))


def compile_pattern(pattern: str, where: str) -> regex.Pattern[str]:
    problems = pattern_problems(pattern)
    if problems:
        raise RuleError(f"{where}: pattern {pattern!r} refused: {'; '.join(problems)}")
    return regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)


def safe_search(pattern: regex.Pattern[str], text: str, limited: bool = True) -> regex.Match[str] | None:
    """``pattern.search(text)``, within :data:`SEARCH_TIMEOUT` when ``limited``; a search that
    runs over counts as no match and raises nothing (counted in :data:`TIMEOUTS`).

    The time limit costs about 6 µs per call (more than most searches), so the shipped packs,
    reviewed and tested with the code, run without it; user packs always run with it."""
    if not limited:
        return pattern.search(text)
    try:
        return pattern.search(text, timeout=SEARCH_TIMEOUT)
    except TimeoutError:
        TIMEOUTS[pattern.pattern] = TIMEOUTS.get(pattern.pattern, 0) + 1
        return None


TIMEOUTS: dict[str, int] = {}
