"""Rule packs: YAML data that say which lines of a page are site furniture and what they tell.

A pack is a YAML file (loaded with ``yaml.safe_load``: loading runs no code) holding a list of
rules. Each rule has an ``id``, a ``family``, a ``description``, a ``pattern`` (Python regular
expression syntax), a ``zone`` where it may fire (``head``, ``tail``, ``edges`` = head or tail,
``anywhere``), an ``action`` (``remove`` the line, ``extract`` fields only, or ``both``),
optional ``fields`` (metadata field -> pattern with a ``value`` group), and positive and negative
``examples``. Patterns match a *normalized view* of each line (:func:`match_view`: full-width
forms folded to ASCII, traditional characters to simplified), so one pattern serves both scripts;
the edit always removes the original line.

Safety. Patterns are checked when loaded: nested quantifiers (``(a+)+``), repeated alternations
(``(a|ab)*``) and backreferences are refused, since they are what makes a regular expression
backtrack catastrophically; every search of a user pack also runs with a time limit (the
``regex`` package's ``timeout``), so a pattern that slips through costs at most that limit per
line (the shipped packs, reviewed and tested with the code, run without it: the limit costs
more than most searches). Each rule's examples are run at load time, so a pack that
contradicts its own examples is refused with the file and rule named.

Speed. Most lines fire no rule, so each rule carries gates derived from its pattern (characters
every match contains, the characters a ``^X``/``X$`` match starts or ends with) that rule a
line out without a search; a pattern that can never match a line break is searched over many
lines at once (:meth:`Rule.lines_hit`).
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import opencc
import regex
import yaml

from cleankit.core.errors import RuleError
from cleankit.text.cjk import opencc_converter

ZONES = ("head", "tail", "edges", "anywhere")
ACTIONS = ("remove", "extract", "both")
RULE_KEYS = {
    "id",
    "family",
    "description",
    "pattern",
    "zone",
    "action",
    "max_chars",
    "fields",
    "examples",
    "glue",
    "block",
    "anchor",
    "needs_neighbour",
    "words",
    "min_words",
}
PACK_KEYS = {"family", "description", "rules", "glue"}
ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
BLOCKS = ("listing",)
# How a ``words`` rule cuts a line into words: spaces, separators, brackets, punctuation.
WORD_SEPARATORS = regex.compile(r"[\s|·/、,:;【】\[\]()<>《》\"'“”!?！？。]+")
DEFAULT_MAX_CHARS = 200
MAX_PATTERN_CHARS = 2000
# Seconds one search may take before it is abandoned (counts as no match, and is reported).
SEARCH_TIMEOUT = 0.05

# Fields whose values accumulate into a list; every other field keeps its first value.
LIST_FIELDS = frozenset({"authors", "attachments"})

DEFAULT_PACKAGE = "cleankit.default_rules"



# --- the normalized view -------------------------------------------------------------------

# Besides the full-width block U+FF01..U+FF5E (→ ASCII), these fold too:
_EXTRA_FOLDS = {
    0x3000: 0x20,  # ideographic space
    0x2502: ord("|"),  # box-drawing bar, used as a separator
    0x4E28: ord("|"),  # 丨, used as a separator in menus and breadcrumbs
    0x00BB: ord(">"),  # »
    0x203A: ord(">"),  # ›
}


def fold_width(text: str) -> str:
    """Full-width forms to ASCII (ＡＢ：→AB:) and a few separators to their ASCII look-alikes,
    lone surrogates to U+FFFD, one code point for one. Vectorized: ``str.translate`` with a mapping runs at ~10 MB/s on
    Chinese text, this at several hundred."""
    if not text:
        return text
    codes = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32).copy()
    wide = (codes >= 0xFF01) & (codes <= 0xFF5E)
    codes[wide] -= 0xFEE0
    # Lone surrogates (JSON Lines input can carry them) cannot go through OpenCC: U+FFFD in the view.
    codes[(codes >= 0xD800) & (codes <= 0xDFFF)] = 0xFFFD
    for source, target in _EXTRA_FOLDS.items():
        codes[codes == source] = target
    return codes.tobytes().decode("utf-32-le", errors="surrogatepass")


def _t2s() -> opencc.OpenCC:
    return opencc_converter("t2s")


def match_view(text: str) -> str:
    """What rules see: width-folded (ＡＢ：→AB:), traditional to simplified (for matching only)."""
    return _t2s().convert(fold_width(text))


def match_views(lines: Sequence[str]) -> list[str]:
    """:func:`match_view` of many lines with one OpenCC call (a call per line costs ~20 % more)."""
    if not lines:
        return []
    joined = match_view("\n".join(lines))
    views = joined.split("\n")
    if len(views) != len(lines):  # OpenCC never changes line breaks, but never trust, check
        views = [match_view(line) for line in lines]
    return views


# --- pattern safety ------------------------------------------------------------------------

_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None))


def _walk(items: Iterable[Any], inside_repeat: bool, problems: list[str]) -> None:
    for op, arg in items:
        if op in _REPEATS and op is not None:
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


# --- a cheap gate in front of each search ---------------------------------------------------
# Most lines fire no rule. From a pattern's parse tree we derive literal strings of which every
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
        elif op in _REPEATS and op is not None and arg[0] >= 1:
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
        elif op in _REPEATS and op is not None:
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


# --- rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    text: str
    fields: dict[str, Any] | None = None


@dataclass
class Rule:
    id: str
    family: str
    description: str
    pattern: str
    zone: str = "edges"
    action: str = "remove"
    max_chars: int = DEFAULT_MAX_CHARS
    fields: dict[str, str] = field(default_factory=dict)
    positives: list[Example] = field(default_factory=list)
    negatives: list[str] = field(default_factory=list)
    # Short unknown lines between two glue lines belong to the same widget (e.g. 大/中/小).
    glue: bool = False
    # "listing": the lines after this heading that look like titles are part of its block.
    block: str | None = None
    # A footer anchor (copyright, ICP): what follows it in the tail is footer too.
    anchor: bool = False
    # Fires only next to a line removed by a rule of this family (in a run of such lines
    # holding one that does not need a neighbour): a footer's sponsor or contact line, not a
    # notice's own "主办单位：…" or "联系电话：… 邮箱：…".
    needs_neighbour: str | None = None
    source: str = ""
    # Shipped with cleankit (reviewed and tested with the code): searched without the time limit.
    trusted: bool = False
    # A line must hold one of these characters for the rule to be tried (None: always tried),
    # and start / end with one of these.
    gate: frozenset[str] | None = None
    more_gates: tuple[frozenset[str], ...] = ()
    first_chars: frozenset[str] | None = None
    last_chars: frozenset[str] | None = None
    # Instead of a pattern: the line is made only of these words (at least ``min_words`` of them).
    words: frozenset[str] = frozenset()
    min_words: int = 1
    longest_word: int = 0
    compiled: regex.Pattern[str] | None = field(default=None, repr=False, compare=False)
    # For line-local patterns: the same with MULTILINE, to search many lines in one call.
    compiled_lines: regex.Pattern[str] | None = field(default=None, repr=False, compare=False)
    compiled_fields: dict[str, regex.Pattern[str]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def removes(self) -> bool:
        return self.action in ("remove", "both")

    @property
    def extracts(self) -> bool:
        return self.action in ("extract", "both")

    def allows(self, in_head: bool, in_tail: bool) -> bool:
        if self.zone == "anywhere":
            return True
        if self.zone == "head":
            return in_head
        if self.zone == "tail":
            return in_tail
        return in_head or in_tail

    def match(
        self, view: str, tokens: list[str] | None = None, gate_passed: bool = False
    ) -> regex.Match[str] | list[str] | None:
        """Does the rule fire on a line (given as its normalized view, and optionally its
        :func:`line_words`; ``gate_passed``: the caller checked the first gate)? The zone is
        not checked here."""
        if len(view) > self.max_chars or not view:
            return None
        if self.first_chars is not None and view[0] not in self.first_chars:
            return None
        if self.last_chars is not None and view[-1] not in self.last_chars:
            return None
        if not gate_passed and self.gate is not None and self.gate.isdisjoint(view):
            return None
        for gate in self.more_gates:
            if gate.isdisjoint(view):
                return None
        if self.words:
            if tokens is None:
                tokens = line_words(view)
            found: list[str] = []
            for token in tokens:
                if token in self.words:
                    found.append(token)
                    continue
                parts = segment(token, self.words, self.longest_word)  # 大中小: the spaces were taken out
                if parts is None:
                    return None
                found.extend(parts)
            return found if len(found) >= self.min_words else None
        assert self.compiled is not None
        return safe_search(self.compiled, view, limited=not self.trusted)

    def lines_hit(self, joined: str) -> list[int] | None:
        """Offsets in ``joined`` (lines joined by LF) where a match starts, for a line-local
        pattern in one search (None: not line-local, or the time limit ran out)."""
        if self.compiled_lines is None:
            return None
        try:
            if self.trusted:
                return [m.start() for m in self.compiled_lines.finditer(joined)]
            return [m.start() for m in self.compiled_lines.finditer(joined, timeout=SEARCH_TIMEOUT)]
        except TimeoutError:
            return None

    def extract(self, view: str, original: str) -> dict[str, str]:
        """Field values from a line; taken from the original text where the view aligns with it
        (same length: width folding and t2s are one character for one), else from the view."""
        values: dict[str, str] = {}
        aligned = len(view) == len(original)
        for name, pattern in self.compiled_fields.items():
            found = safe_search(pattern, view, limited=not self.trusted)
            if not found:
                continue
            start, end = found.span("value")
            value = (original[start:end] if aligned else view[start:end]).strip(" \t|:：,，;；")
            if value:
                values[name] = value
        return values

    def reason(self) -> str:
        return f"{self.family}: {self.description}"

    def describe_source(self) -> str:
        return self.source or "(built in)"


def segment(token: str, words: frozenset[str], longest: int) -> list[str] | None:
    """``token`` cut into a sequence of ``words`` (None: it cannot be): a widget row whose
    spaces an earlier stage removed (``大 中 小`` → ``大中小``) is still made of widget words."""
    if len(token) > 40:
        return None
    reach: list[list[str] | None] = [None] * (len(token) + 1)
    reach[0] = []
    for start in range(len(token)):
        prefix = reach[start]
        if prefix is None:
            continue
        for end in range(start + 1, min(len(token), start + longest) + 1):
            if reach[end] is None and token[start:end] in words:
                reach[end] = [*prefix, token[start:end]]
    return reach[len(token)]


def line_words(view: str) -> list[str]:
    """The words of a line for ``words`` rules (lower case, separators dropped)."""
    return [token for token in WORD_SEPARATORS.split(view.lower()) if token]


def _expect(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise RuleError(f"{where}: {message}")


def _rule_from_dict(data: Any, pack_defaults: dict[str, Any], where: str) -> Rule:
    _expect(isinstance(data, dict), where, "each rule must be a mapping")
    unknown = set(data) - RULE_KEYS
    _expect(not unknown, where, f"unknown key(s) {sorted(unknown)} (known: {sorted(RULE_KEYS)})")
    rule_id = data.get("id")
    _expect(isinstance(rule_id, str) and bool(ID.match(rule_id)), where, f"bad or missing id {rule_id!r}")
    where = f"{where} rule {rule_id!r}"
    family = data.get("family", pack_defaults.get("family"))
    _expect(isinstance(family, str) and bool(family), where, "a family is needed (on the rule or the pack)")
    description = data.get("description")
    _expect(isinstance(description, str) and bool(description.strip()), where, "a description is needed")
    pattern = data.get("pattern")
    words = data.get("words")
    _expect((pattern is None) != (words is None), where, "give either a pattern or a words list")
    _expect(pattern is None or isinstance(pattern, str), where, "the pattern must be a string")
    ok_words = words is None or (isinstance(words, list) and words and all(isinstance(w, str) for w in words))
    _expect(bool(ok_words), where, "words must be a non-empty list of strings")
    min_words = data.get("min_words", 1)
    _expect(isinstance(min_words, int) and min_words >= 1, where, "min_words must be an integer >= 1")
    zone = data.get("zone", "edges")
    _expect(zone in ZONES, where, f"zone must be one of {ZONES}, not {zone!r}")
    action = data.get("action", "remove")
    _expect(action in ACTIONS, where, f"action must be one of {ACTIONS}, not {action!r}")
    max_chars = data.get("max_chars", DEFAULT_MAX_CHARS)
    _expect(isinstance(max_chars, int) and 1 <= max_chars <= 5000, where, "max_chars must be an integer 1..5000")
    fields_data = data.get("fields", {}) or {}
    _expect(isinstance(fields_data, dict), where, "fields must map field names to patterns")
    _expect(action == "remove" or bool(fields_data), where, f"action {action!r} needs fields to extract")
    glue = data.get("glue", pack_defaults.get("glue", False))
    block = data.get("block")
    _expect(block is None or block in BLOCKS, where, f"block must be one of {BLOCKS}")
    anchor = data.get("anchor", False)
    for flag_name, flag in (("glue", glue), ("anchor", anchor)):
        _expect(isinstance(flag, bool), where, f"{flag_name} must be true or false")
    needs_neighbour = data.get("needs_neighbour")
    _expect(needs_neighbour is None or isinstance(needs_neighbour, str), where, "needs_neighbour names a family")

    rule = Rule(
        id=rule_id,
        family=family,
        description=description.strip(),
        pattern=pattern or "",
        zone=zone,
        action=action,
        max_chars=max_chars,
        fields={},
        glue=glue,
        block=block,
        anchor=anchor,
        needs_neighbour=needs_neighbour,
        source=where.split(" rule ")[0],
    )
    if pattern is not None:
        rule.compiled = compile_pattern(pattern, where)
        if line_local(pattern):
            rule.compiled_lines = regex.compile(pattern, regex.IGNORECASE | regex.MULTILINE | regex.VERSION0)
        gates = gate_chars(pattern)
        if gates:
            rule.gate, rule.more_gates = gates[0], gates[1:]
        rule.first_chars, rule.last_chars = edge_gates(pattern)
    else:
        normalized = {token for word in words for token in line_words(match_view(word))}
        rule.words = frozenset(normalized)
        rule.min_words = min_words
        rule.longest_word = max(map(len, normalized))
        rule.gate = frozenset(char for word in normalized for char in (word[0], word[0].upper()))
    for name, field_pattern in fields_data.items():
        _expect(isinstance(name, str) and bool(FIELD_NAME.match(name)), where, f"bad field name {name!r}")
        _expect(isinstance(field_pattern, str), where, f"field {name!r}: pattern must be a string")
        compiled = compile_pattern(field_pattern, f"{where} field {name!r}")
        _expect("value" in compiled.groupindex, where, f"field {name!r}: pattern needs a (?P<value>...) group")
        rule.fields[name] = field_pattern
        rule.compiled_fields[name] = compiled

    examples = data.get("examples")
    _expect(isinstance(examples, dict), where, "examples: {match: [...], no_match: [...]} are needed")
    unknown = set(examples) - {"match", "no_match"}
    _expect(not unknown, where, f"examples: unknown key(s) {sorted(unknown)}")
    positives = examples.get("match") or []
    negatives = examples.get("no_match") or []
    _expect(isinstance(positives, list) and len(positives) > 0, where, "at least one match example is needed")
    _expect(isinstance(negatives, list) and len(negatives) > 0, where, "at least one no_match example is needed")
    for item in positives:
        if isinstance(item, str):
            rule.positives.append(Example(item))
        else:
            ok = isinstance(item, dict) and isinstance(item.get("text"), str) and set(item) <= {"text", "fields"}
            _expect(ok, where, f"a match example is a string or {{text, fields}}, not {item!r}")
            expected = item.get("fields")
            _expect(expected is None or isinstance(expected, dict), where, "example fields must be a mapping")
            rule.positives.append(Example(item["text"], expected))
    for item in negatives:
        _expect(isinstance(item, str), where, f"a no_match example is a string, not {item!r}")
        rule.negatives.append(item)
    for problem in example_failures(rule):
        raise RuleError(f"{where}: {problem}")
    return rule


def example_failures(rule: Rule) -> list[str]:
    """What is wrong with a rule's own examples (empty: they all hold)."""
    failures: list[str] = []
    for example in rule.positives:
        view = match_view(example.text)
        if not rule.match(view):
            failures.append(f"example should match but does not: {example.text!r}")
            continue
        if example.fields is not None:
            got = rule.extract(view, example.text)
            want = {k: str(v) for k, v in example.fields.items()}
            if got != want:
                failures.append(f"example {example.text!r}: fields {got!r}, expected {want!r}")
    for text in rule.negatives:
        if rule.match(match_view(text)):
            failures.append(f"example should not match but does: {text!r}")
    return failures


