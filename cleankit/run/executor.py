"""How the per-file tasks of a run are carried out. An executor takes the tasks, the work to
do on each (a :class:`Cleaner`, or a corpus pass's survey) and what to say for a task whose
worker died, and yields one result per task, in any order; the run (:mod:`cleankit.run.clean`)
commits them. Another engine is one more class with ``results``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import io
import mmap
import multiprocessing
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler, recv_handle, send_handle
from typing import Any, Generic, NoReturn, Protocol, TypeVar

from cleankit.io.files import release_inherited_locks
from cleankit.run.procstats import STATS_ENV, WorkerStats

# Linux's prctl option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1
# Tasks sent to each worker at most: one running, the rest waiting, so no worker waits for
# the parent while the parent is busy elsewhere (its warm-up thread holding the GIL through
# one long import, a commit of the run state). A survey task takes 0.3-1 ms on the bench
# crawl, and the warm-up holds the GIL for up to ~0.2 s at a time (a converter built in C):
# 32 waiting tasks left the survey workers idle through those stretches. How many wait
# depends on how many tasks are
# left (:func:`depth`): near a pool's end a worker holds no more than two, so the last small
# tasks go to whichever worker is free and the two finish together.
PER_WORKER = 320
LEAST_AHEAD = 2
# Tasks are sent ahead to a busy worker only while the waiting ones fit in its pipe's buffer
# (a socket pair: multiprocessing.Pipe(); 208 KiB by Linux's default, net.core.wmem_default)
# with room to spare: more could block the parent in its send while the worker is blocked
# sending a large result the parent is not reading (a deadlock). A larger task waits until
# its worker is idle, reading its pipe. (320 survey tasks are ~64 KiB; a cleaning task, with
# its decoding, ~0.6 kB.) The kernel charges each message to the buffer with its own
# bookkeeping (a socket buffer per message, ~1.07 kB more than its bytes here: 167 messages of
# 200 B filled the 208 KiB): counted in (MESSAGE_OVERHEAD), or 320 small survey tasks filled it
# and the parent blocked in its send while the worker, its results unread, blocked in its own
# (a 20,000-page run hung in its survey).
AHEAD_BYTES = 65536
# A worker that has more tasks waiting in its pipe holds its results and sends them together,
# up to this many or this many pickled bytes: each message wakes the parent, and a wake-up
# costs it far more than the result's own work while both cores run workers (recv and
# unpickle of a cleaning result: 25-35 us in a warm loop, 130-200 us one wake-up at a time;
# 70 us in batches of eight). A worker with nothing waiting sends at once.
BATCH_RESULTS = 16
BATCH_BYTES = 262144
# ... and no longer than this, seconds: a thread of the worker sends a batch that has waited
# this long while the worker's main thread works on a long task (it looks twice in that time,
# and is never woken for each answer: a wake-up takes the worker's GIL), so a finished document
# is committed soon and a pool's first result comes at once.
BATCH_SECONDS = 0.2
# Each message from a worker is one or more answers, each its pickled bytes after their length.
_FRAME = struct.Struct("<I")
MESSAGE_OVERHEAD = 1152
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

    With ``nursery``, two :class:`_Nursery` processes are forked (by :meth:`start_nurseries`,
    or else when the first pool starts), and a work's workers are forked from one of them, not
    from the parent: a forked worker maps everything its parent has resident, and the parent
    grows with the corpus (its file list, task list, what the passes learn and merge). The
    workers of a work that says it needs none of the stages' tables (``forks_small``: the late
    pools, which need nothing but their own pickle, and the survey, which needs the pipeline
    both nurseries inherited) come from the bare nursery; those of a work that needs the stages' tables and the pipeline
    (``forks_warm``: the cleaning) come from the warm one, which loads the tables itself
    (:meth:`in_warm_nursery`) once, for all of them, between its forks. Whoever
    makes such an executor closes it (:meth:`close`), which reaps the nurseries and so counts
    their workers' CPU among the caller's children.
    """

    jobs: int
    nursery: bool = False
    _nursery: _Nursery | None = field(default=None, init=False, repr=False)
    _warm: _Nursery | None = field(default=None, init=False, repr=False)

    def start_nurseries(self, shared: Sequence[object] = ()) -> None:
        """Fork the nurseries now, while the parent is small (before it lists the run's files):
        every worker forked from them starts from this floor, whatever the corpus. ``shared``:
        objects the nurseries inherit (the pipeline, its stages with their compiled rules),
        which a work's pickle then names instead of copying (:func:`_dumps_work`)."""
        if not (self.nursery and self.jobs > 1 and PIDFDS) or self._nursery is not None:
            return
        _SHARED.clear()
        _SHARED.update((id(thing), thing) for thing in shared)
        release_free_heap()  # its pages are every worker's floor
        self._nursery = _Nursery("nursery")
        self._warm = _Nursery("warm-nursery", [self._nursery])

    def in_warm_nursery(self, action: Callable[[], None]) -> bool:
        """Have the warm nursery run ``action`` (pickled; loading the stages' tables), before
        it forks any worker asked for after this call, while the parent goes on; False when
        there is no live warm nursery (the caller runs it itself)."""
        warm = self._warm
        if warm is None or not warm.alive():
            return False
        try:
            return warm.run(_dumps_work(action))
        except (pickle.PicklingError, TypeError, AttributeError):
            return False

    def close(self) -> None:
        """End the nurseries, once every pool has stopped; each waits for its workers first."""
        for nursery in (self._nursery, self._warm):
            if nursery is not None:
                nursery.close()
        self._nursery = self._warm = None
        _SHARED.clear()

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
        self.start_nurseries()
        pool = _Pool(work, jobs, self._nursery_for(work))
        try:
            while queue or pool.busy():
                pool.feed(queue)
                for task, deaths, outcome in pool.ready():
                    if isinstance(outcome, _Again):
                        queue.appendleft((task, deaths))
                    elif isinstance(outcome, _Died):
                        if outcome.counts and deaths >= 1:
                            yield lost(task, outcome.why)
                        else:
                            queue.appendleft((task, deaths + outcome.counts))
                    elif isinstance(outcome, _Raised):
                        raise WorkerError(f"cleaning {getattr(task, 'rel', task)!r} raised:\n{outcome.text}")
                    else:
                        yield outcome
        finally:
            pool.stop()

    def _nursery_for(self, work: object) -> _Nursery | None:
        """The nursery that forks ``work``'s workers, if any (None: the parent forks them)."""
        if getattr(work, "forks_small", False):
            nursery = self._nursery
        elif getattr(work, "forks_warm", False):
            nursery = self._warm
        else:
            return None
        return nursery if nursery is not None and nursery.alive() else None


