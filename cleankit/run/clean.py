"""Batch runs: clean many files into an output folder, in parallel, resumably.

Workers read, clean and write each document's output (atomically); the parent process
alone appends provenance lines, so lines never interleave. A document is done when its
output exists and its provenance record says it came from the same input bytes under
the same settings; a rerun skips such documents unless forced. Corpus passes (site
learning before, near-duplicates after) run through one protocol
(:mod:`cleankit.core.corpus_pass`). At the end provenance is compacted to the latest
record per document and ``summary.json`` is rewritten.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from cleankit.core.corpus_pass import CorpusPass
from cleankit.core.errors import UsageError
from cleankit.core.pipeline import Pipeline
from cleankit.core.provenance import dumps
from cleankit.core.settings import Settings
from cleankit.io.files import (
    PROVENANCE_FILE,
    SUMMARY_FILE,
    LineAppender,
    atomic_output,
    discover,
    display,
    remove_stale_temp_files,
    repair_torn_tail,
    write_atomic,
)
from cleankit.run.cleaner import Cleaner
from cleankit.run.executor import Executor, LocalExecutor
from cleankit.run.plan import FileResult, latest_records, load_prior, plan
from cleankit.run.summary import RunSummary


def run_passes(settings: Settings, pipeline: Pipeline, outdir: Path) -> list[CorpusPass]:
    """The stages' corpus passes, then the crawl's near-duplicate pass (folder runs only:
    JSON Lines runs are not deduplicated across documents)."""
    passes = pipeline.corpus_passes()
    if settings.neardup and not settings.jsonl:
        from cleankit.neardup.crawl import NearDupPass

        passes.append(NearDupPass.from_settings(settings, outdir))
    return passes


def run_clean(
    inputs: list[Path],
    outdir: Path,
    settings: Settings,
    force: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[FileResult], None] | None = None,
    pipeline: Pipeline | None = None,
    executor: Executor | None = None,
) -> RunSummary:
    """Clean ``inputs`` into ``outdir``; the summary says what happened to each document."""
    started = time.perf_counter()
    for top in inputs:
        if top.is_dir() and os.path.realpath(top) == os.path.realpath(outdir):
            raise UsageError(f"the output folder {display(str(outdir))} is an input folder; choose another")
    pipeline = pipeline or Pipeline.from_settings(settings)
    outdir.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(outdir)
    provenance = outdir / PROVENANCE_FILE
    repair_torn_tail(provenance)
    prior = {} if force else load_prior(provenance)

    items = list(discover(inputs, settings.include, settings.exclude, skip_dirs=[outdir]))
    summary = RunSummary()
    tasks, bad = plan(items, outdir, prior, settings.output_fingerprint())
    if on_start:
        on_start(len(tasks) + len(bad))
    passes = run_passes(settings, pipeline, outdir)
    for corpus_pass in passes:
        corpus_pass.prepare([(t.rel, Path(t.path)) for t in tasks])
    by_name = {corpus_pass.name: corpus_pass for corpus_pass in passes}

    cleaner = Cleaner(pipeline, outdir, passes)
    executor = executor or LocalExecutor(settings.effective_jobs())
    run_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    appender = LineAppender(provenance)
    try:
        for result in _chain(bad, executor.results(tasks, cleaner)):
            # Into the passes (the near-duplicate index) before provenance: a document a
            # killed run finished is then decided by the next run's pass, not cleaned again.
            for name, observation in (result.observations or {}).items():
                by_name[name].merge(observation)
            for record in result.records:
                record["run"] = run_id
                appender.append(dumps(record))
            summary.add(result)
            if on_result:
                on_result(result)
    finally:
        appender.close()
    for corpus_pass in passes:
        counts = corpus_pass.finalize(provenance)
        summary.duplicates += counts.get("duplicates", 0)

    summary.seconds = time.perf_counter() - started
    _finish(outdir, summary)
    return summary


def _chain(first: list[FileResult], rest: Iterator[FileResult]) -> Iterator[FileResult]:
    yield from first
    yield from rest


def _finish(outdir: Path, run: RunSummary) -> None:
    """Rewrite provenance with the latest records per input file, and write summary.json.
    Streams: memory stays independent of the size of the provenance file."""
    provenance = outdir / PROVENANCE_FILE
    total = RunSummary()
    with atomic_output(provenance) as handle:
        for raw, record in latest_records(provenance):
            handle.write(raw)
            total.add_record(record)
    data = total.to_json()
    data.pop("seconds")
    data["last_run"] = run.to_json()
    write_atomic(outdir / SUMMARY_FILE, (dumps(data, indent=2) + "\n").encode("utf-8"))
