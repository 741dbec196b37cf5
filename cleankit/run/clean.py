"""Batch runs: clean many files into an output folder, in parallel, resumably.

One run at a time per output folder (a lock). Workers read, clean and write each document's
output (atomically), and serialize its provenance lines; the parent appends them in batches,
after the batch's near-duplicate signatures are committed and before the batch's rows are
committed to the run state (:mod:`cleankit.run.state`, which says why this order makes any
kill either invisible or finished by the rerun). A rerun skips a file only when its row, its
provenance lines, its output and the near-duplicate index all agree; the end of a run
(near-duplicate decisions, compaction to the latest record per document) is journaled. Corpus
passes (site learning before, near-duplicates after) run through one protocol
(:mod:`cleankit.core.corpus_pass`). ``summary.json`` is written last.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

from cleankit.core.corpus_pass import CorpusPass
from cleankit.core.document import EncodingInfo
from cleankit.core.errors import OutputError, UsageError
from cleankit.core.pipeline import Pipeline
from cleankit.core.provenance import dumps
from cleankit.core.settings import Settings
from cleankit.io.files import (
    PROVENANCE_FILE,
    SUMMARY_FILE,
    FolderLock,
    InputItem,
    LineAppender,
    display,
    folder_error,
    open_input,
    prepare_outdir,
    remove_stale_temp_files,
    repair_torn_tail,
    write_atomic,
)
from cleankit.io.remote import discover_inputs
from cleankit.run import faults, procstats
from cleankit.run.cleaner import Cleaner
from cleankit.run.executor import Executor, LocalExecutor, beside
from cleankit.run.plan import FileResult, Task, plan
from cleankit.run.state import RunState
from cleankit.run.summary import RunSummary

# A batch of results is committed when it is this large or this old: few enough appends and
# transactions to cost nothing per document, soon enough that a kill loses little work.
BATCH_FILES = 256
BATCH_SECONDS = 0.5


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C: what was finished is committed; a rerun resumes with the rest."""

    def __init__(self, finished: int, remaining: int) -> None:
        super().__init__(finished, remaining)
        self.finished = finished
        self.remaining = remaining


def run_passes(settings: Settings, pipeline: Pipeline, outdir: Path) -> list[CorpusPass]:
    """The stages' corpus passes, then the crawl's near-duplicate pass (over the lines of
    JSON Lines input: :class:`cleankit.run.jsonl.JsonlNearDupPass`; Parquet runs are not
    deduplicated across documents)."""
    passes = pipeline.corpus_passes()
    if settings.neardup and settings.jsonl:
        from cleankit.run.jsonl import JsonlNearDupPass

        passes.append(JsonlNearDupPass.from_settings(settings, outdir))
    elif settings.neardup and not settings.parquet:
        from cleankit.neardup.crawl import NearDupPass

        passes.append(NearDupPass.from_settings(settings, outdir))
    return passes


def run_clean(
    inputs: Sequence[Path | str],
    outdir: Path,
    settings: Settings,
    force: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[FileResult], None] | None = None,
    pipeline: Pipeline | None = None,
    executor: Executor | None = None,
    items: Sequence[InputItem] | None = None,
) -> RunSummary:
    """Clean ``inputs`` into ``outdir``; the summary says what happened to each document.

    Raises :class:`OutputError` (the folder cannot be written, or another run holds it) and
    :class:`RunInterrupted` (Ctrl-C); either way a rerun resumes where this run stopped.
    ``items``: the inputs already discovered (the command line looks before it creates
    ``outdir``, to warn about patterns that matched nothing); discovered here when None."""
    started = time.perf_counter()
    for top in inputs:
        if isinstance(top, Path) and top.is_dir() and os.path.realpath(top) == os.path.realpath(outdir):
            raise UsageError(f"the output folder {display(str(outdir))} is an input folder; choose another")
    pipeline = pipeline or Pipeline.from_settings(settings)
    prepare_outdir(outdir)
    lock = FolderLock(outdir)
    # The run's own executor (unless given one) forks its workers from nurseries, forked here
    # before the run lists and plans its files (the parent's size then is every worker's floor;
    # the command line has its own list of the inputs by now), which it reaps at the end.
    own = LocalExecutor(settings.effective_jobs(), nursery=True)
    try:
        state = RunState(outdir)
        chosen = executor or own
        warming = _Warming()
        if isinstance(chosen, LocalExecutor) and (items is None or len(items) > 1):
            chosen.start_nurseries([pipeline, *pipeline.stages])
            warming = _warm_early(chosen, pipeline, items, state)
        run = _Run(outdir, settings, pipeline, state, chosen, warming=warming)
        try:
            summary = run.clean(inputs, force, on_start, on_result, items)
        except RunInterrupted:
            raise
        except KeyboardInterrupt:  # before or after the cleaning loop: nothing half-done either way
            raise RunInterrupted(run.committed, run.remaining) from None
        finally:
            own.close()
            state.close()
    finally:
        lock.release()
    summary.seconds = time.perf_counter() - started
    procstats.report_parent()
    return summary


