"""Gates in front of the stages' costly searches (issue 12, branch stagecpu11) give what the
searches give.

Each test runs the gated path and the plain definition it replaces on the same input: pages
where the gate must let the costly path run, pages where it skips it, and generated pages made
of what the paths branch on.
"""

from __future__ import annotations

import re

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_reflow import LINE_PIECES

from cleankit.core.document import Document
from cleankit.stages import punctuation, reflow
from cleankit.stages.boilerplate import BoilerplateStage, gates
from cleankit.stages.boilerplate.packs import Rule, line_words, segment
from cleankit.stages.punctuation import PunctuationStage
from cleankit.stages.reflow import broken_paragraph_joins, ends_sentence, join_score
from cleankit.text.cjk import HAN_RANGES

# -- punctuation ---------------------------------------------------------------------------

# The protected pattern as one alternation, every alternative always tried (the definition).
FULL_PROTECTED = re.compile(
    r"""(?:https?|ftp)://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+
      | www\.[A-Za-z0-9-]+\.[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+
      | (?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+
      | `[^`\n]+`""",
    re.VERBOSE,
)
# The stranded-stop pattern with its lookbehind first, as it was written.
LOOKBEHIND_FIRST = re.compile(
    rf"(?<=[{HAN_RANGES}{punctuation._CLOSING}])\n"
    rf"(?=[{punctuation._CLOSING}]*[。！？][{punctuation._CLOSING}。！？]*(?:\n|$))"
)


def full_protected_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in FULL_PROTECTED.finditer(text):
        start, end = match.span()
        if not match.group().startswith("`"):
            while end > start and text[end - 1] in punctuation._URL_TAIL:
                end -= 1
        spans.append((start, end))
    return spans


def test_an_address_on_a_page_with_a_url_is_still_protected() -> None:
    """The e-mail alternative is searched when the page holds '@' (the gate lets it run)."""
    page = "详见 http://www.gov.cn/zhengce/a.htm，来信请寄 ban@gov.cn，或访问 www.example.org。"
    assert punctuation.protected_spans(page) == full_protected_spans(page)
    assert [page[s:e] for s, e in punctuation.protected_spans(page)] == [
        "http://www.gov.cn/zhengce/a.htm",
        "ban@gov.cn",
        "www.example.org",
    ]


def test_a_page_with_a_url_and_no_at_sign_skips_the_address_search() -> None:
    page = "原文链接：https://www.gov.cn/a,b.htm，转载请注明。编辑:张三"
    assert punctuation.protected_spans(page) == full_protected_spans(page) == [(5, 31)]


