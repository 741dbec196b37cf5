"""Cleaning one input file into the output folder: the work each worker does per task.

A worker reads the file, skips it when an earlier run finished it, cleans it (every line
of a JSON Lines file is a document), writes the clean output atomically, builds the
provenance records, and asks each corpus pass what it observes of the document. A bug in a
stage costs that one document (an "internal error" record), never the run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cleankit.core.corpus_pass import CorpusPass
from cleankit.core.document import Document
from cleankit.core.errors import InputError, StageBug
from cleankit.core.pipeline import Pipeline
from cleankit.core.provenance import build_record, dumps, failure_record
from cleankit.core.records import ProvenanceRecord
from cleankit.io.files import read_input, write_atomic
from cleankit.run.plan import FileResult, Task

# What fails one document with its own message: bad input, I/O on that file, and values a
# library refuses (a lone surrogate that cannot be encoded, say).
EXPECTED_FAILURES = (InputError, OSError, ValueError)


def internal_error(exc: BaseException) -> str:
    return f"internal error in cleankit ({type(exc).__name__}: {exc}); please report it"


class Cleaner:
    """Cleans one input file into ``outdir``; one instance per worker process."""

    def __init__(self, pipeline: Pipeline, outdir: Path, passes: list[CorpusPass] | None = None) -> None:
        self.settings = pipeline.settings
        self.outdir = outdir
        self.pipeline = pipeline
        self.passes = passes or []
        self.fingerprint = self.settings.output_fingerprint()
        self._observations: dict[str, Any] = {}

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
            records = [failure_record(rel, internal_error(exc), self.fingerprint, sha, len(raw))]
        for record in records:
            record["file"] = rel
            record["file_sha256"] = sha
        observations, self._observations = self._observations, {}
        return FileResult(rel, records, len(raw), observations=observations or None)

    def _already_done(self, prior: dict[str, Any] | None, sha: str) -> bool:
        if not prior or prior["file_sha256"] != sha or prior["settings"] != self.fingerprint:
            return False
        if prior["output"] is None:
            return bool(prior.get("status") == "duplicate")  # a near-duplicate: no clean file by design
        output = self.outdir / prior["output"]
        return output.is_file() and output.stat().st_size == prior["output_bytes"]

    def _clean_document(self, raw: bytes, rel: str) -> ProvenanceRecord:
        try:
            document = self.pipeline.clean_bytes(raw, source=rel)
        except StageBug as exc:
            return failure_record(rel, internal_error(exc), self.fingerprint, hashlib.sha256(raw).hexdigest(), len(raw))
        except EXPECTED_FAILURES as exc:
            return failure_record(rel, str(exc), self.fingerprint, hashlib.sha256(raw).hexdigest(), len(raw))
        data = document.text.encode("utf-8")
        write_atomic(self.outdir / rel, data)
        record = build_record(document, self.fingerprint, rel)
        record["output_bytes"] = len(data)
        self._observe(document, rel)
        return record

    def _observe(self, document: Document, output: str) -> None:
        for corpus_pass in self.passes:
            observation = corpus_pass.observe(document, output)
            if observation is not None:
                self._observations[corpus_pass.name] = observation

    def _clean_jsonl(self, raw: bytes, rel: str) -> list[ProvenanceRecord]:
        """Each line is a document; other fields are carried through unchanged."""
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return [failure_record(rel, f"JSON Lines input is not UTF-8: {exc}", self.fingerprint)]
        records, out_lines = clean_jsonl(self.pipeline, content, rel, self.fingerprint, output=rel)
        data = "".join(line + "\n" for line in out_lines).encode("utf-8")
        write_atomic(self.outdir / rel, data)
        for record in records:
            if record["status"] != "failed":
                record["output_bytes"] = len(data)
        return records


def clean_jsonl(
    pipeline: Pipeline, content: str, rel: str, fingerprint: str, output: str | None
) -> tuple[list[ProvenanceRecord], list[str]]:
    """Clean each line of a JSON Lines text (its ``text_field``): the records (failures
    included, as ``rel#line``) and the output lines of the documents that were cleaned."""
    field_name = pipeline.settings.text_field
    records: list[ProvenanceRecord] = []
    out_lines: list[str] = []
    for number, line in enumerate(content.split("\n"), start=1):
        source = f"{rel}#{number}"
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict) or not isinstance(obj.get(field_name), str):
                raise InputError(f"no string field {field_name!r}")
            document = pipeline.clean_text(obj[field_name], source=source)
        except StageBug as exc:
            records.append(failure_record(source, f"line {number}: {internal_error(exc)}", fingerprint))
            continue
        except (json.JSONDecodeError, *EXPECTED_FAILURES) as exc:
            records.append(failure_record(source, f"line {number}: {exc}", fingerprint))
            continue
        obj[field_name] = document.text
        record = build_record(document, fingerprint, output)
        if output is not None:
            record["output_line"] = len(out_lines)
            record["text_field"] = field_name
        records.append(record)
        out_lines.append(dumps(obj))
    return records, out_lines
