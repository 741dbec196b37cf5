"""Rule packs: every shipped rule's own examples, and the loader's refusals."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from cleankit.core.errors import RuleError
from cleankit.stages.boilerplate.gates import line_local
from cleankit.stages.boilerplate.packs import (
    SearchBudget,
    default_pack_texts,
    example_failures,
    load_rules,
    parse_pack,
)
from cleankit.stages.boilerplate.regex_safety import SearchTimeout, pattern_problems
from cleankit.text.fold import match_view

DEFAULT_RULES = load_rules().rules


@pytest.mark.parametrize("rule", DEFAULT_RULES, ids=[rule.id for rule in DEFAULT_RULES])
def test_rule_examples_hold(rule) -> None:
    """Each positive example fires (with the expected fields), each negative does not."""
    assert rule.positives and rule.negatives
    assert example_failures(rule) == []


def test_no_removing_rule_fires_on_body_text_of_any_pack() -> None:
    """Every pack's negative examples that read as running text are body text for all rules:
    a removing rule that fires on one would remove text wherever its zone lets it."""
    from cleankit.stages.boilerplate.sitelearn import sentence_like

    body_text = [text for rule in DEFAULT_RULES for text in rule.negatives if sentence_like(match_view(text))]
    assert len(body_text) >= 20
    removing = [rule for rule in DEFAULT_RULES if rule.removes]
    fired = [(rule.id, text) for rule in removing for text in body_text if rule.match(match_view(text))]
    assert fired == []


def test_default_packs_are_the_repository_rules_folder() -> None:
    shipped = {name: text for name, text in default_pack_texts()}
    on_disk = {f"rules/{p.name}": p.read_text(encoding="utf-8") for p in (ROOT / "rules").glob("*.yaml")}
    assert shipped == on_disk
    families = {rule.family for rule in DEFAULT_RULES}
    assert {"navigation", "page-metadata", "widgets", "attachments", "footer", "spam", "editor"} <= families
    assert "related-links" in families


def test_match_view_folds_width_and_script() -> None:
    assert match_view("聯繫我們：ＡＢ｜首頁＞") == "联系我们:AB|首页>"
    assert len(match_view("廣西壯族自治區")) == len("廣西壯族自治區")
    assert match_view("a\ud800來") == "a\ufffd来"  # a lone surrogate (JSON input) does not break the view


PACK = """
family: test
rules:
  - id: {id}
    description: a test rule
    pattern: '{pattern}'
    examples:
      match: ['{good}']
      no_match: ['{bad}']
