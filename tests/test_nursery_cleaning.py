"""The survey and cleaning workers forked from the warm nursery (issue 12: each worker's peak
memory independent of corpus size): the nursery is forked before the run lists its files, loads
the stages' tables itself, and forks workers whose work names the pipeline it inherited and
carries what the passes learned since (the boilerplate pass's furniture)."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from cleankit.core.pipeline import Pipeline
from cleankit.core.settings import Settings
from cleankit.run.cleaner import Cleaner
from cleankit.run.executor import PIDFDS, LocalExecutor
from cleankit.run.plan import Task

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SITES = 3

pytestmark = pytest.mark.skipif(not PIDFDS or not Path("/proc/self/status").exists(), reason="Linux pidfds only")


def _pages(folder: Path) -> list[Task]:
    """Pages of SITES sites: samples under the head and tail lines of one sample per site
    (what a site repeats on each of its pages, learned as its furniture)."""
    samples = [path.read_text(encoding="utf-8") for path in sorted(SAMPLES.glob("*.txt"))][:12]
    tasks = []
    for site in range(SITES):
        lines = [line for line in samples[site].splitlines() if line.strip()]
        head, tail = "\n".join(lines[:2]), "\n".join(lines[-2:])
        for number, body in enumerate(samples):
            path = folder / f"site{site}" / f"{number}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{head}\n\n{body}\n\n{tail}\n", encoding="utf-8")
            tasks.append(Task(str(path), f"site{site}/{number}.txt", None))
    return tasks


def _learn(passes: list[Any], tasks: list[Task]) -> None:
    for corpus_pass in passes:
        surveys = {task.rel: corpus_pass.survey(task.rel, Path(task.path).read_bytes()) for task in tasks}
        corpus_pass.learn((task.rel, surveys[task.rel]) for task in tasks)


@dataclass
class _Traced:
    """A cleaning worker's work that also says who forked the worker."""

    cleaner: Cleaner
    forks_warm: ClassVar[bool] = True

    def __call__(self, task: Task) -> tuple[str, bytes, int]:
        result = self.cleaner(task)
        return result.rel, result.lines, os.getppid()


def _lost(task: Task, why: str) -> tuple[str, bytes, int]:
    raise AssertionError(f"{task.rel}: {why}")


