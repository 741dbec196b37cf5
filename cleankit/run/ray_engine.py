"""The Ray engine: the run's per-file work as Ray Data batches, on a local Ray instance or a
cluster (``cleankit clean ... --engine ray [--address auto|ray://host:10001]``).

It is an :class:`cleankit.run.executor.Executor`: :func:`cleankit.run.clean.run_clean` stays
the driver and commits every result (outputs' rows, provenance lines, the near-duplicate
index, the summary) itself, so a worker that dies never leaves half a record. What it changes
is where ``work(task)`` runs:

- the work (a :class:`cleankit.run.cleaner.Cleaner` with what site learning taught the
  boilerplate stage, or a corpus pass's surveyor) is put in Ray's object store once and
  read by every worker: the *broadcast* of what was learned;
- the tasks become a Ray Data dataset of pickled tasks, cleaned with ``map_batches``; the
  driver streams the results back as they finish;
- a batch that keeps failing (a worker killed by the out-of-memory killer, say) fails the
  dataset: the tasks whose results did not arrive are then run one per Ray task, so the one
  that kills its worker fails alone (``lost``) while the others complete, as in the local
  engine.

Under Ray Client (``--address ray://host:port``) this process is not a Ray driver, and Ray
Data needs one (ray-project/ray#48682): the datasets then run in an actor on the cluster
(:meth:`RaySession.stream`), which hands their batches back; this process still commits.

Site learning is map → reduce → broadcast: the survey of each file is the map (``results``
with the surveyor), ``learn`` in the driver merges the surveys, and the cleaner that carries
the learned furniture is broadcast. Crawl near-duplicates are decided by
:class:`cleankit.neardup.distributed.RayNearDupPass` (:meth:`RayExecutor.adapt_passes`).

Ray is imported only here (and in the modules this one hands work to), so the core install
never imports it.
"""

from __future__ import annotations

import logging
import os
import pickle
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cleankit.core.corpus_pass import CorpusPass
from cleankit.core.errors import UsageError
from cleankit.io.remote import FORWARDED_ENV

T = TypeVar("T")
R = TypeVar("R")

# CPUs of the Ray instance started when no address is given (a laptop's trial run).
LOCAL_CPUS = 2
# Tasks per Ray Data batch, at most: each batch costs the driver about 20 ms of CPU (measured:
# 2.7 ms a page with batches of 8, 0.9 with 32, 0.4 with 128), and the driver is the serial
# part of a run; fewer pages would leave cluster CPUs idle on a small run.
BATCH_TASKS = 128
# Batches per cluster CPU, at least (so a small run still spreads over the CPUs).
BATCHES_PER_CPU = 4


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise UsageError("--engine ray needs Ray: pip install 'cleankit[ray]'") from exc
    return ray


@dataclass
class RaySession:
    """A connection to Ray: to ``address`` (``auto``, ``ray://host:10001``), or to a local
    instance started here with ``num_cpus`` CPUs; one this process already holds is used as it
    is. ``close`` disconnects (stopping the local instance) only if this session connected."""

    address: str | None = None
    num_cpus: int = LOCAL_CPUS
    started: bool = field(default=False, init=False)
    connected: bool = field(default=False, init=False)

    def open(self) -> Any:
        ray = import_ray()
        if ray.is_initialized():
            return ray
        # The driver's own code: shipped to the workers of a remote cluster, found on the
        # path of local ones.
        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        # What the workers need to reach the same filesystems (cleankit.io.remote).
        env = {name: value for name, value in os.environ.items() if FORWARDED_ENV.match(name)}
        runtime_env: dict[str, Any] = {"env_vars": {**env, "PYTHONPATH": os.path.dirname(package)}}
        if self.address:
            if self.address.startswith("ray://"):
                runtime_env = {"py_modules": [package], "env_vars": env}
            ray.init(address=self.address, runtime_env=runtime_env, log_to_driver=False)
            self.connected = True
        else:
            ray.init(
                num_cpus=self.num_cpus,
                include_dashboard=False,
                runtime_env=runtime_env,
                log_to_driver=False,
                configure_logging=False,
            )
            self.started = self.connected = True
        quiet_ray_data(ray)
        return ray

    @property
    def client(self) -> bool:
        """Connected through Ray Client (``ray://``): this process is not a Ray driver, and
        Ray Data, which needs one, runs in an actor on the cluster (:meth:`stream`)."""
        return bool(self.address and self.address.startswith("ray://"))

    def stream(self, produce: Callable[..., Iterator[Any]], *args: Any) -> Iterator[Any]:
        """``produce(ray, *args)``'s items, produced here, or under Ray Client by an actor on
        the cluster (Ray Data does not run in a Ray Client process: ray-project/ray#48682),
        one item per call, the next asked for while this one is handled. ``produce`` must be
        importable by the workers (a module-level function of cleankit)."""
        ray = self.open()
        if not self.client:
            yield from produce(ray, *args)
            return
        # No CPU of its own: the cluster's CPUs are for the tasks it starts.
        producer = ray.remote(num_cpus=0, max_restarts=0)(_Producer).remote(produce, *args)
        try:
            pending = producer.next.remote()
            while True:
                item = ray.get(pending)
                if isinstance(item, str) and item == _DONE:
                    return
                pending = producer.next.remote()
                yield item
        finally:
            ray.kill(producer)

    def close(self) -> None:
        ray = import_ray()
        if self.connected and ray.is_initialized():
            ray.shutdown()
        self.started = self.connected = False


def quiet_ray_data(ray: Any) -> None:
    """No progress bars, no line per dataset."""
    context = ray.data.DataContext.get_current()
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    context.enable_progress_bars = False
    context.print_on_execution_start = False


_DONE = "cleankit: no more items"


