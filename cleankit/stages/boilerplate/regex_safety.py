"""Pattern safety: what a pattern may contain, and searches bounded in time.

Three shapes make a backtracking engine (``re``, ``regex``) take exponential or high
polynomial time on a line that almost matches, and are refused:

- *nested quantifiers*: a variable repeat inside a repeat, ``(a+)+``;
- *overlapping alternatives inside a repeat*: two alternatives that can start with the same
  character, or one that can match nothing, ``(\\w|\\d)+``, ``(a|ab)*``: each iteration may
  be taken by either, so a failing line is tried every way;
- *adjacent repeats that can match the same text*: two variable repeats (more than
  :data:`LONG_SPAN` apart in their bounds) with nothing mandatory between them whose
  characters overlap, ``\\d*\\d*``, ``\\s*:?\\s*``, ``\\s*.{1,40}``: a run of such characters
  can be split between them in every way, once per start position; k of them cost n^k. They
  are allowed at the end of a pattern, where nothing after them can fail and make the engine
  try another split.

Rule packs are also refused backreferences and inline flags other than ``(?i)``
(:func:`pattern_problems`); the package's own patterns are checked for the three shapes only
(:func:`backtracking_problems`, run by the test suite over every compiled pattern).

Patterns are read with the standard library's parser (``re._parser``), the only complete
reader of Python's pattern syntax, on a copy in which each alternative after a ``|`` starts
with an empty lookahead ``(?=)``: the parser otherwise folds an alternation of single
characters into a character class (``(\\w|\\d)`` reads as ``[\\w\\d]``) and factors common
prefixes out of alternatives, which hides exactly what the ``regex`` engine, which runs the
packs and keeps alternations as written, backtracks over.

Every search of a user pack also runs with a time limit (the ``regex`` package's
``timeout``); a search over it counts as no match for that line and raises
:class:`SearchTimeout` to the caller, which counts it per rule (the boilerplate stage flags
it in provenance and stops a rule after a few in one document).
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import regex

from cleankit.core.errors import RuleError

MAX_PATTERN_CHARS = 2000
# Seconds one search of a user pattern may take before it is abandoned.
SEARCH_TIMEOUT = 0.05
# A repeat whose bounds differ by more than this is "long": two such repeats side by side
# can split a run between them in (span+1)^2 ways. Short ones ({0,2}, ?) cost a constant.
LONG_SPAN = 8

# The flags re and regex share (same values); regex's own (VERSION0, ...) are not re's.
RE_FLAGS = re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE | re.ASCII | re.UNICODE

REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None))
MAXREPEAT = sre_constants.MAXREPEAT
ATOMIC_GROUP = getattr(sre_constants, "ATOMIC_GROUP", None)
# The empty lookahead put at the start of every alternative (see the module docstring).
_KEEP_ALTERNATIVE = "(?=)"
_KEEP_MARK: tuple[Any, Any] = (sre_constants.ASSERT, (1, []))

# Characters tried when deciding whether two character sets overlap, on top of every
# literal and range end either set names (which makes literal and range overlaps exact):
# all of ASCII, and the other kinds of characters a Chinese web page holds.
_PROBES = "".join(chr(c) for c in range(128)) + (
    "\u00a0\u00ad\u00e9\u00df\u0394\u044f\u2003\u200b\u2028\u3000"
    "中国一龥〇々〔〕【】「」『』《》（）：，。、；！？·—…“”‘’"
    "０９ＡＺａｚ＃｜＞\ufeff\ufffd\U00020000"
)


class SearchTimeout(Exception):
    """A search of a user pattern ran over :data:`SEARCH_TIMEOUT`."""


# --- reading a pattern as written ------------------------------------------------------------


def _keep_alternatives(pattern: str) -> str:
    """``pattern`` with :data:`_KEEP_ALTERNATIVE` after every alternation bar (not inside a
    character class, an escape or a comment group), so the parser keeps each alternation."""
    out: list[str] = []
    index, size = 0, len(pattern)
    in_class = False
    while index < size:
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            out.append(char)
            index += 1
            # "]" first in a class (after an optional "^") is a literal, not its end.
            if pattern.startswith("^", index):
                out.append("^")
                index += 1
            if pattern.startswith("]", index):
                out.append("]")
                index += 1
            continue
        elif pattern.startswith("(?#", index):
            end = pattern.find(")", index)
            end = size if end < 0 else end + 1
            out.append(pattern[index:end])
            index = end
            continue
        elif char == "|":
            out.append("|" + _KEEP_ALTERNATIVE)
            index += 1
            continue
        out.append(char)
        index += 1
    return "".join(out)


def parse_as_written(pattern: str, flags: int = 0) -> Any:
    """The parse tree of ``pattern`` with its alternations kept (raises ``re.error``)."""
    sre_parse.parse(pattern, flags)  # errors name positions in the pattern as written
    return sre_parse.parse(_keep_alternatives(pattern), flags)


# --- character sets --------------------------------------------------------------------------


def _category(name: Any) -> Callable[[str], bool]:
    tests: dict[Any, Callable[[str], bool]] = {
        sre_constants.CATEGORY_DIGIT: str.isdecimal,
        sre_constants.CATEGORY_NOT_DIGIT: lambda c: not c.isdecimal(),
        sre_constants.CATEGORY_SPACE: str.isspace,
        sre_constants.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
        sre_constants.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
        sre_constants.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
    }
    return tests.get(name, lambda c: True)


class CharSet:
    """The characters one or more single-character items can match (a union), with the
    characters that make an overlap test exact for literals and ranges."""

    def __init__(self, tests: Sequence[Callable[[str], bool]] = (), named: str = "") -> None:
        self.tests = list(tests)
        self.named = named

    @classmethod
    def of(cls, op: Any, arg: Any, flags: int) -> CharSet:
        ignore_case = bool(flags & re.IGNORECASE)
        if op is sre_constants.ANY:
            dotall = bool(flags & re.DOTALL)
            return cls([(lambda c: True) if dotall else (lambda c: c != "\n")])
        if op is sre_constants.LITERAL:
            return cls([_literal(chr(arg), ignore_case)], chr(arg))
        if op is sre_constants.NOT_LITERAL:
            inner = _literal(chr(arg), ignore_case)
            return cls([lambda c: not inner(c)], chr(arg))
        if op is sre_constants.IN:
            members: list[Callable[[str], bool]] = []
            named: list[str] = []
            negate = False
            for kind, value in arg:
                if kind is sre_constants.NEGATE:
                    negate = True
                elif kind is sre_constants.LITERAL:
                    members.append(_literal(chr(value), ignore_case))
                    named.append(chr(value))
                elif kind is sre_constants.RANGE:
                    low, high = value
                    members.append(_range(low, high, ignore_case))
                    named += [chr(low), chr(high)]
                elif kind is sre_constants.CATEGORY:
                    members.append(_category(value))
                else:  # an item this reader does not know: assume it matches anything
                    members.append(lambda c: True)

            def member(c: str, members: list[Callable[[str], bool]] = members, negate: bool = negate) -> bool:
                return any(test(c) for test in members) != negate

            return cls([member], "".join(named))
        raise ValueError(op)

    def __or__(self, other: CharSet) -> CharSet:
        return CharSet(self.tests + other.tests, self.named + other.named)

    def __bool__(self) -> bool:
        return bool(self.tests)

    def matches(self, char: str) -> bool:
        return any(test(char) for test in self.tests)

    def overlaps(self, other: CharSet) -> bool:
        if not self.tests or not other.tests:
            return False
        return any(self.matches(c) and other.matches(c) for c in set(_PROBES + self.named + other.named))


def _literal(char: str, ignore_case: bool) -> Callable[[str], bool]:
    if not ignore_case:
        return lambda c: c == char
    folded = {char, char.lower(), char.upper()}
    return lambda c: c in folded or c.lower() in folded


def _range(low: int, high: int, ignore_case: bool) -> Callable[[str], bool]:
    if not ignore_case:
        return lambda c: low <= ord(c) <= high
    return lambda c: any(low <= ord(x) <= high for x in (c, c.lower(), c.upper()) if len(x) == 1)


SINGLE = (sre_constants.ANY, sre_constants.LITERAL, sre_constants.NOT_LITERAL, sre_constants.IN)
ZERO_WIDTH = (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT)


def _flatten(items: Iterable[Any]) -> list[tuple[Any, Any]]:
    """Items with group bodies spliced in: a group is transparent for what is next to what."""
    flat: list[tuple[Any, Any]] = []
    for op, arg in items:
        if op is sre_constants.SUBPATTERN:
            flat.extend(_flatten(arg[-1]))
        else:
            flat.append((op, arg))
    return flat


def _nullable(items: Iterable[Any]) -> bool:
    """Whether the items can match the empty string (ignoring assertions, which may fail)."""
    for op, arg in items:
        if op in SINGLE:
            return False
        if op in REPEATS and op is not None:
            if arg[0] > 0 and not _nullable(arg[2]):
                return False
        elif op is sre_constants.BRANCH:
            if not any(_nullable(branch) for branch in arg[1]):
                return False
        elif op is sre_constants.SUBPATTERN:
            if not _nullable(arg[-1]):
                return False
        elif op is ATOMIC_GROUP:
            if not _nullable(arg):
                return False
        elif op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            return False
    return True


def _chars(items: Iterable[Any], flags: int) -> CharSet:
    """Every character the items may consume (lookarounds consume none)."""
    found = CharSet()
    for op, arg in items:
        if op in SINGLE:
            found = found | CharSet.of(op, arg, flags)
        elif op in REPEATS and op is not None:
            found = found | _chars(arg[2], flags)
        elif op is sre_constants.BRANCH:
            for branch in arg[1]:
                found = found | _chars(branch, flags)
        elif op is sre_constants.SUBPATTERN:
            found = found | _chars(arg[-1], flags)
        elif op is ATOMIC_GROUP:
            found = found | _chars(arg, flags)
        elif op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            found = found | CharSet([lambda c: True])
    return found


def _first(items: Iterable[Any], flags: int) -> CharSet:
    """The characters a match of the items can start with."""
    found = CharSet()
    for op, arg in items:
        if op in ZERO_WIDTH:
            continue
        if op in SINGLE:
            return found | CharSet.of(op, arg, flags)
        if op in REPEATS and op is not None:
            if arg[1] == 0:
                continue
            found = found | _first(arg[2], flags)
            if arg[0] > 0 and not _nullable(arg[2]):
                return found
        elif op is sre_constants.BRANCH:
            for branch in arg[1]:
                found = found | _first(branch, flags)
            if not any(_nullable(branch) for branch in arg[1]):
                return found
        elif op is sre_constants.SUBPATTERN:
            found = found | _first(arg[-1], flags)
            if not _nullable(arg[-1]):
                return found
        elif op is ATOMIC_GROUP:
            found = found | _first(arg, flags)
            if not _nullable(arg):
                return found
        else:
            return found | CharSet([lambda c: True])
    return found


def _overlapping(branches: Sequence[Any], flags: int) -> bool:
    """Whether two alternatives can start the same way (or one can match nothing)."""
    if any(_nullable([item for item in branch if item != _KEEP_MARK]) for branch in branches):
        return True
    firsts = [_first(branch, flags) for branch in branches]
    return any(firsts[i].overlaps(firsts[j]) for i in range(len(firsts)) for j in range(i + 1, len(firsts)))


def _is_long(low: int, high: int) -> bool:
    return high == MAXREPEAT or high - low > LONG_SPAN


def _cannot_fail_at_end(item: tuple[Any, Any], previous: tuple[Any, Any] | None, flags: int) -> bool:
    """``$`` right after a greedy unbounded ``.`` repeat: that repeat stops only at a line end
    (or the text's end), where ``$`` holds, so the anchor never sends the engine back."""
    op, arg = item
    if op is not sre_constants.AT or arg not in (sre_constants.AT_END, sre_constants.AT_END_LINE):
        return False
    if previous is None or previous[0] is not sre_constants.MAX_REPEAT or flags & re.DOTALL:
        return False
    _, high, body = previous[1]
    return high == MAXREPEAT and list(body) == [(sre_constants.ANY, None)]


def _tail_can_fail(rest: Sequence[tuple[Any, Any]], previous: tuple[Any, Any] | None, flags: int) -> bool:
    for item in rest:
        if item == _KEEP_MARK:
            continue
        if item[0] in ZERO_WIDTH:
            if not _cannot_fail_at_end(item, previous, flags):
                return True
        elif not _nullable([item]):
            return True
        previous = item
    return False


ADJACENT = (
    "adjacent repeats that can match the same text, e.g. \\d*\\d* or \\s*:?\\s* "
    "(join them, or put a required character between them)"
)


def _edge_repeats(items: Sequence[Any], flags: int, from_end: bool) -> list[CharSet]:
    """The characters of the long repeats a match of ``items`` can start with (or end with,
    ``from_end``): what sits next to the items' neighbours."""
    found: list[CharSet] = []
    ordered = list(_flatten(items))
    for op, arg in reversed(ordered) if from_end else ordered:
        if op in ZERO_WIDTH:
            continue
        if op in REPEATS and op is not None:
            low, high, body = arg
            if _is_long(low, high):
                found.append(_chars(body, flags))
            else:
                found += _edge_repeats(body, flags, from_end)
            if low > 0 and not _nullable(body):
                return found
        elif op is sre_constants.BRANCH:
            for branch in arg[1]:
                found += _edge_repeats(branch, flags, from_end)
            if not _nullable([(op, arg)]):
                return found
        elif op is ATOMIC_GROUP:
            if not _nullable(arg):
                return found
        else:
            return found
    return found


NESTED = "nested quantifiers (a repeat inside a repeat), e.g. (a+)+"


def _inner_repeats(items: Iterable[Any]) -> list[tuple[Any, Any]]:
    """The variable repeats directly inside ``items`` (through groups and alternatives, not
    through other repeats: those are checked against their own body)."""
    found: list[tuple[Any, Any]] = []
    for op, arg in _flatten(items):
        if op in REPEATS and op is not None:
            if arg[0] != arg[1]:
                found.append((op, arg))
            else:
                found += _inner_repeats(arg[2])
        elif op is sre_constants.BRANCH:
            for branch in arg[1]:
                found += _inner_repeats(branch)
        elif op is ATOMIC_GROUP:
            found += _inner_repeats(arg)
    return found


def _nested_unguarded(body: Sequence[Any], flags: int) -> bool:
    """Whether a variable repeat inside a repeated ``body`` can share its characters with the
    same repeat in the next iteration: unless every iteration must take a character that
    repeat cannot (``(?:\\s*x)+`` is linear, ``(a+)+`` and ``(\\w+\\s?)+`` are not)."""
    inner = _inner_repeats(body)
    if not inner:
        return False
    # Each iteration must start every mandatory item with one of its first characters.
    fences = [_first([item], flags) for item in _flatten(body) if item[0] not in ZERO_WIDTH and not _nullable([item])]
    for _, arg in inner:
        chars = _chars(arg[2], flags)
        if not any(not fence.overlaps(chars) for fence in fences):
            return True
    return False


def _check(items: Iterable[Any], flags: int, in_repeat: bool, tail_can_fail: bool, problems: set[str]) -> None:
    flat = _flatten(items)
    # Long repeats that can end where the current item starts, with nothing mandatory
    # between: what a repeat at the current item would sit next to.
    beside: list[CharSet] = []
    for index, (op, arg) in enumerate(flat):
        rest = flat[index + 1 :]
        after_can_fail = tail_can_fail or _tail_can_fail(rest, (op, arg), flags)
        if op in REPEATS and op is not None:
            low, high, body = arg
            if high > 1 and _nested_unguarded(body, flags):
                problems.add(NESTED)
            # Inside a repeat, the next iteration follows: it can always fail.
            _check(body, flags, in_repeat or high > 1, True, problems)
            if op is not sre_constants.MAX_REPEAT and op is not sre_constants.MIN_REPEAT:
                beside = []  # possessive: the engine never gives back what it took
                continue
            mandatory = low > 0 and not _nullable(body)
            if _is_long(low, high):
                chars = _chars(body, flags)
                start = chars if len(_flatten(body)) == 1 else _first(body, flags)
                if after_can_fail and any(start.overlaps(other) for other in beside):
                    problems.add(ADJACENT)
                # A character it must take separates it from the repeats it cannot share one with.
                beside = [other for other in beside if other.overlaps(chars)] if mandatory else beside
                beside.append(chars)
                continue
            leading = _edge_repeats(body, flags, from_end=False)
            if after_can_fail and any(a.overlaps(b) for a in leading for b in beside):
                problems.add(ADJACENT)
            beside = (beside if not mandatory else []) + _edge_repeats(body, flags, from_end=True)
        elif op is sre_constants.BRANCH:
            branches = arg[1]
            if in_repeat and _overlapping(branches, flags):
                problems.add("alternatives inside a repeat that can match the same text, e.g. (\\w|\\d)+ or (a|ab)*")
            for branch in branches:
                _check(branch, flags, in_repeat, after_can_fail, problems)
                leading = _edge_repeats(branch, flags, from_end=False)
                if after_can_fail and any(a.overlaps(b) for a in leading for b in beside):
                    problems.add(ADJACENT)
            trailing = [chars for branch in branches for chars in _edge_repeats(branch, flags, from_end=True)]
            beside = (beside if _nullable([(op, arg)]) else []) + trailing
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            _check(arg[1], flags, in_repeat, True, problems)
        elif op is ATOMIC_GROUP:
            # The engine never backtracks into an atomic group once it has matched.
            _check(arg, flags, in_repeat, False, problems)
            if not _nullable(arg):
                beside = []
        elif op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            if op is sre_constants.GROUPREF_EXISTS:
                for branch in arg[1:]:
                    if branch is not None:
                        _check(branch, flags, in_repeat, after_can_fail, problems)
            beside = []
        elif op in SINGLE:
            beside = []


def _has_backreference(items: Iterable[Any]) -> bool:
    for op, arg in items:
        if op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            return True
        if op in REPEATS and op is not None and _has_backreference(arg[2]):
            return True
        if op is sre_constants.BRANCH and any(_has_backreference(branch) for branch in arg[1]):
            return True
        if op is sre_constants.SUBPATTERN and _has_backreference(arg[-1]):
            return True
        if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT) and _has_backreference(arg[1]):
            return True
        if op is ATOMIC_GROUP and _has_backreference(arg):
            return True
    return False


