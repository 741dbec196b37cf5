"""How the per-file tasks of a run are carried out. An executor takes the tasks and a
:class:`Cleaner` and yields one :class:`FileResult` per task, in any order; the run
(:mod:`cleankit.run.clean`) commits them. Another engine is one more class with ``results``.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from cleankit.run.cleaner import Cleaner
from cleankit.run.plan import FileResult, Task


class Executor(Protocol):
    def results(self, tasks: list[Task], cleaner: Cleaner) -> Iterator[FileResult]: ...


_WORKER: Cleaner | None = None


def _init_worker(cleaner: Cleaner) -> None:
    global _WORKER
    _WORKER = cleaner


def _work(task: Task) -> FileResult:
    assert _WORKER is not None
    return _WORKER(task)


@dataclass
class LocalExecutor:
    """Worker processes on this machine (in-process for one job). Workers are forked, so
    they share the pipeline the parent built (rule packs compiled, furniture learned) instead
    of building their own."""

    jobs: int

    def results(self, tasks: list[Task], cleaner: Cleaner) -> Iterator[FileResult]:
        jobs = min(self.jobs, max(1, len(tasks)))
        if jobs == 1:
            for task in tasks:
                yield cleaner(task)
            return
        # Large files first so one big file does not leave the other workers idle at the end.
        ordered = sorted(tasks, key=lambda t: _size(t.path), reverse=True)
        context = multiprocessing.get_context("fork")
        with context.Pool(jobs, initializer=_init_worker, initargs=(cleaner,)) as pool:
            yield from pool.imap_unordered(_work, ordered, chunksize=1)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
