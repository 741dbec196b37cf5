"""The punctuation stage: full-width marks in Chinese text, quotes, spacing, optional NFKC."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scaling import MAX_RATIO, doubling_ratio

from cleankit.core.document import Document
from cleankit.core.provenance import restore_text
from cleankit.stages.punctuation import PunctuationStage, dominant_quote_style


def run(text: str, **options) -> Document:
    document = Document.from_text(text)
    PunctuationStage(**options).run(document)
    assert restore_text(document.text, document.edits) == text
    return document


CONVERTED = [
    ("记者:党的十八大以来,创新驱动已成为主旋律。", "记者：党的十八大以来，创新驱动已成为主旋律。"),
    ("是否可行?请研究!", "是否可行？请研究！"),
    ("一是加强攻关;二是强化引擎。", "一是加强攻关；二是强化引擎。"),
    ("“十三五”以来,广西", "“十三五”以来，广西"),
    ("2020年,全区", "2020年，全区"),
    ("采用AI,提高效率", "采用AI，提高效率"),
    ("时间:2021-11-22 08:19:13", "时间：2021-11-22 08:19:13"),
    ("电话:0776-5588685", "电话：0776-5588685"),
    ("中,,文", "中，，文"),
    ("广西 , 南宁", "广西，南宁"),
    ("发展\n\n,推动", "发展\n\n，推动"),
    ("人工智能(AI)应用", "人工智能（AI）应用"),
    ("三年行动方案(2020—2022)", "三年行动方案（2020—2022）"),
    ("记者(趙越)报道", "记者（趙越）报道"),
    ("(此件公开发布)", "（此件公开发布）"),
    ("第(2)项", "第（2）项"),
    ("增长(%),2020年为", "增长（%），2020年为"),
    ("研发投入占比达到52.7%,2020年企业研发投入增长", "研发投入占比达到52.7%，2020年企业研发投入增长"),
    (
        "全区全社会研发经费投入增长情况和主要经济指标完成情况都较好，分别为3.65%;22%。",
        "全区全社会研发经费投入增长情况和主要经济指标完成情况都较好，分别为3.65%；22%。",
    ),
    ("采用AI,提高效率", "采用AI，提高效率"),
    ("IAB(新一代信息技术、人工智能)", "IAB（新一代信息技术、人工智能）"),
    ("中国汽车技术研究中心(英文简称CATTC)", "中国汽车技术研究中心（英文简称CATTC）"),
    ("发展 ，推动 。下一步", "发展，推动。下一步"),
    ("“ 两个建成 ”目标", "“两个建成”目标"),
    ("通 知", "通知"),
    ("关 于 印 发 规划的通知", "关于印发 规划的通知"),
]

KEPT = [
    "共有1,000人参加",
    "会议于3:30开始",
    "比例接近1:21。",
    "全区企业数量达到1,000,000家",
    "会议于上午9:30:00在南宁召开",
    "中文报道中的英文句子 Hello, world! 不变",
    "Hello, world! This is: fine; ok?",
    "详见 https://www.gov.cn/zhengce/content?id=1,2;x=3 。",
    "详见https://www.gov.cn/a?b=1,c",
    "联系邮箱:ab.cd@gov.cn",  # only the colon after 邮箱 changes; checked below
    "代码 `a, b = f(x); g(y)!` 在此",
    "函数f(x)的值",
    "IPv4(a)地址",
    "朱玉兵 天津市科学技术局党组书记、局长",
    "推动科技与经济深度融合 创新驱动发展取得新成效",
    "广州 IAB（新一代信息技术）",
    "文件下载:report.doc",  # the colon follows Chinese: converted, checked below
    "version 1.2 (beta)",
    "(a) first item; (b) second item.",
]


@pytest.mark.parametrize(("text", "expected"), CONVERTED)
def test_chinese_punctuation_becomes_full_width(text: str, expected: str) -> None:
    assert run(text).text == expected


@pytest.mark.parametrize("text", KEPT)
def test_english_numbers_urls_code_stay(text: str) -> None:
    out = run(text).text
    if "邮箱:" in text or "下载:" in text:
        assert out == text.replace(":", "：", 1)
    else:
        assert out == text


def test_quotes_follow_the_dominant_style() -> None:
    assert run('他说"你好"，“我们”和“他们”走吧').text == "他说“你好”，“我们”和“他们”走吧"
    assert run("「甲」和「乙」与“丙”").text == "「甲」和「乙」与「丙」"
    assert run("“甲”和“乙”与「丙」，『丁』").text == "“甲”和“乙”与“丙”，‘丁’"
    # straight quotes dominate: left as they are, never a conversion to straight quotes
    assert run('"甲"和"乙"与“丙”').text == '"甲"和"乙"与“丙”'
    # straight quotes in English stay
    assert run('He said "yes".').text == 'He said "yes".'


def test_dominant_quote_style() -> None:
    assert dominant_quote_style("“甲”") == "curly"
    assert dominant_quote_style("「甲」") == "corner"
    assert dominant_quote_style('"甲""乙"') == "straight"
    assert dominant_quote_style("") == "curly"


def test_nfkc_is_optional_and_only_folds_letters_and_digits() -> None:
    text = "ＡＢＣ公司２０２３年，“增长”（１２％）。"
    assert run(text).text == text
    assert run(text, nfkc=True).text == "ABC公司2023年，“增长”（12％）。"


def test_each_rule_is_its_own_step() -> None:
    document = run("人工智能(AI),发展 。")
    assert [e.rule for e in document.edits] == ["brackets", "brackets", "width", "cjk-spacing"]  # no quotes here
    assert all(e.reason for e in document.edits)


PIECES = st.sampled_from(
    [*list("中文发展科技,:;?!()，：；？！（）“”「」\"' \nab12%."), "http://x.cn/a?b=1,c", "`f(x),y`"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=50).map("".join), st.booleans())
def test_punctuation_is_idempotent(text: str, nfkc: bool) -> None:
    once = run(text, nfkc=nfkc).text
    again = run(once, nfkc=nfkc)
    assert again.text == once
    assert again.edits == []


@pytest.mark.parametrize(
    ("left", "unit", "right"),
    [
        ("中文", ", ", "中文"),  # every mark's nearest Chinese character lies past all the others
        ("中文", "?", "中文"),  # a page a wrong codec left as question marks
        ("abc", ", ", "xyz"),  # no Chinese neighbour at all: every mark walked both ways
    ],
)
def test_long_runs_of_marks_take_linear_time(left: str, unit: str, right: str) -> None:
    """Each mark once looked for its neighbours by walking over every mark beside it: a
    run of n marks took n² steps (", " x 20,000: over a minute)."""

    def make(size: int) -> str:
        return left + unit * size + right

    ratio = doubling_ratio(make, lambda text: PunctuationStage().run(Document.from_text(text)), 6_000)
    assert ratio < MAX_RATIO


LOST = [
    "国务院关于印发?国家标准化发展纲要?的通知",  # book-title marks lost in conversion
    "2020?年全区研发投入",
    "发展\ufffd?推动",  # next to an undecodable byte
    "关于??的通知",
    "本报讯？记者",  # a full-width one is flagged too (and stays as it is)
]


@pytest.mark.parametrize("text", LOST)
def test_a_question_mark_standing_for_a_lost_character_is_flagged_not_widened(text: str) -> None:
    document = run(text)
    assert document.text == text
    marks = [i for i, char in enumerate(text) if char in "?？"]
    assert [(f["rule"], f["start"], f["end"]) for f in document.flags] == [("lost-character", i, i + 1) for i in marks]


ASKING = ["是否可行?请研究", "你去哪?我不知道", "广西如何把创新引向深入,让它成为引擎?近日", "真的吗??好"]


@pytest.mark.parametrize("text", ASKING)
def test_a_question_in_a_sentence_that_asks_is_still_widened(text: str) -> None:
    document = run(text)
    assert "?" not in document.text and not document.flags


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("全市会议召开，部署安全生产工作\n。\n正文第二段。", "全市会议召开，部署安全生产工作。\n正文第二段。"),
        ("他说：“要抓好落实\n”。\n", "他说：“要抓好落实”。\n"),
        ("这是为什么\n？", "这是为什么？"),
    ],
)
def test_a_line_of_closing_marks_ends_the_line_before_it(text: str, expected: str) -> None:
    document = run(text)
    assert document.text == expected
    assert {edit.rule for edit in document.edits} == {"stranded-stop"}
    assert restore_text(document.text, document.edits) == text


@pytest.mark.parametrize(
    "text",
    [
        "会议召开。\n。",  # the line before already ends its sentence
        "首页 > 新闻中心\n】",  # not a sentence's end
        "工作部署\n\n。",  # a paragraph apart: reflow's to judge
        "Meeting held\n.",  # not Chinese
    ],
)
def test_other_lines_of_marks_stay(text: str) -> None:
    assert run(text).text == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("科技创新\n,\n其中", "科技创新\n，\n其中"),
        ("共1,000\n,\n", "共1,000\n，\n"),  # its neighbours are digits, the page is Chinese
        ("See the list\n,\n", "See the list\n,\n"),  # no Chinese on the page
    ],
)
def test_a_mark_alone_on_its_line_follows_the_page(text: str, expected: str) -> None:
    assert run(text).text == expected


def test_a_mark_alone_on_its_line_reads_the_same_when_the_output_is_cleaned_again() -> None:
    """The repeated line removed by the first cleaning stood between the mark and the text
    above it: the second cleaning must not find a Chinese neighbour the first did not."""
    from cleankit import Pipeline, Settings

    pipeline = Pipeline.from_settings(Settings())
    once = pipeline.clean_text("的重要方法，通1,000科技创新\n的重要方法，通1,000\n,")
    assert once.text.endswith("\n，\n")
    assert pipeline.clean_text(once.text).text == once.text
