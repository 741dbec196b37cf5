"""The local executor's worker pool: every task answered once, dead workers replaced,
stopping never waits on a running or half-sent document."""

from __future__ import annotations

import os
import pickle
import resource
import signal
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import child_pids

from cleankit.run.executor import (
    AHEAD_BYTES,
    FORK_GUARD,
    LEAST_AHEAD,
    MESSAGE_OVERHEAD,
    PER_WORKER,
    LocalExecutor,
    WorkerError,
    _dumps,
    _malloc_trim,
    _Pool,
    beside,
    depth,
    release_free_heap,
)
from cleankit.run.plan import Task


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


class _OnlyForking:
    """A value plain pickle refuses and multiprocessing's pickler takes (as it takes a socket)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle this object")


ForkingPickler.register(_OnlyForking, lambda obj: (_OnlyForking, (obj.value,)))


def _only_forking(n: int) -> _OnlyForking:
    return _OnlyForking(n * 3)


def test_messages_are_plain_pickles_and_what_only_forking_pickler_takes_still_goes() -> None:
    task = Task("/crawl/site07/00412.txt", "site07/00412.txt", None, "boilerplate=5f1c0a9e27d4b3c8")
    message = _dumps(task)
    assert message == pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL)
    assert pickle.loads(message) == task
    odd = _dumps(_OnlyForking(7))  # plain pickle raises; multiprocessing's pickler reduces it
    assert pickle.loads(odd).value == 7
    results = list(LocalExecutor(2).results([1, 2, 3, 4], _only_forking, _lost))
    assert sorted(result.value for result in results) == [3, 6, 9, 12]  # type: ignore[union-attr]


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


# With 600 tasks, many wait in each worker's pipe when it is killed: the one it was running
# is retried, the waiting ones go to its replacement as they were.
@pytest.mark.parametrize(("tasks", "killer"), [(10, 3), (600, 150)])
def test_a_worker_killed_once_from_outside_is_replaced_and_its_task_retried(
    tmp_path: Path, tasks: int, killer: int
) -> None:
    marker = tmp_path / "killed-once"

    def work(n: int) -> str:
        if n == killer and not marker.exists():
            marker.write_text("x")
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.0005)
        return f"done {n}"

    results = list(LocalExecutor(2).results(list(range(tasks)), work, _lost))
    assert sorted(results) == sorted(f"done {n}" for n in range(tasks))


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


def _resident_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@pytest.mark.skipif(_malloc_trim() is None or not Path("/proc/self/status").exists(), reason="glibc on Linux only")
def test_freed_heap_is_given_back_before_forking() -> None:
    # Freed blocks between live ones stay resident (the heap cannot shrink past a live block)
    # until they are given back: a worker forked then would map them.
    blocks = [bytes([n % 251]) * 2000 for n in range(40_000)]  # ~80 MB from the C heap
    kept = blocks[::32]
    del blocks
    before = _resident_kb()
    release_free_heap()
    after = _resident_kb()
    assert before - after > 40_000, (before, after)
    assert len(kept) == 1250


def test_work_beside_a_pool_runs_while_the_workers_are_fed() -> None:
    # As the survey does: once the pool has forked (its first result), the parent's own work
    # (loading tables) runs in a thread, and every other result comes while it runs.
    release, work_done = threading.Event(), threading.Event()
    while_working: list[int] = []

    def parents_work() -> None:
        release.wait(timeout=10)
        work_done.set()

    with ExitStack() as parents_own:
        for result in LocalExecutor(2).results(list(range(40)), lambda n: n + 1, _lost):
            if not while_working and not release.is_set():
                parents_own.enter_context(beside(parents_work))
            while_working.append(result)
        finished_first = not work_done.is_set()
        release.set()
    assert finished_first, "every result came while the parent's work was still running"
    assert sorted(while_working) == list(range(1, 41))


def test_work_beside_raises_in_the_caller_and_no_fork_happens_meanwhile() -> None:
    def failing() -> None:
        raise ValueError("table missing")

    with pytest.raises(ValueError, match="table missing"), beside(failing):
        pass
    # While it runs, the fork guard is held: a pool started then waits for it to be done.
    holding, release = threading.Event(), threading.Event()

    def holds() -> None:
        holding.set()
        release.wait(timeout=30)

    with beside(holds):
        assert holding.wait(timeout=30)
        assert not FORK_GUARD.acquire(blocking=False)
        release.set()
    assert FORK_GUARD.acquire(blocking=False)
    FORK_GUARD.release()


@dataclass
class _Small:
    """A late pool's work (as the pair verifier's): picklable, forked from the nursery."""

    forks_small: ClassVar[bool] = True

    def __call__(self, n: int) -> tuple[int, int, int]:
        if n == 7:
            os.kill(os.getpid(), signal.SIGKILL)
        spent = time.process_time() + 0.1  # CPU the run's rusage must count
        while time.process_time() < spent:
            pass
        return n, os.getppid(), _resident_kb()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux only")
def test_late_workers_forked_from_the_nursery_do_not_map_what_the_parent_grew_since() -> None:
    before = _children()
    executor = LocalExecutor(2, nursery=True)
    assert list(executor.results([1, 2, 3], lambda n: n, _lost))  # the first pool: the nursery starts
    grown = [bytes([n % 251]) * 4096 for n in range(30_000)]  # ~120 MB the parent holds from now on
    results = list(executor.results([n for n in range(12) if n != 7], _Small(), _lost))
    executor.close()
    assert _children() <= before  # the nursery and its workers are gone
    assert sorted(n for n, _, _ in results) == [n for n in range(12) if n != 7]
    assert os.getpid() not in {parent for _, parent, _ in results}
    # Each worker's resident memory is the nursery's (this test process before it grew) plus
    # its own, not the 120 MB more the parent now holds.
    assert max(resident for _, _, resident in results) < _resident_kb() - 80_000
    assert len(grown) == 30_000


def test_a_nursery_workers_death_and_its_cpu_are_seen_by_the_parent() -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    executor = LocalExecutor(2, nursery=True)
    results = list(executor.results(list(range(9)), _Small(), _lost))
    executor.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lost = [r for r in results if isinstance(r, str)]
    assert lost == ["lost 7: the worker process cleaning it killed by SIGKILL (out of memory, or a crash); the other "
                    "documents went on"]
    assert sorted(r[0] for r in results if not isinstance(r, str)) == [0, 1, 2, 3, 4, 5, 6, 8]
    # The workers are the nursery's children: their CPU reaches this process's rusage only
    # because the nursery waited for them and close() waited for the nursery.
    spent = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    assert spent >= 0.7, spent


@dataclass
class _KillsItsNursery:
    """Kills the nursery that forked it (not the test's process, where its task is retried)."""

    test: int
    forks_small: ClassVar[bool] = True

    def __call__(self, n: int) -> int:
        if n == 3 and os.getppid() != self.test:
            os.kill(os.getppid(), signal.SIGKILL)
            time.sleep(30)  # the nursery's death ends this worker too
        return n


def test_a_killed_nursery_leaves_its_pools_workers_forked_by_the_parent() -> None:
    before = _children()
    executor = LocalExecutor(2, nursery=True)
    results = list(executor.results(list(range(8)), _KillsItsNursery(os.getpid()), _lost))
    assert sorted(results) == list(range(8))  # type: ignore[type-var]
    assert sorted(executor.results(list(range(4)), _KillsItsNursery(os.getpid()), _lost)) == [0, 1, 2, 3]
    executor.close()
    assert _children() <= before


def test_a_worker_holds_many_tasks_while_many_are_left_and_two_near_the_end() -> None:
    assert depth(4000, 2) == PER_WORKER
    assert depth(100, 2) == 12
    assert depth(10, 2) == LEAST_AHEAD
    assert depth(0, 3) == LEAST_AHEAD


def _slow(_task: Any) -> int:
    time.sleep(0.05)
    return os.getpid()


@pytest.mark.parametrize(("task", "budgeted"), [("公告", False), ("页" * 1300, True)])
def test_tasks_sent_ahead_fill_the_workers_evenly_within_the_pipes_budget(task: str, budgeted: bool) -> None:
    from collections import deque

    pool: _Pool[Any, int] = _Pool(_slow, 2)
    try:
        queue: deque[tuple[Any, int]] = deque((task, 0) for _ in range(4000))
        pool.feed(queue)
        held = [len(worker.sent) for worker in pool.workers]
        assert held[0] == held[1]
        if not budgeted:  # small tasks: as many as the pipe's buffer holds with its bookkeeping
            assert AHEAD_BYTES // (MESSAGE_OVERHEAD + 100) < held[0] <= AHEAD_BYTES // MESSAGE_OVERHEAD + 1
        else:  # ~4 kB each: past the first, no more wait in a pipe than AHEAD_BYTES
            assert LEAST_AHEAD <= held[0] < AHEAD_BYTES // 4000 + 2
        assert all(worker.waiting_bytes() <= AHEAD_BYTES for worker in pool.workers)
        assert len(queue) == 4000 - sum(held)
    finally:
        pool.stop()


def test_a_workers_answers_are_held_for_a_batch_and_sent_together_within_its_time() -> None:
    import multiprocessing

    from cleankit.run.executor import BATCH_SECONDS, _answers, _Outbox

    parent_end, child_end = multiprocessing.Pipe()
    outbox = _Outbox(child_end, batching=True)
    started = time.monotonic()
    for n in range(3):
        assert outbox.put(bytes(ForkingPickler.dumps(("result", f"第{n}号"))), hold=True)
    assert not parent_end.poll(BATCH_SECONDS / 5)  # held: more tasks wait
    message = parent_end.recv_bytes()  # sent by the outbox's thread, the batch's time up
    assert time.monotonic() - started < BATCH_SECONDS + 5
    assert list(_answers(message)) == [("result", "第0号"), ("result", "第1号"), ("result", "第2号")]
    # An answer that may not be held goes at once, with any held before it.
    assert outbox.put(bytes(ForkingPickler.dumps(("result", "甲"))), hold=True)
    assert outbox.put(bytes(ForkingPickler.dumps(("raised", "乙"))), hold=False)
    assert list(_answers(parent_end.recv_bytes())) == [("result", "甲"), ("raised", "乙")]
    # Without batching (no count shared with the parent), every answer goes at once.
    plain = _Outbox(child_end, batching=False)
    assert plain.put(bytes(ForkingPickler.dumps(("result", 1))), hold=True)
    assert list(_answers(parent_end.recv_bytes())) == [("result", 1)]
    parent_end.close()
    assert not outbox.put(bytes(ForkingPickler.dumps(("result", 2))), hold=False)  # the parent is gone


@pytest.mark.parametrize("killer", [3, 90, 251])
def test_answers_held_by_a_worker_that_dies_are_redone_and_only_its_running_task_is_lost(killer: int) -> None:
    # Fast tasks, many waiting in each pipe: a worker holds the answers of the tasks it did
    # when the one it runs kills it. Those were done, not killers: they are done again (each
    # answered once), and only the task that killed twice is lost.
    def work(n: int) -> str:
        if n == killer:
            os.kill(os.getpid(), signal.SIGKILL)
        return f"done {n}"

    results = list(LocalExecutor(2).results(list(range(300)), work, _lost))
    assert sorted(results) == sorted([f"done {n}" for n in range(300) if n != killer] + [
        f"lost {killer}: the worker process cleaning it killed by SIGKILL (out of memory, or a crash); the other "
        "documents went on"
    ])


@dataclass
class _FastSmall:
    """Fast tasks for workers the nursery forks; task 90 kills its worker."""

    forks_small: ClassVar[bool] = True

    def __call__(self, n: int) -> tuple[str, int]:
        if n == 90:
            os.kill(os.getpid(), signal.SIGKILL)
        return f"done {n}", os.getppid()


def test_workers_the_nursery_forks_batch_their_answers_and_a_death_blames_the_running_task() -> None:
    # The nursery was forked before the count of started tasks existed: it reaches each worker
    # as a memfd beside its pipe, so these workers hold answers for a batch as the parent's do.
    executor = LocalExecutor(2, nursery=True)
    assert list(executor.results([1, 2, 3], lambda n: n, _lost))  # the first pool: the nursery starts
    results = list(executor.results(list(range(300)), _FastSmall(), _lost))
    executor.close()
    done = [result for result in results if isinstance(result, tuple)]
    assert sorted(text for text, _ in done) == sorted(f"done {n}" for n in range(300) if n != 90)
    assert os.getpid() not in {parent for _, parent in done}  # the nursery's children
    assert [result for result in results if isinstance(result, str)] == [
        "lost 90: the worker process cleaning it killed by SIGKILL (out of memory, or a crash); the other "
        "documents went on"
    ]
    # The count of started tasks the parent reads is the one the nursery's worker writes, and
    # with tasks waiting in its pipe the worker holds its answers for one message.
    import multiprocessing

    from cleankit.run.executor import _FRAME, _answers, _dumps_work, _Nursery

    nursery = _Nursery("test")
    parent_end, child_end = multiprocessing.Pipe()
    nursling, counter = nursery.fork(_dumps_work(_FastSmall()), child_end)
    child_end.close()
    for n in range(5):
        parent_end.send(n)
    answers = []
    while len(answers) < 5:
        answers += list(_answers(parent_end.recv_bytes()))
    assert [value for _, (value, _) in answers] == [f"done {n}" for n in range(5)]
    assert _FRAME.unpack_from(counter)[0] == 5
    parent_end.close()
    nursery.close()
    assert nursling.pid not in {child.pid for child in multiprocessing.active_children()}


def test_the_task_a_dead_worker_was_running_is_found_from_the_count_it_shared() -> None:
    import mmap
    from collections import deque

    from cleankit.run.executor import _FRAME, _Worker

    counter = mmap.mmap(-1, _FRAME.size)
    worker: _Worker[str] = _Worker(None, None, deque((f"页{n}", 0) for n in range(6)), started=counter)  # type: ignore[arg-type]
    worker.answered = 10
    _FRAME.pack_into(counter, 0, 13)  # 13 started, 10 answered: two done and held, the third running
    assert worker.running() == 2
    _FRAME.pack_into(counter, 0, 10)  # died between tasks: the first sent is blamed, as without batches
    assert worker.running() == 0
    _FRAME.pack_into(counter, 0, 99)
    assert worker.running() == 5
    assert _Worker(None, None, deque([("页", 0), ("文", 0)])).running() == 0  # type: ignore[arg-type]

def _stuck(_task: Any) -> int:
    time.sleep(60)
    return 0


def test_feeding_small_tasks_to_a_worker_that_reads_no_more_does_not_block_the_parent() -> None:
    # Each message takes ~1 kB of the socket's buffer besides its bytes: 320 small tasks
    # (PER_WORKER) did not fit in 208 KiB, and the parent blocked in its send.
    from collections import deque

    pool: _Pool[Any, int] = _Pool(_stuck, 2)
    fed = threading.Event()

    def feed() -> None:
        pool.feed(queue)
        fed.set()

    try:
        queue: deque[tuple[Any, int]] = deque(("公告", 0) for _ in range(4000))
        threading.Thread(target=feed, daemon=True).start()
        assert fed.wait(timeout=20)
    finally:
        pool.stop()


def test_a_worker_gives_its_free_heap_back_every_so_many_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    # A long-lived worker's freed pages (a large page's cleaning) would stay resident and its
    # peak creep up with the number of pages it cleaned: it trims every TRIM_EVERY_TASKS tasks.
    from multiprocessing import Pipe

    from cleankit.run import executor

    trims: list[int] = []
    done: list[int] = []
    monkeypatch.setattr(executor, "release_free_heap", lambda: trims.append(len(done)))
    parent_end, worker_end = Pipe()
    tasks = 2 * executor.TRIM_EVERY_TASKS + 5

    def sender() -> None:
        for n in range(tasks):
            parent_end.send(n)

    feeding = threading.Thread(target=sender)
    feeding.start()
    answers: list[Any] = []
    reading = threading.Thread(target=lambda: answers.extend(_read_answers(parent_end, tasks)))
    reading.start()
    feeding.join()
    executor._loop(lambda n: done.append(n) or n * 2, worker_end)
    reading.join(timeout=10)
    assert trims == [executor.TRIM_EVERY_TASKS, 2 * executor.TRIM_EVERY_TASKS]
    assert len(answers) == tasks


def _read_answers(conn: Any, count: int) -> list[Any]:
    got = []
    while len(got) < count:
        got.append(conn.recv_bytes())
    conn.close()
    return got