def backtracking_problems(pattern: str | bytes, flags: int = 0) -> list[str]:
    """The shapes of ``pattern`` that backtrack catastrophically (empty list: none).
    ``flags`` are those it is compiled with (``re.IGNORECASE``, ``re.DOTALL`` matter); a
    bytes pattern is read as its Latin-1 text, with ASCII classes."""
    flags &= RE_FLAGS
    if isinstance(pattern, bytes):
        pattern, flags = pattern.decode("latin-1"), (flags & ~re.UNICODE) | re.ASCII
    try:
        parsed = parse_as_written(pattern, flags)
    except re.error as exc:
        return [f"not a valid regular expression: {exc}"]
    problems: set[str] = set()
    _check(parsed, parsed.state.flags | flags, False, False, problems)
    return sorted(problems)


def pattern_problems(pattern: str) -> list[str]:
    """Why ``pattern`` may not be used in a rule pack (empty list: it may)."""
    if not pattern:
        return ["the pattern is empty"]
    if len(pattern) > MAX_PATTERN_CHARS:
        return [f"the pattern is longer than {MAX_PATTERN_CHARS} characters"]
    try:
        parsed = parse_as_written(pattern)
    except re.error as exc:
        return [f"not a valid regular expression: {exc}"]
    if parsed.state.flags & ~(re.UNICODE | re.IGNORECASE) & (re.MULTILINE | re.DOTALL | re.VERBOSE):
        return ["inline flags other than (?i) are not allowed"]
    problems = set(backtracking_problems(pattern, re.IGNORECASE))
    if _has_backreference(parsed):
        problems.add("backreferences")
    return sorted(problems)


def compile_pattern(pattern: str, where: str) -> regex.Pattern[str]:
    problems = pattern_problems(pattern)
    if problems:
        raise RuleError(f"{where}: pattern {pattern!r} refused: {'; '.join(problems)}")
    return regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)


def safe_search(pattern: regex.Pattern[str], text: str, limited: bool = True) -> regex.Match[str] | None:
    """``pattern.search(text)``, within :data:`SEARCH_TIMEOUT` when ``limited``; a search that
    runs over raises :class:`SearchTimeout` (the caller counts it against the rule).

    The time limit costs about 6 µs per call (more than most searches), so the shipped packs,
    reviewed and tested with the code, run without it; user packs always run with it."""
    if not limited:
        return pattern.search(text)
    try:
        return pattern.search(text, timeout=SEARCH_TIMEOUT)
    except TimeoutError as exc:
        raise SearchTimeout(pattern.pattern) from exc
