"""The reflow stage: paragraphs cut mid-sentence are joined, nothing else is."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scaling import MAX_RATIO, doubling_ratio

from cleankit.core.document import Document
from cleankit.core.provenance import restore_text
from cleankit.stages.paragraphs import ParagraphStage
from cleankit.stages.reflow import ReflowStage, broken_paragraph_joins

# Ordinary prose paragraphs that give a document its typical paragraph length.
PROSE = [
    "我们多次前往广州、深圳、北京等地创新一线开展解剖式调研，多次与中国科学院、中国农业科学院、香港大学、"
    "华南理工大学等科研机构或高校的专家开展专题研讨，剖析广东创新发展存在的问题，深入研究推进工作的举措与思路。",
    "针对调查研究发现的科技创新卡点、堵点、痛点，我们以“重实践、建新功”为导向，推动形成一批有效的做法，"
    "持续完善科技创新体制机制，加快推进高水平科技自立自强，为经济社会发展提供有力支撑。",
    "高科技园区在科技自立自强中承载着重大而光荣的历史使命。园区新增入驻企业528家，聚集金融机构108家，"
    "吸引服务机构95家，推动一批高校创新成果在此落地转化，形成了良好的创新创业生态。",
]


def reflow(paragraphs: list[str]) -> list[str]:
    document = Document.from_text("\n\n".join(paragraphs) + "\n")
    ReflowStage().run(document)
    assert restore_text(document.text, document.edits) == "\n\n".join(paragraphs) + "\n"
    assert all(edit.rule == "join-broken-paragraph" and edit.new == "" for edit in document.edits)
    return [p for p in document.text.split("\n") if p]


def joined(a: str, b: str) -> bool:
    out = reflow([*PROSE, a, b, *PROSE])
    return a + b in out


JOINED = [
    # cut after a clause mark
    (
        "广东省科学技术厅积极贯彻落实党中央关于大兴调查研究的重要要求，制订调查研究工作方案，并把调查研究作为"
        "发现问题、解决问题、推动发展的重要方法，通",
        "过调查研究促发展、重成效、惠民生。",
    ),
    (
        "实施高新技术企业“倍增”和“再倍增”计划、瞪羚企业培育计划，做强前端，深入实施“沃土计划”，",
        "构建覆盖科技企业全生命周期的培育和服务体系。",
    ),
    ("统筹推进教育科技人才体制机制一体改革，实现教育、科技、", "人才三者有效耦合，产生强大的化学效应。"),
    # cut in the middle of a word in a long paragraph
    (
        "一是聚焦加快实现高水平科技自立自强，增强创新能力，支撑高质量发展。在核心技术攻关方面，实施重点领域研发计划，"
        "实现技术突破，支撑广东重点领域产业链、供应链实现自主可控。在基础研",
        "究方面，积极探索基础研究体制机制改革，全面开展改革试点。",
    ),
    # a full sentence, then a fragment cut off
    (
        "推动科技创新持续“提速进位”，进一步奠定高水平科技自立自强根基。十年来，广西壮族自治区科学技",
        "术厅坚持政策为大、项目为王。",
    ),
    # short question line cut before a one-character word end
    (
        "记者:坚持创新发展,最紧迫的是破除体制机制障",
        "碍,最大限度解放和激发创新活力。结合广西的实际,应该如何做好这篇大文章?",
    ),
    # the next line starts with punctuation no sentence starts with
    ("围绕自治区千亿元和战略性新兴产业聚焦重大战略产品", "，在设定时限内进行集成式协同攻关。"),
    ("广州 IAB（新一代信息技术、人工智能、生物医药", "）等产业优势明显，结合佛山先进制造业的基础和需求。"),
    # an open quotation or book title
    ("党的二十届三中全会指出，“加强国家战略科技力量建设，完善国家实验室体系", "，优化国家科研机构定位和布局”。"),
    ("根据《中华人民共和国国民经济和社会发展第十四个五年规划和", "2035年远景目标纲要》精神，制定本规划。"),
    ("2023年，全区科技创新能力持续提升，全年研发经费投入比上年增长了", "2.5倍，占地区生产总值的比重进一步提高。"),
    # a list item that already holds a sentence, cut in its second sentence
    ("（一）着力扩大国内需求。把恢复和扩大消费摆在优先位置。多渠道增加城乡居民", "收入。稳定汽车等大宗消费。"),
    ("——经济结构和区域布局继续优化。粮食产量1.37万亿斤，创历史新高。高技术", "制造业增加值增长18.2%。"),
    # medium-length prose line with a clause mark, then the rest of the sentence
    (
        "在开展学习贯彻习近平新时代中国特色社会主义思想主题教育期间，青岛市",
        "科学技术局深入科技企业、科研院所，通过调研梳理问题。",
    ),
]

# Issue 13: cuts that a heading or short-line veto used to keep apart.
def test_a_quoted_term_cut_over_three_lines_is_joined() -> None:
    # A 2026 report's glossary (四川): a link around 揭榜 put the term on three lines, twice more below.
    pieces = [
        "7.“双向揭榜挂帅”：企业找技术、成果找市场“双向",
        "揭榜",
        "挂帅”的简称，其中“企业找技术”聚焦产业“卡脖子”核心技术、行业关键共性技术等，由技术供给方带团队、带技术",
        "揭榜",
        "；“成果找市场”以国省级科技奖励成果、高层次人才技术成果、中试成果等为重点，由成果需求方带资金、带场景",
        "揭榜",
        "。",
    ]
    assert reflow([*PROSE, *pieces, *PROSE]) == [*PROSE, "".join(pieces), *PROSE]


@pytest.mark.parametrize(
    "cut",
    [
        ["——2026年1月26日在广东省第十四届", "人民代表大会第五次会议上"],
        ["（2026年1月27日在贵州省第十四届", "人民代表大会第四次会议上）"],
    ],
)
def test_a_subtitle_cut_in_two_is_joined(cut: list[str]) -> None:
    page = ["政府工作报告", *cut, "广东省省长 孟凡利", "各位代表：", *PROSE]
    assert reflow(page) == ["政府工作报告", "".join(cut), "广东省省长 孟凡利", "各位代表：", *PROSE]


def test_a_whole_subtitle_stays_apart_from_the_speaker_and_a_byline() -> None:
    page = ["政府工作报告", "——2026年1月28日在云南省第十四届人民代表大会第四次会议上", "省长 王予波", *PROSE]
    assert reflow(page) == page
    page = ["——记某县扶贫干部张三", "本报记者 李四 王五", *PROSE]
    assert reflow(page) == page


NOT_JOINED = [
    # A ends a sentence
    ("我们要深入实施创新驱动发展战略。", "加快建设创新型广西，制定本规划。"),
    ("他说：“这是一项长期任务。”", "会议强调，要狠抓落实。"),
    ("全面提升科技创新能力！", "推动高质量发展。"),
    # A introduces a list
    ("通过调研，我们发现存在以下问题：", "一是科技资源不足，基础研究薄弱。"),
    ("各市、县人民政府,自治区人民政府各组成部门、各直属机构:", "现将《广西科技创新规划》印发给你们,请认真贯彻执行。"),
    # headings and list items
    ("第一章 把握科技创新发展新环境", "“十四五”时期是广西奋力建设壮美广西的关键时期，要实现加快发展。"),
    (
        "第三章 加快培育战略科技力量,优化面向产业",
        "聚焦广西产业高质量发展重大任务需求，结合产业链布局，提高科技创新保障能力。",
    ),
    ("一、指导思想", "以习近平新时代中国特色社会主义思想为指导，全面贯彻党的二十大精神。"),
    ("坚持创新在现代化建设全局中的核心地位，把科技自立自强作为战略支撑，", "（一）加强国家战略科技力量建设。"),
    ("按照统一部署，重点推进以下工作，", "1. 完善科技创新体制机制。"),
    ("按照统一部署，重点推进以下工作，", "①完善科技创新体制机制。"),
    ("按照统一部署，重点推进以下工作，", "1．完善科技创新体制机制。"),
    ("按照统一部署，重点推进以下工作，", "2.1 完善科技创新体制机制。"),
    ("按照统一部署，重点推进以下工作，", "Ⅱ、完善科技创新体制机制。"),
    ("按照统一部署，重点推进以下工作，", "附件2 重点任务分工表"),
    ("建立规划实施目标责任制，明确各项任务的牵头单位，", "专栏3 实施自治区重大人才项目"),
    ("建设具有区域特色的广西创新体系 支撑实现“两个建成”目标", "——访广西科技厅厅长谢迺堂、党组书记曹坤华"),
    # short headline-like lines
    ("加快构建新发展格局，着力推动高质量发展", "广东：畅通创新发展的卡点堵点"),
    ("天津：完善创新服务促园区建设", "为提高天津高教科创园的建设运营水平，天津市科学技术局广泛深入园区企业开展调研。"),
    ("探索联合设立广佛科技基金,两地平等申报", "未来,推动科技创新资源共享将成为两地的合作重点。"),
    ("科技厅局负责人", "调研报告摘登"),
    ("朱玉兵 天津市科学技术局党组书记、局长", "龚国平 广东省科学技术厅党组书记"),
    ("深化科技体制机制改革 充分释放科技创新活力", "记者:坚持创新发展,最紧迫的是破除体制机制障碍。"),
    # signatures and dates
    ("广西壮族自治区人民政府", "2021年10月29日"),
    # table cells
    ("全社会研发经费投入增长(%)", "3.65"),
    ("序号", "指标"),
    # enumerators start a sentence
    ("为抓好调研成果转化，努力破除科技体制机制障碍", "一是聚焦自立自强，搭建战略科技力量培育新体系。"),
    # a headline followed by a news lead
    (
        "习近平在中央经济工作会议上发表重要讲话，强调坚持稳中求进工作总基调",
        "新华社北京12月10日电 中央经济工作会议12月10日至11日在北京举行。",
    ),
    ("广西召开全区科技创新大会，部署加快建设创新型广西各项工作", "本报讯 近日，广西召开全区科技创新大会。"),
    # English is not reflowed
    ("This sentence was cut by a page break in the middle of", "a line of English text, which is left alone."),
    # gazette titles and order lines hold no comma; the text after them is a paragraph of its own
    (
        "行政院国家科学技术发展基金收支保管及运用办法第三条、第六条、第七条修正草案总说明",
        "行政院国家科学技术发展基金收支保管及运用办法系于六十年六月二十三日奉行政院核定施行。",
    ),
    ("中华民国95年8月24日台人（一）字第0950120905C号令修正", "教育部为规范各级学校专任教师之借调，特订定本原则。"),
    (
        "民事诉讼法增订第四十五条之一、第五百七十一条之一及第六百二十四条之一至第六百二十四条之八条文",
        "辅助人同意受辅助宣告之人为诉讼行为，应以文书证之。",
    ),
    # a sentence that ends before a note in brackets
    (
        "修正穿越数个地价区段之带状公共设施保留地，其划分地价区段之方式。（修正条文第十八条）",
        "道路及沟渠非属天然所形成之界线，爰删除部分文字。（修正条文第十九条）",
    ),
]


@pytest.mark.parametrize(("a", "b"), JOINED)
def test_cut_paragraphs_are_joined(a: str, b: str) -> None:
    assert joined(a, b)


@pytest.mark.parametrize(("a", "b"), NOT_JOINED)
def test_separate_paragraphs_stay_apart(a: str, b: str) -> None:
    assert not joined(a, b)
    assert reflow([*PROSE, a, b, *PROSE]) == [*PROSE, a, b, *PROSE]


REPEATED_DEBRIS = [
    (
        "围绕自治区千亿元和战略性新兴产业，聚焦重大战略产品和重大产业化目标，在设定时限内进行集成",
        "在设定时限内进行集成",
    ),
    (
        "围绕重点产业布局重大科技专项和重大项目。围绕自治区千亿元和战略性新兴产业，在设定时限内进行集成",
        "推进创新型试点建设工作，引进培养高新技术企业，在设定时限内进行集成",
    ),
]


@pytest.mark.parametrize(("a", "b"), REPEATED_DEBRIS)
def test_repeated_template_debris_is_not_a_cut(a: str, b: str) -> None:
    assert not joined(a, b)


def test_a_flattened_table_survives() -> None:
    table = ["专栏1 “十四五”时期广西科技创新发展主要指标", "序号", "指标", "2020年", "2025年", "1"]
    table += ["全社会研发经费投入增长(%)", "3.65", "22", "2", "全社会研发经费支出占地区生产总值比重(%)", "0.78", "1.6"]
    table += ["注:①指标“全社会研发经费投入增长(%)”,2020年为“十三五”期间年均增长率。", "②*表示2019年数据。"]
    assert reflow([*PROSE, *table, *PROSE]) == [*PROSE, *table, *PROSE]


def test_a_title_is_not_glued_to_the_text() -> None:
    title = "广西科技创新“十四五”规划，加快建设创新型广西"
    assert reflow([title, *PROSE]) == [title, *PROSE]


def test_chains_of_cuts_join_into_one_paragraph() -> None:
    parts = [
        "我们要认真贯彻落实党中央关于科技创新的决策部署，完善科技创新体系，健全新型举国体制，坚持",
        "创新在现代化建设全局中的核心地位，强化国家战略科技力量，提升国家创新体系整体效能，把科技自立",
        "自强作为国家发展的战略支撑，加快建设科技强国。",
    ]
    assert "".join(parts) in reflow([*PROSE, *parts, *PROSE])


def test_long_chains_of_cuts_take_linear_time() -> None:
    """Each pair was once scored on the whole text joined so far (left += text): a chain of
    n cut lines took n² steps (0.44 / 1.13 / 4.6 s for 1,000 / 2,000 / 4,000 lines)."""

    def make(size: int) -> list[str]:
        return [f"推进科技体制改革和创新发展工作，加快第{i}项建设{i}，" for i in range(size)]

    assert broken_paragraph_joins(make(500)) == list(range(1, 499))  # the first line reads as a title
    assert doubling_ratio(make, broken_paragraph_joins, 1_000) < MAX_RATIO


def test_joins_are_edits_on_the_breaks() -> None:
    a, b = JOINED[0]
    document = Document.from_text("\n\n".join([*PROSE, a, b]) + "\n")
    ReflowStage().run(document)
    assert [(e.old, e.new, e.rule) for e in document.edits] == [("\n\n", "", "join-broken-paragraph")]


def test_no_paragraphs_no_edits() -> None:
    assert broken_paragraph_joins([]) == []
    document = Document.from_text("")
    ReflowStage().run(document)
    assert document.edits == []


LINE_PIECES = st.sampled_from(
    [
        "科技创新",
        "发展",
        "，",
        "。",
        "、",
        "：",
        "“",
        "”",
        "（",
        "）",
        "第一章 ",
        "一、",
        "专栏3",
        "通",
        "过调查研究",
        "abc",
        "2020年",
        "序号",
    ]
)
LINES = st.lists(st.lists(LINE_PIECES, min_size=1, max_size=30).map("".join), max_size=12)


@settings(max_examples=200, deadline=None)
@given(LINES)
def test_reflow_is_idempotent_and_exact(lines: list[str]) -> None:
    text = "\n\n".join(lines) + "\n" if lines else ""
    document = Document.from_text(text)
    ParagraphStage().run(document)
    ReflowStage().run(document)
    assert restore_text(document.text, document.edits) == text
    again = Document.from_text(document.text)
    ReflowStage().run(again)
    assert again.edits == []
