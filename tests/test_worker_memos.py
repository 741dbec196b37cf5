"""The memos a cleaning worker keeps between pages stay within their bounds however many
distinct keys a crawl brings (issue 12: a worker's peak memory independent of corpus size),
and a bounded memo answers as a cold one does. The bounds' figures: benchmarks/README.md,
branch mem10."""

from __future__ import annotations

import pytest

from cleankit.stages.boilerplate import JUDGED_LINES_KEPT, REMOVED_LINES_KEPT, BoilerplateStage
from cleankit.stages.boilerplate.packs import SearchBudget
from cleankit.stages.mojibake import context_choice
from cleankit.text import plausibility
from cleankit.text.plausibility import ChineseModel, chinese_model

# Lines of a page's tail as sites write them, each made distinct by its numbers.
TAIL_LINES = (
    "主办：{n}市人民政府办公室 承办：{n}市大数据中心",
    "网站标识码：{n:010d} 京ICP备{n:08d}号",
    "京公网安备 {n:014d}号",
    "联系我们 | 网站地图 | 第{n}期",
    "本文来源：{n}区政务服务管理局",
)


def _distinct_lines(count: int) -> list[str]:
    return [TAIL_LINES[n % len(TAIL_LINES)].format(n=n) for n in range(count)]


def _fresh(memo_size: int | None = None) -> ChineseModel:
    model = chinese_model()
    return ChineseModel(model.chars, model.bigrams, memo_size)


def test_the_removed_lines_memo_keeps_its_own_smaller_bound() -> None:
    stage = BoilerplateStage()
    assert stage._removed.kept == REMOVED_LINES_KEPT < JUDGED_LINES_KEPT == stage._judged.kept
    budget = SearchBudget()
    lines = _distinct_lines(3 * REMOVED_LINES_KEPT)
    answers = []
    for line in lines:
        answers.append(stage._removed_by_a_rule(line, (0, len(line)), budget))
        assert len(stage._removed) <= REMOVED_LINES_KEPT
    assert len(stage._removed) == REMOVED_LINES_KEPT
    # the lines still kept answer as a stage that never saw the others
    cold = BoilerplateStage()
    recent = lines[-50:]
    assert [stage._removed_by_a_rule(line, (0, len(line)), budget) for line in recent] == [
        cold._removed_by_a_rule(line, (0, len(line)), budget) for line in recent
    ]
    assert answers[-50:] == [cold._removed_by_a_rule(line, (0, len(line)), SearchBudget()) for line in recent]


def test_a_models_logp_memo_is_emptied_at_its_own_bound() -> None:
    model = _fresh(memo_size=100)
    text = "".join(_distinct_lines(400))
    # each pair as a search asks for it, the memo's size after each
    sizes = [len(model._logp_cache) for pair in zip([None, *text], text, strict=False) if model.logp(*pair) < 0]
    assert len(sizes) == len(text)
    assert max(sizes) == 100 and sizes.count(1) > 1  # filled, emptied, filled again
    assert _fresh().memo_size == plausibility.LOGP_CACHE_SIZE  # the main model's


def test_the_fine_model_has_the_small_bound() -> None:
    fine = plausibility.fine_model()
    assert fine.memo_size == plausibility.FINE_LOGP_CACHE_SIZE < plausibility.LOGP_CACHE_SIZE
    text = "".join(_distinct_lines(3000))
    previous = None
    for char in text:
        fine.logp(previous, char)
        assert len(fine._logp_cache) <= plausibility.FINE_LOGP_CACHE_SIZE
        previous = char


def test_the_per_character_memos_are_bounded_and_score_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plausibility, "CHAR_MEMO_SIZE", 256)
    model = _fresh()
    # CJK ideographs in code point order: 1,500 distinct characters, most never seen together
    text = "".join(chr(code) for code in range(0x4E00, 0x4E00 + 1500))
    first = model.total_logp(text)
    assert len(model._unseen_logp) <= 256 and len(model._unigram_cache) <= 256
    for char in text:
        model.unigram(char)
        assert len(model._unigram_cache) <= 256
    assert model.total_logp(text) == first == _fresh().total_logp(text)


def test_the_simplified_forms_memo_is_emptied_at_its_bound() -> None:
    context_choice._SIMPLIFIED.clear()
    lines = _distinct_lines(context_choice.SIMPLIFIED_KEPT + 500)
    for line in lines:
        context_choice.simplified(line)
        assert len(context_choice._SIMPLIFIED) <= context_choice.SIMPLIFIED_KEPT
    assert context_choice.simplified("經濟發展") == "经济发展"


def test_the_fine_model_shares_the_per_character_memos() -> None:
    # built afresh from the model loaded now (another test may have emptied the models' caches)
    base, fine = chinese_model(), plausibility.fine_model.__wrapped__()
    assert fine._unigram_cache is base._unigram_cache and fine._unseen_logp is base._unseen_logp
    fresh_fine = ChineseModel(base.chars, fine.bigrams)
    for char in "牛鼻子經濟发展ㄅ\ue000":
        assert fine.unigram(char) == fresh_fine.unigram(char) == base.unigram(char)
        assert fine.unseen_pair_logp(char) == fresh_fine.unseen_pair_logp(char)