ADDRESS_PIECES = st.sampled_from(
    [
        "通知", "，", ",", " ", "\n", "http://www.gov.cn/a?b=1,", "ftp://x", "www.example.org.", "www.x",
        "ban@gov.cn", "a.b@c", "`x,y`", "`", "@", "://", "a", "1", ".", "-",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(ADDRESS_PIECES, max_size=16).map("".join))
def test_protected_spans_are_those_of_the_whole_alternation(text: str) -> None:
    assert punctuation.protected_spans(text) == full_protected_spans(text)


def alone_on_its_line_by_definition(text: str, position: int) -> bool:
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    line = text[start : len(text) if end < 0 else end]
    return line.strip(" \t\r\u3000\u00a0") == text[position]


MARK_PIECES = st.sampled_from([",", "?", "!", "\n", " ", "\u3000", "\t", "科技", "a", "1", "：", "\r"])


@settings(max_examples=400, deadline=None)
@given(st.lists(MARK_PIECES, min_size=1, max_size=16).map("".join))
def test_a_mark_alone_on_its_line_as_defined(text: str) -> None:
    for position in range(len(text)):
        assert punctuation._alone_on_its_line(text, position) == alone_on_its_line_by_definition(text, position)


def test_a_mark_after_padding_is_read_whole_and_one_after_text_is_not() -> None:
    page = "科技创新\n　,\n发展,完成"
    assert punctuation._alone_on_its_line(page, 6)  # after an ideographic space: the line is read
    assert not punctuation._alone_on_its_line(page, 10)  # after 展: no scan of the line


STOP_PIECES = st.sampled_from(["\n", "。", "！", "？", "”", "）", ")", "》", "部署", "a", " ", "工作"])


@settings(max_examples=400, deadline=None)
@given(st.lists(STOP_PIECES, max_size=16).map("".join))
def test_stranded_stop_finds_the_breaks_of_the_lookbehind_pattern(text: str) -> None:
    found = [edit.start for edit in punctuation.stranded_stop_edits(text)]
    assert found == [match.start() for match in LOOKBEHIND_FIRST.finditer(text)]


def run_by_definition(text: str) -> Document:
    """The stage's passes with every rule asked on every pass (no memo of quiet rules)."""
    document = Document.from_text(text)
    rules = [
        punctuation.quote_edits,
        punctuation.bracket_edits,
        punctuation.width_edits,
        punctuation.spacing_edits,
        punctuation.stranded_stop_edits,
    ]
    for _ in range(punctuation.MAX_PASSES):
        changed = 0
        for rule in rules:
            edits = list(rule(document.text))
            for edit in edits:
                edit.reason = punctuation.REASONS[edit.rule]
            changed += document.apply("punctuation", edits)
        if not changed:
            break
    for position in punctuation.lost_character_marks(document.text):
        document.flag("punctuation", "lost-character", position, position + 1, punctuation.LOST_REASON)
    return document


def same_result(text: str) -> None:
    fast, slow = PunctuationStage().run(Document.from_text(text)), run_by_definition(text)
    assert fast.text == slow.text
    assert [(e.rule, e.start, e.end, e.old, e.new, e.step) for e in fast.edits] == [
        (e.rule, e.start, e.end, e.old, e.new, e.step) for e in slow.edits
    ]
    assert fast.steps == slow.steps
    assert fast.flags == slow.flags


def test_a_page_of_two_passes_gives_what_every_rule_every_pass_gives() -> None:
    # The spacing rule changes the text in the first pass: the second pass asks the rules
    # before it again, and the stranded-stop rule (quiet on the final text) is not asked.
    same_result('他说"好的" ，会议(AI)召开,部署工作\n。\n关 于 印 发')
    # Nothing to do: one pass, every rule asked once.
    same_result("会议召开。部署工作。")


PUNCTUATION_PIECES = st.sampled_from(
    [
        "会议", "技术", "通", "知", " ", "  ", "\n", ",", ":", "?", "!", "(", ")", "（", "）", '"', "“", "”",
        "「", "」", "。", "，", "AI", "3", "http://a.cn/x,y", "吗", "\ufffd", "关 于 印 发",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(PUNCTUATION_PIECES, max_size=24).map("".join))
def test_the_stage_gives_what_every_rule_every_pass_gives(text: str) -> None:
    same_result(text)


def test_a_page_with_every_hint_is_searched_with_the_whole_alternation() -> None:
    page = "见 http://a.cn/x 或 www.b.org，信箱 c@d.cn，命令 `ls -l`"
    assert punctuation.protected_spans(page) == full_protected_spans(page)
    assert punctuation._protected_pattern((True, True, True, True)).pattern == punctuation.PROTECTED.pattern


# -- boilerplate ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rules() -> dict[str, Rule]:
    return BoilerplateStage().ruleset.by_id()


def test_the_ascii_lookalikes_are_every_character_a_case_insensitive_search_takes_for_ascii() -> None:
    every = "".join(chr(code) for code in range(0x80, 0x110000) if not 0xD800 <= code < 0xE000)
    found = set(regex.findall("[a-z0-9]", every, regex.IGNORECASE | regex.VERSION0))
    assert found == set(gates.ASCII_LOOKALIKES)


def test_required_strings_of_an_alternation_of_names() -> None:
    assert gates.required_strings("bet365|万博(?:体育|娱乐)|(?:博彩|彩票)官网|注册送\\d+") == (
        "bet365",
        "万博",
        "博彩",
        "彩票",
        "注册送",
    )
    assert gates.required_strings("[。!?][(【]记者") == ("记者",)
    assert gates.required_strings("[。!?][(【] *[\u4e00-\u9fff]{2,3}[)】]$") == ()  # single characters only
    assert gates.required_strings("Straße") == ()  # ß has case: str.lower does not fold it with ẞ


def body_offsets_by_definition(rule: Rule, joined: str) -> list[int]:
    assert rule.compiled_lines is not None
    return [match.start() for match in rule.compiled_lines.finditer(joined)]


def test_a_body_that_names_a_brand_is_searched(rules: dict[str, Rule]) -> None:
    rule = rules["gambling-brand"]
    assert rule.strings
    joined = "全市体育工作会议召开。\n据悉，BET365等境外网站已被依法关停。\n会议要求加强监管。"
    assert gates.may_hold_one(joined, rule.strings)
    assert rule.lines_hit(joined) == body_offsets_by_definition(rule, joined) != []


def test_a_body_without_a_brand_skips_the_search_and_finds_nothing(rules: dict[str, Rule]) -> None:
    rule = rules["gambling-brand"]
    joined = "新时代新征程，全市上下奋力推进高质量发展。\n网上办事大厅上线运行。"
    assert not gates.may_hold_one(joined, rule.strings)
    assert rule.lines_hit(joined) == body_offsets_by_definition(rule, joined) == []


def test_a_lookalike_letter_lets_the_search_run(rules: dict[str, Rule]) -> None:
    rule = rules["gambling-brand"]
    joined = "访问 \u212aAIYUN 平台"  # the Kelvin sign, which the case-insensitive search reads as k
    assert gates.may_hold_one(joined, rule.strings)
    assert rule.lines_hit(joined) == body_offsets_by_definition(rule, joined) == [3]


BODY_PIECES = st.sampled_from(
    ["会议", "体育", "\n", "Bet", "365", "BBIN", "bbİn", "万博", "娱乐", "注册送", "8", "ſ", "K", "开云", "官网", " "]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(BODY_PIECES, max_size=20).map("".join), st.sampled_from(["gambling-brand", "photo-caption", "column-name"])
)
def test_body_offsets_are_those_of_the_search(rules: dict[str, Rule], joined: str, rule_id: str) -> None:
    rule = rules[rule_id]
    assert rule.lines_hit(joined) == body_offsets_by_definition(rule, joined)


def words_match_by_definition(rule: Rule, view: str) -> list[str] | None:
    """Rule.match of a words rule as written before the first/last character test."""
    if len(view) > rule.max_chars or not view:
        return None
    if rule.gate is not None and rule.gate.isdisjoint(view):
        return None
    found: list[str] = []
    for token in line_words(view):
        if token in rule.words:
            found.append(token)
            continue
        parts = segment(token, rule.words, rule.longest_word)
        if parts is None:
            return None
        found.extend(parts)
    return found if len(found) >= rule.min_words else None


def test_a_widget_row_with_its_spaces_taken_out_is_still_cut_into_words(rules: dict[str, Rule]) -> None:
    rule = rules["widget-words"]
    for view in ("字号：大中小", "打印本页 关闭窗口", "大 中 小", "字号大中小了", "中小企业发展"):
        assert rule.match(view) == words_match_by_definition(rule, view), view


WIDGET_PIECES = st.sampled_from(
    ["大", "中", "小", "字号", "打印", "关闭", "窗口", "本页", " ", "|", "企业", "发展", "e"]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(WIDGET_PIECES, min_size=1, max_size=10).map("".join),
    st.sampled_from(["widget-words", "nav-words", "share-buttons", "link-row"]),
)
def test_words_rules_match_as_defined(rules: dict[str, Rule], view: str, rule_id: str) -> None:
    rule = rules[rule_id]
    assert rule.match(view) == words_match_by_definition(rule, view)


# -- reflow --------------------------------------------------------------------------------

REFLOW_PIECES = st.one_of(
    LINE_PIECES,
    st.sampled_from(
        [":", "「", "」", "《", "》", "？", "！", "；", " ", "——", "一是", "新华社北京12月10日电", "“双向"]
    ),
)
PARAGRAPH = st.lists(REFLOW_PIECES, max_size=30).map("".join)


def left_of(pieces: list[str]) -> reflow._Left:
    left = reflow._Left(pieces[0], ends_sentence(pieces[0]))
    for piece in pieces[1:]:
        left.join(piece, ends_sentence(piece))
    return left


@settings(max_examples=500, deadline=None)
@given(st.lists(PARAGRAPH.filter(bool), min_size=1, max_size=3), PARAGRAPH, st.floats(0, 400), st.booleans())
def test_a_score_cut_short_is_below_what_is_needed(a: list[str], b: str, typical: float, first: bool) -> None:
    """With ``need``, the score is the score whenever it reaches ``need``, and below it otherwise."""
    b_ends = ends_sentence(b)
    full = join_score(left_of(a), b, typical, first, b_ends)
    short = join_score(left_of(a), b, typical, first, b_ends, reflow.JOIN_SCORE)
    assert (full is None) == (short is None)
    if full is not None and short is not None:
        assert (short >= reflow.JOIN_SCORE) == (full >= reflow.JOIN_SCORE)
        if full >= reflow.JOIN_SCORE:
            assert short == full


def test_the_held_sets_are_parts_of_the_punctuation() -> None:
    """join_score answers every set for an A without PUNCTUATION with one scan."""
    assert all(set(chars) <= set(reflow._HELD[reflow._ALL_MARKS]) for chars in reflow._HELD)


def test_a_title_without_marks_scores_without_reading_them_again() -> None:
    title = "关于印发某市优化营商环境实施方案的通知"
    # The first pair of the page, A short (-2), neither comma nor full stop in A (-4), no mark
    # at all in A (-2).
    assert join_score(left_of([title]), "各区人民政府，市政府各部门：", 60.0, True, False) == -8


def joins_by_definition(paragraphs: list[str]) -> list[int]:
    """broken_paragraph_joins without its gate, its memos and the cut-short scores: every
    pair scored in every pass until a pass joins nothing."""
    groups = [[i] for i in range(len(paragraphs))]
    for _ in range(reflow.MAX_PASSES):
        texts = ["".join(paragraphs[i] for i in group) for group in groups]
        endings = [ends_sentence(text) for text in texts]
        typical = reflow.typical_length(texts, endings)
        merged: list[list[int]] = []
        left: reflow._Left | None = None
        for group, text, text_ends in zip(groups, texts, endings, strict=True):
            score = None if left is None else join_score(left, text, typical, merged[-1][0] == 0, text_ends)
            if left is not None and score is not None and score >= reflow.JOIN_SCORE:
                merged[-1] += group
                left.join(text, text_ends)
            else:
                merged.append(list(group))
                left = reflow._Left(text, text_ends) if text else None
        if len(merged) == len(groups):
            break
        groups = merged
    return [group[k] for group in groups for k in range(len(group) - 1)]


def test_a_page_of_several_passes_joins_what_every_pair_every_pass_joins(monkeypatch: pytest.MonkeyPatch) -> None:
    # A gazette's list of items, each cut before its note in brackets: the join of 3 and 4 is
    # made only in a later pass, after the pass that joined 4 and 5, and that pass asks the
    # pairs on its left again (from the memo where their sides did not change).
    page = [
        "储槽专用室出入口门槛或同等以上效能之防止流出措施。（第三十三条第十六款）",
        "围阻措施或同等以上效能之防止流出措施、帮浦设备之基础高度。（第三十五条第一款第二目第五子目、第三目第一子目、第二款、第三款、第四款第一目本文及第二目第二子目）",
        "油水分离装置。（第三十五条第一款第三目第三子目、第三款）",
        "采光、照明及通风设备。（第三十三条第十七款、第三十四条本文、第三十五条第一款第二目第六子目、第二款第一目、第三款、第四款第一目本文）",
        "排出设备。（第三十三条第十七款、第三十四条本文、第三十五条第一款第二目第七子目、第二款第一目、第三款、第四款第一目本文）",
        "防火闸门。（第三十四条第七款、第三十五条第四款第一目第五子目）",
        "安全装置、通气管。（第三十三条第六款、第三十四条本文）",
        "自动显示储量装置。（第三十三条第七款、第三十四条本文及第二款）",
    ]
    joins = broken_paragraph_joins(page)
    assert joins == joins_by_definition(page)
    monkeypatch.setattr(reflow, "MAX_PASSES", 1)
    assert broken_paragraph_joins(page) != joins  # one pass is not enough


@settings(max_examples=300, deadline=None)
@given(st.lists(PARAGRAPH, max_size=14))
def test_joins_are_those_of_every_pair_every_pass(paragraphs: list[str]) -> None:
    assert broken_paragraph_joins(paragraphs) == joins_by_definition(paragraphs)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(BODY_PIECES, max_size=12).map("".join), min_size=1, max_size=5), st.data())
def test_the_lowered_text_kept_is_that_of_the_text_asked_about(texts: list[str], data: st.DataObject) -> None:
    """may_hold_one keeps one text's lower case for the rules that ask in turn: asked about
    another text (or an equal copy), it answers for that one."""
    strings = gates.required_strings("bet365|bbin|万博(?:体育|娱乐)|注册送\\d+")
    for _ in range(len(texts) * 2):
        text = data.draw(st.sampled_from(texts))
        for asked in (text, "".join(list(text))):
            expected = any(char in asked for char in gates.ASCII_LOOKALIKES) or any(
                string in asked.lower() for string in strings
            )
            assert gates.may_hold_one(asked, strings) == expected
