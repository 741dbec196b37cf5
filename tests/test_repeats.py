"""The dedup stage: repeats inside one document."""

from __future__ import annotations

import re

import opencc
import pytest
from conftest import SAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from cleankit import Pipeline, Settings
from cleankit.core.document import Document
from cleankit.core.provenance import restore_text
from cleankit.stages.repeats import RepeatsStage, sentence_span
from cleankit.text.fold import canonical, view_positions

# Real sentences of government text (State Council and Guangxi notices), used as building blocks.
SENTENCES = [
    "各市、县人民政府,自治区人民政府各组成部门、各直属机构:",
    "现将《广西科技创新“十四五”规划》印发给你们,请认真贯彻执行。",
    "坚持创新在现代化建设全局中的核心地位,把科技自立自强作为发展的战略支撑。",
    "加快建设以企业为主体、市场为导向、产学研深度融合的技术创新体系。",
    "深入实施人才强桂战略,完善人才引进、培养、使用、评价和激励机制。",
    "推进科技成果转移转化,健全技术转移服务体系,促进科技成果就地转化。",
    "加强知识产权保护,完善知识产权运用机制,提高知识产权质量和效益。",
    "强化基础研究和应用基础研究,提升原始创新能力,夯实科技创新根基。",
    "优化区域创新布局,支持南宁、柳州、桂林等城市建设创新型城市。",
    "深化科技体制改革,改进科技项目组织管理方式,实行“揭榜挂帅”等制度。",
    "扩大科技开放合作,深化与东盟国家的科技交流,建设中国—东盟技术转移中心。",
    "营造良好创新生态,弘扬科学家精神,加强科研诚信和科技伦理建设。",
]
T2TW = opencc.OpenCC("s2tw")


def paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n") if p]


def dedup(text: str, **options) -> Document:
    document = Document.from_text(text)
    return RepeatsStage(**options).run(document)


def layout(*paras: str) -> str:
    return "\n\n".join(paras) + "\n"


def test_whole_repeat_and_suffix_windows_removed_with_ref() -> None:
    body = "".join(SENTENCES[:5])
    text = layout("关于加快科技创新的通知", body, body[40:], body[-30:], SENTENCES[6])
    document = dedup(text)
    assert paragraphs(document.text) == ["关于加快科技创新的通知", body, SENTENCES[6]]
    assert {e.rule for e in document.edits} == {"repeat"}
    assert all(e.ref == "para:2" for e in document.edits)
    assert restore_text(document.text, document.edits) == text


def test_exact_whole_repeat_of_paragraph() -> None:
    text = layout(SENTENCES[0], SENTENCES[2], SENTENCES[3], SENTENCES[2])
    document = dedup(text)
    assert paragraphs(document.text) == [SENTENCES[0], SENTENCES[2], SENTENCES[3]]
    assert document.edits[0].ref == "para:2"


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda s: T2TW.convert(s), id="traditional"),
        pytest.param(lambda s: s.replace(",", "\uff0c").replace(":", "\uff1a"), id="full-width punctuation"),
        pytest.param(lambda s: "\ufffd" + s[1:], id="truncated char at cut"),
        pytest.param(lambda s: s.replace("创新", "創新 ", 1), id="script and stray space"),
        pytest.param(lambda s: s[:30] + "和" + s[31:60] + s[62:], id="a few chars differ"),
    ],
)
def test_near_identical_repeat_removed(variant) -> None:
    body = "".join(SENTENCES[2:6])
    copy = variant(body)
    assert copy != body
    document = dedup(layout(body, SENTENCES[7], copy))
    assert paragraphs(document.text) == [body, SENTENCES[7]]
    assert restore_text(document.text, document.edits) == layout(body, SENTENCES[7], copy)


def test_different_paragraphs_sharing_phrases_stay() -> None:
    first = "".join(SENTENCES[2:5])
    second = SENTENCES[2][:20] + "，" + "".join(SENTENCES[8:11])
    document = dedup(layout(first, second))
    assert document.edits == []


@pytest.mark.parametrize(
    "lines",
    [
        ["序号", "项目名称", "1", "科技创新平台", "2", "人才引进", "1", "2"],
        ["单位:万元", "合计", "单位:万元", "合计"],
        ["(一)", "(二)", "(一)"],
    ],
)
def test_short_lines_below_min_chars_stay(lines: list[str]) -> None:
    text = layout(*lines)
    assert dedup(text).text == text


