"""What the canonical-text stages must make of the seed pages (explicit, beside the goldens)."""

from __future__ import annotations

import re
from functools import cache

import pytest
from conftest import SAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from cleankit import Document, Pipeline, Settings
from cleankit.stages.script import script_mix
from cleankit.text.cjk import HAN

GLOSS_AFTER_HAN = re.compile(rf"(?<={HAN})[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+[)）]")


@cache
def cleaned(prefix: str, skip: tuple[str, ...] = ()) -> Document:
    sample = next(SAMPLES.glob(f"{prefix}_*.txt"))
    return Pipeline.from_settings(Settings(skip=list(skip))).clean_bytes(sample.read_bytes(), source=sample.name)


def paragraphs(document: Document) -> list[str]:
    return [line for line in document.text.split("\n") if line]


@pytest.mark.parametrize("prefix", ["002", "003"])
def test_traditional_pages_come_out_simplified_without_glosses(prefix: str) -> None:
    document = cleaned(prefix)
    script = document.metadata["script"]
    assert script["before"]["traditional"] > 400
    assert script["after"]["traditional"] == 0
    assert script_mix(document.text)["label"] == "simplified"
    assert GLOSS_AFTER_HAN.findall(document.text) == []
    assert sum(edit.rule == "pinyin-gloss" for edit in document.edits) > 200


def test_002_opening_phrase() -> None:
    assert "新质生产力是创新起主导作用" in cleaned("002").text
    assert "(zhì)" not in cleaned("002").text


def test_003_opening_phrase() -> None:
    assert cleaned("003").text.startswith("广佛极点建设再进一步。")


@pytest.mark.parametrize(
    "joined",
    [
        "推动发展的重要方法，通过调查研究促发展、重成效、惠民生。",
        "实现自主可控。在基础研究方面，",
        "总结分析广东荔枝保鲜技术应用的实际情况",
        "认真抓好科技赋能调研服务，成效明显，深受企业好评。",
        "广西壮族自治区科学技术厅坚持政策为大",
        "开展联合科研攻关，啃下“硬骨头”",
        "主题教育期间，青岛市科学技术局深入科技企业",
        "一体推进、同向发力。",
        "深入实施“沃土计划”，构建覆盖科技企业全生命周期",
    ],
)
def test_004_broken_paragraphs_are_joined(joined: str) -> None:
    assert joined in cleaned("004").text


@pytest.mark.parametrize(
    "heading",
    [
        "加快构建新发展格局，着力推动高质量发展",
        "广东：畅通创新发展的卡点堵点",
        "朱玉兵 天津市科学技术局党组书记、局长",
        "龚国平 广东省科学技术厅党组书记",
        "天津：完善创新服务促园区建设",
        "广西：助推边疆民族地区高质量发展",
        "李国忠 广西壮族自治区科学技术厅党组书记、厅长",
        "青岛：为高水平科技自立自强提供制度保障",
        "朱铁一 青岛市科学技术局党组书记、局长",
        "科技厅局负责人",
        "调研报告摘登",
    ],
)
def test_004_headings_and_bylines_stay_paragraphs(heading: str) -> None:
    assert heading in paragraphs(cleaned("004"))


@pytest.mark.parametrize(
    "joined",
    ["贯彻落实“四个全面”战略布局，与全国同步", "破除体制机制障碍，最大限度解放", "动力主要依靠科技进步，那么"],
)
def test_000_broken_paragraphs_are_joined(joined: str) -> None:
    assert joined in cleaned("000").text


@pytest.mark.parametrize(
    "heading",
    [
        "建设具有区域特色的广西创新体系 支撑实现“两个建成”目标",
        "——访广西科技厅厅长谢迺堂、党组书记曹坤华",
        "推动科技与经济深度融合 创新驱动发展取得新成效",
        "准确把握创新发展根本要求 建成具有区域特色的广西创新体系",
        "深化科技体制机制改革 充分释放科技创新活力",
        "聚焦产业创新 支撑转方式调结构促升级",
        "加大人才引进和培养力度 夯实创新驱动人才基础",
        "扩大科技开放合作 形成深度融合的开放创新局面",
    ],
)
def test_000_headings_stay_paragraphs(heading: str) -> None:
    assert heading in paragraphs(cleaned("000"))


def test_001_table_is_unchanged_by_reflow() -> None:
    document = cleaned("001")
    assert [e for e in document.edits if e.stage == "reflow"] == []
    assert paragraphs(document) == paragraphs(cleaned("001", skip=("reflow",)))
    cells = paragraphs(document)
    start = cells.index("序号")
    assert cells[start : start + 8] == [
        "序号",
        "指标",
        "2020年",
        "2025年",
        "1",
        "全社会研发经费投入增长（%）",
        "3.65",
        "22",
    ]
    assert "11.5" in cells


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_cleaning_clean_output_changes_nothing(prefix: str) -> None:
    once = cleaned(prefix).text
    again = Pipeline.from_settings(Settings()).clean_text(once)
    assert again.text == once
    assert again.edits == []


CANONICAL_PIECES = st.sampled_from(
    [
        "科技创新",
        "發展經濟",
        "新質(zhì)",
        "的重要方法，通",
        "过调查研究",
        "，",
        ",",
        "。",
        ":",
        "；",
        "(",
        ")",
        "（一）",
        "第一章 ",
        "“",
        "”",
        '"',
        "「",
        "」",
        " ",
        "\n",
        "\n\n",
        "\r\n",
        "\u3000",
        "abc",
        "1,000",
        "http://x.cn/a?b=1",
        "通 知",
    ]
)


@settings(max_examples=250, deadline=None)
@given(st.lists(CANONICAL_PIECES, max_size=40).map("".join))
def test_pipeline_is_idempotent_on_chinese_web_text(text: str) -> None:
    pipeline = Pipeline.from_settings(Settings())
    once = pipeline.clean_text(text)
    again = pipeline.clean_text(once.text)
    assert again.text == once.text
    assert again.edits == []


def test_provenance_of_a_traditional_page_restores_and_is_compact() -> None:
    from cleankit.core.provenance import build_record, restore_from_record

    document = cleaned("002")
    record = build_record(document, "test", None)
    stats = record["stats"]
    assert stats["script/pinyin-gloss"]["edits"] > 200
    assert stats["script/pinyin-gloss"]["reason"] == "pinyin gloss after characters"
    # 002 writes 著 for 着 (著力点): a Taiwan-standard page, converted with tw2s
    assert document.metadata["script"]["config"] == "tw2s.json"
    assert stats["script/opencc-tw2s"]["reason"] == "OpenCC tw2s.json (Taiwan-standard page)"
    # one edit per stretch of changed characters: far fewer edits than changed characters
    assert stats["script/opencc-tw2s"]["edits"] * 5 < stats["script/opencc-tw2s"]["chars_added"]
    assert "punctuation/width" in stats
    original = next(SAMPLES.glob("002_*.txt")).read_bytes().decode("utf-8")
    assert restore_from_record(document.text, record) == original