@dataclass
class _Died:
    why: str
    # Whether the death counts against the task: not when the nursery that forked the worker
    # died first (its workers end with it, whatever they were running: a task sent on to another
    # of them in that moment would be lost for no fault of its own).
    counts: int = 1


@dataclass
class _Raised:
    text: str


@dataclass
class _Again:
    """A task its worker had done when it died, its answer not sent yet: to be sent again."""


class _Process(Protocol):
    """What the pool asks of a worker process, forked by the parent or by the nursery."""

    @property
    def sentinel(self) -> int: ...
    @property
    def exitcode(self) -> int | None: ...
    def is_alive(self) -> bool: ...
    def kill(self) -> None: ...
    def terminate(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...


@dataclass
class _Worker(Generic[T]):
    process: _Process
    conn: Connection
    sent: deque[tuple[T, int]] = field(default_factory=deque)
    sizes: deque[int] = field(default_factory=deque)  # what each sent task takes of the pipe's buffer
    # How many tasks the worker has started, written by the worker into memory it shares with
    # the parent (None: a worker that sends each result at once); and how many of its answers
    # the parent has read.
    started: mmap.mmap | None = None
    answered: int = 0

    def waiting_bytes(self) -> int:
        """What the tasks sent after the one it runs (or is about to read) take of its pipe's
        buffer."""
        return sum(self.sizes) - self.sizes[0] if self.sizes else 0

    def running(self) -> int:
        """Where in ``sent`` the task it was running is, once it has died: the tasks before it
        were done, their answers held back for a batch and lost with the worker."""
        if self.started is None or not self.sent:
            return 0
        return min(max(_FRAME.unpack_from(self.started)[0] - self.answered - 1, 0), len(self.sent) - 1)


def depth(left: int, jobs: int) -> int:
    """How many tasks a worker may hold, with ``left`` tasks not sent yet: a quarter of each
    worker's share of them, between :data:`LEAST_AHEAD` and :data:`PER_WORKER`. Deep while the
    queue is long (a worker keeps running while the parent is away), shallow at its end (the
    tasks are sent largest first, so what is left is small and goes to the first free worker)."""
    return max(LEAST_AHEAD, min(PER_WORKER, left // (4 * jobs)))


class _Pool(Generic[T, R]):
    """Forked workers, each fed through its own pipe; a dead one is replaced."""

    def __init__(self, work: Callable[[T], R], jobs: int, nursery: _Nursery | None = None) -> None:
        self.work = work
        # The nursery forks each worker from the work as its pipe message: pickled once. A
        # work that does not pickle is forked by the parent, as it was before nurseries.
        self.pickled_work = b""
        if nursery is not None:
            try:
                self.pickled_work = _dumps_work(work)
            except (pickle.PicklingError, TypeError, AttributeError):
                nursery = None
        self.nursery = nursery
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
        if self.nursery is not None:
            try:
                nursling, counter = self.nursery.fork(self.pickled_work, child_end)
            except (OSError, EOFError):  # the nursery was killed: its workers are forked as others
                self.nursery = None
            else:
                child_end.close()
                return _Worker(nursling, parent_end, started=counter)
        others = [worker.conn for worker in self.workers] + [parent_end]
        counter = mmap.mmap(-1, _FRAME.size)  # shared with the forked worker
        context = multiprocessing.get_context("fork")
        process = context.Process(
            target=_serve, args=(self.work, child_end, others, os.getpid(), counter), daemon=True
        )
        with FORK_GUARD:
            process.start()
        child_end.close()  # the worker's end lives in the worker alone: its death closes the pipe
        return _Worker(process, parent_end, started=counter)

    def busy(self) -> bool:
        return any(worker.sent for worker in self.workers)

    def feed(self, queue: deque[tuple[T, int]]) -> None:
        # Round by round, one task per worker each: the workers' queues fill evenly.
        filling = True
        while queue and filling:
            filling = False
            for index in range(len(self.workers)):
                if queue and self._send_one(index, queue):
                    filling = True

    def _send_one(self, index: int, queue: deque[tuple[T, int]]) -> bool:
        """Send the next task to worker ``index`` if it may hold one more; whether it took it."""
        while True:
            worker = self.workers[index]
            if len(worker.sent) >= depth(len(queue), len(self.workers)):
                return False
            data = self._pickled(queue[0])
            cost = len(data) + MESSAGE_OVERHEAD
            if worker.sent and worker.waiting_bytes() + cost > AHEAD_BYTES:
                return False  # sent when this worker has read more of its pipe (AHEAD_BYTES)
            try:
                worker.conn.send_bytes(data)
            except OSError:  # died while idle: nothing of ours was lost with it
                if worker.sent:
                    return False  # ready() sees the death and gives back what it held
                self.workers[index] = self._restart(worker)
                continue
            worker.sent.append(queue.popleft())
            worker.sizes.append(cost)
            return True

    def _pickled(self, item: tuple[T, int]) -> bytes:
        """The task of a queue item as its pipe message (kept while it waits to be sent)."""
        if self.pending is None or self.pending[0] is not item:
            self.pending = (item, _dumps(item[0]))
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

    def ready(self) -> Iterator[tuple[T, int, R | _Died | _Raised | _Again]]:
        """Wait until some worker answers or dies; yield what came back."""
        self._watch_busy()
        seen: set[int] = set()
        for fd, _event in self.poller.poll():
            worker = self.polled.get(fd)  # None: its worker died and was replaced in this loop
            if worker is None or id(worker) in seen:
                continue
            seen.add(id(worker))
            try:
                message = worker.conn.recv_bytes()
            except (EOFError, OSError):
                yield from self._replace(worker)
                continue
            for kind, value in _answers(message):
                task, deaths = worker.sent.popleft()
                worker.sizes.popleft()
                worker.answered += 1
                yield task, deaths, (_Raised(value) if kind == "raised" else value)

    def _replace(self, worker: _Worker[T]) -> Iterator[tuple[T, int, _Died | _Again]]:
        """A worker died: the task it was running is reported; those sent after it never
        started, and go to its replacement as they were; those it had done, their answers
        held for a batch, are done again (as they were: not counted as a death)."""
        running = worker.running()
        fresh = self._restart(worker)
        self.workers[self.workers.index(worker)] = fresh
        sent, sizes = list(worker.sent), list(worker.sizes)
        task, deaths = sent[running]
        for item, size in zip(sent[running + 1 :], sizes[running + 1 :], strict=True):
            fresh.conn.send(item[0])
            fresh.sent.append(item)
            fresh.sizes.append(size)
        for done, again in reversed(sent[:running]):
            yield done, again, _Again()
        process = worker.process
        orphaned = isinstance(process, _Nursling) and process.nursery.ended(NURSERY_GRACE)
        yield task, deaths, _Died(_death(process), counts=0 if orphaned else 1)

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


def _serve(
    work: Callable[[Any], Any],
    conn: Connection,
    others: list[Connection],
    parent: int,
    started: mmap.mmap | None = None,
) -> None:
    """A worker: take tasks from the pipe until it closes, send back each result (in batches
    when ``started``, the count of tasks it starts, is shared with the parent)."""
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
        _loop(work, conn, None, started)
        return
    # A benchmark's figures (cleankit.run.procstats): written at the end, or when the pool
    # stops this worker (SIGTERM right after closing its pipe).
    def finish(_signum: int, _frame: object) -> None:
        stats.finish()
        os._exit(0)

    signal.signal(signal.SIGTERM, finish)
    _loop(work, conn, stats, started)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stats.finish()


def _loop(
    work: Callable[[Any], Any], conn: Connection, stats: WorkerStats | None = None, started: mmap.mmap | None = None
) -> None:
    outbox = _Outbox(conn, batching=started is not None)
    pipe = select.poll()  # not conn.poll(), which builds a selector each call
    pipe.register(conn.fileno(), select.POLLIN)
    count = 0
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        count += 1
        if started is not None:  # before the work: if it kills this worker, the parent knows which task did
            _FRAME.pack_into(started, 0, count)
        if stats is not None:
            stats.task_received()
        try:
            answer: tuple[str, Any] = ("result", work(task))
        except Exception:
            answer = ("raised", traceback.format_exc())
        if stats is not None:
            stats.task_done()
        if count % TRIM_EVERY_TASKS == 0:
            release_free_heap()
        # Held only while another task waits in the pipe: nothing is held while this worker
        # would wait for a task. A raised error goes at once.
        if not outbox.put(_dumps(answer), hold=answer[0] == "result" and bool(pipe.poll(0))):
            return


class _Outbox:
    """A worker's answers to the parent: sent at once, or (``batching``) held for a batch of
    up to :data:`BATCH_RESULTS` answers, :data:`BATCH_BYTES` and :data:`BATCH_SECONDS`; a
    thread sends a batch that has waited that long while the worker's main thread works."""

    def __init__(self, conn: Connection, batching: bool) -> None:
        self.conn = conn
        self.held: list[bytes] = []  # each answer's length, then its bytes
        self.held_bytes = 0
        self.since = 0.0  # when the first held answer was put
        self.broken = False  # the pipe is closed: the parent stopped this worker, or died
        self.lock = threading.Condition()
        self.batching = batching
        if batching:
            threading.Thread(target=self._watch, name="cleankit-outbox", daemon=True).start()

    def put(self, answer: bytes, hold: bool) -> bool:
        """Send ``answer``, with the held ones, unless it may be held; False once the pipe is closed."""
        with self.lock:
            if not self.held:
                self.since = time.monotonic()
            self.held += (_FRAME.pack(len(answer)), answer)
            self.held_bytes += len(answer)
            if not (hold and self.batching) or len(self.held) >= 2 * BATCH_RESULTS or self.held_bytes >= BATCH_BYTES:
                self._send()
            return not self.broken

    def _send(self) -> None:
        if not self.broken:
            try:
                self.conn.send_bytes(b"".join(self.held))
            except (EOFError, OSError):
                self.broken = True
        self.held.clear()
        self.held_bytes = 0

    def _watch(self) -> None:
        with self.lock:
            while not self.broken:
                self.lock.wait(BATCH_SECONDS / 2)
                if self.held and time.monotonic() - self.since >= BATCH_SECONDS:
                    self._send()


def _dumps(message: object) -> bytes:
    """A task or an answer as its pipe message. ``pickle.dumps``, not multiprocessing's
    ``ForkingPickler.dumps`` (which ``Connection.send`` uses): that one builds a pickler with
    its own copy of the reducers' table for every message and returns a buffer to copy again,
    ~120 us more for a cleaning result of 235 kB, ~5 us for a survey task, on both cores while
    the workers run. Its extra reducers (sockets, pipes) are for objects no task or answer of
    a run holds; one that does still goes through it."""
    try:
        return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # whatever plain pickle refuses, ForkingPickler may take
        return bytes(ForkingPickler.dumps(message))


def _answers(message: bytes) -> Iterator[tuple[str, Any]]:
    """The answers of a worker's message, in the order it gave them."""
    view = memoryview(message)
    at = 0
    while at < len(view):
        (size,) = _FRAME.unpack_from(view, at)
        at += _FRAME.size
        yield pickle.loads(view[at : at + size])
        at += size


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


# A worker gives the C heap's free pages back every this many tasks: what a large page's
# cleaning freed stays resident otherwise, scattered between live blocks where the heap cannot
# shrink, and a cleaning worker's resident memory crept up with the number of pages it cleaned
# (benchmarks/README.md, branch mem10). A trim takes ~0.3 ms.
TRIM_EVERY_TASKS = 64
# How long a worker's death waits to see whether its nursery died first (deaths are rare).
NURSERY_GRACE = 0.2
# The nursery's workers are not the parent's children: it watches them through pidfds
# (Linux 5.3). Without them, every worker is forked by the parent.
PIDFDS = hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")


# Objects a nursery inherited from the parent, by their id in the parent (the nursery, a
# fork, has them at the same addresses): a work's pickle names them (:func:`_dumps_work`) and
# a worker the nursery forks finds them in its own memory (:func:`_loads_work`).
_SHARED: dict[int, object] = {}


class _ByReference(ForkingPickler):
    """Pickles the objects of :data:`_SHARED` as their id."""

    def persistent_id(self, obj: object) -> int | None:
        return id(obj) if _SHARED.get(id(obj), _SHARED) is obj else None  # _SHARED: not there


def _dumps_work(work: object) -> bytes:
    """A work as the nursery's message: the pipeline and stages it inherited named, not copied
    (they hold what was compiled and loaded into them: a copy would be rebuilt in every worker),
    everything else (a pass's learned furniture, the run's own objects) by value."""
    buffer = io.BytesIO()
    _ByReference(buffer, pickle.HIGHEST_PROTOCOL).dump(work)
    return buffer.getvalue()


class _FromShared(pickle.Unpickler):
    """Finds the objects :class:`_ByReference` named in this process's :data:`_SHARED`."""

    def persistent_load(self, pid: Any) -> object:
        return _SHARED[pid]


def _loads_work(data: bytes) -> Any:
    return _FromShared(io.BytesIO(data)).load()


class _Nursery:
    """A process forked early in a run (the parent small then: its imports and the pipeline),
    that forks workers when the parent asks, and runs what it is sent (loading the tables its
    workers share). It waits for each worker it forked, and the parent waits for it at the end
    (:meth:`close`): rusage counts their CPU among the run's children, as it does for the
    parent's own workers. ``kind``: its name in a benchmark's figures."""

    def __init__(self, kind: str, others: Sequence[_Nursery] = ()) -> None:
        # Both ends are Unix sockets: a worker's pipe end travels to the nursery as a descriptor.
        self.conn, child_end = multiprocessing.Pipe(duplex=True)
        # One exchange at a time: the parent's thread beside a pool may send an action while
        # the main thread asks for a worker.
        self.lock = threading.Lock()
        context = multiprocessing.get_context("fork")
        # The parent's ends of the other nurseries' pipes are closed in this one: a nursery
        # ends when the parent closes its end, which no other process may hold.
        ends = [self.conn, *(other.conn for other in others)]
        self.process = context.Process(target=_nurse, args=(child_end, ends, os.getpid(), kind), daemon=True)
        with FORK_GUARD:
            self.process.start()
        child_end.close()

    def fork(self, work: bytes, conn: Connection) -> tuple[_Nursling, mmap.mmap]:
        """A worker serving ``conn`` with ``work`` (pickled by :func:`_dumps_work`), forked by
        the nursery, and the count of tasks it starts, in memory it shares with the parent (a
        memfd sent beside the pipe: the nursery was forked before this count existed)."""
        counter_fd = os.memfd_create("cleankit-started")
        try:
            os.ftruncate(counter_fd, _FRAME.size)
            counter = mmap.mmap(counter_fd, _FRAME.size)
            with self.lock:
                self.conn.send(("fork", work))
                assert self.process.pid is not None
                send_handle(self.conn, conn.fileno(), self.process.pid)
                send_handle(self.conn, counter_fd, self.process.pid)
                pid: int = self.conn.recv()
        finally:
            os.close(counter_fd)
        return _Nursling(self, pid, os.pidfd_open(pid)), counter

    def run(self, action: bytes) -> bool:
        """Have the nursery call ``action`` (pickled) before its next fork; no answer awaited.
        False when the nursery is gone."""
        try:
            with self.lock:
                self.conn.send(("run", action))
        except OSError:
            return False
        return True

    def wait(self, pid: int) -> int:
        """The exit code of a worker that has ended (a signal's as its negative number); 1 when
        the nursery is gone (it was killed, and its workers with it: what ended them is lost)."""
        try:
            with self.lock:
                self.conn.send(("wait", pid))
                code: int = self.conn.recv()
        except (OSError, EOFError):
            return 1
        return code

    def alive(self) -> bool:
        return self.process.is_alive()

    def ended(self, grace: float) -> bool:
        """Has the nursery ended, waiting up to ``grace`` seconds for it (its workers get the
        signal of its death while it ends: one may be seen dead before it is)?"""
        self.process.join(timeout=grace)
        return not self.process.is_alive()

    def close(self) -> None:
        self.conn.close()  # the nursery waits for what it forked, then ends
        self.process.join()


def _nurse(conn: Connection, parents_ends: list[Connection], parent: int, kind: str) -> None:
    """The nursery: fork a worker for each work that arrives, run each action, wait for the
    workers the parent says have ended, and for every other when the parent closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the workers (_serve)
    for end in parents_ends:
        end.close()
    release_inherited_locks()
    _die_with(parent)
    gc.freeze()  # as a worker's: its collections would copy the pages it shares
    # A benchmark's figures: its own memory is its workers' floor (no profile: its workers
    # would inherit the profiler running).
    folder = os.environ.get(STATS_ENV, "")
    stats = WorkerStats(kind, folder, "") if folder else None
    while True:
        try:
            message, payload = conn.recv()
        except (EOFError, OSError):
            break
        if message == "wait":
            conn.send(os.waitstatus_to_exitcode(os.waitpid(payload, 0)[1]))
        elif message == "run":
            try:
                _loads_work(payload)()
            except Exception:  # a table not loaded here is loaded by each worker that needs it
                traceback.print_exc()
            gc.freeze()  # what it loaded, left out of the workers' collections as the rest
        else:
            fd = recv_handle(conn)
            counter_fd = recv_handle(conn)
            nursery = os.getpid()
            pid = os.fork()
            if pid == 0:
                conn.close()
                _serve_pickled(payload, Connection(fd), nursery, counter_fd)
            os.close(fd)
            os.close(counter_fd)
            conn.send(pid)
            if stats is not None:
                stats.tasks += 1
    with contextlib.suppress(ChildProcessError):
        while True:
            os.wait()
    if stats is not None:
        stats.finish()


def _serve_pickled(work: bytes, conn: Connection, parent: int, counter_fd: int) -> NoReturn:
    """A worker forked by the nursery: it serves (its count of started tasks in the memory
    ``counter_fd`` shares with the parent), then ends without returning into the nursery's loop."""
    code = 0
    try:
        started = mmap.mmap(counter_fd, _FRAME.size)
        os.close(counter_fd)
        _serve(_loads_work(work), conn, [], parent, started)
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()  # os._exit does not
    sys.stderr.flush()
    os._exit(code)


@dataclass
class _Nursling:
    """A worker the nursery forked: watched through a pidfd (it is not the parent's child),
    its exit code asked of the nursery once it has ended."""

    nursery: _Nursery
    pid: int
    pidfd: int
    code: int | None = None

    @property
    def sentinel(self) -> int:
        return self.pidfd

    @property
    def exitcode(self) -> int | None:
        if self.code is None and not self.is_alive():
            self.code = self.nursery.wait(self.pid)
            os.close(self.pidfd)
        return self.code

    def is_alive(self) -> bool:
        return self.code is None and not select.select([self.pidfd], [], [], 0)[0]

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, number: int) -> None:
        if self.code is None:
            with contextlib.suppress(ProcessLookupError):  # reaped already (its nursery killed)
                signal.pidfd_send_signal(self.pidfd, number)

    def join(self, timeout: float | None = None) -> None:
        if self.code is None and select.select([self.pidfd], [], [], timeout)[0]:
            _ = self.exitcode


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


def _death(process: _Process) -> str:
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
