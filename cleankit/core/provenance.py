"""Provenance records (schema 1): one JSON object per input document, and restore.

A record holds everything needed to rebuild the original from the clean text: the edit
log (see :mod:`cleankit.core.document` for the coordinate system) and the decoding record
(see :mod:`cleankit.io.encoding`). Field reference: README.md, "Provenance records".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from cleankit.core.document import Document, Edit, EncodingInfo, undo_steps
from cleankit.core.errors import EditConflict, RestoreError
from cleankit.core.records import ProvenanceRecord
from cleankit.core.stats import edit_totals
from cleankit.io.encoding import encode_back

SCHEMA = 1



def restore_text(clean: str, edits: Iterable[Edit]) -> str:
    try:
        return undo_steps(clean, list(edits))
    except EditConflict as exc:
        raise RestoreError(str(exc)) from exc


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def build_record(document: Document, settings_fingerprint: str, output: str | None) -> ProvenanceRecord:
    """The provenance record of a cleaned document.

    A reason shared by every edit of a rule is stated once, in ``stats``, instead of on
    each edit: provenance of a page with a thousand indentation edits stays small.
    """
    stats = edit_totals(document.edits)
    reasons: dict[str, set[str]] = {}
    for edit in document.edits:
        reasons.setdefault(f"{edit.stage}/{edit.rule}", set()).add(edit.reason)
    shared = {key: next(iter(found)) for key, found in reasons.items() if len(found) == 1}
    for key, reason in shared.items():
        if reason:
            stats[key]["reason"] = reason
    edits = []
    for edit in document.edits:
        item = edit.to_json()
        if f"{edit.stage}/{edit.rule}" in shared:
            item.pop("reason", None)
        edits.append(item)
    record: ProvenanceRecord = {
        "schema": SCHEMA,
        "id": document.id,
        "source": document.source,
        "status": document.status,
        "input_sha256": document.sha256,
        "input_bytes": document.size,
        "settings": settings_fingerprint,
        "encoding": document.encoding.to_json() if document.encoding else None,
        "output": output,
        "output_sha256": text_sha256(document.text),
        "output_chars": len(document.text),
        "metadata": document.metadata,
        "steps": document.steps,
        "stats": stats,
        "edits": edits,
    }
    if document.flags:
        record["flags"] = document.flags
    return record


def failure_record(
    source: str, error: str, settings_fingerprint: str, sha256: str = "", size: int = 0
) -> ProvenanceRecord:
    return {
        "schema": SCHEMA,
        "source": source,
        "status": "failed",
        "error": error,
        "input_sha256": sha256,
        "input_bytes": size,
        "settings": settings_fingerprint,
    }


def restore_from_record(clean: str, record: ProvenanceRecord) -> str:
    """The original decoded text of a document, from its clean text and record alone."""
    if record.get("schema") != SCHEMA:
        raise RestoreError(f"unsupported provenance schema {record.get('schema')!r} (this cleankit reads {SCHEMA})")
    if record.get("status") == "failed":
        raise RestoreError(f"{record['source']} failed to clean ({record.get('error')}); there is nothing to restore")
    if text_sha256(clean) != record["output_sha256"]:
        raise RestoreError(f"{record['source']}: the clean text was changed after cleaning (sha256 differs)")
    return restore_text(clean, (Edit.from_json(e) for e in record["edits"]))


def restore_bytes_from_record(clean: str, record: ProvenanceRecord) -> bytes:
    """The original input bytes, checked against the recorded sha256."""
    text = restore_from_record(clean, record)
    encoding = record.get("encoding")
    if not encoding:
        raise RestoreError(f"{record['source']}: no encoding record (the input was text, not bytes)")
    info = EncodingInfo.from_json(encoding)
    raw = encode_back(text, info)
    if hashlib.sha256(raw).hexdigest() != record["input_sha256"]:
        raise RestoreError(f"{record['source']}: rebuilt bytes do not match the input's sha256")
    return raw


def dumps(record: Mapping[str, Any], indent: int | None = None) -> str:
    """JSON text that is always valid UTF-8: lone surrogates (undecodable file names,
    ``\\ud800`` escapes in JSON input) are written as escapes, not dropped."""
    separators = (",", ":") if indent is None else (",", ": ")
    line = json.dumps(record, ensure_ascii=False, separators=separators, indent=indent)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(record, ensure_ascii=True, separators=separators, indent=indent)
    return line


def read_records(path: Path) -> Iterator[ProvenanceRecord]:
    """Records of a provenance file; a torn last line (from a killed run) is skipped."""
    for _raw, record in read_lines(path):
        yield record


def read_lines(path: Path) -> Iterator[tuple[bytes, ProvenanceRecord]]:
    """(line as written, parsed record) for each whole line of a provenance file."""
    with open(path, "rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                return
            try:
                yield raw, json.loads(raw)
            except json.JSONDecodeError:
                continue
