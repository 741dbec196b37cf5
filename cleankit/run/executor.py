"""How the per-file tasks of a run are carried out. An executor takes the tasks, the work to
do on each (a :class:`Cleaner`, or a corpus pass's survey) and what to say for a task whose
worker died, and yields one result per task, in any order; the run (:mod:`cleankit.run.clean`)
commits them. Another engine is one more class with ``results``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from cleankit.io.files import release_inherited_locks

# Linux's prctl option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1
T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    def results(self, tasks: list[T], work: Callable[[T], R], lost: Callable[[T, str], R]) -> Iterator[R]: ...


_WORK: Callable[[Any], Any] | None = None


def _init_worker(work: Callable[[Any], Any], parent: int) -> None:
    global _WORK
    _WORK = work
    # Ctrl-C reaches every process of the terminal's group: the parent alone decides what
    # happens (it stops the workers), so no worker prints a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    release_inherited_locks()
    _die_with(parent)


def _die_with(parent: int) -> None:
    """End this worker when the parent dies (killed, it cannot stop its workers): otherwise
    the worker would wait for tasks forever, holding the terminal's pipes open."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def _work(task: Any) -> Any:
    assert _WORK is not None
    return _WORK(task)


@dataclass
class LocalExecutor:
    """Worker processes on this machine (in-process for one job). Workers are forked, so
    they share what the parent built (rule packs compiled, furniture learned) instead of
    building their own.

    A worker that dies (the OOM killer, a segfault) breaks the pool: it is replaced, and the
    tasks that were in flight are tried again one at a time, so the one that killed its
    worker is found and fails alone (``lost``) while the others complete.
    """

    jobs: int

    def results(self, tasks: list[T], work: Callable[[T], R], lost: Callable[[T, str], R]) -> Iterator[R]:
        jobs = min(self.jobs, max(1, len(tasks)))
        if jobs == 1:
            for task in tasks:
                yield work(task)
            return
        # Large files first so one big file does not leave the other workers idle at the end.
        queue: deque[T] = deque(sorted(tasks, key=lambda t: _size(getattr(t, "path", "")), reverse=True))
        suspects: deque[T] = deque()  # in flight when a worker died: retried one at a time
        pool = _pool(work, jobs)
        in_flight: dict[Future[R], tuple[T, bool]] = {}
        finished = False
        try:
            while queue or suspects or in_flight:
                if suspects:
                    if not in_flight:
                        task = suspects.popleft()
                        in_flight[pool.submit(_work, task)] = (task, True)
                else:
                    # Two per worker: one running, one waiting, so no worker waits for the parent.
                    while queue and len(in_flight) < 2 * jobs:
                        task = queue.popleft()
                        in_flight[pool.submit(_work, task)] = (task, False)
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    task, alone = in_flight.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        broken = True
                        if alone:
                            yield lost(task, _death(pool))
                        else:
                            suspects.append(task)
                        continue
                    yield result
                if broken:
                    for task, _alone in in_flight.values():
                        suspects.append(task)
                    in_flight.clear()
                    _stop(pool)
                    pool = _pool(work, jobs)
            finished = True
        finally:
            if finished:
                pool.shutdown(wait=True)
            else:  # interrupted (Ctrl-C, an output error): do not wait for running documents
                _stop(pool)


def _pool(work: Callable[[Any], Any], jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        jobs, mp_context=multiprocessing.get_context("fork"), initializer=_init_worker, initargs=(work, os.getpid())
    )


def _processes(pool: ProcessPoolExecutor) -> list[multiprocessing.process.BaseProcess]:
    # The executor has no public way to reach its processes before Python 3.14
    # (terminate_workers); without it a stopped run would wait for every running document.
    found = getattr(pool, "_processes", None) or {}
    return list(found.values())


def _death(pool: ProcessPoolExecutor) -> str:
    codes = [p.exitcode for p in _processes(pool) if p.exitcode]
    signals = [signal.Signals(-code).name for code in codes if code and code < 0 and -code in signal.valid_signals()]
    how = f"killed by {signals[0]}" if signals else "died"
    return f"the worker process cleaning it {how} (out of memory, or a crash); the other documents went on"


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the pool now: running documents are abandoned (their outputs are atomic and
    their records were never committed, so a rerun redoes them)."""
    processes = _processes(pool)
    for process in processes:
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
