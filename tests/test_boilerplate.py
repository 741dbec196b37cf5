"""The boilerplate stage: seeds, zones, blocks, metadata, learning, restore and idempotence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from cleankit import Pipeline, Settings
from cleankit.core.document import Document
from cleankit.core.provenance import build_record, restore_from_record
from cleankit.core.stage import default_stage_names
from cleankit.run.clean import run_clean
from cleankit.stages.boilerplate import BoilerplateStage
from cleankit.stages.boilerplate.sitelearn import FurnitureCounter
from cleankit.text.fold import match_view

PIPELINE = Pipeline.from_settings(Settings())
DEFAULT_STAGES = default_stage_names()
BEFORE = DEFAULT_STAGES[: DEFAULT_STAGES.index("boilerplate")]
STAGE = BoilerplateStage()


def clean(text: str, **options) -> Document:
    pipeline = PIPELINE if not options else Pipeline.from_settings(Settings(stage_options={"boilerplate": options}))
    document = pipeline.clean_text(text)
    assert restore_from_record(document.text, build_record(document, "t", None)) == text
    return document


def removed(document: Document) -> list[str]:
    return [e.old.rstrip("\n") for e in document.edits if e.stage == "boilerplate"]


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


BODY = [
    "近日，市科技局召开全市科技创新工作会议，总结2023年工作，部署2024年重点任务。",
    "会议指出，过去一年全市研发投入持续增长，高新技术企业数量突破1200家，创新平台建设取得新进展。",
    "会议要求，各单位要坚持创新驱动发展战略，加快关键核心技术攻关，推动科技成果转化落地见效。",
]


# --- the seeds -----------------------------------------------------------------------------


def test_seed_001_loses_its_furniture_and_keeps_the_whole_notice() -> None:
    raw = (SAMPLES / "001_e11f24d6c84acc9d.txt").read_bytes()
    original = raw.decode("utf-8")
    document = PIPELINE.clean_bytes(raw, source="001.txt")
    gone = removed(document)
    assert any("您当前的位置" in line for line in gone)  # breadcrumb
    assert any(line.startswith("[ 发布者") for line in gone)  # metadata line
    assert any(line.startswith("文件下载") for line in gone)  # attachment line
    for footer in ("Copyright", "万博水晶宫地址", "校办电话", "万博水晶宫微信"):  # footer, spam included
        assert any(line.startswith(footer) for line in gone), footer
    assert len(gone) == 7
    # Every line of the notice itself stays, the table and (此件公开发布) included.
    # Line for line (before paragraphs and reflow, which may join lines): all but the 7 stay.
    with_stage = Pipeline.from_settings(Settings(stages=[*BEFORE, "boilerplate"])).clean_bytes(raw, source="001")
    without_stage = Pipeline.from_settings(Settings(stages=BEFORE)).clean_bytes(raw, source="001.txt")
    furniture = set(gone)
    assert lines(with_stage.text) == [line for line in lines(without_stage.text) if line not in furniture]
    assert original.count("\n") > 600 and len(lines(with_stage.text)) == len(lines(without_stage.text)) - 7
    clean_lines = {match_view(line) for line in lines(document.text)}
    for kept in ("(此件公开发布)", "广西壮族自治区人民政府", "2021年10月29日", "3.65", "48*", "序号", "指标"):
        assert kept in clean_lines, kept
    page = document.metadata["page"]
    assert page["doc_number"] == "桂政发〔2021〕39号"
    assert page["publisher"] == "科研处转发"
    assert page["source"] == "广西壮族自治区人民政府门户网站"
    assert page["publish_time"] == "2021-11-22 08:19:13"
    assert page["attachments"] == ["广西壮族自治区人民政府关于印发广西科技创新“十四五”规划的通知.doc"]
    assert "views" not in page  # "浏览:次" has no number
    record = build_record(document, "t", None)
    assert record["metadata"]["page"] == page
    spam_reasons = [e.reason for e in document.edits if "万博" in e.old]
    assert all("gambling-brand" in reason for reason in spam_reasons)


def test_seed_003_loses_its_footer_and_keeps_its_last_paragraph() -> None:
    raw = (SAMPLES / "003_9e13396f754b10da.txt").read_bytes()
    document = PIPELINE.clean_bytes(raw, source="003.txt")
    # Whichever script the earlier stages leave, compare through the match view (t2s, width).
    gone = [match_view(line) for line in removed(document)]
    assert gone[0] == "最新资讯"
    assert any("版权声明" in line for line in gone)  # link row
    assert any("版权所有" in line for line in gone)  # copyright
    assert any("豫ICP备" in line for line in gone)  # ICP
    assert any("98 28 36 7@qq.com" in line for line in gone)  # contact
    assert len(gone) == 5
    assert match_view(lines(document.text)[-1]).endswith("自主结对合作。(赵越)")
    assert [match_view(name) for name in document.metadata["page"]["authors"]] == ["赵越"]
    assert set(document.metadata["page"]) == {"authors"}


@pytest.mark.parametrize("sample", sorted(SAMPLES.iterdir()), ids=lambda p: p.name[:3])
def test_seeds_are_idempotent_and_restore(sample: Path) -> None:
    document = PIPELINE.clean_bytes(sample.read_bytes(), source=sample.name)
    again = PIPELINE.clean_text(document.text)
    assert again.text == document.text and again.edits == []


# --- zones ---------------------------------------------------------------------------------


def test_footer_rules_fire_only_in_the_tail() -> None:
    body_with_footer_words = [
        "本条例所称版权所有人，是指依法享有著作权的公民、法人或者非法人组织，其权利受法律保护。",
        "地址：南宁市青秀区民族大道100号 电话：0771-1234567，请有关单位在规定时间内前往办理相关手续。",
        BODY[2],
    ]
    text = "\n".join(["关于开展知识产权宣传周活动的通知", BODY[0], *body_with_footer_words, "版权所有 某某市人民政府"])
    document = clean(text)
    assert removed(document) == ["版权所有 某某市人民政府"]
    short_copyright_in_body = "\n".join([BODY[0], "版权所有", BODY[1], BODY[2]])
    assert removed(clean(short_copyright_in_body)) == []


def test_a_notices_own_sponsor_and_contact_lines_stay_but_a_footers_go() -> None:
    own = [
        "主办单位：市科学技术局",
        "承办单位：市科技情报研究所",
        "联系人：王芳 联系电话：0771-5886523 邮箱：kjc@example.cn",
    ]
    notice = "\n".join([*BODY, *own, "市科学技术局", "2024年1月5日"])
    assert removed(clean(notice)) == []
    footer = [
        "主办单位：某某市人民政府办公室",
        "版权所有：某某市人民政府",
        "地址：某路1号 电话：0771-1234567",
        "政务微信",
    ]
    page = "\n".join([*BODY, *own, "市科学技术局", "2024年1月5日", *footer])
    assert removed(clean(page)) == footer


def test_head_rules_do_not_fire_after_the_body_starts() -> None:
    text = "\n".join([BODY[0], "来源：新华社", BODY[1], BODY[2]])
    assert removed(clean(text)) == []


def test_traditional_and_full_width_pages_match_the_same_rules() -> None:
    text = "\n".join(
        [
            "您現在的位置：首頁 ＞ 新聞中心",
            "市科技局召開全市科技創新工作會議",
            "發布時間：２０２４－０１－０５　來源：市科技局",
            "近日，市科技局召開全市科技創新工作會議，總結2023年工作，部署2024年重點任務。",
            "版權所有：某某市科學技術局　桂ICP備12345678號",
        ]
    )
    document = clean(text)
    assert len(removed(document)) == 3
    assert document.metadata["page"]["source"] == "市科技局"


# --- blocks --------------------------------------------------------------------------------


def test_widget_runs_are_removed_as_blocks() -> None:
    title = "市科技局召开全市科技创新工作会议"
    head = ["首页", ">", "新闻中心", ">", "正文", title, "【字号：", "大", "中", "小", "】"]
    tail = ["下载 打印 全屏 收藏", "扫一扫在手机打开当前页", "分享到：", "微信", "微博", "QQ空间"]
    document = clean("\n".join([*head, *BODY, *tail]))
    assert lines(document.text) == ["市科技局召开全市科技创新工作会议", *BODY]
    reasons = {e.old.strip(): e.rule for e in document.edits if e.stage == "boilerplate"}
    assert reasons["新闻中心"] == "widget-glue"


def test_a_short_title_between_unrelated_furniture_stays() -> None:
    text = "\n".join(["首页 > 通知公告", "通知", "发布时间：2024-01-05 来源：办公室", *BODY])
    assert lines(clean(text).text) == ["通知", *BODY]


def test_related_links_block_and_repeated_title_after_the_footer() -> None:
    title = "市科技局召开全市科技创新工作会议"
    text = "\n".join(
        [
            title,
            *BODY,
            "相关报道：",
            "我市出台支持科技创新若干政策措施",
            "2023年全市高新技术企业认定结果公示",
            "相关链接>>",
            "科技部 | 自治区科技厅",
            "版权所有 某某市科学技术局",
            "网站维护：市信息中心",
            title,
            BODY[0][:20] + "…",
        ]
    )
    document = clean(text)
    assert lines(document.text) == [title, *BODY]
    rules = [e.rule for e in document.edits if e.stage == "boilerplate"]
    assert rules.count("related-listing") == 3
    assert rules.count("repeated-title-lead") == 2


def test_a_list_after_a_related_heading_stops_at_a_sentence() -> None:
    text = "\n".join([*BODY, "相关新闻", "我市出台支持科技创新若干政策措施", "欢迎转载。", "注明出处"])
    document = clean(text)
    assert lines(document.text) == [*BODY, "欢迎转载。", "注明出处"]


def test_metadata_lines_can_be_kept_while_fields_are_extracted() -> None:
    text = "\n".join(["标题", "来源：市科技局 发布时间：2024-01-05 浏览次数：88", *BODY, "责任编辑：王五"])
    kept = clean(text, keep_metadata_lines=True)
    assert removed(kept) == []
    assert kept.metadata["page"] == {"source": "市科技局", "publish_time": "2024-01-05", "views": 88, "editor": "王五"}
    dropped = clean(text)
    assert len(removed(dropped)) == 2
    assert dropped.metadata["page"] == kept.metadata["page"]


def test_bylines_are_extracted() -> None:
    text = "\n".join(["题目", "文·本报记者 张三 李四", "本报讯（记者 王五）" + BODY[0], BODY[1], BODY[2] + "（赵六）"])
    document = clean(text)
    assert removed(document) == ["文·本报记者 张三 李四"]
    assert document.metadata["page"]["authors"] == ["张三", "李四", "王五", "赵六"]


def test_spam_is_removed_anywhere_but_gambling_news_stays() -> None:
    news = "全市开展打击跨境赌博专项行动，查处案件20起。"
    text = "\n".join([BODY[0], "澳门新葡京娱乐场 注册送38元", BODY[1], news, BODY[2]])
    document = clean(text)
    assert removed(document) == ["澳门新葡京娱乐场 注册送38元"]


def test_lone_surrogates_pass_through() -> None:
    text = "首页\n" + BODY[0] + "\ud800\n版权所有"
    document = clean(text)
    assert removed(document) == ["首页", "版权所有"]


def test_page_without_sentences_keeps_its_lines() -> None:
    assert removed(clean("通知\n\n正文\n")) == []


# --- issue 13: furniture whose values vary from page to page ---------------------------------
# Lines from the 2026 provincial report pages quoted in issue 13 (johncodes404/
# china-provincial-gov-reports-2026), with the report's own opening as the text.

REPORT_OPENING = [
    "政府工作报告",
    "——2026年2月3日在宁夏回族自治区第十三届人民代表大会第四次会议上",
    "自治区人民政府主席 张雨浦",
    "各位代表：",
    "现在，我代表自治区人民政府，向大会报告工作，请予审议。请各位政协委员提出意见。",
    "一、2025年工作总结和“十四五”发展成就",
    *BODY,
]


def test_a_split_breadcrumb_and_two_line_labels_at_the_top_of_a_real_page() -> None:
    head = ["当前位置：", "首页", ">", "政务信息", ">", "宁夏要闻", "2026年宁夏回族自治区政府工作报告"]
    head += ["发表时间：", "2026-02-09 09:45:30", "来源：", "宁夏日报客户端", "阅读量："]
    head += ["【字体：", "小", "中", "大", "】"]
    document = clean("\n".join([*head, *REPORT_OPENING]))
    assert lines(document.text) == ["2026年宁夏回族自治区政府工作报告", *REPORT_OPENING]
    assert document.metadata["page"] == {"publish_time": "2026-02-09 09:45:30", "source": "宁夏日报客户端"}
    rules = {e.old.strip(): e.rule for e in document.edits if e.stage == "boilerplate"}
    assert rules["宁夏日报客户端"] == "meta-label"  # the value goes with its label
    # 陕西: the last item is no column name; it follows the last separator.
    head = ["首页", ">", "政府信息公开", ">", "政府工作报告", ">", "省政府工作报告", "陕西省2026年政府工作报告"]
    document = clean("\n".join([*head, *REPORT_OPENING]))
    assert lines(document.text) == ["陕西省2026年政府工作报告", *REPORT_OPENING]
    rules = {e.old.strip(): e.rule for e in document.edits if e.stage == "boilerplate"}
    assert rules["省政府工作报告"] == "breadcrumb-last-item"


def test_the_last_breadcrumb_item_printed_twice_and_a_bare_date_time() -> None:
    head = ["您的位置:", "首页", ">", "云南要闻", "云南要闻", "2026年政府工作报告", "来源：云南日报"]
    head += ["2026-02-03 09:02:33", "【字体：", "大", "中", "小", "】"]
    document = clean("\n".join([*head, *REPORT_OPENING]))
    assert lines(document.text) == ["2026年政府工作报告", *REPORT_OPENING]
    assert document.metadata["page"] == {"source": "云南日报", "publish_time": "2026-02-03 09:02:33"}


def test_a_time_label_on_one_line_and_a_photo_caption_go_to_metadata() -> None:
    head = ["来源：北京日报", "时间：2026-02-02", "北京市市长 殷勇", "殷勇同志作政府工作报告。本报记者 戴冰摄"]
    document = clean("\n".join([*head, *REPORT_OPENING]))
    assert lines(document.text) == ["北京市市长 殷勇", *REPORT_OPENING]
    page = document.metadata["page"]
    assert page["publish_time"] == "2026-02-02"
    assert page["captions"] == ["殷勇同志作政府工作报告。本报记者 戴冰摄"]
    # A caption kept as the first paragraph of a page (贵州) goes too, long or short.
    caption = "政府工作报告。 贵州日报天眼新闻记者 李森 摄"
    assert lines(clean("\n".join([caption, *REPORT_OPENING])).text) == REPORT_OPENING


def test_a_labelled_time_wins_over_a_bare_date_time_line() -> None:
    head = ["2026年02月10日 07时41分", "来源:", "四川日报", "发布时间：2026-02-09"]
    document = clean("\n".join([*head, *REPORT_OPENING]))
    assert lines(document.text) == REPORT_OPENING
    assert document.metadata["page"] == {"source": "四川日报", "publish_time": "2026-02-09"}
    alone = clean("\n".join(["2026年02月10日 07时41分", *REPORT_OPENING]))
    assert alone.metadata["page"] == {"publish_time": "2026年02月10日 07时41分"}


LABELLED = [
    *[(label, "2026-02-09 09:45:30", "publish_time") for label in ("时间", "日期", "发布时间", "发表时间")],
    *[(label, "2025年3月14日", "publish_time") for label in ("发布日期", "更新时间")],
    *[(label, "宁夏日报客户端", "source") for label in ("来源", "稿源", "出处", "信息来源", "文章来源")],
    *[(label, "王强", "authors") for label in ("作者", "记者")],
    *[(label, "李敏", "editor") for label in ("编辑", "责任编辑")],
    *[(label, "1024", "views") for label in ("浏览", "阅读量", "点击数", "浏览次数", "访问量")],
]


@pytest.mark.parametrize(("label", "value", "name"), LABELLED, ids=[f"{x[0]}" for x in LABELLED])
@pytest.mark.parametrize("form", ["one line", "one line, half width", "two lines", "two lines, traditional"])
def test_page_metadata_from_every_common_label(label: str, value: str, name: str, form: str) -> None:
    colon = ":" if "half" in form else "："
    lines_ = [f"{label}{colon}{value}"] if form.startswith("one") else [f"{label}{colon}", value]
    page = ["2026年宁夏回族自治区政府工作报告", *lines_, *REPORT_OPENING]
    if "traditional" in form:
        from opencc import OpenCC

        # A traditional page: the default pipeline converts it to simplified before this stage
        # sees it. (Only the label lines in traditional would be a simplified page's stray
        # characters, which the script stage keeps unless they make a word.)
        page = [OpenCC("s2tw.json").convert(line) for line in page]
    document = clean("\n".join(page))
    assert lines(document.text) == ["2026年宁夏回族自治区政府工作报告", *REPORT_OPENING]
    got = document.metadata["page"][name]
    assert got == ([value] if name == "authors" else int(value) if name == "views" else value)


def test_a_written_date_is_the_publish_time_only_when_nothing_else_says() -> None:
    table = ["索引号：000014349/2021-00080", "成文日期：2021年07月16日"]
    page = clean("\n".join([*table, "发布日期：2021年07月22日", *REPORT_OPENING])).metadata["page"]
    assert (page["written_date"], page["publish_time"]) == ("2021年07月16日", "2021年07月22日")
    page = clean("\n".join([*table, *REPORT_OPENING])).metadata["page"]
    assert page["publish_time"] == "2021年07月16日"


@pytest.mark.parametrize(
    "line",
    [
        "2025-03-14 星期五 上一期 下一期",
        "广西日报 第9版：通知公告",
        "南宁职业技术学院 > 通知公告",
        "桂人民政府门户网站 > 政务公开 > 政策文件",
        "昆明要闻",
        "2026年02月10日 07时41分",
    ],
)
def test_varying_head_furniture_goes_without_site_learning(line: str) -> None:
    assert removed(clean("\n".join([line, *REPORT_OPENING]))) == [line]


def test_a_whole_footer_goes_though_the_opening_is_printed_again_after_it() -> None:
    # 四川: the page repeats its title and opening after the footer; that sentence-like last
    # line used to leave the tail zone empty, so the whole footer stayed.
    tail = ["责任编辑：", "李莎莎", "扫一扫在手机打开当前页", "相关附件>>", "相关链接>>"]
    tail += ["abcd39f1fb7f426d9dfb6bd0fa1f2146:", "四川省第十四届人民代表大会第五次会议关于政府工作报告的决议"]
    tail += ["e4c29f31c6964493a14c4ddf6b160169:", "四川干部群众热议政府工作报告 以奋勇争先之姿，乘势而为"]
    tail += ["打印本页", "关闭窗口", "政府工作报告"]
    tail += ["各位代表：现在，我代表自治区人民政府，向大会报告工作，请予审议。请各…"]
    document = clean("\n".join([*REPORT_OPENING, *tail]))
    assert lines(document.text) == REPORT_OPENING
    assert document.metadata["page"] == {"editor": "李莎莎"}
    rules = [e.rule for e in document.edits if e.stage == "boilerplate"]
    assert rules[-1] == "repeated-title-lead"


def test_page_bylines_widgets_and_jump_lines() -> None:
    text = [*REPORT_OPENING[:7], "（下转第四版）（紧接第一版）", *BODY[1:], "本版责任编辑：王强"]
    text += ["打印本页", "关闭窗口", "》》点击图片进入专题《《"]
    document = clean("\n".join(text))
    assert lines(document.text) == REPORT_OPENING
    assert "editor" not in document.metadata.get("page", {})  # the page's editor, not the article's


def test_what_only_looks_like_varying_furniture_stays() -> None:
    # A notice's own time line after its text, a signature that repeats the head, a date
    # without a time, an interview's reporter label before the text.
    notice = ["某某市科学技术局", *BODY, "现将有关事项通知如下：", "时间：2024年1月5日上午9:00"]
    notice += ["地点：科技局三楼会议室", "某某市科学技术局", "2024年1月3日"]
    assert removed(clean("\n".join(notice))) == []
    interview = ["创新驱动 勇立潮头", "记者：", "党的十八大以来，创新驱动已成为我国经济社会发展的一大主旋律。", *BODY]
    assert removed(clean("\n".join(interview))) == []
    assert lines(clean("\n".join(["2021年10月29日", *BODY])).text) == ["2021年10月29日", *BODY]


# --- site learning -------------------------------------------------------------------------


# Words that make each page's title its own (a title differing only by a number is a template).
TOPICS = ["科技创新", "成果转化", "人才引进", "平台建设", "企业培育", "项目申报", "知识产权", "科技金融", "乡村振兴"]


def site_page(number: int) -> str:
    return "\n".join(
        [
            "某某市科学技术局门户网站",
            "主站导航 机构概况 科技新闻 政务公开",
            f"{TOPICS[number]}工作动态",
            "为深入贯彻落实党的二十大精神，加快建设科技强市，现将有关事项通知如下：",
            f"第{number}篇文章的正文内容，介绍了该市在科技创新方面的最新进展和成效。",
            "某某市科学技术局",
            f"2024年1月{number}日",
            "市科技局微信服务号",
            "地址：某某市人民路1号",
        ]
    )


@pytest.mark.parametrize("jobs", [1, 2])  # 2: the learned furniture is pickled to the workers
def test_site_learning_in_a_folder_run(tmp_path: Path, jobs: int) -> None:
    site = tmp_path / "in" / "kjj"
    site.mkdir(parents=True)
    for number in range(1, 9):
        (site / f"{number}.txt").write_text(site_page(number), encoding="utf-8")
    # The pages differ only by a number: near-duplicates to the crawl dedup pass, which is not
    # what this test is about, so every page is written.
    summary = run_clean([tmp_path / "in"], tmp_path / "out", Settings(jobs=jobs, neardup=False))
    assert summary.failed == 0
    clean_text = (tmp_path / "out" / "kjj" / "3.txt").read_text(encoding="utf-8")
    assert lines(clean_text) == [
        "平台建设工作动态",
        "为深入贯彻落实党的二十大精神，加快建设科技强市，现将有关事项通知如下：",
        "第3篇文章的正文内容，介绍了该市在科技创新方面的最新进展和成效。",
        "某某市科学技术局",  # recurs on every page, but it signs the text: not at an edge
        "2024年1月3日",
    ]
    records = [json.loads(line) for line in (tmp_path / "out" / "provenance.jsonl").read_text().splitlines()]
    learned = [e for r in records for e in r["edits"] if e["rule"] == "site-learned"]
    reasons = {r["stats"]["boilerplate/site-learned"].get("reason") for r in records}
    assert reasons == {"site furniture: seen in 8 of 8 pages of this site"}
    expected = {"某某市科学技术局门户网站", "主站导航 机构概况 科技新闻 政务公开", "市科技局微信服务号"}
    expected.add("地址：某某市人民路1号")  # at the page's edge: the site's, not a notice's
    assert {e["old"].strip() for e in learned} == expected


def test_learning_needs_enough_pages_and_can_be_switched_off(tmp_path: Path) -> None:
    site = tmp_path / "in"
    site.mkdir()
    for number in range(1, 4):
        (site / f"{number}.txt").write_text(site_page(number), encoding="utf-8")
    run_clean([site], tmp_path / "few", Settings(jobs=1, neardup=False))
    assert "门户网站" in (tmp_path / "few" / "1.txt").read_text(encoding="utf-8")
    for number in range(4, 9):
        (site / f"{number}.txt").write_text(site_page(number), encoding="utf-8")
    off = Settings(jobs=1, neardup=False, stage_options={"boilerplate": {"learn": False}})
    run_clean([site], tmp_path / "off", off)
    assert "门户网站" in (tmp_path / "off" / "1.txt").read_text(encoding="utf-8")


NAMES = ["王强", "李敏", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰", "吴昊"]


def template_page(number: int, site: str = "某某科技网") -> str:
    """A page of a site whose furniture carries a number, a date and a name: no rule knows it."""
    return "\n".join(
        [
            f"{site} 第{number}期 2024年3月{number}日 星期{'一二三四五六日'[number % 7]}",
            f"{TOPICS[number]}工作取得新进展",
            f"近日，全市{TOPICS[number]}工作会议召开，会议总结了去年工作，部署了今年的重点任务。",
            "会议要求，各单位要坚持创新驱动发展战略，加快关键核心技术攻关，推动科技成果转化落地见效。",
            "某某市科学技术局",
            f"2024年3月{number}日",
            f"本页编辑：{NAMES[number]}",
        ]
    )


def test_site_learning_learns_templates_not_strings(tmp_path: Path) -> None:
    site = tmp_path / "in" / "kjw"
    site.mkdir(parents=True)
    for number in range(1, 9):
        (site / f"{number}.txt").write_text(template_page(number), encoding="utf-8")
    run_clean([tmp_path / "in"], tmp_path / "out", Settings(jobs=1, neardup=False))
    assert lines((tmp_path / "out" / "kjw" / "5.txt").read_text(encoding="utf-8")) == [
        "项目申报工作取得新进展",
        "近日，全市项目申报工作会议召开，会议总结了去年工作，部署了今年的重点任务。",
        "会议要求，各单位要坚持创新驱动发展战略，加快关键核心技术攻关，推动科技成果转化落地见效。",
        "某某市科学技术局",  # the same on every page, but not at an edge
        "2024年3月5日",
    ]
    records = [json.loads(line) for line in (tmp_path / "out" / "provenance.jsonl").read_text().splitlines()]
    assert sum(e["rule"] == "site-learned" for r in records for e in r["edits"]) == 16
    reasons = {r["stats"]["boilerplate/site-learned"].get("reason") for r in records}
    assert reasons == {"site furniture: seen in 8 of 8 pages of this site"}


def jsonl_pages(site_field: str) -> str:
    """Pages of two sites in one JSON Lines file, each record naming its site by URL."""
    rows = [
        {site_field: f"https://www.kjw.example.cn/news/{n}.html", "text": template_page(n)} for n in range(1, 9)
    ]
    rows += [{site_field: f"http://other.example.cn/{n}.html", "text": template_page(n, "别站")} for n in range(1, 3)]
    rows.append({"text": template_page(3)})  # no site: not learned from, nothing learned applies
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def test_site_learning_reads_the_site_of_json_lines_records(tmp_path: Path) -> None:
    (tmp_path / "pages.jsonl").write_text(jsonl_pages("url"), encoding="utf-8")
    # The pages share their bodies: near-duplicate lines would be marked and emptied.
    settings = Settings(jobs=1, jsonl=True, neardup=False)
    run_clean([tmp_path / "pages.jsonl"], tmp_path / "out", settings)
    texts = [json.loads(line)["text"] for line in (tmp_path / "out" / "pages.jsonl").read_text().splitlines()]
    assert not texts[4].startswith("某某科技网") and "本页编辑" not in texts[4]
    assert texts[8].startswith("别站 第1期") and "本页编辑" in texts[8]  # another site, too few pages
    assert texts[10].startswith("某某科技网 第3期")  # no site field
    off = Settings(jobs=1, jsonl=True, neardup=False, stage_options={"boilerplate": {"site_fields": []}})
    run_clean([tmp_path / "pages.jsonl"], tmp_path / "off", off)
    first = json.loads((tmp_path / "off" / "pages.jsonl").read_text().splitlines()[4])["text"]
    assert first.startswith("某某科技网 第5期")


def test_site_learning_on_standard_input(tmp_path: Path) -> None:
    from conftest import run_cli_here

    result = run_cli_here("clean", "-", "--jsonl", "--no-neardup", stdin=jsonl_pages("site").encode("utf-8"))
    assert result.returncode == 0, result.stderr.decode()
    texts = [json.loads(line)["text"] for line in result.stdout.decode("utf-8").splitlines()]
    assert len(texts) == 11
    assert texts[4].startswith("项目申报工作取得新进展") and "本页编辑" not in texts[4]


def test_a_shape_learned_on_many_sites_is_furniture_on_every_site() -> None:
    counter = FurnitureCounter(by="folder")
    for site in ("a", "b", "c"):
        for number in range(1, 6):
            counter.add_text(f"{site}/{number}.txt", template_page(number, f"{site}站"))
    counter.add_text("d/1.txt", template_page(7, "d站"))
    learned = counter.result(min_pages=5, min_share=0.3, min_sites=3)
    assert "d" not in learned.sites
    few = learned.for_source("d/1.txt")
    assert few is not None and few.why("tail", "本页编辑:〈V〉") == (
        "furniture on 3 sites: a line of this shape is at their pages' edges"
    )
    analysis = STAGE.analyse(template_page(7, "d站"), few)
    # The head line names its own site, so only the tail line's shape is common to the sites.
    assert [line.text for line in analysis.lines if line.remove] == ["本页编辑：黄丽"]
    # ... unless the rule packs give a line of that shape as text that is not furniture.
    refused = counter.result(min_pages=5, min_share=0.3, min_sites=3, not_furniture=["本页编辑：张三"])
    assert "本页编辑:〈V〉" not in refused.common.get("tail", {})


def test_furniture_counter_groups_by_folder_or_top_component() -> None:
    counter = FurnitureCounter(by="top")
    for number in range(6):
        counter.add_text(f"a.gov.cn/news/{number}.txt", "甲站页眉\n正文很长的一句话，说的是" + TOPICS[number])
        counter.add_text(f"b.gov.cn/{number}.txt", "乙站页眉\n另一句正文，说的是" + TOPICS[number])
    learned = counter.result(min_pages=5, min_share=0.5)
    assert set(learned.sites) == {"a.gov.cn", "b.gov.cn"}
    assert learned.sites["a.gov.cn"].counts["head"] == {"甲站页眉": 6}
    assert learned.sites["a.gov.cn"].count("head+tail", "甲站页眉") == 6
    assert learned.for_source("a.gov.cn/other/x.txt") is learned.sites["a.gov.cn"]


# --- invariants ----------------------------------------------------------------------------

FURNITURE = [
    "首页 > 新闻中心 > 正文",
    "当前位置：首页 > 通知公告",
    "【字号：大 中 小】",
    "大",
    "】",
    "来源：市科技局 发布时间：2024-01-05",
    "分享到：",
    "微信",
    "扫一扫在手机打开当前页",
    "相关链接>>",
    "版权所有 某某市科学技术局",
    "桂ICP备12345678号",
    "主办单位：某某市科学技术局",
    "地址：某路1号 电话：0771-1234567",
    "学院微信",
    "上一篇：关于某某工作的通知",
    "责任编辑：王五",
    "（完）",
    ">",
]
PAGE_LINES = st.lists(st.sampled_from(FURNITURE + BODY + ["通知", "2024年1月5日", "3.65", ""]), max_size=25)


@settings(max_examples=150, deadline=None)
@given(PAGE_LINES, st.sampled_from(["\n", "\n\n", "\r\n"]))
def test_restore_exact_and_idempotent_on_page_like_text(page: list[str], newline: str) -> None:
    text = newline.join(page)
    document = clean(text)
    again = PIPELINE.clean_text(document.text)
    assert again.text == document.text and again.edits == []
    for line in BODY:  # body text is never lost (a copy printed again after a footer may go)
        assert document.text.count(line) >= min(1, text.count(line))


def test_remembered_verdicts_judge_a_page_as_a_fresh_stage_does() -> None:
    """The stage remembers per distinct line whether a rule removes it (the body-bound scan)
    and how a head or tail line is judged: pages judged after others get the verdicts a
    fresh stage gives them."""
    pages = [
        PIPELINE.clean_bytes(sample.read_bytes(), source=sample.name).text for sample in sorted(SAMPLES.iterdir())
    ]
    furniture = [
        "首页 | 政务公开 | 政策文件",
        "主办：某某市人民政府办公室 联系电话：0771-1234567",
        "版权所有 某某市人民政府",
    ]
    pages += ["\n".join([*furniture[:2], *BODY, furniture[2]]), "\n".join([furniture[0], BODY[1], *furniture[1:]])]
    warm = BoilerplateStage()
    for text in pages + pages:
        warm.analyse(text)
    assert warm._removed
    for text in pages:
        fresh = [(v.remove, v.rule, v.reason, v.zone) for v in BoilerplateStage().analyse(text).lines]
        assert [(v.remove, v.rule, v.reason, v.zone) for v in warm.analyse(text).lines] == fresh


def test_a_full_stop_cut_off_by_a_break_is_joined_before_the_body_is_found() -> None:
    # A short page whose one sentence lost its full stop to a line break, and whose lead is
    # printed again after the text. Joined only by reflow (after this stage), the first
    # cleaning judged a 9-character fragment (no body line) and a second cleaning the joined
    # 10-character line (the body), removing the repeated lead only then.
    text = "会议召开。部署工作\n。\n会议召开。"
    once = PIPELINE.clean_text(text)
    assert once.text == "会议召开。部署工作。\n"
    assert [e.rule for e in once.edits if e.stage == "boilerplate"] == ["repeated-title-lead"]
    twice = PIPELINE.clean_text(once.text)
    assert twice.text == once.text and twice.edits == []