@dataclass(frozen=True)
class _Warming:
    """What the warm nursery was sent as soon as it was forked (:func:`_warm_early`)."""

    shared: bool = False
    cleaning: bool = False


def _warm_early(
    executor: LocalExecutor, pipeline: Pipeline, items: Sequence[InputItem] | None, state: RunState
) -> _Warming:
    """Send the warm nursery what :meth:`_Run._warm_workers` would have it load once the files
    are planned, as soon as it is forked, when the run surely needs it (more inputs than
    finished rows: at least 2 files to clean for :func:`cleankit.run.warm.warm_shared`,
    :data:`~cleankit.run.warm.WARM_ALL_FILES` for :func:`~cleankit.run.warm.warm_cleaning`).
    The nursery loads the tables on the core this process leaves idle while it plans the run,
    and the survey's workers, forked from the other nursery (``_Surveyor.forks_small``), never
    wait for them. A rerun with every file done loads nothing."""
    if executor.jobs < 2 or items is None:
        return _Warming()
    from cleankit.run import warm

    shared, cleaning = warm.wanted(len(items) - len(state.rows()))
    if not (shared and executor.in_warm_nursery(warm.warm_shared)):
        return _Warming()
    cleaning = cleaning and executor.in_warm_nursery(functools.partial(warm.warm_cleaning, pipeline))
    return _Warming(shared=True, cleaning=cleaning)