def test_short_line_inside_a_longer_one_stays() -> None:
    # Title, then the signature and the attachment's own heading: both occur inside the title.
    title = "广西壮族自治区人民政府关于印发广西科技创新“十四五”规划的通知"
    text = layout(title, SENTENCES[1], "广西壮族自治区人民政府", "2021年10月29日", "广西科技创新“十四五”规划")
    assert dedup(text).text == text


def test_min_chars_is_configurable() -> None:
    text = layout("在设定时限内进行集成", SENTENCES[3], "在设定时限内进行集成")
    assert len(paragraphs(dedup(text).text)) == 2
    assert dedup(text, min_chars=11, passage_chars=100).text == text


def test_grafted_passage_removed_text_around_intact() -> None:
    passage = "".join(SENTENCES[3:8])
    assert len(passage) >= 100
    first = SENTENCES[0] + passage + SENTENCES[8]
    host_before, host_after = SENTENCES[9], SENTENCES[10] + SENTENCES[11]
    second = host_before + passage + host_after
    text = layout(first, second)
    document = dedup(text)
    assert paragraphs(document.text) == [first, host_before + host_after]
    (edit,) = document.edits
    assert edit.rule == "passage"
    kept = paragraphs(document.text)[0]
    number, start, end = map(int, re.fullmatch(r"para:(\d+):(\d+)-(\d+)", edit.ref).groups())
    assert number == 1 and kept[start:end] == passage
    assert restore_text(document.text, document.edits) == text


def test_graft_cut_mid_sentence_keeps_whole_sentences() -> None:
    passage = "".join(SENTENCES[3:9])
    first = SENTENCES[0] + passage
    # The copy starts in the middle of a sentence of the second paragraph: that sentence stays whole.
    second = SENTENCES[9] + "并且" + passage[10:] + SENTENCES[11]
    document = dedup(layout(first, second))
    kept = paragraphs(document.text)[1]
    assert kept.startswith(SENTENCES[9] + "并且" + SENTENCES[3][10:])
    assert kept.endswith(SENTENCES[11])
    assert len(canonical(kept)) < len(canonical(second)) - 100


def test_short_passage_below_passage_chars_stays() -> None:
    shared = "".join(SENTENCES[3:5])
    assert len(shared) < 100
    text = layout(SENTENCES[0] + shared + SENTENCES[6], SENTENCES[9] + shared + SENTENCES[10])
    assert dedup(text).text == text


def test_paragraph_whose_rest_repeats_after_its_passages_go_names_each_source() -> None:
    # The shape hypothesis found with seed 0: a paragraph whose long passage repeats one kept
    # paragraph and whose rest, once that passage is cut, repeats another. It goes whole, and
    # each piece's ref must name the paragraph that holds that piece.
    intro, passage = SENTENCES[0], SENTENCES[2] + SENTENCES[2] + SENTENCES[0]
    first = "各直属机构:" + intro + intro + passage
    rest_source = intro + intro + intro + passage
    last = "属机构:" + intro + intro + passage
    text = layout(first, intro, rest_source, last)
    document = dedup(text)
    kept = paragraphs(document.text)
    last_start = text.rindex(last)
    pieces = [e for e in document.edits if e.start >= last_start - 2]
    assert {e.rule for e in pieces} == {"passage", "repeat"}
    assert "".join(e.old for e in pieces).strip("\n") == last
    for edit in pieces:
        number, *span = map(int, re.fullmatch(r"para:(\d+)(?::(\d+)-(\d+))?", edit.ref).groups(default="0"))
        target = kept[number - 1][span[0] : span[1]] if edit.rule == "passage" else kept[number - 1]
        assert fuzz.partial_ratio(canonical(edit.old), canonical(target)) >= 90
    assert restore_text(document.text, document.edits) == text
    assert dedup(document.text).edits == []


def test_sentence_span() -> None:
    text = "甲乙丙。丁戊己。庚辛壬"
    assert sentence_span(text, 1, 11) == (4, 11)
    assert sentence_span(text, 0, 6) == (0, 4)
    assert sentence_span(text, 1, 3) == (3, 3) or sentence_span(text, 1, 3)[0] == sentence_span(text, 1, 3)[1]


