"""Batch runs: clean many files into an output folder, in parallel, resumably.

Workers read, clean and write each document's output (atomically); the parent process
alone appends provenance lines, so lines never interleave. A document is done when its
output exists and its provenance record says it came from the same input bytes under
the same settings; a rerun skips such documents unless forced. At the end provenance is
compacted to the latest record per document and ``summary.json`` is rewritten.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleankit import __version__
from cleankit.boilerplate import attach_site_furniture, learn_site_furniture_for_run
from cleankit.encoding import DecodeError
from cleankit.io import (
    PROVENANCE_FILE,
    RESERVED_NAMES,
    SUMMARY_FILE,
    InputItem,
    LineAppender,
    atomic_output,
    discover,
    display,
    read_input,
    remove_stale_temp_files,
    repair_torn_tail,
    write_atomic,
)
from cleankit.neardup import CrawlDedup, NearDupInput, describe, params_from
from cleankit.pipeline import InputError, Pipeline
from cleankit.provenance import RestoreError, build_record, dumps, failure_record, read_lines
from cleankit.settings import Settings
from cleankit.sitelearn import SiteFurniture

EXPECTED_FAILURES = (InputError, DecodeError, RestoreError, OSError, ValueError)


class UsageError(ValueError):
    """The run as asked cannot be done at all (exit code 2)."""


@dataclass
class FileResult:
    rel: str
    records: list[dict[str, Any]]
    size: int = 0
    skipped: bool = False
    # Signature of the written document for the crawl's near-duplicate pass.
    neardup: NearDupInput | None = None


@dataclass
class Task:
    path: str
    rel: str
    prior: dict[str, Any] | None


class Cleaner:
    """Cleans one input file into ``outdir``; one instance per worker process."""

    def __init__(self, settings: Settings, outdir: Path, site_furniture: SiteFurniture | None = None) -> None:
        self.settings = settings
        self.outdir = outdir
        self.pipeline = Pipeline.from_settings(settings)
        attach_site_furniture(self.pipeline.stages, site_furniture)
        self.fingerprint = settings.output_fingerprint()
        self.neardup_params = params_from(settings) if settings.dedup_documents else None
        self._neardup: NearDupInput | None = None

    def __call__(self, task: Task) -> FileResult:
        rel = task.rel
        try:
            raw = read_input(Path(task.path), self.settings.max_bytes)
        except (OSError, ValueError) as exc:
            message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return FileResult(rel, [failure_record(rel, f"cannot read: {message}", self.fingerprint)])
        sha = hashlib.sha256(raw).hexdigest()
        if self._already_done(task.prior, sha):
            return FileResult(rel, [], len(raw), skipped=True)
        try:
            records = self._clean_jsonl(raw, rel) if self.settings.jsonl else [self._clean_document(raw, rel)]
        except Exception as exc:  # a bug in a stage must cost one document, not the run
            error = f"internal error in cleankit ({type(exc).__name__}: {exc}); please report it"
            records = [failure_record(rel, error, self.fingerprint, sha, len(raw))]
        for record in records:
            record["file"] = rel
            record["file_sha256"] = sha
        neardup, self._neardup = self._neardup, None
        return FileResult(rel, records, len(raw), neardup=neardup)

    def _already_done(self, prior: dict[str, Any] | None, sha: str) -> bool:
        if not prior or prior["file_sha256"] != sha or prior["settings"] != self.fingerprint:
            return False
        if prior["output"] is None:
            return prior.get("status") == "duplicate"  # a near-duplicate: no clean file by design
        output = self.outdir / prior["output"]
        return output.is_file() and output.stat().st_size == prior["output_bytes"]

    def _clean_document(self, raw: bytes, rel: str) -> dict[str, Any]:
        try:
            document = self.pipeline.clean_bytes(raw, source=rel)
        except EXPECTED_FAILURES as exc:
            sha = hashlib.sha256(raw).hexdigest()
            return failure_record(rel, str(exc), self.fingerprint, sha, len(raw))
        data = document.text.encode("utf-8")
        write_atomic(self.outdir / rel, data)
        record = build_record(document, self.fingerprint, rel)
        record["output_bytes"] = len(data)
        if self.neardup_params is not None and document.text.strip():  # empty texts are not near-duplicates
            self._neardup = describe(document, rel, rel, self.neardup_params)
        return record

    def _clean_jsonl(self, raw: bytes, rel: str) -> list[dict[str, Any]]:
        """Each line is a document; other fields are carried through unchanged."""
        field_name = self.settings.text_field
        records: list[dict[str, Any]] = []
        out_lines: list[str] = []
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return [failure_record(rel, f"JSON Lines input is not UTF-8: {exc}", self.fingerprint)]
        for number, line in enumerate(content.split("\n"), start=1):
            source = f"{rel}#{number}"
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict) or not isinstance(obj.get(field_name), str):
                    raise ValueError(f"no string field {field_name!r}")
                document = self.pipeline.clean_text(obj[field_name], source=source)
            except (json.JSONDecodeError, *EXPECTED_FAILURES) as exc:
                records.append(failure_record(source, f"line {number}: {exc}", self.fingerprint))
                continue
            obj[field_name] = document.text
            record = build_record(document, self.fingerprint, rel)
            record["output_line"] = len(out_lines)
            record["text_field"] = field_name
            records.append(record)
            out_lines.append(dumps(obj))
        data = "".join(line + "\n" for line in out_lines).encode("utf-8")
        write_atomic(self.outdir / rel, data)
        for record in records:
            if record["status"] != "failed":
                record["output_bytes"] = len(data)
        return records


_WORKER: Cleaner | None = None


def _init_worker(settings: Settings, outdir: Path, site_furniture: SiteFurniture | None = None) -> None:
    global _WORKER
    _WORKER = Cleaner(settings, outdir, site_furniture)


def _work(task: Task) -> FileResult:
    assert _WORKER is not None
    return _WORKER(task)


@dataclass
class RunSummary:
    """Totals of one run, plus what a reader needs to find each failure."""

    documents: int = 0
    skipped: int = 0
    failed: int = 0
    duplicates: int = 0
    bytes_in: int = 0
    chars_out: int = 0
    seconds: float = 0.0
    rules: dict[str, dict[str, int]] = field(default_factory=dict)
    encodings: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)

    def add(self, result: FileResult) -> None:
        if result.skipped:
            self.skipped += 1
            self.bytes_in += result.size
            return
        for record in result.records:
            self.add_record(record)

    def add_record(self, record: dict[str, Any]) -> None:
        self.bytes_in += record.get("input_bytes", 0)
        if record["status"] == "failed":
            self.failed += 1
            self.failures.append((record["source"], record["error"]))
            return
        self.documents += 1
        self.duplicates += record["status"] == "duplicate"
        self.chars_out += record["output_chars"]
        if record.get("encoding"):
            self.encodings[record["encoding"]["name"]] += 1
        for key, stats in record["stats"].items():
            entry = self.rules.setdefault(key, {"documents": 0, "edits": 0, "chars_removed": 0, "chars_added": 0})
            entry["documents"] += 1
            for name in ("edits", "chars_removed", "chars_added"):
                entry[name] += stats[name]

    def to_json(self) -> dict[str, Any]:
        return {
            "cleankit": __version__,
            "documents": self.documents,
            "skipped": self.skipped,
            "failed": self.failed,
            "duplicates": self.duplicates,
            "bytes_in": self.bytes_in,
            "chars_out": self.chars_out,
            "seconds": round(self.seconds, 3),
            "rules": dict(sorted(self.rules.items())),
            "encodings": dict(self.encodings.most_common()),
            "failures": [{"source": s, "error": e} for s, e in self.failures],
        }


def load_prior(provenance: Path) -> dict[str, dict[str, Any]]:
    """What an earlier run finished, per input file (only fully successful files count).
    Streams the file: memory grows with the number of files, not with their records."""
    if not provenance.exists():
        return {}
    prior: dict[str, dict[str, Any]] = {}
    unfinished: set[str] = set()
    for _raw, record in latest_records(provenance):
        rel = file_key(record)
        if record["status"] == "failed" or "output" not in record:
            unfinished.add(rel)
        elif rel not in prior:
            prior[rel] = {
                "file_sha256": record.get("file_sha256"),
                "settings": record.get("settings"),
                "output": record["output"],
                "status": record.get("status"),
                "output_bytes": record.get("output_bytes", -1),
            }
    return {rel: entry for rel, entry in prior.items() if rel not in unfinished}


def file_key(record: dict[str, Any]) -> str:
    return record.get("file", record["source"])


def latest_runs(records: Iterable[dict[str, Any]]) -> dict[str, str | None]:
    """Per input file, the run that processed it last (records are appended in time order).

    Keyed by run id, not by adjacency: with parallel workers the last file of one run can
    be the first of the next, and its records from the two runs must not be taken as one.
    """
    return {file_key(record): record.get("run") for record in records}


def latest_records(provenance: Path) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """The lines of each input file's latest run, in file order, read in two streaming passes."""
    latest = latest_runs(record for _raw, record in read_lines(provenance))
    for raw, record in read_lines(provenance):
        if record.get("run") == latest[file_key(record)]:
            yield raw, record


