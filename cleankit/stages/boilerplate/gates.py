"""Cheap gates in front of each rule search.

Most lines fire no rule, so each rule carries gates derived from its pattern — characters
every match contains, the characters a ``^X``/``X$`` match starts or ends with — that rule a
line out without a search; a pattern that can never match a line break is searched over
many lines at once (:func:`line_local`). The pattern is read with ``re._parser``, as in
:mod:`cleankit.stages.boilerplate.regex_safety`.
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
from collections.abc import Iterable
from typing import Any

from cleankit.stages.boilerplate.regex_safety import REPEATS

# match must contain one; a line that holds none of their (rarest) characters cannot match, and
# a set-disjointness test on the line's characters says so without running the search.


def _required_sets(items: Iterable[Any]) -> list[set[str]]:
    """Sets of strings such that every match of the sequence ``items`` contains a string of
    each set (all of them must be met)."""
    run: list[str] = []
    candidates: list[set[str]] = []
    for op, arg in items:
        if op is sre_constants.LITERAL:
            run.append(chr(arg))
            continue
        if run:
            candidates.append({"".join(run)})
            run = []
        found: set[str] | None = None
        if op is sre_constants.SUBPATTERN:
            found = _literal_sets(arg[-1])
        elif op is sre_constants.BRANCH:
            parts = [_literal_sets(branch) for branch in arg[1]]
            found = None if any(part is None for part in parts) else set().union(*parts)  # type: ignore[arg-type]
        elif op in REPEATS and op is not None and arg[0] >= 1:
            found = _literal_sets(arg[2])
        elif op is sre_constants.IN:
            chars = [chr(value) for kind, value in arg if kind is sre_constants.LITERAL]
            if len(chars) == len(arg) and 0 < len(chars) <= 12:
                found = set(chars)
        if found:
            candidates.append(found)
    if run:
        candidates.append({"".join(run)})
    return candidates


def _literal_sets(items: Iterable[Any]) -> set[str] | None:
    """One set of strings of which every match of ``items`` contains one (None: unknown)."""
    best: set[str] | None = None
    for found in _required_sets(items):
        if best is None or min(map(len, found)) > min(map(len, best)):
            best = found
    return best


def _char_rank(char: str) -> int:
    """How rare a character is in Chinese web text, roughly (higher: rarer, a better gate)."""
    if char.isdigit() or not char.isprintable() or char.isspace():
        return 0
    if char.isascii():
        return 2 if char.isalpha() else 1
    return 3


def _edge_chars(item: tuple[Any, Any]) -> frozenset[str] | None:
    op, arg = item
    if op is sre_constants.LITERAL:
        chars = {chr(arg)}
    elif op is sre_constants.IN and all(kind is sre_constants.LITERAL for kind, _ in arg):
        chars = {chr(value) for _, value in arg}
    else:
        return None
    return frozenset(chars | {c.upper() for c in chars} | {c.lower() for c in chars})


def edge_gates(pattern: str) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """For ``^X…`` and ``…X$`` patterns whose X is a literal or a set of literals: the
    characters a matching line must start (end) with (None: no such gate)."""
    try:
        items = list(sre_parse.parse(pattern))
    except re.error:
        return None, None
    first = last = None
    if len(items) >= 2 and items[0] == (sre_constants.AT, sre_constants.AT_BEGINNING):
        first = _edge_chars(items[1])
    if len(items) >= 2 and items[-1] == (sre_constants.AT, sre_constants.AT_END):
        last = _edge_chars(items[-2])
    return first, last


_CROSSES_LINES = {
    sre_constants.CATEGORY_SPACE,
    sre_constants.CATEGORY_NOT_WORD,
    sre_constants.CATEGORY_NOT_DIGIT,
    sre_constants.CATEGORY_LINEBREAK,
}


def _line_local(items: Iterable[Any]) -> bool:
    for op, arg in items:
        if op is sre_constants.LITERAL and arg == 10:
            return False
        if op is sre_constants.NOT_LITERAL and arg != 10:
            return False
        if op is sre_constants.AT and arg in (sre_constants.AT_BEGINNING_STRING, sre_constants.AT_END_STRING):
            return False
        if op is sre_constants.IN:
            negated = any(kind is sre_constants.NEGATE for kind, _ in arg)
            excludes_newline = any(kind is sre_constants.LITERAL and value == 10 for kind, value in arg)
            if negated and not excludes_newline:
                return False
            if not negated and any(kind is sre_constants.CATEGORY and value in _CROSSES_LINES for kind, value in arg):
                return False
            if not negated and any(kind is sre_constants.LITERAL and value == 10 for kind, value in arg):
                return False
            if not negated and any(kind is sre_constants.RANGE and value[0] <= 10 <= value[1] for kind, value in arg):
                return False
        elif op in REPEATS and op is not None:
            if not _line_local(arg[2]):
                return False
        elif op is sre_constants.BRANCH:
            if not all(_line_local(branch) for branch in arg[1]):
                return False
        elif op is sre_constants.SUBPATTERN:
            if not _line_local(arg[-1]):
                return False
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            if not _line_local(arg[1]):
                return False
        elif op not in (sre_constants.LITERAL, sre_constants.ANY, sre_constants.AT, sre_constants.NOT_LITERAL):
            return False  # anything unusual: assume it may cross a line break
    return True


def line_local(pattern: str) -> bool:
    """Can no match of ``pattern`` (without DOTALL) span a line break? Such a pattern may be
    searched over many lines joined by LF at once (with MULTILINE) and still give per-line
    answers."""
    try:
        return _line_local(sre_parse.parse(pattern))
    except re.error:
        return False


def gate_chars(pattern: str) -> tuple[frozenset[str], ...]:
    """Character sets such that every match of ``pattern`` holds a character of each (empty:
    no gate). The first set is the most selective guess (used to index rules)."""
    try:
        required = _required_sets(sre_parse.parse(pattern))
    except re.error:
        return ()
    gates: list[frozenset[str]] = []
    for literals in required:
        chars: set[str] = set()
        for literal in literals:
            rarest = max(literal, key=_char_rank)
            chars.update({rarest, rarest.lower(), rarest.upper()})
        if chars not in gates:
            gates.append(frozenset(chars))
    gates.sort(key=lambda chars: (-min(map(_char_rank, chars)), len(chars)))
    return tuple(gates)


# The characters outside ASCII that a case-insensitive search (``regex``, VERSION0) takes for
# an ASCII letter or digit: İ for i, ſ for s, the Kelvin sign for k. ``str.lower`` does not turn
# them into that letter, so a text holding one is always searched
# (``tests/test_stage_cpu11.py`` checks the list against every code point).
ASCII_LOOKALIKES = "\u0130\u017f\u212a"


def _caseless_or_ascii(char: str) -> bool:
    return char.isascii() or char.lower() == char.upper() == char.casefold() == char


def required_strings(pattern: str) -> tuple[str, ...]:
    """Strings, in lower case, of which every match of ``pattern`` holds one, read case-insensitively:
    a text whose lower case holds none of them cannot match (empty: no such set of strings of
    two or more characters, each ASCII or without case)."""
    try:
        found = _literal_sets(sre_parse.parse(pattern))
    except re.error:
        return ()
    if not found or min(map(len, found)) < 2 or not all(map(_caseless_or_ascii, "".join(found))):
        return ()
    return tuple(sorted({string.lower() for string in found}))


_STRING_SEARCHES: dict[tuple[str, ...], re.Pattern[str]] = {}


# The text last asked about and its lower case (None: it holds an ASCII lookalike): the
# rules of a zone ask in turn about the same body.
_last_lowered: tuple[str, str | None] = ("", "")


def may_hold_one(text: str, strings: tuple[str, ...]) -> bool:
    """Whether ``text`` may hold one of :func:`required_strings`' strings, case-insensitively
    (False only when it holds none). One search for all of them (a literal alternation scans
    at memory speed) of the text in lower case."""
    global _last_lowered
    if _last_lowered[0] is not text:
        lookalike = any(char in text for char in ASCII_LOOKALIKES)
        _last_lowered = (text, None if lookalike else text.lower())
    lowered = _last_lowered[1]
    if lowered is None:
        return True
    search = _STRING_SEARCHES.get(strings)
    if search is None:
        search = _STRING_SEARCHES[strings] = re.compile("|".join(map(re.escape, strings)))
    return search.search(lowered) is not None