def test_canonical_view_positions_map_back() -> None:
    text = "體 育，\ufffd發展（一）"
    view = canonical(text)
    assert view == "体育,发展(一)"
    assert [text[i] for i in view_positions(text)] == [c for c in text if c not in " \ufffd"]


# -- seed 000: the three kinds of repeat at once; checks computed from the text, not listed --

SENTENCE_SPLIT = re.compile(r"(?<=[。！？!?；;])|\n")


def _seed_000_output() -> tuple[str, str]:
    sample = next(SAMPLES.glob("000_*.txt"))
    raw = sample.read_bytes()
    document = Pipeline.from_settings(Settings()).clean_bytes(raw, source=sample.name)
    return raw.decode("utf-8"), document.text


def test_seed_000_no_paragraph_contained_in_another() -> None:
    _, output = _seed_000_output()
    views = [canonical(p) for p in paragraphs(output)]
    for i, view in enumerate(views):
        if len(view) < 10:
            continue
        for j, other in enumerate(views):
            assert i == j or view not in other, (i, j, view[:30])


def test_seed_000_each_repeated_fragment_kept_once() -> None:
    original, output = _seed_000_output()
    joined_in = "\x00".join(canonical(p) for p in paragraphs(original))
    joined_out = "\x00".join(canonical(p) for p in paragraphs(output))
    repeated = [
        view for view in (canonical(p) for p in paragraphs(original)) if len(view) >= 10 and joined_in.count(view) > 1
    ]
    assert len(repeated) >= 10  # the seed does have many
    for view in repeated:
        assert joined_out.count(view) == 1, view[:30]


def test_seed_000_no_long_passage_twice() -> None:
    _, output = _seed_000_output()
    joined = "\x00".join(canonical(p) for p in paragraphs(output))
    width = 100
    seen: set[str] = set()
    for offset in range(len(joined) - width + 1):
        window = joined[offset : offset + width]
        if "\x00" in window:
            continue
        assert window not in seen, window
        seen.add(window)


def test_seed_000_every_body_sentence_present() -> None:
    original, output = _seed_000_output()
    joined_out = "\x00".join(canonical(p) for p in paragraphs(output))
    sentences = [canonical(s) for s in SENTENCE_SPLIT.split(original)]
    sentences = [s for s in sentences if len(s) >= 10]
    assert len(sentences) > 100
    missing = [s for s in sentences if s not in joined_out]
    assert missing == []
    assert len(output) < len(original) * 0.85


# -- properties ------------------------------------------------------------------

paragraph_text = st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=6).map("".join)


@st.composite
def pages(draw) -> str:
    paras = draw(st.lists(paragraph_text, min_size=1, max_size=8))
    extra = draw(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 200), st.integers(0, 7)), max_size=6))
    for source, cut, where in extra:
        base = paras[source % len(paras)]
        paras.insert(where % (len(paras) + 1), base[cut % max(1, len(base)) :])
    paras = [p for p in paras if p]
    short = draw(st.lists(st.sampled_from(["1", "2", "合计", "序号"]), max_size=3))
    return layout(*(paras + short))


@settings(max_examples=60, deadline=None)
@given(pages())
def test_restore_exact_and_idempotent(text: str) -> None:
    stage = RepeatsStage()
    document = stage.run(Document.from_text(text))
    assert restore_text(document.text, document.edits) == text
    again = stage.run(Document.from_text(document.text))
    assert again.edits == []
    # Every removal names a kept paragraph of the output that holds what was removed.
    kept = paragraphs(document.text)
    for edit in document.edits:
        number, *span = map(int, re.fullmatch(r"para:(\d+)(?::(\d+)-(\d+))?", edit.ref).groups(default="0"))
        target = kept[number - 1][span[0] : span[1]] if edit.rule == "passage" else kept[number - 1]
        assert fuzz.partial_ratio(canonical(edit.old), canonical(target)) >= 90
    if document.text:
        assert document.text.endswith("\n") and "\n\n\n" not in document.text


@settings(max_examples=40, deadline=None)
@given(st.permutations(SENTENCES), st.lists(st.integers(1, 4), min_size=12, max_size=12))
def test_text_without_repeats_passes_unchanged(sentences: list[str], sizes: list[int]) -> None:
    paras, cursor = [], 0
    for size in sizes:
        if cursor < len(sentences):
            paras.append("".join(sentences[cursor : cursor + size]))
            cursor += size
    text = layout(*paras, "1", "2", "1", "2")
    assert dedup(text).edits == []
