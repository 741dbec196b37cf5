"""Planning a run: which inputs become tasks, which fail before cleaning, and what an
earlier run into the same folder already finished (resume)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleankit.core.provenance import failure_record, read_lines
from cleankit.core.records import ProvenanceRecord
from cleankit.io.files import RESERVED_NAMES, InputItem, display


@dataclass
class Task:
    path: str
    rel: str
    prior: dict[str, Any] | None


@dataclass
class FileResult:
    """What cleaning one input file produced: its provenance records (more than one for
    JSON Lines) and what each corpus pass observed of it."""

    rel: str
    records: list[ProvenanceRecord]
    size: int = 0
    skipped: bool = False
    observations: dict[str, Any] | None = None


def plan(
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


def file_key(record: ProvenanceRecord) -> str:
    return str(record.get("file", record["source"]))


def latest_runs(records: Iterable[ProvenanceRecord]) -> dict[str, str | None]:
    """Per input file, the run that processed it last (records are appended in time order).

    Keyed by run id, not by adjacency: with parallel workers the last file of one run can
    be the first of the next, and its records from the two runs must not be taken as one.
    """
    return {file_key(record): record.get("run") for record in records}


def latest_records(provenance: Path) -> Iterator[tuple[bytes, ProvenanceRecord]]:
    """The lines of each input file's latest run, in file order, read in two streaming passes."""
    latest = latest_runs(record for _raw, record in read_lines(provenance))
    for raw, record in read_lines(provenance):
        if record.get("run") == latest[file_key(record)]:
            yield raw, record
