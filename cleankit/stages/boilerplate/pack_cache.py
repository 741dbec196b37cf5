"""Rule packs kept once read and checked: a pack's YAML is parsed, each pattern checked
for safety, its gates derived and every example run when it is first loaded (a third of a
second for the default packs, paid by every process: a command in a pipe, each run); the
result is kept in the cache (:mod:`cleankit.io.cache`) under a hash of the pack's text, its
name and the code and libraries that read packs, and later loads only compile the patterns
again, each when it is first used.

A pack that fails its checks is never kept, so its error is reported every time. An entry
that cannot be read back exactly as a rule is ignored and the pack read afresh.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, cast

import regex

from cleankit.io import cache
from cleankit.stages.boilerplate.packs import Example, Rule, parse_pack
from cleankit.text.lazy_pattern import LazyPattern

# The modules whose code decides what a pack becomes (parsing, checks, gates, the match view
# its examples and words are read in).
DERIVED_BY = (
    "cleankit.stages.boilerplate.packs",
    "cleankit.stages.boilerplate.gates",
    "cleankit.stages.boilerplate.regex_safety",
    "cleankit.stages.boilerplate.pack_cache",
    "cleankit.stages.boilerplate.pack_yaml",
    "cleankit.text.fold",
)
KIND = "rules"


def _libraries() -> str:
    """Versions of the libraries that read packs and patterns and convert the examples' script.
    PyYAML's is the hash of its ``__init__.py`` (which holds its version), found without
    importing it: a cached pack is read with no YAML import."""
    import opencc

    yaml_version = cache.source_fingerprint("yaml", "__init__.py")
    if yaml_version is None:
        import yaml

        yaml_version = yaml.__version__
    return f"regex={regex.__version__};opencc={getattr(opencc, '__version__', '?')};yaml={yaml_version}"


def parsed_pack(text: str, where: str) -> list[Rule]:
    """:func:`~cleankit.stages.boilerplate.packs.parse_pack`, from the cache when it holds
    this pack."""
    code = cache.code_fingerprint(*DERIVED_BY)
    if code is None:
        return parse_pack(text, where)
    key = cache.key_of(KIND, code, _libraries(), where, text)
    stored = cache.load(KIND, key)
    if isinstance(stored, list):
        rules = _rules_from(stored)
        if rules is not None:
            return rules
    rules = parse_pack(text, where)
    cache.store(KIND, key, [_record(rule) for rule in rules])
    return rules


def _chars(chars: frozenset[str] | None) -> list[str] | None:
    return None if chars is None else sorted(chars)


def _frozen(chars: list[str] | None) -> frozenset[str] | None:
    return None if chars is None else frozenset(chars)


# Rule fields whose values are not JSON as they stand: (to JSON, back from JSON). Every other
# field is stored as it is, so a field added to Rule is kept without a change here (a list
# of fields written out by hand once dropped ``fallback``, and cached packs behaved otherwise).
_CONVERTED: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "positives": (
        lambda examples: [[example.text, example.fields] for example in examples],
        lambda stored: [Example(text, fields) for text, fields in stored],
    ),
    "gate": (_chars, _frozen),
    "first_chars": (_chars, _frozen),
    "last_chars": (_chars, _frozen),
    "more_gates": (lambda gates: [sorted(gate) for gate in gates], lambda stored: tuple(map(frozenset, stored))),
    "words": (sorted, frozenset),
    "word_firsts": (sorted, frozenset),
    "word_lasts": (sorted, frozenset),
    "strings": (list, tuple),
}
# Set when the pack is loaded (``trusted``: shipped packs) or compiled when first used.
_NOT_STORED = frozenset({"trusted", "compiled", "compiled_lines", "compiled_fields"})
_STORED = tuple(f.name for f in dataclasses.fields(Rule) if f.name not in _NOT_STORED)
_AS_IS = (lambda value: value, lambda value: value)


def _record(rule: Rule) -> dict[str, Any]:
    record = {name: _CONVERTED.get(name, _AS_IS)[0](getattr(rule, name)) for name in _STORED}
    record["compiled"] = rule.compiled is not None
    record["compiled_lines"] = rule.compiled_lines is not None
    return record


def _lazy(pattern: str, flags: int) -> regex.Pattern[str]:
    # Stands in for the compiled pattern wherever a rule uses one (search, finditer and the
    # rest are passed through), so to the type checker it is one.
    return cast("regex.Pattern[str]", LazyPattern(pattern, flags, regex.compile))


def _rules_from(stored: list[Any]) -> list[Rule] | None:
    """The rules of a cache entry, their patterns compiled as the pack reader compiles them
(when first used)."""
    flags = regex.IGNORECASE | regex.VERSION0
    try:
        rules = []
        for data in stored:
            rule = Rule(**{name: _CONVERTED.get(name, _AS_IS)[1](data[name]) for name in _STORED})
            if data["compiled"]:
                rule.compiled = _lazy(rule.pattern, flags)
            if data["compiled_lines"]:
                rule.compiled_lines = _lazy(rule.pattern, flags | regex.MULTILINE)
            rule.compiled_fields = {name: _lazy(pattern, flags) for name, pattern in rule.fields.items()}
            rules.append(rule)
        return rules
    except (KeyError, TypeError, ValueError, regex.error):
        return None
