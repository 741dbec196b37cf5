"""The local executor's worker pool: every task answered once, dead workers replaced,
stopping never waits on a running or half-sent document."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import child_pids

from cleankit.run.executor import LocalExecutor, WorkerError


def _children() -> set[int]:
    return set(child_pids(os.getpid()))


def _lost(task: int, why: str) -> str:
    return f"lost {task}: {why}"


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_every_task_answered_once(jobs: int) -> None:
    results = list(LocalExecutor(jobs).results(list(range(50)), lambda n: n * n, _lost))
    assert sorted(results) == [n * n for n in range(50)]  # type: ignore[type-var]


def test_large_results_come_through_whole() -> None:
    # Larger than a pipe's buffer: the parent reads while the worker writes.
    results = list(LocalExecutor(2).results([1, 2, 3, 4], lambda n: "页" * (n * 1_000_000), _lost))
    assert sorted(len(r) for r in results) == [1_000_000, 2_000_000, 3_000_000, 4_000_000]


def _large_both_ways(done: Any) -> None:
    tasks = ["任" * 300_000 + str(n) for n in range(6)]
    results = LocalExecutor(2).results(tasks, lambda task: task[::-1] + "果" * 300_000, _lost)
    done.put(sorted(len(result) for result in results))


def test_large_tasks_with_large_results_do_not_deadlock() -> None:
    # Tasks and results both larger than a pipe's buffer: a task sent ahead to a busy worker
    # would block the parent while that worker blocks sending its result. Run in a process
    # of its own, so a deadlock fails the test instead of hanging the suite.
    import multiprocessing

    context = multiprocessing.get_context("fork")
    done = context.Queue()
    process = context.Process(target=_large_both_ways, args=(done,))
    process.start()
    try:
        assert done.get(timeout=120) == [600_001] * 6
    finally:
        process.kill()
        process.join()


def test_a_task_that_kills_its_worker_twice_is_lost_and_the_others_complete(tmp_path: Path) -> None:
    def work(n: int) -> str:
        if n == 7:
            os.kill(os.getpid(), signal.SIGKILL)
        return f"done {n}"

    results = list(LocalExecutor(2).results(list(range(20)), work, _lost))
    assert len(results) == 20
    lost = [r for r in results if r.startswith("lost")]
    assert lost == ["lost 7: the worker process cleaning it killed by SIGKILL (out of memory, or a crash); the other "
                    "documents went on"]


def test_a_worker_killed_once_from_outside_is_replaced_and_its_task_retried(tmp_path: Path) -> None:
    marker = tmp_path / "killed-once"

    def work(n: int) -> str:
        if n == 3 and not marker.exists():
            marker.write_text("x")
            os.kill(os.getpid(), signal.SIGKILL)
        return f"done {n}"

    results = list(LocalExecutor(2).results(list(range(10)), work, _lost))
    assert sorted(results) == sorted(f"done {n}" for n in range(10))


def test_an_exception_in_the_work_is_raised_with_its_traceback_and_the_workers_end() -> None:
    def work(n: int) -> int:
        if n == 2:
            raise KeyError("no such thing")
        return n

    before = _children()
    with pytest.raises(WorkerError, match="KeyError: 'no such thing'"):
        list(LocalExecutor(2).results(list(range(6)), work, _lost))
    assert _children() <= before


def test_stopping_midway_ends_the_workers_at_once() -> None:
    def work(n: int) -> int:
        if n > 0:
            time.sleep(60)
        return n

    before = _children()
    results = LocalExecutor(2).results(list(range(4)), work, _lost)
    started = time.monotonic()
    assert next(results) == 0
    results.close()  # as the run does on an output error or Ctrl-C
    assert time.monotonic() - started < 20
    assert _children() <= before


def _pid_of_worker(n: int) -> tuple[int, int]:
    return os.getpid(), n


@dataclass
class _Tagged:
    """Work sent to kept workers: answers with its tag, the worker's pid and its peak memory."""

    tag: str
    SENT_TO_KEPT_WORKERS: ClassVar[bool] = True

    def __call__(self, n: int) -> tuple[str, int, int, int]:
        return self.tag, os.getpid(), n, _peak_kb()


def _peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def test_kept_workers_take_the_next_work_and_end_with_the_block() -> None:
    executor = LocalExecutor(2)
    before = _children()
    with executor.kept_workers():
        first = list(executor.results(list(range(10)), _pid_of_worker, _lost))
        second = list(executor.results(list(range(10)), _Tagged("verify"), _lost))
        third = list(executor.results(list(range(4)), _Tagged("rewrite"), _lost))
        assert _children() - before == {pid for pid, _n in first}
    assert _children() <= before
    assert sorted(n for _pid, n in first) == list(range(10))
    assert sorted(n for _tag, _pid, n, _peak in second) == list(range(10))
    assert {tag for tag, *_ in second} == {"verify"} and {tag for tag, *_ in third} == {"rewrite"}
    # The same processes: nothing was forked for the second and third work.
    assert {pid for _tag, pid, *_ in second + third} <= {pid for pid, _n in first}


def test_work_that_cannot_be_sent_gets_workers_of_its_own() -> None:
    executor = LocalExecutor(2)
    with executor.kept_workers():
        first = {pid for pid, _n in executor.results(list(range(6)), _pid_of_worker, _lost)}
        again = {pid for pid, _n in executor.results(list(range(6)), _pid_of_worker, _lost)}
    assert not first & again  # a plain function is not sent: the kept workers were stopped


def test_outside_the_block_workers_are_not_kept() -> None:
    executor = LocalExecutor(2)
    before = _children()
    list(executor.results(list(range(6)), _pid_of_worker, _lost))
    assert _children() <= before


def test_a_kept_worker_that_died_idle_is_replaced_for_the_next_work() -> None:
    executor = LocalExecutor(2)
    with executor.kept_workers():
        pids = {pid for pid, _n in executor.results(list(range(6)), _pid_of_worker, _lost)}
        victim = min(pids)
        os.kill(victim, signal.SIGKILL)
        time.sleep(0.2)  # its death is seen when the next work is sent to it
        results = list(executor.results(list(range(8)), _Tagged("after"), _lost))
    assert sorted(n for _tag, _pid, n, _peak in results) == list(range(8))
    assert victim not in {pid for _tag, pid, *_ in results}


def test_a_kept_worker_does_not_map_what_the_parent_grew_after_forking_it() -> None:
    # A worker's resident memory starts at its parent's when it is forked (pages shared
    # copy-on-write): one forked after the parent grew counts the growth, a kept one does not.
    grown = 96 << 20
    executor = LocalExecutor(2)
    with executor.kept_workers():
        list(executor.results(list(range(4)), _pid_of_worker, _lost))
        ballast = bytearray(b"\x01") * grown  # every page written: resident in the parent
        kept = max(peak for *_rest, peak in executor.results(list(range(4)), _Tagged("kept"), _lost))
    forked = max(peak for *_rest, peak in LocalExecutor(2).results(list(range(4)), _Tagged("forked"), _lost))
    del ballast
    assert forked - kept > (grown >> 10) // 2
