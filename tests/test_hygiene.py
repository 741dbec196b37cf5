"""Hygiene and paragraph layout on real fragments of the seed pages."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from cleankit import Pipeline, Settings
from cleankit.core.document import Document, undo_steps
from cleankit.stages.hygiene import EDGE_SPACES, LINE_BREAK_CHARS, HygieneStage
from cleankit.stages.paragraphs import ParagraphStage


def run(stage, text: str) -> Document:
    doc = Document.from_text(text)
    stage.run(doc)
    assert undo_steps(doc.text, doc.edits) == text
    return doc


def test_indentation_and_nbsp_from_seed_001() -> None:
    text = (
        "\u00a0\u00a0现将《广西科技创新“十四五”规划》印发给你们，请认真贯彻执行。\r\n"
        "                         广西壮族自治区人民政府     \r\n"
    )
    doc = run(HygieneStage(), text)
    assert doc.text == "现将《广西科技创新“十四五”规划》印发给你们，请认真贯彻执行。\n广西壮族自治区人民政府\n"
    assert {e.rule for e in doc.edits} == {"line-endings", "space-variants", "line-trim"}


def test_invisible_and_control_characters_go() -> None:
    doc = run(HygieneStage(), "科技\u200b创新\x07驱动\u00ad发展\ufeff")
    assert doc.text == "科技创新驱动发展"


def test_ideographic_space_runs_collapse() -> None:
    doc = run(HygieneStage(), "第一章\u3000\u3000把握科技创新发展新环境")
    assert doc.text == "第一章 把握科技创新发展新环境"


def test_nfc_merges_decomposed_forms_and_compatibility_ideographs() -> None:
    doc = run(HygieneStage(), "Cafe\u0301 \uf900")
    assert doc.text == "Café \u8c48"
    assert doc.edits[-1].rule == "nfc"


def test_full_width_punctuation_is_untouched() -> None:
    text = "创新是推动一个国家、一个民族向前发展的力量。（一）“十三五”；！？"
    assert run(HygieneStage(), text).text == text


def test_paragraphs_one_blank_line_between_and_final_newline() -> None:
    doc = run(ParagraphStage(), "\n\n建设具有区域特色的广西创新体系\n\n\n\n——访广西科技厅厅长\n文·本报记者 江东洲")
    assert doc.text == "建设具有区域特色的广西创新体系\n\n——访广西科技厅厅长\n\n文·本报记者 江东洲\n"


def test_whitespace_only_document_becomes_empty() -> None:
    pipeline = Pipeline.from_settings(Settings())
    assert pipeline.clean_text(" \r\n\u3000\n\t\n").text == ""


# The line-edge pattern as first written: "^ +" or a run of spaces ending a line, tried
# from its first space. EDGE_SPACES is a faster form of it that must find the same spans.
REFERENCE_EDGE_SPACES = re.compile(r"^ +|(?<! ) +$", re.MULTILINE)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=" \n\r\t a中", max_size=40))
def test_edge_spaces_finds_what_the_plain_pattern_finds(text: str) -> None:
    expected = [match.span() for match in REFERENCE_EDGE_SPACES.finditer(text)]
    assert [match.span() for match in EDGE_SPACES.finditer(text)] == expected


def test_edge_spaces_on_lines_of_spaces_and_inner_runs() -> None:
    text = "  a  b  \n   \n\nc \n d"
    assert [match.span() for match in EDGE_SPACES.finditer(text)] == [(0, 2), (6, 8), (9, 12), (15, 16), (17, 18)]
    doc = run(HygieneStage(), "\u3000\u3000第一条  总则  \r\n  \r\n第二条")
    assert doc.text == "第一条 总则\n\n第二条"


def test_line_breaks_are_skipped_only_when_the_text_has_none() -> None:
    for char in LINE_BREAK_CHARS:
        doc = run(HygieneStage(), f"第一条{char}第二条")
        assert doc.text == "第一条\n第二条" and [e.rule for e in doc.edits] == ["line-endings"]
    assert not run(HygieneStage(), "第一条\n第二条").edits