def run_clean(
    inputs: list[Path],
    outdir: Path,
    settings: Settings,
    force: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[FileResult], None] | None = None,
) -> RunSummary:
    """Clean ``inputs`` into ``outdir``; the summary says what happened to each document."""
    started = time.perf_counter()
    for top in inputs:
        if top.is_dir() and os.path.realpath(top) == os.path.realpath(outdir):
            raise UsageError(f"the output folder {display(str(outdir))} is an input folder; choose another")
    outdir.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(outdir)
    provenance = outdir / PROVENANCE_FILE
    repair_torn_tail(provenance)
    prior = {} if force else load_prior(provenance)

    items = list(discover(inputs, settings.include, settings.exclude, skip_dirs=[outdir]))
    summary = RunSummary()
    fingerprint = settings.output_fingerprint()
    tasks, bad = _plan(items, outdir, prior, fingerprint)
    if on_start:
        on_start(len(tasks) + len(bad))
    # Pre-pass: learn each site's furniture from the whole corpus before any document is cleaned.
    site_furniture = learn_site_furniture_for_run([(t.rel, Path(t.path)) for t in tasks], settings)

    crawl = _crawl_dedup(settings, outdir)
    run_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    appender = LineAppender(provenance)
    try:
        for result in _chain(bad, _results(tasks, settings, outdir, site_furniture)):
            # Into the index before provenance: a document a killed run finished is then
            # decided by the next run's pass (it is not cleaned again).
            if crawl is not None and result.neardup is not None:
                crawl.add(result.neardup)
            for record in result.records:
                record["run"] = run_id
                appender.append(dumps(record))
            summary.add(result)
            if on_result:
                on_result(result)
    finally:
        appender.close()
    if crawl is not None:
        summary.duplicates = crawl.finish(provenance)["duplicates"]

    summary.seconds = time.perf_counter() - started
    _finish(outdir, summary)
    return summary


