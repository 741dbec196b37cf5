"""The shapes of what cleankit writes: provenance records (schema 1) and their parts.

Field reference: README.md, "Provenance records". These are ``TypedDict`` s, so a record is
still the plain dict that ``json`` reads and writes, and mypy checks every field a program
reads or sets. A record read back from a file is untrusted data until checked.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

Status = Literal["ok", "failed", "duplicate"]


class EditRecord(TypedDict, total=False):
    step: int
    stage: str
    rule: str
    start: int
    end: int
    old: str
    new: str
    reason: str  # absent when every edit of its rule gives the same reason (then in ``stats``)
    ref: str


class RuleTotals(TypedDict, total=False):
    edits: int
    chars_removed: int
    chars_added: int
    reason: str
    documents: int  # in run and corpus totals only
    # In corpus statistics (cleankit stats): how many of the edits only changed line breaks.
    layout_edits: int
    layout_chars_removed: int
    layout_chars_added: int


class EncodingRecord(TypedDict, total=False):
    name: str
    confidence: float
    method: str
    bom: bool
    runner_up: str
    undecodable: list[list[Any]]
    segments: list[list[Any]]
    notes: list[str]
    raw_fallback_hex: str


class ProvenanceRecord(TypedDict, total=False):
    schema: int
    id: str
    source: str
    status: Status
    error: str  # failed records
    input_sha256: str
    input_bytes: int
    settings: str  # fingerprint of the output-affecting settings
    encoding: EncodingRecord | None
    output: str | None  # path under OUTDIR; None: nothing written (stdin, a duplicate)
    output_sha256: str
    output_chars: int
    output_bytes: int
    output_line: int  # JSON Lines: the line of ``output`` holding this document
    text_field: str
    metadata: dict[str, Any]
    steps: list[str]
    stats: dict[str, RuleTotals]
    edits: list[EditRecord]
    flags: list[dict[str, Any]]  # "guess": true on the spans a repair guessed
    warnings: list[str]  # e.g. a text that is mostly guessed characters
    file: str  # the input file (several records for JSON Lines)
    file_sha256: str
    run: str
    duplicate_of: str
    duplicate_of_id: str
    similarity: float