"""


def pack(pattern: str, good: str = "aab", bad: str = "zzz", rule_id: str = "t-rule") -> str:
    return PACK.format(id=rule_id, pattern=pattern, good=good, bad=bad)


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a+)+b",
        r"(?:a*)*b",
        r"(\w+\s?)+$",
        r"(a|ab)*c",
        r"(?:x|y+)+",
        r"(a)\1",
        r"(?s)a.b",
        r"(?m)^a",
        # Accepted before: the standard parser reads (\w|\d) as the class [\w\d], which hid the
        # alternation the regex engine backtracks over; six adjacent \d* are n^6.
        r"(\w|\d)+$",
        r"^\d*\d*\d*\d*\d*\d*x$",
        r"(?:a{1,3})+b",
        r"(?:\d*1)+x",
    ],
)
def test_dangerous_patterns_are_refused_at_load(pattern: str) -> None:
    assert pattern_problems(pattern)
    with pytest.raises(RuleError, match="refused"):
        parse_pack(pack(pattern), "user.yaml")


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (r"(\w|\d)+$", "alternatives inside a repeat that can match the same text"),
        (r"(?:[a-z]|x\d)*!", "alternatives inside a repeat that can match the same text"),
        (r"(?:a|)+b", "alternatives inside a repeat that can match the same text"),
        (r"^\d*\d*\d*\d*\d*\d*x$", "adjacent repeats"),
        (r"来源\s*:?\s*\d", "adjacent repeats"),
        (r"^\s*(?:\s*x)?y", "adjacent repeats"),
        (r"^(?:x\s*)?\s*y", "adjacent repeats"),
        (r"a.{1,40}\s*b", "adjacent repeats"),
        (r"(?:a+)+$", "nested quantifiers"),
    ],
)
def test_each_shape_is_named(pattern: str, problem: str) -> None:
    assert any(problem in found for found in pattern_problems(pattern)), pattern_problems(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        r"a+b",
        r"(?:首页|主页)?\s*>",
        r"[^|]{1,40}\|",
        r"(?:ab){2,3}",
        r"x(?=y|z)",
        r"(?:首|主)+页",  # alternatives that cannot start alike
        r"(?:\s*x)+y",  # each iteration must take an x, which \s* cannot
        r"来源\s*(?::\s*)?\d",  # \s*:?\s* written so that one run of spaces has one owner
        r"^来源\s*:\s*(?P<value>.+)$",  # adjacent, but nothing after .+$ can fail
        r"\d*\s*\d",  # adjacent, but no character is both
        r"a\|b|c",
        r"[|(]+(a|b)",
    ],
)
def test_ordinary_patterns_are_accepted(pattern: str) -> None:
    assert pattern_problems(pattern) == []


def test_loading_runs_no_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    evil = f"!!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(RuleError, match="not valid YAML"):
        parse_pack(evil, "evil.yaml")
    assert not marker.exists()


def alias_bomb(levels: int) -> str:
    """A pack whose one example list stands for 10**levels strings through nested aliases."""
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    body = pack("abc", good="abc", bad="y").replace("match: ['abc']", f"match: [*a{levels - 1}]")
    return "\n".join(lines) + "\n" + body


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (alias_bomb(9), r"anchors \(&name\) are not allowed in rule packs \(line 1, column 5\)"),
        (pack("a+b").replace("no_match: ['zzz']", "no_match: &bad ['zzz']"), r"anchors.*line 9, column 17"),
        ("defaults: &d {zone: tail}\n" + pack("a+b"), "anchors"),
        (pack("a+b").replace("rules:", "x: *nothing\nrules:"), r"aliases \(\*name\) are not allowed"),
    ],
)
def test_yaml_anchors_and_aliases_are_refused_with_file_and_line(text: str, message: str) -> None:
    started = time.perf_counter()
    with pytest.raises(RuleError, match=message) as info:
        parse_pack(text, "mine/bomb.yaml")
    assert str(info.value).startswith("mine/bomb.yaml: ")
    # Refused before anything is built: an alias bomb costs what its few lines cost.
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (pack("a+b", good="zzz"), "should match but does not"),
        (pack("a+b", bad="ab"), "should not match but does"),
        (pack("a+b").replace("    examples:\n      match: ['aab']\n      no_match: ['zzz']\n", ""), "examples"),
        (pack("a+b").replace("description: a test rule", "descripton: typo"), "unknown key"),
        (pack("a+b", rule_id="Bad Id"), "bad or missing id"),
        (pack("(unclosed"), "not a valid regular expression"),
        ("rules: []", "non-empty list"),
        ("- just a list", "mapping"),
    ],
)
def test_bad_packs_are_refused_with_file_and_rule_named(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message) as info:
        parse_pack(text, "mine/site.yaml")
    assert "mine/site.yaml" in str(info.value)


def test_fields_need_a_value_group_and_extract_needs_fields() -> None:
    text = pack("a+b").replace("    examples:", "    action: both\n    examples:")
    with pytest.raises(RuleError, match="needs fields"):
        parse_pack(text, "p.yaml")
    text = pack("a+b").replace("    examples:", "    action: both\n    fields: {x: 'a(b)'}\n    examples:")
    with pytest.raises(RuleError, match="value"):
        parse_pack(text, "p.yaml")


def test_user_packs_add_replace_and_disable(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(
        pack("^本站公告$", good="本站公告", bad="本站公告栏", rule_id="site-notice-x")
        + "  - id: copyright\n    description: replaced\n    pattern: '^版权$'\n    zone: tail\n"
        "    examples: {match: ['版权'], no_match: ['版权所有']}\n",
        encoding="utf-8",
    )
    rules = load_rules([tmp_path], disable=["gambling-brand"]).by_id()
    assert "site-notice-x" in rules
    assert rules["copyright"].description == "replaced"
    assert "gambling-brand" not in rules
    with pytest.raises(RuleError, match="no rule with id"):
        load_rules([tmp_path], disable=["no-such-rule"])
    with pytest.raises(RuleError, match="not found"):
        load_rules([tmp_path / "missing"])


SLOW = r"a.*a.*a.*a.*a.*a.*b"  # n^6 backtracking that the static check lets through


def slow_pack(tmp_path: Path) -> Path:
    (tmp_path / "slow.yaml").write_text(
        pack(SLOW, good="aaaaaab", bad="c", rule_id="slow-one").replace(
            "    examples:", "    max_chars: 5000\n    zone: anywhere\n    examples:"
        ),
        encoding="utf-8",
    )
    return tmp_path


def test_a_slow_pattern_is_cut_off_by_the_time_limit_and_counted_per_rule(tmp_path: Path) -> None:
    rule = load_rules([slow_pack(tmp_path)], defaults=False).rules[0]
    assert pattern_problems(SLOW) == []
    budget = SearchBudget(limit=2)
    started = time.perf_counter()
    assert rule.match("b" + "a" * 3000, budget=budget) is None
    assert time.perf_counter() - started < 2.0
    assert budget.timeouts == {"slow-one": 1} and budget.allows("slow-one")
    assert rule.match("bb" + "a" * 3000, budget=budget) is None
    assert budget.stopped("slow-one")
    # Stopped: not searched again in this document, so it costs nothing more.
    started = time.thread_time()
    assert rule.match("aaaaaab", budget=budget) is None
    assert time.thread_time() - started < 0.01
    # Without a budget to count it in, a timeout is an error the caller must see.
    with pytest.raises(SearchTimeout):
        rule.match("b" + "a" * 3000)


# --- the speed-ups must not change what matches ----------------------------------------------

EXAMPLE_LINES = [example.text for rule in DEFAULT_RULES for example in rule.positives] + [
    text for rule in DEFAULT_RULES for text in rule.negatives
]
NOISE = st.sampled_from(list("的了在是，。：:（）()【】[]|>首页来源发布时间版权ICP备微信123abcXYZ 万博体育记者（）"))
LINES = st.one_of(st.sampled_from(EXAMPLE_LINES), st.lists(NOISE, max_size=40).map("".join))
PATTERN_RULES = [rule for rule in DEFAULT_RULES if rule.compiled is not None]


@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, min_size=1, max_size=3).map("".join))
def test_gates_never_hide_a_match(line: str) -> None:
    """The character gates and edge checks are only shortcuts: same answer as the search."""
    view = match_view(line)
    for rule in PATTERN_RULES:
        plain = len(view) <= rule.max_chars and rule.compiled.search(view) is not None
        assert (rule.match(view) is not None) == plain, (rule.id, line)


@settings(max_examples=200, deadline=None)
@given(st.lists(LINES, min_size=1, max_size=12))
def test_one_search_over_many_lines_finds_the_same_lines(lines: list[str]) -> None:
    views = [match_view(line) for line in lines if "\n" not in line]
    joined = "\n".join(views)
    starts = [sum(len(v) + 1 for v in views[:i]) for i in range(len(views))]
    for rule in PATTERN_RULES:
        offsets = rule.lines_hit(joined)
        if offsets is None:
            continue
        hit = {max(i for i, s in enumerate(starts) if s <= offset) for offset in offsets}
        expected = {i for i, view in enumerate(views) if rule.compiled.search(view)}
        assert hit == expected, (rule.id, views)


@pytest.mark.parametrize(
    ("pattern", "local"),
    [(r"^版权所有", True), (r"a\s*b", False), (r"[^|]+", False), (r"[^|\n]+", True), (r"a.b", True), (r"\Aa", False)],
)
def test_line_local_patterns(pattern: str, local: bool) -> None:
    assert line_local(pattern) is local
