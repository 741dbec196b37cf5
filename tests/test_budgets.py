"""Bounds on one document: the per-document time budget, and user rules whose searches run
over their time limit (counted per rule, flagged, stopped after a few, summed in the run)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import run_cli_here

from cleankit import Pipeline, Settings
from cleankit.core.budget import OverBudget, check_deadline, document_deadline
from cleankit.core.document import Document
from cleankit.core.errors import DocumentTimeout, InputError, SettingsError
from cleankit.core.settings import settings_from_dict
from cleankit.core.stage import register_stage
from cleankit.run.clean import run_clean
from cleankit.run.executor import LocalExecutor

PAGE = "第一段文字，内容完整。\n\n第二段文字。\n"


@register_stage("test-endless-loop", order=97, default=False)
@dataclass
class EndlessLoopStage:
    """Never returns (a pathological page in a stage with a Python loop)."""

    name: str = "test-endless-loop"

    def run(self, document: Document) -> Document:
        count = 0
        while True:  # only the budget's alarm gets out of this
            count += 1


def burn(seconds: float) -> None:
    """Spend ``seconds`` of CPU time (the budget counts CPU, not sleep)."""
    until = time.process_time() + seconds
    while time.process_time() < until:
        pass


@register_stage("test-polite-loop", order=98, default=False)
@dataclass
class PoliteLoopStage:
    """Loops forever too, but looks at the deadline as long stage loops do."""

    name: str = "test-polite-loop"

    def run(self, document: Document) -> Document:
        while True:
            check_deadline()
            burn(0.001)


@register_stage("test-slow-stage", order=99, default=False)
@dataclass
class SlowStage:
    """Finishes, but after its document's budget: caught between stages."""

    name: str = "test-slow-stage"
    seconds: float = 0.3

    def run(self, document: Document) -> Document:
        burn(self.seconds)
        return document


def pipeline_with(stage: str, seconds: float) -> Pipeline:
    return Pipeline.from_settings(Settings(stages=["hygiene", stage, "paragraphs"], document_seconds=seconds))


# --- the document budget ------------------------------------------------------------------


def test_an_endless_python_loop_is_stopped_and_named() -> None:
    pipeline = pipeline_with("test-endless-loop", 0.5)
    started = time.process_time()
    with pytest.raises(DocumentTimeout, match=r"stopped in stage 'test-endless-loop' after 0\.\d CPU s") as info:
        pipeline.clean_text(PAGE)
    assert 0.4 < time.process_time() - started < 3.0
    assert "document_seconds" in str(info.value)
    assert isinstance(info.value, InputError)  # fails the document, not the run
    # Nothing is left armed: the next document runs normally, and code outside a budget
    # never sees a deadline.
    check_deadline()
    assert pipeline_with("test-slow-stage", 5).clean_text(PAGE).text == PAGE


def test_a_catastrophic_regex_inside_a_stage_is_stopped_too() -> None:
    import re

    @register_stage("test-backtracking", order=100, default=False)
    @dataclass
    class BacktrackingStage:
        name: str = "test-backtracking"

        def run(self, document: Document) -> Document:
            re.search(r"(a|aa)+$", "a" * 60 + "b")  # 2^60 steps
            return document

    started = time.process_time()
    with pytest.raises(DocumentTimeout, match="test-backtracking"):
        pipeline_with("test-backtracking", 0.5).clean_text(PAGE)
    assert time.process_time() - started < 3.0


def test_without_the_alarm_a_loop_that_checks_the_deadline_is_stopped() -> None:
    # Another thread cannot use SIGALRM: the budget then rests on the stages' own checks.
    outcome: list[BaseException] = []

    def clean() -> None:
        try:
            pipeline_with("test-polite-loop", 0.3).clean_text(PAGE)
        except DocumentTimeout as exc:
            outcome.append(exc)

    worker = threading.Thread(target=clean)
    worker.start()
    worker.join(10)
    assert not worker.is_alive()
    assert len(outcome) == 1 and "test-polite-loop" in str(outcome[0])


def test_a_stage_that_finishes_late_is_caught_between_stages() -> None:
    with pytest.raises(DocumentTimeout, match="stage 'test-slow-stage'"):
        Pipeline.from_settings(
            Settings(
                stages=["test-slow-stage", "paragraphs"],
                stage_options={"test-slow-stage": {"seconds": 0.3}},
                document_seconds=0.1,
            )
        ).clean_text(PAGE)


def test_decoding_counts_against_the_budget_and_bytes_name_the_step(monkeypatch: pytest.MonkeyPatch) -> None:
    import cleankit.core.pipeline as pipeline_module

    def slow_decode(raw: bytes, encoding: str | None):
        burn(5)
        raise AssertionError("not reached")

    monkeypatch.setattr(pipeline_module, "detect_and_decode", slow_decode)
    with pytest.raises(DocumentTimeout, match="stopped in decoding"):
        Pipeline.from_settings(Settings(document_seconds=0.3)).clean_bytes(PAGE.encode("utf-8"))