def parse_pack(text: str, where: str) -> list[Rule]:
    """Rules of one pack's YAML text (``where`` names it in errors)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError(f"{where}: not valid YAML: {exc}") from exc
    _expect(isinstance(data, dict), where, "a pack is a mapping with a 'rules' list")
    unknown = set(data) - PACK_KEYS
    _expect(not unknown, where, f"unknown key(s) {sorted(unknown)} (known: {sorted(PACK_KEYS)})")
    rules_data = data.get("rules")
    _expect(isinstance(rules_data, list) and bool(rules_data), where, "'rules' must be a non-empty list")
    defaults = {"family": data.get("family"), "glue": data.get("glue", False)}
    rules = [_rule_from_dict(item, defaults, where) for item in rules_data]
    seen: set[str] = set()
    for rule in rules:
        _expect(rule.id not in seen, where, f"rule id {rule.id!r} appears twice")
        seen.add(rule.id)
    return rules


def load_pack(path: Path) -> list[Rule]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read rule pack: {exc}") from exc
    return parse_pack(text, str(path))


def default_pack_texts() -> list[tuple[str, str]]:
    """(name, YAML text) of the packs shipped with cleankit (the repository's ``rules/``)."""
    root = resources.files(DEFAULT_PACKAGE)
    packs = sorted((item for item in root.iterdir() if item.name.endswith((".yaml", ".yml"))), key=lambda p: p.name)
    return [(f"rules/{item.name}", item.read_text(encoding="utf-8")) for item in packs]


def pack_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise RuleError(f"{directory}: rule pack folder not found")
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


@dataclass
class RuleSet:
    rules: list[Rule]

    def by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}


def load_rules(directories: Sequence[str | Path] = (), defaults: bool = True, disable: Sequence[str] = ()) -> RuleSet:
    """The default packs (unless ``defaults`` is false), then every pack in ``directories``.

    A user rule with the id of an earlier rule replaces it; ``disable`` drops rules by id.
    """
    ordered: dict[str, Rule] = {}
    if defaults:
        for name, text in default_pack_texts():
            for rule in parse_pack(text, name):
                rule.trusted = True
                _expect(rule.id not in ordered, name, f"rule id {rule.id!r} also defined in {ordered.get(rule.id)}")
                ordered[rule.id] = rule
    for directory in directories:
        for path in pack_files(Path(directory)):
            for rule in load_pack(path):
                ordered[rule.id] = rule
    unknown = set(disable) - set(ordered)
    if unknown:
        raise RuleError(f"disable: no rule with id {sorted(unknown)}")
    return RuleSet([rule for rule in ordered.values() if rule.id not in set(disable)])
