"""The boilerplate stage's memo of line verdicts stays bounded over a crawl and keeps the
lines that repeat (a site's furniture) while lines seen once pass through (issue 12:
a worker's memory independent of corpus size)."""

from __future__ import annotations

from cleankit.stages.boilerplate import JUDGED_LINES_KEPT, BoilerplateStage, LineMemo, remember
from cleankit.stages.boilerplate.packs import SearchBudget


def test_the_memo_stays_bounded_and_keeps_the_lines_that_repeat() -> None:
    memo = LineMemo()
    budget = SearchBudget()
    furniture = [("head", f"某市人民政府网站 菜单 {n}") for n in range(20)]
    misses = 0
    for page in range(JUDGED_LINES_KEPT // 4):  # 4 lines seen once per page: the memo fills many times over
        for key in furniture:
            if memo.recall(key) is None:
                misses += 1
                remember(memo, key, ((), None, {}, {}), budget)
        for line in range(4):
            remember(memo, ("head", f"第{page}页 标题 {line}"), ((), None, {}, {}), budget)
        assert len(memo) <= JUDGED_LINES_KEPT
    assert misses == len(furniture)  # each furniture line judged once, never dropped
    assert len(memo) == JUDGED_LINES_KEPT


def test_a_verdict_under_a_timeout_is_not_kept() -> None:
    memo = LineMemo()
    budget = SearchBudget(timeouts={"user/slow": 1})
    remember(memo, ("tail", "line"), False, budget)
    assert memo.recall(("tail", "line")) is None


def test_the_stage_judges_the_same_with_a_cold_and_a_warm_memo() -> None:
    stage = BoilerplateStage()
    page = (
        "首页 | 政务公开 | 办事服务\n关于印发方案的通知\n各区人民政府：现将方案印发给你们。\n"
        "主办：某市人民政府办公厅\n网站标识码：1100000001\n"
    )
    cold = stage.analyse(page)
    warm = stage.analyse(page)
    assert [(line.remove, line.rule) for line in cold.lines] == [(line.remove, line.rule) for line in warm.lines]
    assert len(stage._judged) > 0