def _outputs(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*.txt")}


def test_a_cleaning_worker_forked_from_the_warm_nursery_cleans_as_one_forked_by_the_parent(tmp_path: Path) -> None:
    tasks = _pages(tmp_path / "crawl")
    pipeline = Pipeline.from_settings(Settings())
    passes = pipeline.corpus_passes()
    nursed = LocalExecutor(2, nursery=True)
    nursed.start_nurseries([pipeline, *pipeline.stages])
    _learn(passes, tasks)  # after the nursery was forked: the furniture must travel with the work
    assert any(p.context(task.rel) for p in passes for task in tasks)  # type: ignore[attr-defined]
    try:
        from_nursery = sorted(nursed.results(tasks, _Traced(Cleaner(pipeline, tmp_path / "a", passes, "r")), _lost))
    finally:
        nursed.close()
    by_parent = _Traced(Cleaner(pipeline, tmp_path / "b", passes, "r"))
    from_parent = sorted(LocalExecutor(2).results(tasks, by_parent, _lost))
    assert {parent for _, _, parent in from_nursery}.isdisjoint({os.getpid()})
    assert {parent for _, _, parent in from_parent} == {os.getpid()}
    assert [(rel, lines) for rel, lines, _ in from_nursery] == [(rel, lines) for rel, lines, _ in from_parent]
    assert _outputs(tmp_path / "a") == _outputs(tmp_path / "b")
    # The learned furniture changed what was cleaned: without it the outputs differ.
    unlearned = Pipeline.from_settings(Settings())
    for task in tasks:
        Cleaner(unlearned, tmp_path / "c", [], "r")(task)
    assert _outputs(tmp_path / "c") != _outputs(tmp_path / "a")


def test_a_killed_warm_nursery_leaves_the_cleaning_to_workers_forked_by_the_parent(tmp_path: Path) -> None:
    tasks = _pages(tmp_path / "crawl")[:8]
    pipeline = Pipeline.from_settings(Settings())
    executor = LocalExecutor(2, nursery=True)
    executor.start_nurseries([pipeline, *pipeline.stages])
    warm = executor._warm
    assert warm is not None and warm.process.pid is not None
    os.kill(warm.process.pid, signal.SIGKILL)
    warm.process.join(timeout=10)
    assert not executor.in_warm_nursery(_load_table)  # the caller loads it itself then
    try:
        results = sorted(executor.results(tasks, _Traced(Cleaner(pipeline, tmp_path / "a", [], "r")), _lost))
    finally:
        executor.close()
    expected = sorted(_Traced(Cleaner(pipeline, tmp_path / "b", [], "r"))(task) for task in tasks)
    assert [(rel, lines) for rel, lines, _ in results] == [(rel, lines) for rel, lines, _ in expected]
    assert {parent for _, _, parent in results} == {os.getpid()}


_TABLE: list[int] = []  # filled by _load_table in the process that runs it


def _load_table() -> None:
    _TABLE.append(os.getpid())


def _resident_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class _Reports:
    forks_warm: ClassVar[bool] = True

    def __call__(self, n: int) -> tuple[int, int, list[int], int]:
        return n, os.getppid(), list(_TABLE), _resident_kb()


def test_workers_of_the_warm_nursery_share_its_tables_and_not_what_the_parent_grew_since() -> None:
    executor = LocalExecutor(2, nursery=True)
    executor.start_nurseries()
    assert executor.in_warm_nursery(_load_table)
    grown = [bytes([n % 251]) * 4096 for n in range(30_000)]  # ~120 MB the parent holds from now on
    try:
        results = list(executor.results(list(range(6)), _Reports(), _lost))  # type: ignore[arg-type]
        warm = executor._warm
        assert warm is not None
        nursery = warm.process.pid
    finally:
        executor.close()
    assert sorted(n for n, _, _, _ in results) == list(range(6))
    # The table was loaded once, in the nursery, before it forked the workers.
    assert {parent for _, parent, _, _ in results} == {nursery}
    assert {tuple(table) for _, _, table, _ in results} == {(nursery,)}
    assert _TABLE == []
    # Each worker's resident memory is the nursery's plus its own, not the parent's 120 MB more.
    assert max(resident for _, _, _, resident in results) < _resident_kb() - 80_000
    assert len(grown) == 30_000


def _wait_for(flag: str) -> None:
    """A warm-up that lasts until the test says it may end (at most 20 s); it says when it ended."""
    import time

    deadline = time.monotonic() + 20
    while not os.path.exists(flag) and time.monotonic() < deadline:
        time.sleep(0.01)
    Path(flag + ".ended").touch()


@dataclass
class _Surveys:
    """Work whose workers need the pipeline both nurseries inherit and none of the warm-up's
    tables, as the site-learning survey (``forks_small``)."""

    forks_small: ClassVar[bool] = True

    def __call__(self, n: int) -> tuple[int, int]:
        return n, os.getppid()


def test_the_survey_does_not_wait_for_the_warm_nursery_loading_the_cleaning_tables(tmp_path: Path) -> None:
    import functools

    from cleankit.run.clean import _Surveyor

    flag = str(tmp_path / "loaded")
    executor = LocalExecutor(2, nursery=True)
    executor.start_nurseries()
    try:
        assert executor.in_warm_nursery(functools.partial(_wait_for, flag))  # the nursery is busy now
        results = list(executor.results(list(range(6)), _Surveys(), _lost))  # type: ignore[arg-type]
        # Every answer came while the warm nursery was still loading: its workers were forked
        # by the bare one.
        assert not os.path.exists(flag + ".ended")
        bare = executor._nursery
        assert bare is not None
        assert sorted(results) == [(n, bare.process.pid) for n in range(6)]
        assert executor._nursery_for(_Surveyor([], {}, 1)) is bare
        Path(flag).touch()
    finally:
        executor.close()
    assert os.path.exists(flag + ".ended")
