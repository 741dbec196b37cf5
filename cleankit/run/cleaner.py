"""Cleaning one input file into the output folder: the work each worker does per task.

A worker reads the file, skips it when an earlier run finished it (and its output is still
what that run wrote), cleans it (every line of a JSON Lines file is a document:
:mod:`cleankit.run.jsonl`), writes the clean output atomically, serializes the provenance
lines, totals them, and asks each corpus pass what it observes of the document: the parent
only appends and merges. A bug in a stage costs that one document (an "internal error"
record), never the run; a write that fails because of the output folder (disk full,
read-only) stops the run instead of failing every document after it. A JSON or JSON Lines
file met in a text run fails with a message instead of being cleaned into broken JSON.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, ClassVar

from cleankit.core.corpus_pass import CorpusPass
from cleankit.core.document import Document, EncodingInfo
from cleankit.core.errors import InputError, OutputError, StageBug
from cleankit.core.pipeline import Pipeline
from cleankit.core.provenance import build_record, dumps_lines, failure_record
from cleankit.core.records import ProvenanceRecord
from cleankit.io.files import display, folder_error, read_input, write_atomic
from cleankit.run.json_kind import SNIFF_BYTES, json_kind
from cleankit.run.plan import FileResult, Task
from cleankit.run.state import FileRow, checksum
from cleankit.run.summary import RunSummary

# What fails one document with its own message: bad input, I/O on that file, and values a
# library refuses (a lone surrogate that cannot be encoded, say).
EXPECTED_FAILURES = (InputError, OSError, ValueError)


def internal_error(exc: BaseException) -> str:
    return f"internal error in cleankit ({type(exc).__name__}: {exc}); please report it"


class Cleaner:
    """Cleans one input file into ``outdir``; one instance per worker process. Pickled whole
    (the pipeline and stages by reference where a nursery inherited them: LocalExecutor), it
    carries what its passes learned."""

    forks_warm: ClassVar[bool] = True

    def __init__(
        self, pipeline: Pipeline, outdir: Path, passes: list[CorpusPass] | None = None, run_id: str = ""
    ) -> None:
        self.settings = pipeline.settings
        self.outdir = outdir
        self.pipeline = pipeline
        self.passes = passes or []
        self.run_id = run_id
        self.fingerprint = self.settings.output_fingerprint()
        self._observations: dict[str, Any] = {}

    def __call__(self, task: Task) -> FileResult:
        rel = task.rel
        try:
            raw = read_input(task.path, self.settings.max_bytes)
        except (OSError, ValueError) as exc:
            message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return self.failure(rel, f"cannot read: {message}", task.context)
        sha = hashlib.sha256(raw).hexdigest()
        if task.prior is not None and self.already_done(task.prior, sha, task.context):
            return FileResult(rel, size=len(raw), skipped=True)
        self._observations = {}
        written: tuple[str, bytes] | None = None
        try:
            if self.settings.parquet:
                records, written = self._clean_parquet(raw, rel)
            elif self.settings.jsonl:
                records, written = self._clean_jsonl(raw, rel)
            elif (kind := json_kind(rel, raw[:SNIFF_BYTES])) is not None:
                records = [failure_record(rel, json_refusal(kind), self.fingerprint, sha, len(raw))]
            else:
                decoding = task.decoding[1] if task.decoding is not None and task.decoding[0] == sha else None
                records, written = self._clean_document(raw, rel, decoding)
        except OutputError as exc:
            return FileResult(rel, size=len(raw), output_error=str(exc))
        except Exception as exc:  # a bug in a stage must cost one document, not the run
            records = [failure_record(rel, internal_error(exc), self.fingerprint, sha, len(raw))]
        for record in records:
            record["file"] = rel
            record["file_sha256"] = sha
        observations, self._observations = self._observations, {}
        return self._result(rel, records, sha, len(raw), written, task.context, observations or None)

    def failure(self, rel: str, error: str, context: str = "") -> FileResult:
        """The result of an input that could not be read (or planned): one failed record."""
        return self._result(rel, [failure_record(rel, error, self.fingerprint)], "", 0, None, context, None)

    def _result(
        self,
        rel: str,
        records: list[ProvenanceRecord],
        sha: str,
        size: int,
        written: tuple[str, bytes] | None,
        context: str,
        observations: dict[str, Any] | None,
    ) -> FileResult:
        totals = RunSummary()
        for record in records:
            record["run"] = self.run_id
            totals.add_record(record)
        lines = dumps_lines(records)
        output, data = written if written is not None else (None, b"")
        row = FileRow(
            file=rel,
            run=self.run_id,
            status="failed" if totals.failed or not records else "ok",
            file_sha256=sha,
            settings=self.fingerprint,
            context=context,
            output=output,
            output_bytes=len(data),
            output_sha256=hashlib.sha256(data).hexdigest(),
            records=len(records),
            offset=0,
            length=len(lines),
            checksum=checksum(lines),
            totals=totals.totals_json(),
        )
        return FileResult(rel, lines, len(records), size, observations=observations, totals=totals, row=row)

    def already_done(self, prior: FileRow, sha: str, context: str | None = None) -> bool:
        """Did an earlier run finish this file from these bytes, under these settings and
        what the corpus passes learned (``context``; None: not asked, as in a dry run), with
        its output still as written?"""
        if prior.status == "failed":
            return False
        if (prior.file_sha256, prior.settings) != (sha, self.fingerprint):
            return False
        if context is not None and prior.context != context:
            return False
        if prior.output is None:
            # A near-duplicate: no clean file by design, and none left behind.
            return prior.status == "duplicate" and not (self.outdir / prior.file).exists()
        try:
            data = (self.outdir / prior.output).read_bytes()
        except OSError:
            return False
        return len(data) == prior.output_bytes and hashlib.sha256(data).hexdigest() == prior.output_sha256

    def _write(self, rel: str, data: bytes) -> str | None:
        """Write one output; the reason it cannot be written when that is this document's
        (a name too long, say). A folder-wide failure raises :class:`OutputError`."""
        path = self.outdir / rel
        try:
            write_atomic(path, data)
        except OSError as exc:
            error = folder_error(exc, path)
            if error:
                raise error from exc
            return f"cannot write its output {display(str(path))}: {exc.strerror or exc}"
        return None

    def _clean_document(
        self, raw: bytes, rel: str, decoding: EncodingInfo | None = None
    ) -> tuple[list[ProvenanceRecord], tuple[str, bytes] | None]:
        def failed(error: str) -> tuple[list[ProvenanceRecord], None]:
            return [failure_record(rel, error, self.fingerprint, hashlib.sha256(raw).hexdigest(), len(raw))], None

        try:
            document = self.pipeline.clean_bytes(raw, source=rel, decoding=decoding)
        except StageBug as exc:
            return failed(internal_error(exc))
        except EXPECTED_FAILURES as exc:
            return failed(str(exc))
        data = document.text.encode("utf-8")
        problem = self._write(rel, data)
        if problem:
            return failed(problem)
        record = build_record(document, self.fingerprint, rel)
        record["output_bytes"] = len(data)
        self._observe(document, rel)
        return [record], (rel, data)

    def _observe(self, document: Document, output: str) -> None:
        for corpus_pass in self.passes:
            observation = corpus_pass.observe(document, output)
            if observation is not None:
                self._observations[corpus_pass.name] = observation

    def _clean_jsonl(self, raw: bytes, rel: str) -> tuple[list[ProvenanceRecord], tuple[str, bytes] | None]:
        """Each line is a document; output line N is input line N (:mod:`cleankit.run.jsonl`)."""
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return [failure_record(rel, f"JSON Lines input is not UTF-8: {exc}", self.fingerprint)], None
        from cleankit.run.jsonl import clean_jsonl  # imports the near-duplicate pass and numpy

        result = clean_jsonl(self.pipeline, content, rel, self.fingerprint, output=rel, passes=self.passes)
        data = "".join(line + "\n" for line in result.lines).encode("utf-8", errors="surrogatepass")
        problem = self._write(rel, data)
        if problem:
            return [failure_record(rel, problem, self.fingerprint)], None
        for record in result.records:
            if record["status"] != "failed":
                record["output_bytes"] = len(data)
        self._observations = dict(result.observations)
        return result.records, (rel, data)

    def _clean_parquet(self, raw: bytes, rel: str) -> tuple[list[ProvenanceRecord], tuple[str, bytes] | None]:
        """Each row is a document (:mod:`cleankit.io.parquet`); other columns carried through."""
        from cleankit.io.parquet import clean_parquet

        records, data = clean_parquet(self.pipeline, raw, rel, self.fingerprint, internal_error, EXPECTED_FAILURES)
        if data is None:
            return records, None
        problem = self._write(rel, data)
        if problem:
            return [failure_record(rel, problem, self.fingerprint)], None
        for record in records:
            if record["status"] != "failed":
                record["output_bytes"] = len(data)
        return records, (rel, data)


def json_refusal(kind: str) -> str:
    """Why a JSON or JSON Lines file is not cleaned as text."""
    if kind == "jsonl":
        return "a JSON Lines file: clean it with --jsonl (as text its JSON would be broken), or --exclude it"
    return "a JSON file, not text or JSON Lines: --exclude it (as text its JSON would be broken)"
