"""A benchmark hook: what each worker process of a run cost, reported by the worker itself.

``CLEANKIT_PROCESS_STATS=DIR`` makes every worker of the local executor write, as it ends,
``DIR/<work>-<pid>.json``: the tasks it ran, its CPU split into the work itself and the
pipe (reading and unpickling tasks, pickling and sending results; ``time.thread_time``, so
waiting is not counted), its whole CPU (``os.times``) and its own peak resident memory
(``VmHWM`` of ``/proc/self/status``: unlike ``ru_maxrss``, which Linux starts at the
spawner's peak, it starts at what the worker maps right after its fork) with its private
memory at the end (``smaps_rollup``). ``CLEANKIT_PROFILE=DIR`` also writes a cProfile of the
worker's loop, ``DIR/<work>-<pid>.prof``. Unset (always, outside benchmarks), a worker
checks two dictionary entries when it starts and nothing more.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

STATS_ENV = "CLEANKIT_PROCESS_STATS"
PROFILE_ENV = "CLEANKIT_PROFILE"
MEMORY_FIELDS = {"VmHWM": "peak_rss_mb", "VmRSS": "rss_mb"}
PRIVATE_FIELDS = ("Private_Clean", "Private_Dirty")


def memory() -> dict[str, float]:
    """This process's peak and current resident memory, and its private memory now (MB)."""
    found: dict[str, float] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in MEMORY_FIELDS:
                found[MEMORY_FIELDS[name]] = int(value.split()[0]) / 1024
        private = 0
        for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in PRIVATE_FIELDS:
                private += int(value.split()[0])
        found["private_mb"] = private / 1024
    except (OSError, ValueError, IndexError):  # not Linux: no figures
        pass
    return found


class WorkerStats:
    """Counts one worker's tasks and CPU; writes them (and its profile) when the worker ends."""

    def __init__(self, work: object, folder: str, profile: str, in_process: bool = False) -> None:
        """``work``: what the worker runs, named by its function or class; or its name."""
        name = work if isinstance(work, str) else getattr(work, "__name__", None) or type(work).__name__
        self.kind = name.strip("_") or "work"
        self.in_process = in_process
        self.folder = folder
        self.profile_folder = profile
        self.tasks = 0
        self.work_cpu = 0.0
        self.pipe_cpu = 0.0
        self.mark = time.thread_time()
        self.started = os.times()
        self.profiler: Any = None
        if profile:
            import cProfile

            self.profiler = cProfile.Profile()
            self.profiler.enable()

    @classmethod
    def from_environment(cls, work: object, in_process: bool = False) -> WorkerStats | None:
        """The figures asked for, if any. ``in_process``: the work runs in the parent (one
        job): only the work's CPU counts (the parent's own is interleaved), and no profile."""
        folder, profile = os.environ.get(STATS_ENV, ""), os.environ.get(PROFILE_ENV, "")
        if in_process:
            return cls(work, folder, "", in_process=True) if folder else None
        return cls(work, folder, profile) if folder or profile else None

    def task_received(self) -> None:
        now = time.thread_time()
        if not self.in_process:  # in the parent, the time between tasks is the parent's own
            self.pipe_cpu += now - self.mark
        self.mark = now

    def task_done(self) -> None:
        now = time.thread_time()
        self.work_cpu += now - self.mark
        self.mark = now
        self.tasks += 1

    def finish(self) -> None:
        if not self.in_process:
            self.task_received()  # the last send, and the read that found the pipe closed
        name = f"{self.kind}-{os.getpid()}"
        if self.in_process:
            name += f"-{time.monotonic_ns()}"  # one file per call: the parent runs them all
        if self.profiler is not None:
            self.profiler.disable()
            self.profiler.dump_stats(os.path.join(self.profile_folder, name + ".prof"))
        if not self.folder:
            return
        ended = os.times()
        cpu = ended.user + ended.system - self.started.user - self.started.system
        data = {
            "pid": os.getpid(),
            "work": self.kind,
            "in_process": self.in_process,
            "tasks": self.tasks,
            "work_cpu": round(self.work_cpu, 3),
            "pipe_cpu": round(self.pipe_cpu, 3),
            "cpu": None if self.in_process else round(cpu, 3),
            **{key: round(value, 1) for key, value in memory().items()},
        }
        path = os.path.join(self.folder, name + ".json")
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(path + ".tmp", path)


def report_parent() -> None:
    """The parent's figures at the end of a batch run, when a benchmark asks for them."""
    folder = os.environ.get(STATS_ENV, "")
    if not folder:
        return
    times = os.times()
    data = {
        "pid": os.getpid(),
        "work": "parent",
        "in_process": True,
        "cpu": round(times.user + times.system, 3),
        **{key: round(value, 1) for key, value in memory().items()},
    }
    path = os.path.join(folder, f"parent-{os.getpid()}.json")
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(path + ".tmp", path)