def _plan(
    items: list[InputItem], outdir: Path, prior: dict[str, dict[str, Any]], fingerprint: str
) -> tuple[list[Task], list[FileResult]]:
    """Tasks for the readable inputs; failure results for those that cannot be cleaned."""
    tasks: list[Task] = []
    bad: list[FileResult] = []
    seen: dict[str, InputItem] = {}
    for item in items:
        error = item.error
        if error is None and item.rel in seen:
            error = f"output path collides with {display(str(seen[item.rel].path))}"
        elif error is None and item.rel in RESERVED_NAMES:
            error = "output name would overwrite cleankit's own file"
        elif error is None and os.path.realpath(outdir / item.rel) == os.path.realpath(item.path):
            error = "output would overwrite the input itself (choose another output folder)"
        if error:
            bad.append(FileResult(item.rel, [failure_record(item.rel, error, fingerprint)]))
        else:
            seen[item.rel] = item
            tasks.append(Task(str(item.path), item.rel, prior.get(item.rel)))
    return tasks, bad


def _crawl_dedup(settings: Settings, outdir: Path) -> CrawlDedup | None:
    """The near-duplicate pass over the run's documents and the persisted index
    (:mod:`cleankit.neardup`); JSON Lines runs are not deduplicated across documents."""
    if not settings.dedup_documents or settings.jsonl:
        return None
    return CrawlDedup(
        outdir,
        params_from(settings),
        verify=settings.dedup_verify,
        keep_duplicates=settings.keep_duplicates,
        dedup_paragraphs=settings.dedup_paragraphs,
        paragraph_min_chars=int(settings.stage_options.get("dedup", {}).get("min_chars", 10)),
    )


def _chain(first: list[FileResult], rest: Iterator[FileResult]) -> Iterator[FileResult]:
    yield from first
    yield from rest


def _results(
    tasks: list[Task], settings: Settings, outdir: Path, site_furniture: SiteFurniture | None = None
) -> Iterator[FileResult]:
    jobs = min(settings.effective_jobs(), max(1, len(tasks)))
    if jobs == 1:
        cleaner = Cleaner(settings, outdir, site_furniture)
        for task in tasks:
            yield cleaner(task)
        return
    # Large files first so one big file does not leave the other workers idle at the end.
    ordered = sorted(tasks, key=lambda t: _size(t.path), reverse=True)
    context = multiprocessing.get_context("fork")
    with context.Pool(jobs, initializer=_init_worker, initargs=(settings, outdir, site_furniture)) as pool:
        yield from pool.imap_unordered(_work, ordered, chunksize=1)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


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
