r"""Rule packs: YAML data that say which lines of a page are site furniture and what they tell.

A pack is a YAML file (loaded with a ``yaml.SafeLoader`` that also refuses anchors and aliases:
loading runs no code and cannot expand into more than the file says) holding a list of
rules. Each rule has an ``id``, a ``family``, a ``description``, a ``pattern`` (Python regular
expression syntax), a ``zone`` where it may fire (``head``, ``tail``, ``edges`` = head or tail,
``anywhere``), an ``action`` (``remove`` the line, ``extract`` fields only, or ``both``),
optional ``fields`` (metadata field -> pattern with a ``value`` group), and positive and negative
``examples``. Patterns match a *normalized view* of each line (:func:`match_view`: full-width
forms folded to ASCII, traditional characters to simplified), so one pattern serves both scripts;
the edit always removes the original line.

Safety. Patterns are checked when loaded (:mod:`cleankit.stages.boilerplate.regex_safety`):
nested quantifiers (``(a+)+``), overlapping alternatives in a repeat (``(\w|\d)+``), adjacent
repeats that can match the same text (``\d*\d*``) and backreferences are refused, since they
are what makes a regular expression backtrack catastrophically; every search of a user pack
also runs with a time limit (the ``regex`` package's ``timeout``), so a pattern that slips
through costs at most that limit per line. Timeouts are counted per rule in a
:class:`SearchBudget`, one per document, which stops a rule after a few (the shipped packs,
reviewed and tested with the code, run without the limit: it costs more than most searches).
Each rule's examples are run at load time, so a pack that
contradicts its own examples is refused with the file and rule named.

Speed. Most lines fire no rule, so each rule carries gates derived from its pattern (characters
every match contains, the characters a ``^X``/``X$`` match starts or ends with) that rule a
line out without a search; a pattern that can never match a line break is searched over many
lines at once (:meth:`Rule.lines_hit`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import regex

from cleankit.core.errors import RuleError
from cleankit.stages.boilerplate.gates import edge_gates, gate_chars, line_local, may_hold_one, required_strings
from cleankit.stages.boilerplate.regex_safety import (
    SEARCH_TIMEOUT,
    SearchTimeout,
    compile_pattern,
    safe_search,
)
from cleankit.text.fold import match_view

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
    "fallback",
    "introduces_text",
}
PACK_KEYS = {"family", "description", "rules", "glue"}
ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
BLOCKS = ("listing", "value")
# How a ``words`` rule cuts a line into words: spaces, separators, brackets, punctuation.
WORD_SEPARATORS = regex.compile(r"[\s|·/、,:;【】\[\]()<>《》\"'“”!?！？。]+")
DEFAULT_MAX_CHARS = 200

# Fields whose values accumulate into a list; every other field keeps its first value.
LIST_FIELDS = frozenset({"authors", "attachments", "captions"})

DEFAULT_PACKAGE = "cleankit.default_rules"



# --- rules ---------------------------------------------------------------------------------


@dataclass
class SearchBudget:
    """Searches of user rules that ran over the time limit in one document, per rule id. A
    rule that reaches ``limit`` timeouts is not searched again in that document: a pattern
    that is slow on this page is slow on each of its lines, and would otherwise cost the
    limit on every one of them."""

    limit: int = 3
    timeouts: dict[str, int] = field(default_factory=dict)
    # (start, end) of the line being judged, and of each rule's first timed-out line.
    line: tuple[int, int] = (0, 0)
    first_line: dict[str, tuple[int, int]] = field(default_factory=dict)

    def allows(self, rule_id: str) -> bool:
        return self.timeouts.get(rule_id, 0) < self.limit

    def timed_out(self, rule_id: str) -> None:
        self.timeouts[rule_id] = self.timeouts.get(rule_id, 0) + 1
        self.first_line.setdefault(rule_id, self.line)

    def stopped(self, rule_id: str) -> bool:
        return not self.allows(rule_id)



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
    # "value": a label alone on its line (来源：); the next line may be its value.
    block: str | None = None
    # A footer anchor (copyright, ICP): what follows it in the tail is footer too.
    anchor: bool = False
    # Fires only next to a line removed by a rule of this family (in a run of such lines
    # holding one that does not need a neighbour): a footer's sponsor or contact line, not a
    # notice's own "主办单位：…" or "联系电话：… 邮箱：…".
    needs_neighbour: str | None = None
    # Its fields are used only when no other rule of the page gives them (a bare date-time
    # line is the publish time only when no labelled 发布时间 says otherwise).
    fallback: bool = False
    # A ``block: value`` label that may introduce the text (an interview's 记者：): it stays
    # when the text follows it instead of a value.
    introduces_text: bool = False
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
    # The first and last characters of the words: a token that does not start with one and end
    # with one cannot be cut into words (most tokens tried: no search for a cut).
    word_firsts: frozenset[str] = frozenset()
    word_lasts: frozenset[str] = frozenset()
    compiled: regex.Pattern[str] | None = field(default=None, repr=False, compare=False)
    # For line-local patterns: the same with MULTILINE, to search many lines in one call.
    compiled_lines: regex.Pattern[str] | None = field(default=None, repr=False, compare=False)
    # For line-local patterns: strings (lower case) of which every match holds one; the many
    # lines' text is searched only when it holds one (gates.required_strings).
    strings: tuple[str, ...] = ()
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
        self,
        view: str,
        tokens: list[str] | None = None,
        gate_passed: bool = False,
        budget: SearchBudget | None = None,
    ) -> regex.Match[str] | list[str] | None:
        """Does the rule fire on a line (given as its normalized view, and optionally its
        :func:`line_words`; ``gate_passed``: the caller checked the first gate)? The zone is
        not checked here. A search over the time limit counts as no match and is counted in
        ``budget``; without one it raises :class:`SearchTimeout`."""
        if len(view) > self.max_chars or not view:
            return None
        if budget is not None and not budget.allows(self.id):
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
                if token[0] not in self.word_firsts or token[-1] not in self.word_lasts:
                    return None
                parts = segment(token, self.words, self.longest_word)  # 大中小: the spaces were taken out
                if parts is None:
                    return None
                found.extend(parts)
            return found if len(found) >= self.min_words else None
        assert self.compiled is not None
        return self._search(self.compiled, view, budget)

    def _search(self, pattern: regex.Pattern[str], view: str, budget: SearchBudget | None) -> regex.Match[str] | None:
        try:
            return safe_search(pattern, view, limited=not self.trusted)
        except SearchTimeout:
            if budget is None:
                raise
            budget.timed_out(self.id)
            return None

    def lines_hit(self, joined: str) -> list[int] | None:
        """Offsets in ``joined`` (lines joined by LF) where a match starts, for a line-local
        pattern in one search (None: not line-local, or the time limit ran out)."""
        if self.compiled_lines is None:
            return None
        if self.strings and not may_hold_one(joined, self.strings):
            # No match can start anywhere (and no search runs over the time limit).
            return []
        try:
            if self.trusted:
                return [m.start() for m in self.compiled_lines.finditer(joined)]
            return [m.start() for m in self.compiled_lines.finditer(joined, timeout=SEARCH_TIMEOUT)]
        except TimeoutError:
            return None

    def extract(self, view: str, original: str, budget: SearchBudget | None = None) -> dict[str, str]:
        """Field values from a line; taken from the original text where the view aligns with it
        (same length: width folding and t2s are one character for one), else from the view.
        Timeouts are counted as in :meth:`match`."""
        values: dict[str, str] = {}
        aligned = len(view) == len(original)
        for name, pattern in self.compiled_fields.items():
            if budget is not None and not budget.allows(self.id):
                break
            found = self._search(pattern, view, budget)
            if not found:
                continue
            start, end = found.span("value")
            value = (original[start:end] if aligned else view[start:end]).strip(" \t|:：,，;；")
            if value:
                values[name] = value
        return values

    def pair_fields(
        self, label_view: str, label: str, value_view: str, value: str, budget: SearchBudget | None = None
    ) -> dict[str, str]:
        """Fields of a label alone on its line (``block: value``) read together with the next
        line: ``来源：`` + ``宁夏日报客户端``. Empty when the next line is not such a value."""
        return self.extract(label_view + value_view, label + value, budget)

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
    fallback = data.get("fallback", False)
    introduces_text = data.get("introduces_text", False)
    for flag_name, flag in (("fallback", fallback), ("introduces_text", introduces_text)):
        _expect(isinstance(flag, bool), where, f"{flag_name} must be true or false")
    _expect(not introduces_text or block == "value", where, "introduces_text is for block: value labels")
    _expect(block != "value" or bool(fields_data), where, "block: value needs fields to read the value with")

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
        fallback=fallback,
        introduces_text=introduces_text,
        source=where.split(" rule ")[0],
    )
    if pattern is not None:
        rule.compiled = compile_pattern(pattern, where)
        if line_local(pattern):
            rule.compiled_lines = regex.compile(pattern, regex.IGNORECASE | regex.MULTILINE | regex.VERSION0)
            rule.strings = required_strings(pattern)
        gates = gate_chars(pattern)
        if gates:
            rule.gate, rule.more_gates = gates[0], gates[1:]
        rule.first_chars, rule.last_chars = edge_gates(pattern)
    else:
        normalized = {token for word in words for token in line_words(match_view(word))}
        rule.words = frozenset(normalized)
        rule.min_words = min_words
        rule.longest_word = max(map(len, normalized))
        rule.word_firsts = frozenset(word[0] for word in normalized)
        rule.word_lasts = frozenset(word[-1] for word in normalized)
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
    slow = f"the search ran over the time limit ({SEARCH_TIMEOUT * 1000:.0f} ms) on example"
    for example in rule.positives:
        # A label-and-value example (block: value) is two lines: the label matches, the
        # fields come from the pair.
        text, _, value = example.text.partition("\n") if rule.block == "value" else (example.text, "", "")
        view = match_view(text)
        try:
            if not rule.match(view):
                failures.append(f"example should match but does not: {text!r}")
                continue
            if example.fields is not None:
                got = rule.pair_fields(view, text, match_view(value), value) if value else rule.extract(view, text)
                want = {k: str(v) for k, v in example.fields.items()}
                if got != want:
                    failures.append(f"example {example.text!r}: fields {got!r}, expected {want!r}")
        except SearchTimeout:
            failures.append(f"{slow} {example.text!r}")
    for text in rule.negatives:
        try:
            if rule.match(match_view(text)):
                failures.append(f"example should not match but does: {text!r}")
        except SearchTimeout:
            failures.append(f"{slow} {text!r}")
    return failures


def parse_pack(text: str, where: str) -> list[Rule]:
    """Rules of one pack's YAML text (``where`` names it in errors)."""
    # YAML is read here only: a process whose packs come from the start-up cache never
    # imports it (~25 ms of CPU).
    import yaml

    from cleankit.stages.boilerplate.pack_yaml import AliasRefused, PackLoader

    try:
        data = yaml.load(text, Loader=PackLoader)
    except AliasRefused as exc:
        raise RuleError(f"{where}: {exc}") from exc
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


def read_pack(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read rule pack: {exc}") from exc


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
    # Read through the cache of checked packs; imported here, as it imports this module.
    from cleankit.stages.boilerplate.pack_cache import parsed_pack

    ordered: dict[str, Rule] = {}
    if defaults:
        for name, text in default_pack_texts():
            for rule in parsed_pack(text, name):
                rule.trusted = True
                _expect(rule.id not in ordered, name, f"rule id {rule.id!r} also defined in {ordered.get(rule.id)}")
                ordered[rule.id] = rule
    for directory in directories:
        for path in pack_files(Path(directory)):
            for rule in parsed_pack(read_pack(path), str(path)):
                ordered[rule.id] = rule
    unknown = set(disable) - set(ordered)
    if unknown:
        raise RuleError(f"disable: no rule with id {sorted(unknown)}")
    return RuleSet([rule for rule in ordered.values() if rule.id not in set(disable)])
