"""Markup left by the crawler: removed or decoded; Chinese text with colons and semicolons kept."""

from __future__ import annotations

import pytest
from scaling import MAX_RATIO, doubling_ratio

from cleankit import Pipeline, Settings
from cleankit.core.document import Document
from cleankit.core.provenance import build_record, restore_from_record
from cleankit.stages.markup import MarkupStage


def run(text: str, **options: bool) -> Document:
    document = Document.from_text(text)
    MarkupStage(**options).run(document)
    return document


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('-top: 0px; margin-bottom: 0px; font-family: 微軟雅黑; font-size: 16pt;"> 新質生產力', "新質生產力"),
        ('ize: 12px; color: #333333">广西科技厅', "广西科技厅"),
        ('class="MsoNormal" style="text-indent:2em">各市、县人民政府', "各市、县人民政府"),
        ("<p>第一段</p><p>第二段</p>", "\n第一段\n\n第二段\n"),
        ("通知<br/>正文", "通知\n正文"),
        ('<span style="color:red">重要</span>通知', "重要通知"),
        ("前<script type='text/javascript'>var a = 1 < 2;</script>后", "前后"),
        ("前<style>.a{color:red}</style>后", "前后"),
        ("前<!-- 注释 -->后", "前后"),
        ("中&#x4e2d;国&#22269;", "中中国国"),
        ("A&amp;B &lt;通知&gt; &quot;x&quot;", 'A&B <通知> "x"'),
        ("发布&nbsp;&nbsp;时间", "发布 时间"),
        ("双重&amp;nbsp;转义", "双重 转义"),
        ("&lt;p&gt;文字&lt;/p&gt;", "\n文字\n"),
        (".TRS_Editor P{margin-top:0;}\n正文", "正文"),
    ],
)
def test_markup_is_removed_or_decoded(text: str, expected: str) -> None:
    assert run(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "记者:党的十八大以来,创新驱动已成为我国经济社会发展的一大主旋律;",
        "公式: a < b 且 c > d",
        "电话:0776-5588685;传真:0776-5588681>",
        "《广西科技创新“十四五”规划》印发",
        "比例为 3:2; 时间 08:19:13",
        "AT&T 和 R&D 投入",
        "网址 http://www.gxzf.gov.cn/index.html?a=1&b=2",
        "<<十四五>>规划",
    ],
)
def test_text_that_only_looks_like_markup_is_kept(text: str) -> None:
    document = run(text)
    assert document.text == text and not document.edits


def test_rules_can_be_switched_off_and_restore_is_exact() -> None:
    text = "<b>粗体</b>&nbsp;文字"
    assert run(text, tags=False).text == "<b>粗体</b> 文字"
    assert run(text, entities=False).text == "粗体&nbsp;文字"
    # Stages that leave the entity's ";" alone (punctuation would make it full-width in Chinese text).
    stages = ["mojibake", "hygiene", "markup", "paragraphs"]
    pipeline = Pipeline.from_settings(Settings(stages=stages, stage_options={"markup": {"entities": False}}))
    document = pipeline.clean_text(text)
    assert document.text == "粗体&nbsp;文字\n"
    record = build_record(document, "t", None)
    assert restore_from_record(document.text, record) == text


def test_markup_edits_are_in_provenance_with_before_and_after() -> None:
    document = Pipeline.from_settings(Settings()).clean_text('x: 1px;">正文&#x4e2d;')
    rules = {(e.stage, e.rule): (e.old, e.new) for e in document.edits}
    assert rules[("markup", "attribute-tail")] == ('x: 1px;">', "")
    assert rules[("markup", "entities")] == ("&#x4e2d;", "中")


def test_cut_tag_tails_take_linear_time() -> None:
    """Adjacent name=value pairs whose unquoted values could also be read as further pairs
    (a=ba=b…) and no closing ">" once made the attribute-tail rule try every split: 17 s
    for 20 pairs, five times that for two more."""
    assert run("a=b" * 20 + " x>").text == "a=b" * 20 + " x>"
    assert run("a=b" * 20 + ">正文").text == "正文"

    def make(size: int) -> str:
        return ("a=b" * 20 + " x>\n") * size

    assert doubling_ratio(make, run, 1_000) < MAX_RATIO
    assert doubling_ratio(lambda size: "a=b" * size + " x>", run, 20_000) < MAX_RATIO


def test_unclosed_comments_and_blocks_take_linear_time() -> None:
    """Each '<!--' without a '-->' after it once rescanned the rest of the text (one lazy
    regex for all blocks): k of them cost k times the page."""
    assert run("正文<!-- 注释 -->继续<!-- 没有结尾").text == "正文继续<!-- 没有结尾"
    assert run("<script>var a;</script>正文<style>p{}").text == "正文<style>p{}"
    for unit in ("<!-- ", "<style>x ", "<script>"):
        assert doubling_ratio(lambda size, unit=unit: unit * size, run, 2_000) < MAX_RATIO
