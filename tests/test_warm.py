"""Loading the stages' first-use tables in the parent before it forks its workers
(:mod:`cleankit.run.warm`), and the per-process figures a benchmark asks for
(:mod:`cleankit.run.procstats`): neither changes a byte of what a run writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLES

from cleankit.core.settings import Settings
from cleankit.run import warm
from cleankit.run.clean import run_clean
from cleankit.run.executor import LocalExecutor

VOLATILE = ("run", "seconds")

# What each warmed table is loaded for: a pinyin gloss, a Latin-1 misreading (ftfy), a
# byte-shift run whose guessed characters the word model chooses among, traditional pages
# from Taiwan and Hong Kong (the regional converters), a GBK page.
PAGES = {
    "gloss.txt": "产品质(zhì)量监督抽查结果公告\n本次抽查共涉及产品质量问题十二项。\n".encode(),
    "latin1.txt": "关于做好春节期间安全生产工作的通知\n".encode().decode("latin-1").encode(),
    "tw.txt": "行政院公報\n本院為推動數位發展，訂定下列辦法。臺灣地區適用之。\n".encode(),
    "hk.txt": "香港特別行政區政府公告\n衞生署提醒市民注意個人衞生。\n".encode(),
    "gbk.txt": "国务院办公厅关于加强政务公开工作的意见\n各省、自治区、直辖市人民政府。\n".encode("gbk"),
}


def _inputs(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    for sample in SAMPLES.iterdir():
        (src / sample.name).write_bytes(sample.read_bytes())
    for name, data in PAGES.items():
        (src / name).write_bytes(data)
    return src


def _written(out: Path) -> tuple[dict[str, bytes], list[str]]:
    texts = {
        path.relative_to(out).as_posix(): path.read_bytes()
        for path in out.rglob("*.txt")
        if path.is_file()
    }
    records = []
    for line in (out / "provenance.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        for key in VOLATILE:
            record.pop(key, None)
        records.append(json.dumps(record, ensure_ascii=False, sort_keys=True))
    return texts, sorted(records)


def test_a_warmed_parallel_run_writes_what_one_process_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = _inputs(tmp_path)
    run_clean([src], tmp_path / "one", Settings(jobs=1))
    calls: list[str] = []
    shared, cleaning = warm.warm_shared, warm.warm_cleaning
    monkeypatch.setattr(warm, "WARM_ALL_FILES", 1)  # every table, for this small run too
    monkeypatch.setattr(warm, "warm_shared", lambda: (calls.append("shared"), shared()))
    monkeypatch.setattr(warm, "warm_cleaning", lambda pipeline: (calls.append("cleaning"), cleaning(pipeline)))
    run_clean([src], tmp_path / "two", Settings(jobs=2))
    assert calls == ["shared", "cleaning"]
    assert _written(tmp_path / "two") == _written(tmp_path / "one")


def test_one_worker_warms_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(warm, "WARM_ALL_FILES", 1)
    monkeypatch.setattr(warm, "warm_shared", lambda: calls.append("shared"))
    monkeypatch.setattr(warm, "warm_cleaning", lambda _pipeline: calls.append("cleaning"))
    run_clean([_inputs(tmp_path)], tmp_path / "out", Settings(jobs=1))
    assert calls == []


WARMED = """
import sys
from cleankit.core.pipeline import Pipeline
from cleankit.core.settings import Settings
from cleankit.run import warm
from cleankit.text.lazy_pattern import LazyPattern
from cleankit.text import cjk, plausibility, trigrams
pipeline = Pipeline.from_settings(Settings())
warm.warm_shared()
warm.warm_cleaning(pipeline)
rules = next(s for s in pipeline.stages if s.name == "boilerplate").ruleset.rules
patterns = [p for r in rules for p in (r.compiled, r.compiled_lines, *r.compiled_fields.values())]
lazy = [p for p in patterns if isinstance(p, LazyPattern)]
print(plausibility.chinese_model.cache_info().currsize, plausibility.word_model.cache_info().currsize,
      trigrams.trigram_counts.cache_info().currsize,
      "pypinyin" in sys.modules, "ftfy" in sys.modules, cjk.opencc_converter.cache_info().currsize,
      len(lazy) > 0, sum(p._compiled is None for p in lazy))