def test_no_budget_means_no_alarm_and_no_deadline() -> None:
    with document_deadline(0):
        check_deadline()
    with pytest.raises(OverBudget), document_deadline(0.05):
        burn(1)


def test_the_budget_is_cpu_time_so_waiting_does_not_spend_it() -> None:
    # A worker stopped and resumed, or starved on a busy machine, keeps its budget.
    with document_deadline(0.2):
        time.sleep(0.5)
        check_deadline()


def test_document_seconds_is_a_setting() -> None:
    assert Settings().document_seconds > 0
    assert settings_from_dict({"clean": {"document_seconds": 30}}).document_seconds == 30.0
    with pytest.raises(SettingsError, match="document_seconds must be >= 0"):
        settings_from_dict({"clean": {"document_seconds": -1}})
    assert "document_seconds" not in Settings().output_fingerprint()  # not an output setting


def test_in_a_run_the_page_over_budget_fails_alone_and_the_run_goes_on(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "ok.txt").write_text(PAGE, encoding="utf-8")
    (src / "stuck.txt").write_text("卡住" + PAGE, encoding="utf-8")

    @register_stage("test-stuck-on-one-page", order=101, default=False)
    @dataclass
    class StuckOnOnePage:
        name: str = "test-stuck-on-one-page"

        def run(self, document: Document) -> Document:
            while document.text.startswith("卡住"):
                pass
            return document

    settings = Settings(jobs=2, neardup=False, stages=["hygiene", "test-stuck-on-one-page"], document_seconds=1.0)
    started = time.monotonic()
    summary = run_clean([src], tmp_path / "out", settings, executor=LocalExecutor(2))
    assert time.monotonic() - started < 120  # not held forever (wall time: the machine may be busy)
    assert summary.documents == 1 and summary.failed == 1
    source, error = summary.failures[0]
    assert source == "stuck.txt"
    assert "over the time budget of 1 CPU s per document" in error and "test-stuck-on-one-page" in error
    assert (tmp_path / "out" / "ok.txt").read_text(encoding="utf-8") == PAGE
    assert not (tmp_path / "out" / "stuck.txt").exists()


# --- user rules over their time limit -----------------------------------------------------

SLOW_PACK = """
family: test
rules:
  - id: slow-one
    description: n^6 backtracking the static check lets through
    pattern: 'a.*a.*a.*a.*a.*a.*b'
    zone: anywhere
    max_chars: 5000
    examples:
      match: ['aaaaaab']
      no_match: ['c']
"""


def slow_page(lines: int) -> str:
    body = "。".join(["这是正文的一句话，足够长，用来作为页面主体的内容"] * 3) + "。"
    return "\n\n".join([body] + ["b" + "a" * 3000 for _ in range(lines)] + [body]) + "\n"


def test_rule_timeouts_are_flagged_per_rule_and_the_rule_is_stopped(tmp_path: Path) -> None:
    (tmp_path / "slow.yaml").write_text(SLOW_PACK, encoding="utf-8")
    settings = Settings(stage_options={"boilerplate": {"rules": [str(tmp_path)], "max_search_timeouts": 3}})
    pipeline = Pipeline.from_settings(settings)
    page = slow_page(40)
    baseline = Pipeline.from_settings(Settings())
    started = time.monotonic()
    baseline.clean_text(page)
    usual = time.monotonic() - started
    started = time.monotonic()
    document = pipeline.clean_text(page)
    # Each timeout costs at least the 50 ms limit: 40 of them would add at least 2 s.
    assert time.monotonic() - started - usual < 40 * 0.05
    flags = [flag for flag in document.flags if flag["rule"] == "slow-one"]
    assert len(flags) == 1
    flag = flags[0]
    assert flag["stage"] == "boilerplate" and flag["timeouts"] == 3 and flag["stopped"] is True
    assert flag["text"].startswith("baaa")
    assert "not tried again in this document after 3" in flag["reason"]
    # A stopped rule is judged afresh on the next page, not from a cached "no match".
    assert [f["timeouts"] for f in pipeline.clean_text(slow_page(2)).flags if f["rule"] == "slow-one"] == [2]


def test_rule_timeouts_reach_the_run_summary(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / "slow.yaml").write_text(SLOW_PACK, encoding="utf-8")
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(slow_page(5), encoding="utf-8")
    (src / "b.txt").write_text(slow_page(1), encoding="utf-8")
    (src / "c.txt").write_text(PAGE, encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli_here("clean", str(src), "-o", str(out), "--rules", str(packs), "-j", "1")
    assert result.returncode == 0, result.stderr.decode()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["search_timeouts"] == {"boilerplate/slow-one": {"documents": 2, "timeouts": 4, "stopped": 1}}
    assert summary["last_run"]["search_timeouts"] == summary["search_timeouts"]
    assert "rule boilerplate/slow-one: 4 search(es) over the time limit in 2 document(s), stopped in 1" in (
        result.stderr.decode()
    )