class _Producer:
    """The Ray actor of :meth:`RaySession.stream`: runs ``produce`` in the cluster, where
    Ray Data has a driver (this worker), and hands its items out one per ``next`` call."""

    def __init__(self, produce: Callable[..., Iterator[Any]], *args: Any) -> None:
        import ray

        quiet_ray_data(ray)
        self.items = produce(ray, *args)

    def next(self) -> Any:
        return next(self.items, _DONE)


def _run_batch(work: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The Ray Data function: unpickle each task of the batch, do the work, pickle the result."""

    def run(batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        results = [pickle.dumps(work(pickle.loads(task)), protocol=pickle.HIGHEST_PROTOCOL) for task in batch["task"]]
        out = np.empty(len(results), dtype=object)
        out[:] = results
        return {"result": out, "index": np.asarray(batch["index"])}

    return run


def _batches(ray: Any, work: Any, pickled: list[bytes], batch: int) -> Iterator[list[tuple[int, bytes]]]:
    """The tasks (pickled) as a Ray Data dataset of batches of ``batch`` tasks, cleaned with
    ``map_batches``; yields each batch's (task index, pickled result) as it finishes."""
    dataset = ray.data.from_items(
        [{"index": i, "task": data} for i, data in enumerate(pickled)],
        override_num_blocks=max(1, (len(pickled) + batch - 1) // batch),
    )
    with warnings.catch_warnings():
        # Deprecated from Ray 2.60 without a replacement for max_retries yet (hence the
        # extra's bound below 2.64).
        warnings.simplefilter("ignore", DeprecationWarning)
        mapped = dataset.map_batches(
            _run_batch(work),
            batch_size=batch,
            batch_format="numpy",
            zero_copy_batch=True,
            # A batch whose worker died fails the dataset, and its remaining tasks are run
            # alone (Ray Data would otherwise retry a page that kills its worker forever).
            ray_remote_args_fn=_no_retries,
        )
    for done in mapped.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=0):
        yield [(int(index), data) for index, data in zip(done["index"], done["result"], strict=True)]


def _no_retries() -> dict[str, Any]:
    return {"max_retries": 0}


def _run_one(work: Any, task: bytes) -> bytes:
    return pickle.dumps(work(pickle.loads(task)), protocol=pickle.HIGHEST_PROTOCOL)


@dataclass
class RayExecutor:
    """Runs the run's tasks as Ray Data batches (see the module's doc)."""

    session: RaySession = field(default_factory=RaySession)
    batch_tasks: int = 0  # tasks per batch; 0: as many as spread the run over the CPUs, up to BATCH_TASKS
    # The last run's corpus passes (their figures: benchmarks, tests).
    passes: list[CorpusPass] = field(default_factory=list, repr=False)

    def results(self, tasks: list[T], work: Callable[[T], R], lost: Callable[[T, str], R]) -> Iterator[R]:
        if not tasks:
            return
        ray = self.session.open()
        pickled = [pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL) for task in tasks]
        batch = self.batch_tasks or batch_size(len(tasks), int(ray.cluster_resources().get("CPU", 1)))
        arrived: set[int] = set()
        try:
            for done in self.session.stream(_batches, work, pickled, batch):
                for index, data in done:
                    arrived.add(index)
                    yield pickle.loads(data)
        except ray.exceptions.RayError as exc:  # a worker died, or the work raised
            yield from self._alone(ray, work, lost, tasks, pickled, arrived, exc)

    def _alone(
        self,
        ray: Any,
        work: Callable[[T], R],
        lost: Callable[[T, str], R],
        tasks: list[T],
        pickled: list[bytes],
        arrived: set[int],
        failure: BaseException,
    ) -> Iterator[R]:
        """After a failed dataset: each remaining task in a Ray task of its own, so the one
        that kills its worker fails alone."""
        remote = ray.remote(max_retries=0)(_run_one)
        shared = ray.put(work)
        waiting = {remote.remote(shared, pickled[i]): i for i in range(len(tasks)) if i not in arrived}
        while waiting:
            done, _ = ray.wait(list(waiting), num_returns=1)
            index = waiting.pop(done[0])
            try:
                yield pickle.loads(ray.get(done[0]))
            except ray.exceptions.RayError as exc:
                yield lost(tasks[index], _death(exc))

    def adapt_passes(self, passes: list[CorpusPass]) -> list[CorpusPass]:
        """The crawl's near-duplicate pass (files or JSON Lines lines), decided and rewritten
        on Ray (same decisions and records as the local one)."""
        from cleankit.neardup.crawl import NearDupPass
        from cleankit.neardup.distributed import RayJsonlNearDupPass, RayNearDupPass
        from cleankit.run.jsonl import JsonlNearDupPass

        ray_form: dict[type, type[RayNearDupPass]] = {
            NearDupPass: RayNearDupPass,
            JsonlNearDupPass: RayJsonlNearDupPass,
        }
        self.passes = [ray_form[type(p)].like(p, self.session) if type(p) in ray_form else p for p in passes]  # type: ignore[arg-type]
        return self.passes

    def close(self) -> None:
        self.session.close()


def batch_size(tasks: int, cpus: int) -> int:
    """Tasks per batch: at least BATCHES_PER_CPU batches per CPU, at most BATCH_TASKS tasks each."""
    return max(1, min(BATCH_TASKS, tasks // max(1, BATCHES_PER_CPU * cpus)))


def _death(exc: BaseException) -> str:
    name = type(exc).__name__
    if "OutOfMemory" in name:
        how = "was killed by Ray's out-of-memory monitor"
    elif "WorkerCrashed" in name or "ActorDied" in name or "NodeDied" in name:
        how = "died (out of memory, or a crash)"
    else:
        how = f"failed ({name})"
    return f"the Ray worker cleaning it {how}; the other documents went on"