"""


def test_warming_loads_what_a_worker_would_load_on_first_use() -> None:
    # A fresh interpreter: this one may have loaded the tables already.
    found = subprocess.run([sys.executable, "-c", WARMED], capture_output=True, text=True, check=True).stdout.split()
    # Both models and the trigrams that choose a guess, pypinyin, ftfy, t2s with the Taiwan
    # and Hong Kong converters (to the standard and to simplified) and s2t (the mojibake
    # stage's script-fit): 7, and every lazily compiled rule pattern compiled.
    assert found == ["1", "1", "1", "True", "True", "7", "True", "0"]


def _square(n: int) -> int:
    return n * n


@pytest.mark.parametrize("jobs", [1, 2])
def test_each_worker_reports_its_tasks_cpu_and_peak_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    monkeypatch.setenv("CLEANKIT_PROCESS_STATS", str(tmp_path))
    results = list(LocalExecutor(jobs).results(list(range(40)), _square, lambda task, why: -1))
    assert sorted(results) == [n * n for n in range(40)]
    reports = [json.loads(path.read_text()) for path in tmp_path.glob("square-*.json")]
    assert len(reports) == jobs
    assert sum(report["tasks"] for report in reports) == 40
    for report in reports:
        assert report["in_process"] is (jobs == 1)
        assert report["work_cpu"] >= 0 and report["pipe_cpu"] >= 0
        if sys.platform.startswith("linux"):
            assert report["peak_rss_mb"] >= report["rss_mb"] > 0


def test_the_parent_reports_its_memory_at_the_end_of_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stats = tmp_path / "stats"
    stats.mkdir()
    monkeypatch.setenv("CLEANKIT_PROCESS_STATS", str(stats))
    run_clean([SAMPLES], tmp_path / "out", Settings(jobs=2))
    names = sorted(path.name.split("-")[0] for path in stats.glob("*.json"))
    assert names.count("parent") == 1 and "Cleaner" in names
    parent = json.loads(next(stats.glob("parent-*.json")).read_text())
    assert parent["cpu"] > 0
    if sys.platform.startswith("linux"):
        assert parent["peak_rss_mb"] >= parent["rss_mb"] > 0


class _Recording(LocalExecutor):
    """The run's own executor, recording what it has its warm nursery load."""

    def __init__(self, jobs: int, events: list[str]) -> None:
        super().__init__(jobs, nursery=True)
        self.events = events

    def in_warm_nursery(self, action: Any) -> bool:
        name = getattr(action, "__name__", None) or getattr(getattr(action, "func", None), "__name__", "?")
        self.events.append(name)
        return super().in_warm_nursery(action)


def test_the_warm_nursery_loads_every_table_before_the_run_plans_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cleankit.io.files import discover
    from cleankit.run import clean

    src = _inputs(tmp_path)
    items = list(discover([src], [], []))
    events: list[str] = []
    planned = clean.plan
    monkeypatch.setattr(clean, "plan", lambda *args: (events.append("plan"), planned(*args))[1])
    monkeypatch.setattr(warm, "WARM_ALL_FILES", 1)
    executor = _Recording(2, events)
    try:
        run_clean([src], tmp_path / "two", Settings(jobs=2), executor=executor, items=items)
    finally:
        executor.close()
    assert events == ["warm_shared", "warm_cleaning", "plan"]  # sent once, as soon as it could be
    run_clean([src], tmp_path / "one", Settings(jobs=1))
    assert _written(tmp_path / "two") == _written(tmp_path / "one")
    events.clear()
    rerun = _Recording(2, events)
    try:  # every file finished: nothing to load
        run_clean([src], tmp_path / "two", Settings(jobs=2), executor=rerun, items=items)
    finally:
        rerun.close()
    assert events == ["plan"]


def test_a_run_of_few_files_has_the_nursery_load_only_the_shared_tables(tmp_path: Path) -> None:
    from cleankit.io.files import discover

    src = _inputs(tmp_path)
    items = list(discover([src], [], []))
    assert 2 <= len(items) < warm.WARM_ALL_FILES
    events: list[str] = []
    executor = _Recording(2, events)
    try:
        run_clean([src], tmp_path / "two", Settings(jobs=2), executor=executor, items=items)
    finally:
        executor.close()
    assert events == ["warm_shared"]  # the cleaning tables are loaded by the workers that need them
    run_clean([src], tmp_path / "one", Settings(jobs=1))
    assert _written(tmp_path / "two") == _written(tmp_path / "one")
