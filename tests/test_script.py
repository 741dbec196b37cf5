"""The script stage: pinyin glosses out, OpenCC conversion to the target, compact edits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleankit.core.document import Document
from cleankit.core.provenance import restore_text
from cleankit.core.settings import SettingsError
from cleankit.stages.script import ScriptStage, conversion_edits, script_mix
from cleankit.stages.script.pinyin_gloss import find_glosses


def run(text: str, **options) -> Document:
    document = Document.from_text(text)
    ScriptStage(**options).run(document)
    assert restore_text(document.text, document.edits) == text
    return document


GLOSSED = [
    ("新質(zhì)生產(chǎn)力", "新質生產力"),
    ("廣佛極點(diǎn)建設(shè)再進(jìn)一步", "廣佛極點建設再進一步"),
    ("创（chuàng）新驱动", "创新驱动"),  # full-width parentheses
    ("重(zhong4)要", "重要"),  # tone digits
    ("重(zhong)要", "重要"),  # no tone at all, but the reading fits
    ("绿(lǜ)色", "绿色"),  # ü
    ("绿(lv4)色", "绿色"),
    ("质量(zhì liàng)", "质量"),  # two syllables, spaced
    ("质量(zhìliàng)", "质量"),  # two syllables, run together
    ("行(háng)业", "行业"),  # one of several readings (heteronym)
    ("銀行(yín háng)業", "銀行業"),
    ("長(zhǎng)大", "長大"),  # tone mark given wrongly would still be the syllable
    ("調(diào)查(chá)研究(jiū)", "調查研究"),
    ("质(zhì)(zhì)", "质"),  # a repeated gloss
    ("质(zhì)量(zhìliàng)", "质量"),  # the second gloss spells both characters once the first is gone
    # The opening bracket lost with a damaged run around it, a tone still on the gloss:
    ("确保各项工作进展顺利。《方案》強qiáng)調，兩市", "确保各项工作进展顺利。《方案》強調，兩市"),
    ("推动發展fāzhǎn）质(zhì)量", "推动發展质量"),
    ("重zhong4)要", "重要"),
]

KEPT = [
    "中国汽车技术研究中心(英文简称CATTC)",
    "三年行动方案(2020—2022)",
    "记者(趙越)报道",
    "全社会研发经费投入增长(%)",
    "(此件公开发布)",
    "第二款(a)项",
    "人工智能(AI)应用",
    "第(2)项",
    "关爱(AI)行动",  # 爱 is read ài, but upper-case letters are never pinyin
    "产品(a)",
    "款(e)",
    "平台(platform)建设",
    "发展(development)",
    "方案(fang)",  # a pinyin syllable, but not a reading of 案
    "函数f(x)的值",
    "北京(beijing)",  # a place name in pinyin is a gloss only of the characters before it
    "(zhì)开头",  # nothing before it
    "abc(zhì)",  # after Latin letters, not a Han character
    "广州 IAB(新一代信息技术、人工智能、生物医药)",
    "见附件(二)",
    "附件(pdf)",
    "音乐(mp3)",  # 3 could be a tone digit, but mp is no reading of 乐
    "全长20公里(km)",
    "每单位(ge)",
    "标准(GB/T 7714)",
    "中文(zhōngwén)",  # spells 中文, but the gloss comes after 文 only when its reading fits: checked below
    # No opening bracket: a gloss only with a tone, only right after the characters it reads.
    "重zhong)要",  # no tone: letters glued to a character are more often something else
    "方案fāng)",  # a tone, but not a reading of 案
    "平台platform)建设",
    "请见附件a)项",
    "强调 qiáng)",  # a space before it: not glued to the character
]


@pytest.mark.parametrize(("text", "expected"), GLOSSED)
def test_pinyin_glosses_are_removed(text: str, expected: str) -> None:
    assert run(text, to="keep").text == expected


@pytest.mark.parametrize("text", KEPT)
def test_real_parenthesised_content_stays(text: str) -> None:
    if text in ("北京(beijing)", "中文(zhōngwén)"):
        # a reading of the two characters before it: the gloss fits and goes
        assert run(text, to="keep").text == text[:2]
        return
    assert list(find_glosses(text)) == []
    assert run(text, to="keep").text == text


def test_glosses_go_before_conversion() -> None:
    document = run("發展新質(zhì)生產(chǎn)力")
    assert document.text == "发展新质生产力"
    rules = [edit.rule for edit in document.edits]
    assert rules[:2] == ["pinyin-gloss", "pinyin-gloss"]
    assert set(rules[2:]) == {"opencc-t2s"}


@pytest.mark.parametrize(
    ("to", "text", "expected"),
    [
        ("simplified", "頭髮發展，乾隆皇帝", "头发发展，乾隆皇帝"),
        ("traditional", "头发发展，干部", "頭髮發展，幹部"),
        ("tw", "里面的线", "裡面的線"),
        ("hk", "里面的线", "裏面的線"),
        ("keep", "發展与发展", "發展与发展"),
    ],
)
def test_targets(to: str, text: str, expected: str) -> None:
    document = run(text, to=to)
    assert document.text == expected
    assert document.metadata["script"]["to"] == to


def test_unknown_target_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="unknown target"):
        ScriptStage(to="klingon")


def test_one_edit_per_changed_run() -> None:
    document = run("發展與進，今天我们在北京市里開會")
    edits = [(e.old, e.new) for e in document.edits]
    # 展 is the same in both scripts: runs up to eight unchanged characters apart share an edit
    assert edits == [("發展與進", "发展与进"), ("開會", "开会")]


def test_metadata_records_the_mix_before_and_after() -> None:
    document = run("這是繁體字的文章。")
    script = document.metadata["script"]
    assert script["config"] == "t2s.json"
    assert script["before"]["label"] == "traditional"
    assert script["after"]["label"] == "simplified"
    assert script["after"]["traditional"] == 0
    assert script["before"]["han"] == script["after"]["han"] == 8


def test_simplified_text_is_not_converted() -> None:
    document = run("这是简体字的文章。")
    assert document.edits == []
    assert document.metadata["script"]["before"] == document.metadata["script"]["after"]


@pytest.mark.parametrize(
    ("text", "label"),
    [("发展经济", "simplified"), ("發展經濟", "traditional"), ("發展经济", "mixed"), ("abc 123", "none")],
)
def test_script_mix_labels(text: str, label: str) -> None:
    assert script_mix(text)["label"] == label


def test_conversion_edits_handle_length_changes() -> None:
    old, new = "第一行\n计算机很好\n第三行", "第一行\n電腦很好\n第三行"
    document = Document.from_text(old)
    document.apply("t", conversion_edits(old, new, "r", ""))
    assert document.text == new
    assert restore_text(new, document.edits) == old


CHINESE = st.sampled_from([*list("发展經濟质質量头髮发这這里裏线線们們的是一乾隆干部幹著着，。、\n "), "(zhì)", "(a)"])


@settings(max_examples=150, deadline=None)
@given(st.lists(CHINESE, max_size=60).map("".join), st.sampled_from(["simplified", "traditional", "tw", "hk"]))
def test_converting_canonical_text_changes_nothing(text: str, to: str) -> None:
    once = run(text, to=to).text
    twice = run(once, to=to)
    assert twice.text == once
    assert twice.edits == []


def test_rare_characters_are_converted_without_the_shortcut() -> None:
    # 𠁞 (U+2005E) is a traditional form outside the probed blocks: t2s makes it 𠀾.
    document = run("这是𠁞")
    assert document.text == "这是𠀾"
    assert document.metadata["script"]["before"]["rare"] == 1


# ---- issue 13 §2: the configuration that fits the page, and stray characters -------------

from conftest import SAMPLES  # noqa: E402

# Real simplified paragraphs (samples/004), converted by OpenCC's own s2t / s2tw / s2hk.
SAMPLE_004 = [
    line
    for line in next(SAMPLES.glob("004_*.txt")).read_text(encoding="utf-8").splitlines()
    if len(line) > 60 and line.endswith("。")
]


@pytest.mark.parametrize("config", ["s2t", "s2tw", "s2hk"])
def test_simplified_text_comes_back_from_each_traditional_standard(config: str) -> None:
    from cleankit.text.cjk import opencc_converter

    assert len(SAMPLE_004) >= 8
    for paragraph in SAMPLE_004:
        traditional = opencc_converter(f"{config}.json").convert(paragraph)
        assert run(traditional).text == paragraph


@pytest.mark.parametrize(
    ("text", "expected", "config", "variant"),
    [
        # Taiwan standard writes 著 for 着: t2s would leave 接著/著力, tw2s keeps 顯著/著作.
        (
            "接著，我們要著力推動經濟發展，顯著提高著作權保護水平。",
            "接着，我们要着力推动经济发展，显著提高著作权保护水平。",
            "tw2s.json",
            "tw",
        ),
        # Hong Kong standard writes 衞 and 説: t2s leaves 衞.
        ("衞生健康委員會説明税收政策。", "卫生健康委员会说明税收政策。", "hk2s.json", "hk"),
        # OpenCC's own standard (爲, 着): t2s.
        ("我們爲着力推動發展而努力。", "我们为着力推动发展而努力。", "t2s.json", "standard"),
    ],
)
def test_traditional_page_is_converted_with_its_regional_configuration(
    text: str, expected: str, config: str, variant: str
) -> None:
    document = run(text)
    assert document.text == expected
    script = document.metadata["script"]
    assert script["config"] == config and script["variant"]["name"] == variant
    assert {edit.rule for edit in document.edits} == {"opencc-" + config.removesuffix(".json")}


@pytest.mark.parametrize(
    ("to", "text", "expected", "config"),
    [
        ("tw", "衞生部門説明", "衛生部門說明", "hk2t.json+s2tw.json"),
        ("hk", "裡面著力推動", "裏面着力推動", "tw2t.json+s2hk.json"),
        ("traditional", "裡面著力推動", "裏面着力推動", "tw2t.json+s2t.json"),
        ("tw", "著力推動裡面的工作", "著力推動裡面的工作", "s2tw.json"),  # already Taiwan's
        ("tw", "发展经济", "發展經濟", "s2tw.json"),  # simplified: OpenCC's own s2tw
    ],
)
def test_traditional_targets_bring_another_region_to_the_standard_first(
    to: str, text: str, expected: str, config: str
) -> None:
    document = run(text, to=to)
    assert document.text == expected
    assert document.metadata["script"]["config"] == config


NAMES = ["乾县", "乾安县", "昇腾", "濛溪河", "於梨华", "昇平街道"]


@pytest.mark.parametrize("name", NAMES)
def test_names_on_a_simplified_page_stay(name: str) -> None:
    text = SAMPLE_004[0][:40] + name + SAMPLE_004[0][40:]
    document = run(text)
    assert document.text == text
    stray = document.metadata["script"]["stray"]
    assert stray["kept"] >= 1 and stray["converted"] == 0
    assert all("a name" in d["reason"] and not d["converted"] for d in stray["decisions"])


def test_stray_leftover_on_a_simplified_page_is_converted_with_its_evidence() -> None:
    document = run("这是我们發展的关键，位于陕西乾县。")
    assert document.text == "这是我们发展的关键，位于陕西乾县。"
    (edit,) = document.edits
    assert (edit.old, edit.new) == ("發", "发") and "发展 is a word" in edit.reason
    decisions = document.metadata["script"]["stray"]["decisions"]
    assert [(d["char"], d["converted"]) for d in decisions] == [("發", True), ("乾", False)]


def test_a_mixed_page_is_converted_whole() -> None:
    # Many traditional characters are not strays: the page is mixed and OpenCC converts all.
    assert run("华为昇腾芯片的发展，這是我們的工作。").text == "华为升腾芯片的发展，这是我们的工作。"


def test_word_association_tells_words_from_chance_neighbours() -> None:
    from cleankit.stages.script.stray import WORD_ASSOCIATION
    from cleankit.text.plausibility import chinese_model

    model = chinese_model()
    for word in ("发展", "这是", "我们", "为了"):
        assert model.association(word) >= WORD_ASSOCIATION
    for junction in ("的干", "和干"):
        assert model.association(junction) < WORD_ASSOCIATION
    assert model.association("干县") is None


# Executive Yuan Gazette sentences (Taiwan, traditional): characters both scripts write, each
# with its own meaning in traditional text, that s2tw/s2hk/s2t would replace.
GAZETTE = [
    ("入學前經判處有期徒刑以上之刑而未宣告緩刑或未准易科罰金者，不得入學。", "准"),  # not 準
    ("由本局擇期公布入圍名單及得獎名單，並於公布得獎名單同時舉行頒獎典禮。", "布"),  # not 佈
    ("換言之，系爭刑事判決無法證明台南市山上區公所之主張。", "台"),  # not 臺
]


@pytest.mark.parametrize("to", ["tw", "hk", "traditional"])
@pytest.mark.parametrize(("text", "char"), GAZETTE)
def test_a_traditional_page_keeps_the_characters_both_scripts_write(text: str, char: str, to: str) -> None:
    from cleankit.text.cjk import SCRIPT_TARGETS, opencc_converter

    document = run(text, to=to)
    assert document.text == text
    assert document.metadata["script"]["before"]["label"] == "traditional"
    by_opencc = opencc_converter(SCRIPT_TARGETS[to]).convert(text)
    if by_opencc != text:  # what OpenCC alone writes, with the writer's character replaced
        assert char not in by_opencc or by_opencc.count(char) < text.count(char)
        assert document.metadata["script"]["kept_shared"] == sum(a != b for a, b in zip(text, by_opencc, strict=True))
    if to == "tw":
        assert by_opencc != text, "the case this test is about"


def test_shared_characters_are_not_simplified_evidence() -> None:
    # Counted as simplified, 准 and 云 outnumbered 經 and 後 and the line read as a simplified
    # page whose two traditional characters were names to keep.
    text = "經行政院核准後施行，云云。"
    assert script_mix(text)["label"] == "traditional"
    assert run(text).text == "经行政院核准后施行，云云。"


def test_shared_characters_of_a_simplified_page_are_converted_as_opencc_reads_them() -> None:
    # Among simplified characters 准 is the simplified 准 of 標準.
    assert run("这个标准经核准后公布。", to="tw").text == "這個標準經核准後公佈。"


def test_shared_table_is_what_opencc_lists() -> None:
    import importlib.util
    from pathlib import Path

    from cleankit.stages.script.shared import shared_characters

    tool_file = Path(__file__).parent.parent / "tools" / "build_shared_han.py"
    spec = importlib.util.spec_from_file_location("build_shared_han", tool_file)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert shared_characters() == frozenset(key for key, _ in tool.shared(tool.read_st_characters()))
    assert {"准", "云", "台", "后", "表", "布"} <= shared_characters() and "发" not in shared_characters()
