"""How the per-file tasks of a run are carried out. An executor takes the tasks, the work to
do on each (a :class:`Cleaner`, or a corpus pass's survey) and what to say for a task whose
worker died, and yields one result per task, in any order; the run (:mod:`cleankit.run.clean`)
commits them. Another engine is one more class with ``results``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from typing import Any, Generic, Protocol, TypeVar

from cleankit.io.files import release_inherited_locks
from cleankit.run.procstats import WorkerStats

# Linux's prctl option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1
# Tasks sent ahead to each worker: one running, one waiting, so no worker waits for the parent.
PER_WORKER = 2
# A task is sent ahead to a busy worker only if it fits in a pipe's buffer (64 KiB on Linux)
# with room to spare: a larger one could block the parent in its send while the worker is
# blocked sending a large result the parent is not reading (a deadlock). A larger task
# waits until its worker is idle, reading its pipe.
AHEAD_BYTES = 16384
T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    def results(self, tasks: list[T], work: Callable[[T], R], lost: Callable[[T, str], R]) -> Iterator[R]: ...


class WorkerError(RuntimeError):
    """The work raised in a worker (a bug: the work turns bad input into failed results)."""


@dataclass
class LocalExecutor:
    """Worker processes on this machine (in-process for one job). Workers are forked, so
    they share what the parent built (rule packs compiled, furniture learned) instead of
    building their own.

    Each worker has a pipe of its own and the parent has no threads: a worker that dies (the
    OOM killer, a segfault), even in the middle of sending a result, is seen at once as the
    end of its pipe, and stopping the run never waits on a half-read message. The document a
    worker was cleaning when it died is tried once more; if that kills a worker too, it fails
    alone (``lost``) and the others complete.
    """

    jobs: int

    def results(self, tasks: list[T], work: Callable[[T], R], lost: Callable[[T, str], R]) -> Iterator[R]:
        jobs = min(self.jobs, max(1, len(tasks)))
        if jobs == 1:
            stats = WorkerStats.from_environment(work, in_process=True)
            if stats is None:
                for task in tasks:
                    yield work(task)
                return
            for task in tasks:  # a benchmark's figures: the work's CPU apart from the parent's
                stats.task_received()
                result = work(task)
                stats.task_done()
                yield result
            stats.finish()
            return
        # Large files first so one big file does not leave the other workers idle at the end.
        queue: deque[tuple[T, int]] = deque(
            (task, 0) for task in sorted(tasks, key=lambda t: _size(getattr(t, "path", "")), reverse=True)
        )
        pool = _Pool(work, jobs)
        try:
            while queue or pool.busy():
                pool.feed(queue)
                for task, deaths, outcome in pool.ready():
                    if isinstance(outcome, _Died):
                        if deaths >= 1:
                            yield lost(task, outcome.why)
                        else:
                            queue.appendleft((task, deaths + 1))
                    elif isinstance(outcome, _Raised):
                        raise WorkerError(f"cleaning {getattr(task, 'rel', task)!r} raised:\n{outcome.text}")
                    else:
                        yield outcome
        finally:
            pool.stop()


@dataclass
class _Died:
    why: str


@dataclass
class _Raised:
    text: str


@dataclass
class _Worker(Generic[T]):
    process: BaseProcess
    conn: Connection
    sent: deque[tuple[T, int]] = field(default_factory=deque)


class _Pool(Generic[T, R]):
    """Forked workers, each fed through its own pipe; a dead one is replaced."""

    def __init__(self, work: Callable[[T], R], jobs: int) -> None:
        self.work = work
        self.pending: tuple[tuple[T, int], bytes] | None = None
        self.workers: list[_Worker[T]] = []
        # One poll object for the pool's life (multiprocessing's wait() builds and fills a
        # selector for every call: a third of the parent's time in the executor, profiled):
        # a busy worker's pipe and sentinel are registered, an idle one's are not.
        self.poller = select.poll()
        self.polled: dict[int, _Worker[T]] = {}
        release_free_heap()
        for _ in range(jobs):
            self.workers.append(self._start())

    def _start(self) -> _Worker[T]:
        parent_end, child_end = multiprocessing.Pipe()
        others = [worker.conn for worker in self.workers] + [parent_end]
        context = multiprocessing.get_context("fork")
        process = context.Process(target=_serve, args=(self.work, child_end, others, os.getpid()), daemon=True)
        with FORK_GUARD:
            process.start()
        child_end.close()  # the worker's end lives in the worker alone: its death closes the pipe
        return _Worker(process, parent_end)

    def busy(self) -> bool:
        return any(worker.sent for worker in self.workers)

    def feed(self, queue: deque[tuple[T, int]]) -> None:
        for index in range(len(self.workers)):
            while queue and len(self.workers[index].sent) < PER_WORKER:
                worker = self.workers[index]
                data = self._pickled(queue[0])
                if worker.sent and len(data) > AHEAD_BYTES:
                    break  # sent when this worker is idle (AHEAD_BYTES)
                try:
                    worker.conn.send_bytes(data)
                except OSError:  # died while idle: nothing of ours was lost with it
                    if worker.sent:
                        break  # ready() sees the death and gives back what it held
                    self.workers[index] = self._restart(worker)
                    continue
                worker.sent.append(queue.popleft())

    def _pickled(self, item: tuple[T, int]) -> bytes:
        """The task of a queue item as its pipe message (kept while it waits to be sent)."""
        if self.pending is None or self.pending[0] is not item:
            self.pending = (item, bytes(ForkingPickler.dumps(item[0])))
        return self.pending[1]

    def _watch_busy(self) -> None:
        """Poll the pipe and sentinel of each busy worker, and of no other (an idle worker's
        death is seen when a task is sent to it)."""
        busy = {id(worker): worker for worker in self.workers if worker.sent}
        for fd, worker in list(self.polled.items()):
            if busy.get(id(worker)) is not worker or fd not in (worker.conn.fileno(), worker.process.sentinel):
                self.poller.unregister(fd)
                del self.polled[fd]
        for worker in busy.values():
            for fd in (worker.conn.fileno(), worker.process.sentinel):
                if fd not in self.polled:
                    self.poller.register(fd, select.POLLIN)
                    self.polled[fd] = worker

    def ready(self) -> Iterator[tuple[T, int, R | _Died | _Raised]]:
        """Wait until some worker answers or dies; yield what came back."""
        self._watch_busy()
        seen: set[int] = set()
        for fd, _event in self.poller.poll():
            worker = self.polled.get(fd)  # None: its worker died and was replaced in this loop
            if worker is None or id(worker) in seen:
                continue
            seen.add(id(worker))
            try:
                kind, value = worker.conn.recv()
            except (EOFError, OSError):
                yield from self._replace(worker)
                continue
            task, deaths = worker.sent.popleft()
            yield task, deaths, (_Raised(value) if kind == "raised" else value)

    def _replace(self, worker: _Worker[T]) -> Iterator[tuple[T, int, _Died]]:
        """A worker died: the task it was running is reported; those sent after it never
        started, and go to its replacement as they were."""
        fresh = self._restart(worker)
        self.workers[self.workers.index(worker)] = fresh
        (task, deaths), *waiting = worker.sent
        for item in waiting:
            fresh.conn.send(item[0])
            fresh.sent.append(item)
        yield task, deaths, _Died(_death(worker.process))

    def _restart(self, worker: _Worker[T]) -> _Worker[T]:
        for fd in [fd for fd, polled in self.polled.items() if polled is worker]:
            self.poller.unregister(fd)  # before its pipe closes: a new pipe may get its number
            del self.polled[fd]
        worker.conn.close()
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=5)
        return self._start()

    def stop(self) -> None:
        """End the workers now: running documents are abandoned (their outputs are atomic and
        their records were never committed, so a rerun redoes them)."""
        for worker in self.workers:
            worker.conn.close()
            if worker.process.is_alive():
                worker.process.terminate()
        for worker in self.workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5)


def _serve(work: Callable[[Any], Any], conn: Connection, others: list[Connection], parent: int) -> None:
    """A worker: take tasks from the pipe until it closes, send back each result."""
    # Ctrl-C reaches every process of the terminal's group: the parent alone decides what
    # happens (it stops the workers), so no worker prints a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for other in others:  # the parent's ends: only the parent may hold them, or no death is seen
        other.close()
    release_inherited_locks()
    _die_with(parent)
    # What the worker inherited from the parent (its task list, what the passes learned: more
    # with every file of the corpus) is left out of the worker's garbage collections: a
    # collection writes into every object it visits, and each write copies the object's page
    # out of the memory the worker shares with the parent.
    gc.freeze()
    stats = WorkerStats.from_environment(work)
    if stats is None:
        _loop(work, conn)
        return
    # A benchmark's figures (cleankit.run.procstats): written at the end, or when the pool
    # stops this worker (SIGTERM right after closing its pipe).
    def finish(_signum: int, _frame: object) -> None:
        stats.finish()
        os._exit(0)

    signal.signal(signal.SIGTERM, finish)
    _loop(work, conn, stats)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stats.finish()


def _loop(work: Callable[[Any], Any], conn: Connection, stats: WorkerStats | None = None) -> None:
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if stats is not None:
            stats.task_received()
        try:
            answer: tuple[str, Any] = ("result", work(task))
        except Exception:
            answer = ("raised", traceback.format_exc())
        if stats is not None:
            stats.task_done()
        try:
            conn.send(answer)
        except (EOFError, OSError):
            return


# Held by work the parent runs in a thread beside a pool (:func:`beside`): a process forked while
# that thread holds a lock (an import's, a table's) would inherit it held, and wait for ever.
FORK_GUARD = threading.Lock()
# The GIL's switch interval while a thread runs beside a pool (:func:`beside`), seconds.
BESIDE_SWITCH_INTERVAL = 0.0002


@contextmanager
def beside(work: Callable[[], None]) -> Iterator[None]:
    """Run ``work`` in a thread of this process while the caller goes on (feeding a pool's
    workers, which would idle while the parent did ``work`` itself); the block's end waits for
    it and raises what it raised. No worker is forked meanwhile (:data:`FORK_GUARD`: a worker
    that dies then is replaced once ``work`` is done)."""
    raised: list[BaseException] = []

    def run() -> None:
        with FORK_GUARD:
            try:
                work()
            except BaseException as exc:  # handed to the caller's thread
                raised.append(exc)

    thread = threading.Thread(target=run, name="cleankit-beside", daemon=True)
    # The caller's thread waits for its workers with the GIL released, and needs it back at
    # once when one answers: at the default 5 ms, a worker whose task takes less waits idle.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(BESIDE_SWITCH_INTERVAL)
    thread.start()
    try:
        yield
    finally:
        thread.join()
        sys.setswitchinterval(interval)
    if raised:
        raise raised[0]


def release_free_heap() -> None:
    """Give the free pages of the C heap back to the system (glibc's ``malloc_trim``), before
    forking: a forked worker's resident memory starts at everything its parent has resident,
    and what the parent has freed but still holds (the survey's results once the sites are
    learned, the cleaning's once every result is committed) grows with the corpus. A no-op
    where the C library has no such call."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


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


def _death(process: BaseProcess) -> str:
    code = process.exitcode
    if code is not None and code < 0 and -code in signal.valid_signals():
        how = f"killed by {signal.Signals(-code).name}"
    else:
        how = "died"
    return f"the worker process cleaning it {how} (out of memory, or a crash); the other documents went on"


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