@dataclass
class _Run:
    outdir: Path
    settings: Settings
    pipeline: Pipeline
    state: RunState
    executor: Executor
    # What the warm nursery was sent as soon as it was forked (_warm_early).
    warming: _Warming = field(default_factory=lambda: _Warming())
    total: int = 0  # input files of this run
    skipped: int = 0  # already done by an earlier run
    committed: int = 0  # recorded as finished by this run

    @property
    def remaining(self) -> int:
        return self.total - self.skipped - self.committed

    def clean(
        self,
        inputs: Sequence[Path | str],
        force: bool,
        on_start: Callable[[int], None] | None,
        on_result: Callable[[FileResult], None] | None,
        items: Sequence[InputItem] | None = None,
    ) -> RunSummary:
        outdir, provenance = self.outdir, self.outdir / PROVENANCE_FILE
        self.state.recover()  # a killed run's end-of-run journal, before anything else
        try:
            remove_stale_temp_files(outdir)
            repair_torn_tail(provenance)
        except OSError as exc:
            raise (folder_error(exc, outdir) or exc) from exc
        rows = self.state.verified_rows()
        if items is None:
            items = list(discover_inputs(inputs, self.settings.include, self.settings.exclude, skip_dirs=[outdir]))
        tasks, bad = plan(items, outdir, {} if force else rows)
        self.total = len(tasks) + len(bad)
        if on_start:
            on_start(len(tasks) + len(bad))
        passes = run_passes(self.settings, self.pipeline, outdir)
        adapt = getattr(self.executor, "adapt_passes", None)  # an engine's own form of a pass (Ray)
        if callable(adapt):
            passes = adapt(passes)
        meanwhile = self._warm_workers(tasks)
        _learn(passes, tasks, self.executor, self.state, self.settings.max_bytes, meanwhile)
        faults.boundary("surveyed")
        _set_context(passes, tasks)
        _check_agreement(passes, tasks)

        run_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
        cleaner = Cleaner(self.pipeline, outdir, passes, run_id)
        summary = RunSummary()
        committer = _Committer(self.state, provenance, passes)
        produced = self.executor.results(tasks, cleaner, lambda task, why: cleaner.failure(task.rel, why, task.context))
        results = itertools.chain((cleaner.failure(rel, error) for rel, error in bad), produced)
        try:
            for result in results:
                if result.output_error:
                    raise OutputError(result.output_error)
                committer.add(result)
                summary.add(result)
                self.skipped, self.committed = summary.skipped, committer.committed
                if on_result:
                    on_result(result)
            committer.flush()
            self.committed = committer.committed
        except KeyboardInterrupt:
            with _deferred_interrupt(reraise=False):
                _close(produced)
                committer.flush()  # the results that arrived are finished: keep them
            self.skipped, self.committed = summary.skipped, committer.committed
            _abandon(passes)
            raise RunInterrupted(self.committed, self.remaining) from None
        except BaseException:
            _close(produced)
            _abandon(passes)
            raise
        finally:
            committer.close()
        faults.boundary("cleaned")

        end = self.state.changes()
        _share_workers(passes, self.executor)
        try:
            for corpus_pass in passes:
                counts = corpus_pass.finalize(end)
                summary.duplicates += counts.get("duplicates", 0)
            end.commit()
        except BaseException:
            end.close()
            _abandon(passes)  # nothing of the end is applied, or its journal finishes it next time
            raise
        self._write_summary(summary)
        return summary

    def _warm_workers(self, tasks: list[Task]) -> Callable[[], None] | None:
        """With more than one local worker: what every worker would load for itself is loaded
        once, before the workers are forked, by the process that forks them (the executor's
        warm nursery, else the parent: :mod:`cleankit.run.warm`): what every document needs
        now, the rest (returned) while the survey runs, for a run with enough files to clean to
        need it."""
        if not (isinstance(self.executor, LocalExecutor) and self.executor.jobs > 1):
            return None
        from cleankit.run import warm

        shared, cleaning_wanted = warm.wanted(sum(1 for task in tasks if task.prior is None))
        if not shared:
            return None
        executor = self.executor
        if not self.warming.shared and not executor.in_warm_nursery(warm.warm_shared):
            warm.warm_shared()
        if not cleaning_wanted or self.warming.cleaning:
            return None
        cleaning = functools.partial(warm.warm_cleaning, self.pipeline)

        def warm_cleaning() -> None:
            if not executor.in_warm_nursery(cleaning):
                cleaning()

        return warm_cleaning

    def _write_summary(self, run: RunSummary) -> None:
        """summary.json: the folder's totals (every finished file's, from the run state) and
        this run's figures."""
        total = RunSummary()
        for row in self.state.rows():
            total.merge(RunSummary.from_totals(row.totals))
        data = total.to_json()
        data.pop("seconds")
        data["last_run"] = run.to_json()
        path = self.outdir / SUMMARY_FILE
        try:
            write_atomic(path, (dumps(data, indent=2) + "\n").encode("utf-8"))
        except OSError as exc:
            raise (folder_error(exc, path) or exc) from exc


