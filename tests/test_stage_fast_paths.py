"""Fast paths of the stages (issue 12, per-document CPU) give what the slow paths give.

Each test runs a fast path and the plain definition it replaces on the same input, and asks
for the same answer: a gate in front of a search, a scan shared by several questions, a
memo. Inputs come from alphabets made of what the paths branch on (punctuation, quotes,
colons, headings, long and short text).
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_reflow import LINE_PIECES

from cleankit.core.document import Document, Edit
from cleankit.core.errors import EditConflict
from cleankit.core.provenance import build_record
from cleankit.stages import punctuation, reflow, repeats
from cleankit.stages.boilerplate import sitelearn
from cleankit.stages.reflow import _HELD, _Left, ends_sentence, join_score
from cleankit.stages.repeats import RepeatsStage
from cleankit.text import small
from cleankit.text.plausibility import chinese_model

# -- reflow --------------------------------------------------------------------------

# The reflow tests' pieces, and what the fast paths branch on besides: more closing and
# sentence marks, colons, a dateline.
REFLOW_PIECES = st.one_of(
    LINE_PIECES,
    st.sampled_from([":", "「", "」", "《", "》", "？", "！", "；", ".", " ", "——", "新华社北京12月10日电"]),
)
PARAGRAPH = st.lists(REFLOW_PIECES, max_size=40).map("".join)
# Long paragraphs too: the character test switches from one scan to a search per character.
LONG_PARAGRAPH = st.tuples(PARAGRAPH, st.integers(1, 12)).map(lambda pair: pair[0] * pair[1])


@settings(max_examples=400, deadline=None)
@given(PARAGRAPH.filter(bool), PARAGRAPH, st.floats(0, 400), st.booleans())
def test_a_paragraph_the_gate_skips_joins_nothing(a: str, b: str, typical: float, first: bool) -> None:
    """broken_paragraph_joins builds no left side for a paragraph that ends a sentence or a
    colon: join_score must veto every pair it would start."""
    a_ends = ends_sentence(a)
    if a_ends or a[-1] in reflow.COLONS:
        assert join_score(_Left(a, a_ends), b, typical, first, ends_sentence(b)) is None


@settings(max_examples=400, deadline=None)
@given(st.one_of(PARAGRAPH, LONG_PARAGRAPH), st.sampled_from([*_HELD, reflow.PUNCTUATION]), st.integers(0, 400))
def test_has_any_is_a_search_per_character(text: str, chars: str, end: int) -> None:
    end = min(end, len(text))
    assert reflow._has_any(text, chars) == any(c in text for c in chars)
    assert reflow._has_any(text, chars, end) == any(c in text[:end] for c in chars)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PARAGRAPH, LONG_PARAGRAPH).filter(bool), min_size=1, max_size=5), st.integers(0, 300))
def test_left_ends_read_the_joined_text(pieces: list[str], size: int) -> None:
    left = _Left(pieces[0], ends_sentence(pieces[0]))
    for piece in pieces[1:]:
        left.join(piece, ends_sentence(piece))
    whole = "".join(pieces)
    assert left.tail(size) == (whole[-size:] if size else "")
    probe = whole[-size:] if size else "x"
    assert left.endswith(probe) == whole.endswith(probe)
    assert left.endswith("。" + probe) == whole.endswith("。" + probe)
    for which in range(len(_HELD)):
        assert left.holds(which, but_last_char=True) == any(c in whole[:-1] for c in _HELD[which])
        assert left.holds(which, but_last_char=False) == any(c in whole for c in _HELD[which])


# -- Document.apply --------------------------------------------------------------------

SPANS = st.lists(
    st.tuples(st.integers(0, 30), st.integers(0, 4), st.sampled_from(["", " ", "x", "通知", "\n"])), max_size=8
)


def _outcome(text: str, edits: list[Edit]) -> tuple[str, list[tuple[int, int, str, str, int]]] | str:
    document = Document.from_text(text)
    try:
        document.apply("stage", [Edit(e.stage, e.rule, e.start, e.end, e.old, e.new) for e in edits])
    except EditConflict as exc:
        return str(exc)
    return document.text, [(e.start, e.end, e.old, e.new, e.step) for e in document.edits]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab 通知\n", max_size=30), SPANS, st.randoms(use_true_random=False), st.booleans())
def test_apply_in_the_given_order_is_apply_in_sorted_order(
    text: str, spans: list[tuple[int, int, str]], rng: random.Random, stale: bool
) -> None:
    """A batch is checked in its own order first and sorted only when that fails: the text,
    the stored edits and any error are those of the sorted batch."""
    edits = [Edit("", "r", start, start + length, text[start : start + length], new) for start, length, new in spans]
    if stale and edits:
        edits[0].old += "?"  # an edit whose old text is not the span's
    shuffled = list(edits)
    rng.shuffle(shuffled)
    in_order = sorted(shuffled, key=lambda e: (e.start, e.end))  # stable: ties keep the given order
    assert _outcome(text, shuffled) == _outcome(text, in_order)
    outcome = _outcome(text, in_order)
    if not isinstance(outcome, str):
        expected = text
        for edit in reversed(in_order):
            expected = expected[: edit.start] + edit.new + expected[edit.end :]
        assert outcome[0] == expected


# -- provenance: per-rule totals and reasons -------------------------------------------

EDIT_FIELDS = st.tuples(
    st.sampled_from(["hygiene", "script", "boilerplate"]),
    st.sampled_from(["line-trim", "space-variants", "opencc-t2s"]),
    st.sampled_from(["", "space at line edge", "other"]),
    st.sampled_from(["", " ", "通知"]),
    st.sampled_from(["", "x", "新"]),
    st.sampled_from([None, "para:1"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(EDIT_FIELDS, max_size=30))
def test_record_totals_and_reasons_follow_their_definition(
    fields: list[tuple[str, str, str, str, str, str | None]],
) -> None:
    """Totals are looked up again only when the rule changes, reasons gathered in one pass:
    the record still holds, per stage/rule, every edit counted and the reason all its edits
    give (on each edit only where they differ)."""
    document = Document.from_text("")
    document.edits = [
        Edit(stage, rule, i, i + len(old), old, new, reason, ref, step=i)
        for i, (stage, rule, reason, old, new, ref) in enumerate(fields)
    ]
    record = build_record(document, "settings", None)
    reasons: dict[str, set[str]] = defaultdict(set)
    expected: dict[str, dict[str, object]] = {}
    for edit in document.edits:
        key = f"{edit.stage}/{edit.rule}"
        reasons[key].add(edit.reason)
        entry = expected.setdefault(key, {"edits": 0, "chars_removed": 0, "chars_added": 0})
        entry["edits"] += 1  # type: ignore[operator]
        entry["chars_removed"] += len(edit.old)  # type: ignore[operator]
        entry["chars_added"] += len(edit.new)  # type: ignore[operator]
    for key, found in reasons.items():
        if len(found) == 1 and next(iter(found)):
            expected[key]["reason"] = next(iter(found))
    assert record["stats"] == expected
    assert list(record["stats"]) == list(expected)
    for edit, item in zip(document.edits, record["edits"], strict=True):
        shared = len(reasons[f"{edit.stage}/{edit.rule}"]) == 1
        assert ("reason" in item) == (bool(edit.reason) and not shared)
        assert {k: v for k, v in item.items() if k != "reason"} == {
            k: v for k, v in edit.to_json().items() if k != "reason"
        }


# -- punctuation: protected spans found once per text ------------------------------------

PROTECTED_PIECES = st.sampled_from(
    ["通知", "，", " ", "http://www.gov.cn/a?b=1,", "www.example.org.", "ban@gov.cn", "`x,y`", "@", "://", "a"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(PROTECTED_PIECES, max_size=12).map("".join), min_size=1, max_size=6), st.data())
def test_protected_spans_are_those_of_the_text_asked_about(texts: list[str], data: st.DataObject) -> None:
    """The one-text memo answers for the text asked about, whether that is the same object, an
    equal copy or another text."""
    for _ in range(len(texts) * 2):
        text = data.draw(st.sampled_from(texts))
        copy = "".join(list(text))  # equal, and (past one character) another object
        for asked in (text, copy):
            assert punctuation._Protected.of(asked).spans == punctuation.protected_spans(asked)


# -- site learning: the head and tail of a page ------------------------------------------

PAGE_LINES = st.sampled_from(
    [
        "首页 | 政务公开 | 政策文件",
        "来源：市政府办公室  浏览次数：1024",
        "各县（区）人民政府，市政府各部门：现将《实施方案》印发给你们，请结合实际认真贯彻落实。",
        "一、总体要求",
        "全面贯彻党的二十大精神，坚持稳中求进工作总基调，推动高质量发展取得新成效",
        "为进一步优化营商环境，激发市场主体活力，制定本方案。",
        "主办：某市人民政府办公室",
        "ICP备12345678号",
        "",
        "   ",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PAGE_LINES, max_size=80))
def test_candidate_lines_are_cut_at_the_first_and_last_sentence_like_line(lines: list[str]) -> None:
    text = "\n".join(lines)
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    body = [i for i, line in enumerate(kept) if sitelearn.sentence_like(line)]
    head, tail = (kept[: body[0]], kept[body[-1] + 1 :]) if body else (kept, kept)
    expected = (
        [line for line in head[: sitelearn.HEAD_LINES] if sitelearn.learnable(line, 60)],
        [line for line in tail[-sitelearn.TAIL_LINES :] if sitelearn.learnable(line, 60)],
    )
    assert sitelearn.candidate_lines(text, 60) == expected


# -- repeats: the offsets of a page as lists or as arrays --------------------------------

REPEAT_PARAGRAPHS = st.lists(
    st.sampled_from(
        [
            "关于印发《实施方案》的通知",
            "各县（区）人民政府，市政府各部门：现将《实施方案》印发给你们，请结合实际认真贯彻落实。",
            "全面贯彻党的二十大精神，坚持稳中求进工作总基调，推动高质量发展取得新成效。",
            "全面贯彻党的二十大精神，坚持稳中求进工作总基调",
            "相关链接：关于印发《实施方案》的通知",
            "第一条",
        ]
    ),
    max_size=16,
)


@settings(max_examples=150, deadline=None)
@given(REPEAT_PARAGRAPHS)
def test_repeats_edits_are_the_same_from_listed_and_array_offsets(paragraphs: list[str]) -> None:
    """A page's repeated offsets come back as lists up to OFFSETS_PER_SLICE of them and as
    arrays beyond: the edits are the same either way."""
    text = "\n\n".join(paragraphs)
    stage = RepeatsStage()
    with small.forced(True):  # numpy's offsets, handed back as lists
        listed = [edit.to_json() for edit in stage.find_edits(text)]
    with small.forced(True), pytest.MonkeyPatch.context() as patch:
        patch.setattr(repeats, "OFFSETS_PER_SLICE", 1)  # arrays past one offset, read one at a time
        arrays = [edit.to_json() for edit in stage.find_edits(text)]
    assert listed == arrays


# -- the character model: a text's log-probability ---------------------------------------

MODEL_CHARS = [*"关于印发实施方案的通知國務院發展，。?\ufffd\ue000aZ1 ", "\U00020000"]
MODEL_TEXT = st.text(alphabet=st.sampled_from(MODEL_CHARS), max_size=60)


@settings(max_examples=300, deadline=None)
@given(MODEL_TEXT, st.sampled_from([None, "", "的", "國", "\ufffd"]))
def test_total_logp_is_the_sum_of_logp_term_by_term(text: str, previous: str | None) -> None:
    """total_logp keeps its own tables of pair scores instead of the bounded memo: the sum is
    still logp's terms added in order, to the last bit."""
    model = chinese_model()
    previous = previous or None
    expected = 0.0
    if text:
        expected = model.logp(previous, text[0])
        for before, char in itertools.pairwise(text):
            expected += model.logp(before, char)
    assert model.total_logp(text, previous) == expected