class _Committer:
    """Commits finished files in batches: index, then provenance lines, then rows."""

    def __init__(self, state: RunState, provenance: Path, passes: list[CorpusPass]) -> None:
        self.state = state
        self.provenance = provenance
        self.by_name = {corpus_pass.name: corpus_pass for corpus_pass in passes}
        self.flushers: list[Callable[[], None]] = [
            flush for corpus_pass in passes if callable(flush := getattr(corpus_pass, "flush", None))
        ]
        try:
            self.appender = LineAppender(provenance)
        except OSError as exc:
            raise (folder_error(exc, provenance) or exc) from exc
        self.pending: list[FileResult] = []
        self.committed = 0
        self.deadline = time.monotonic() + BATCH_SECONDS

    def add(self, result: FileResult) -> None:
        if result.skipped or result.row is None:
            return
        self.pending.append(result)
        if len(self.pending) >= BATCH_FILES or time.monotonic() >= self.deadline:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        with _deferred_interrupt():
            try:
                # The batch's observations are merged together (the near-duplicate index's
                # inserts, one after the other while SQLite's pages and this code are in the
                # cache), not one as each result arrives between the workers' turns on the cores.
                for result in self.pending:
                    for name, observation in (result.observations or {}).items():
                        self.by_name[name].merge(observation)
                for flush in self.flushers:
                    flush()
                faults.boundary("index-flush")
                data = b"".join(result.lines for result in self.pending)
                torn = len(data) // 2 if faults.torn_append() else None
                offset = self.appender.append_bytes(data, torn)
                if torn is not None:
                    os.kill(os.getpid(), signal.SIGKILL)
                faults.boundary("appended")
                rows = []
                for result in self.pending:
                    assert result.row is not None
                    rows.append(replace(result.row, offset=offset, length=len(result.lines)))
                    offset += len(result.lines)
                self.state.add(rows)
                faults.boundary("rows")
            except OSError as exc:
                raise (folder_error(exc, self.provenance) or exc) from exc
            except sqlite3.OperationalError as exc:
                raise OutputError(f"cannot write into {display(str(self.provenance.parent))}: {exc}") from exc
            self.committed += len(self.pending)
            self.pending.clear()
            self.deadline = time.monotonic() + BATCH_SECONDS

    def close(self) -> None:
        # fsync of a full disk may fail: the lines are written or they are not; rows say which.
        with suppress(OSError):
            self.appender.close()


@contextmanager
def _deferred_interrupt(reraise: bool = True) -> Iterator[None]:
    """Hold back Ctrl-C while a batch is committed, then raise it (``reraise``): a commit is
    never cut in the middle by the user (a kill still may, which the commit order makes safe)."""
    try:
        previous = signal.getsignal(signal.SIGINT)
        caught: list[int] = []

        def hold(signum: int, _frame: FrameType | None) -> None:
            caught.append(signum)

        signal.signal(signal.SIGINT, hold)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and reraise and previous is signal.default_int_handler:
            raise KeyboardInterrupt


def _abandon(passes: list[CorpusPass]) -> None:
    """A run stopped before its end (a full disk, Ctrl-C): each pass drops what it merged and
    did not flush, and lets go of its files, so another run in this process can use them (a
    near-duplicate index left in a write transaction would be locked to it)."""
    for corpus_pass in passes:
        abandon = getattr(corpus_pass, "abandon", None)
        if callable(abandon):
            abandon()


def _share_workers(passes: list[CorpusPass], executor: Executor) -> None:
    """Every document is cleaned: a pass with per-item work at the end (verifying candidate
    pairs) gets the run's workers for it, when there is more than one."""
    if not (isinstance(executor, LocalExecutor) and executor.jobs > 1):
        return
    for corpus_pass in passes:
        share = getattr(corpus_pass, "share_workers", None)
        if callable(share):
            share(executor)


def _close(produced: Iterator[FileResult]) -> None:
    close = getattr(produced, "close", None)
    if close is not None:
        close()


# -- corpus passes before cleaning ----------------------------------------------------------


@dataclass
class SurveyResult:
    rel: str
    sha256: str
    surveys: dict[str, str]  # each pass's survey as JSON text: what the run state caches
    fresh: tuple[str, ...]
    decoding: EncodingInfo | None = None


@dataclass
class _Surveyor:
    """The survey work of a worker: read a file once, ask each pass what it learns from it,
    or take what it learned from the same bytes last time."""

    # Its passes' stages are the pipeline's, which both nurseries inherited, and it needs none
    # of the tables the warm nursery loads (decoding loads its model, ~10 ms, on first use):
    # its workers come from the bare nursery, not after the warm one's loading (LocalExecutor).
    forks_small: ClassVar[bool] = True
    passes: list[Any]
    cached: dict[str, dict[str, tuple[str, str]]]
    max_bytes: int

    def __call__(self, task: Task) -> SurveyResult:
        try:
            with open_input(task.path) as handle:
                raw = handle.read(self.max_bytes + 1)
        except OSError:
            return SurveyResult(task.rel, "", {}, ())  # the cleaning pass names unreadable files
        sha = hashlib.sha256(raw).hexdigest()
        surveys: dict[str, str] = {}
        fresh: list[str] = []
        decoding: EncodingInfo | None = None
        for corpus_pass in self.passes:
            known = self.cached[corpus_pass.name].get(task.rel)
            if known is not None and known[0] == sha:
                surveys[corpus_pass.name] = known[1]
                continue
            survey_decoding = getattr(corpus_pass, "survey_decoding", None)
            if callable(survey_decoding) and decoding is None:
                survey, decoding = survey_decoding(task.rel, raw)
            else:
                survey = corpus_pass.survey(task.rel, raw)
            surveys[corpus_pass.name] = json.dumps(survey, ensure_ascii=False)
            fresh.append(corpus_pass.name)
        return SurveyResult(task.rel, sha, surveys, tuple(fresh), decoding)


def _learn(
    passes: list[CorpusPass],
    tasks: list[Task],
    executor: Executor,
    state: RunState,
    max_bytes: int,
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Before cleaning: each pass prepares, or (with ``survey``) learns from surveys made by
    the workers and cached in the run state. ``meanwhile``: the parent's own work, done in a
    thread beside the survey once its workers have started (or before returning, when there is
    no survey)."""
    surveying: list[Any] = [p for p in passes if callable(getattr(p, "survey", None))]
    for corpus_pass in passes:
        if corpus_pass not in surveying:
            corpus_pass.prepare([(task.rel, Path(task.path)) for task in tasks])
    if not surveying:
        if meanwhile is not None:
            meanwhile()
        return
    ids = {p.name: p.survey_id() for p in surveying}
    surveyor = _Surveyor(surveying, {p.name: state.surveys(ids[p.name]) for p in surveying}, max_bytes)
    # Every file's survey is held until the sites are learned: as its JSON text (one object a
    # file, parsed as the pass reads it), not as the many small objects of the parsed survey,
    # which would be spread over the heap and leave it fragmented, resident in the parent and
    # in every worker forked from it.
    found: dict[str, dict[str, str]] = {p.name: {} for p in surveying}
    fresh: dict[str, list[tuple[str, str, str]]] = {p.name: [] for p in surveying}
    decodings: dict[str, tuple[str, EncodingInfo]] = {}
    with ExitStack() as parents_own:
        for result in executor.results(tasks, surveyor, lambda task, _why: SurveyResult(task.rel, "", {}, ())):
            if meanwhile is not None:  # the first result: the workers are running; keep them fed
                parents_own.enter_context(beside(meanwhile))
                meanwhile = None
            for name, data in result.surveys.items():
                found[name][result.rel] = data
            if result.decoding is not None:
                decodings[result.rel] = (result.sha256, result.decoding)
            for name in result.fresh:
                fresh[name].append((result.rel, result.sha256, result.surveys[name]))
    for task in tasks:
        task.decoding = decodings.get(task.rel)
    if meanwhile is not None:  # no file to survey
        meanwhile()
    for corpus_pass in surveying:
        state.save_surveys(ids[corpus_pass.name], fresh[corpus_pass.name])
        surveys = found[corpus_pass.name]
        corpus_pass.learn((task.rel, _parsed(surveys.get(task.rel))) for task in tasks)


def _parsed(survey: str | None) -> Any:
    return None if survey is None else json.loads(survey)


def _set_context(passes: list[CorpusPass], tasks: list[Task]) -> None:
    """What the passes learned for each file, as part of what "already done" means."""
    learned = [p for p in passes if callable(getattr(p, "context", None))]
    if not learned:
        return
    for task in tasks:
        parts = [(p.name, p.context(task.rel)) for p in learned]  # type: ignore[attr-defined]
        task.context = ";".join(f"{name}={digest}" for name, digest in parts if digest)


def _check_agreement(passes: list[CorpusPass], tasks: list[Task]) -> None:
    """A file is skipped only if every pass's own record of it (the near-duplicate index)
    agrees with its row; otherwise it is redone, which repairs both."""
    judges = [judge for p in passes if callable(judge := getattr(p, "agrees", None))]
    for task in tasks:
        if task.prior is not None and not all(judge(task.prior) for judge in judges):
            task.prior = None
