"""Provenance records (schema 1): one JSON object per input document, and restore.

A record holds everything needed to rebuild the original from the clean text: the edit
log (see :mod:`cleankit.core.document` for the coordinate system) and the decoding record
(see :mod:`cleankit.io.encoding`). Field reference: README.md, "Provenance records".
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from cleankit.core.document import Document, Edit, EditRun, EncodingInfo, LogEntry, undo_log, undo_steps
from cleankit.core.errors import EditConflict, RestoreError
from cleankit.core.records import EditRecord, ProvenanceRecord
from cleankit.core.stats import log_totals
from cleankit.io.encoding import BOMS, encode_back

SCHEMA = 1
BOM_NAMES = frozenset(name for _bom, name in BOMS)
# A document whose text is more than this share of guessed characters (flags with ``guess``)
# is still written, but its record warns, and the run says so.
MOSTLY_GUESSED = 0.5


# Markers of build_record's reason per stage/rule: none seen yet, and more than one.
_UNSEEN = object()
_SEVERAL = object()


def restore_text(clean: str, edits: Iterable[Edit]) -> str:
    try:
        return undo_steps(clean, list(edits))
    except EditConflict as exc:
        raise RestoreError(str(exc)) from exc


def restore_log(clean: str, log: Sequence[LogEntry]) -> str:
    """:func:`restore_text` of a document's edit log (:attr:`Document.log`)."""
    try:
        return undo_log(clean, log)
    except EditConflict as exc:
        raise RestoreError(str(exc)) from exc


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def build_record(document: Document, settings_fingerprint: str, output: str | None) -> ProvenanceRecord:
    """The provenance record of a cleaned document.

    A reason shared by every edit of a rule is stated once, in ``stats``, instead of on
    each edit: provenance of a page with a thousand indentation edits stays small.
    """
    log = document.log
    stats = log_totals(log)
    # Per stage/rule: the one reason all its edits give, or _SEVERAL; one pass over the log
    # and one to write it (a page has hundreds of hygiene edits, mostly in runs).
    reason_of: dict[str, object] = {}
    for entry in log:
        if isinstance(entry, EditRun):
            _note_reason(reason_of, f"{entry.stage}/{entry.rule}", entry.reason)
            continue
        for edit in entry:
            _note_reason(reason_of, f"{edit.stage}/{edit.rule}", edit.reason)
    for key, reason in reason_of.items():
        if isinstance(reason, str) and reason:
            stats[key]["reason"] = reason
    edits: list[EditRecord] = []
    append = edits.append
    for entry in log:
        if isinstance(entry, EditRun):
            edits += _run_records(entry, reason_of[f"{entry.stage}/{entry.rule}"] is _SEVERAL)
            continue
        for edit in entry:
            item = edit.to_json()
            if edit.reason and reason_of[f"{edit.stage}/{edit.rule}"] is not _SEVERAL:
                del item["reason"]  # stated once, in stats
            append(item)
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
    guessed = document.guessed_share()
    if guessed > MOSTLY_GUESSED:
        record["warnings"] = [f"mostly guessed: {guessed:.0%} of its characters were guessed by repairs (see flags)"]
    return record


def _note_reason(reason_of: dict[str, object], key: str, reason: str) -> None:
    known = reason_of.get(key, _UNSEEN)
    if known is _UNSEEN:
        reason_of[key] = reason
    elif known is not _SEVERAL and known != reason:
        reason_of[key] = _SEVERAL


def _run_records(run: EditRun, with_reason: bool) -> list[EditRecord]:
    """The records of a run's edits, as :meth:`Edit.to_json` writes them (a run has no
    ``ref``); ``with_reason``: its rule's edits give several reasons, so each states its own."""
    step, stage, rule, new = run.step, run.stage, run.rule, run.new
    triples = zip(run.starts, run.ends, run.olds, strict=True)
    if with_reason and run.reason:
        reason = run.reason
        return [
            {"step": step, "stage": stage, "rule": rule, "start": a, "end": b, "old": o, "new": new, "reason": reason}
            for a, b, o in triples
        ]
    return [
        {"step": step, "stage": stage, "rule": rule, "start": a, "end": b, "old": o, "new": new} for a, b, o in triples
    ]


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


# orjson only for the exact built-in types (a dataclass, datetime or subclass of str/int/dict
# makes it raise, and the record goes to ``json``, which writes or refuses it as before).
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
# Where orjson's text may differ from ``json.dumps``'s: floats below 1e-4 (json writes 1e-05,
# orjson 0.00001 or 1.5e-7), and NaN and infinities, which orjson writes as null (json as NaN,
# Infinity). A line with ``0.0000`` or a digit before ``e-`` anywhere, or with more null tokens
# than the record has None values at its top level (``"output": null``), is written by ``json``
# instead (also when the match is inside a string: slower, never different). The searches
# start with a literal, which ``re`` and ``bytes`` find at GB/s. Checked against
# ``json.dumps`` on 300,000 random floats, every character below U+0080, and the records of
# the benchmark crawl.
_EXPONENT = re.compile(rb"e-(?<=[0-9]e-)[0-9]")


def _null_tokens(data: bytes) -> int:
    return data.count(b":null") + data.count(b",null") + data.count(b"[null") if b"null" in data else 0


def dumps_line(record: Mapping[str, Any]) -> bytes:
    """``dumps(record) + "\\n"`` as UTF-8 bytes, byte for byte, through orjson where it
    writes the same text (10x faster than ``json.dumps`` on provenance records, which are most
    of what a worker serializes); otherwise through :func:`dumps`."""
    try:
        data = orjson.dumps(record, option=_ORJSON_OPTIONS | orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # orjson.JSONEncodeError: a lone surrogate, a big or non-str key, another type
        return (dumps(record) + "\n").encode("utf-8")
    if not _as_json_writes(record, data):
        return (dumps(record) + "\n").encode("utf-8")
    return data


def _as_json_writes(record: Mapping[str, Any], data: bytes) -> bool:
    """Is orjson's line ``data`` of ``record`` the text ``json`` writes (see above)?"""
    return not (
        b"0.0000" in data
        or _EXPONENT.search(data) is not None
        or _null_tokens(data) != sum(1 for value in record.values() if value is None)
    )


# A record's edits, as a line holds them: ``"edits":[`` then the edits' objects, whose values are
# numbers and strings (Edit.to_json), so the first ``],"`` after it (or the line's closing
# ``]}``) ends them: in a string, the quote would be escaped.
EDITS_KEY = b',"edits":['
# A line written by ``json`` with every non-ASCII character escaped, because it held a lone
# surrogate (:func:`dumps`): its edits are not what orjson writes.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def split_edits(line: bytes) -> tuple[bytes, bytes] | None:
    """A provenance line (one record, as :func:`dumps_line` wrote it) cut into the line with
    its edits left out (``"edits":[]``, a few kB to parse instead of the whole text the edits
    carry) and the edits' own bytes (the objects between the brackets), or None when the line
    is not one that :func:`dumps_line_with_edits` can put back together byte for byte."""
    start = line.rfind(EDITS_KEY)
    if start < 0 or not line.endswith(b"}\n") or _SURROGATE_ESCAPE.search(line) is not None:
        return None
    inside = start + len(EDITS_KEY)
    end = line.find(b'],"', inside)
    if end < 0:
        end = len(line) - 3
        if line[end:] != b"]}\n" or end < inside:
            return None
    edits = line[inside:end]
    if edits and not (edits.startswith(b'{"step":') and edits.endswith(b"}")):
        return None
    return line[:inside] + line[end:], edits


def dumps_line_with_edits(record: Mapping[str, Any], earlier: bytes) -> bytes | None:
    """:func:`dumps_line` of ``record`` with the edits ``earlier`` (bytes from
    :func:`split_edits`) before its own edits, built without parsing them; None when
    :func:`dumps_line` would not write the whole record through orjson (then the caller
    writes it the usual way)."""
    try:
        data = orjson.dumps(record, option=_ORJSON_OPTIONS | orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        return None
    at = data.rfind(EDITS_KEY)
    if at < 0 or not _as_json_writes(record, data):
        return None
    if not earlier:
        return data
    # The checks of _as_json_writes hold for the whole line when they hold for both parts: no
    # token they look for can straddle the joins (``[{``, ``},{``, ``}]``), and ``earlier``,
    # which holds no null token, adds none (scanning it: a few us, counting in the whole line
    # three times: 0.2 ms).
    if b"null" in earlier or b"0.0000" in earlier or _EXPONENT.search(earlier) is not None:
        return None
    at += len(EDITS_KEY)
    return data[:at] + earlier + (b"" if data[at : at + 1] == b"]" else b",") + data[at:]


def dumps_lines(records: Iterable[Mapping[str, Any]]) -> bytes:
    """The provenance lines of ``records``, as they are appended to ``provenance.jsonl``."""
    return b"".join(dumps_line(record) for record in records)


def read_records(path: Path, report: ProblemReport | None = None) -> Iterator[ProvenanceRecord]:
    """Records of a provenance file; a torn last line (from a killed run) is skipped, and so
    is a malformed line (named on standard error, see :func:`read_lines`)."""
    for _number, _offset, _raw, record in read_lines(path, report):
        yield record


def read_lines(path: Path, report: ProblemReport | None = None) -> Iterator[tuple[int, int, bytes, ProvenanceRecord]]:
    """(line number, byte offset, line as written, checked record) for each whole line of a
    provenance file.

    Every program that reads provenance reads it here, so one bad line (hand-edited, from
    another tool, damaged on disk) costs that line and nothing else: it is handed to
    ``report`` (by default named once on standard error as ``file:line``) and skipped.
    """
    report = report or report_on_stderr
    offset = 0
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                return  # a torn last line: the run that wrote it was killed; the next run cuts it
            record, problem = parse_line(raw)
            if record is None:
                report(path, number, problem)
            else:
                yield number, offset, raw, record
            offset += len(raw)


ProblemReport = Callable[[Path, int, str], None]
_reported: set[tuple[str, int, str]] = set()


def report_on_stderr(path: Path, line: int, problem: str) -> None:
    """Name a skipped line once per process (a file is often read more than once per command)."""
    key = (str(path), line, problem)
    if key in _reported:
        return
    _reported.add(key)
    name = str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    sys.stderr.write(f"{name}:{line}: skipped a malformed provenance line: {problem}\n")
    sys.stderr.flush()


def parse_line(raw: bytes) -> tuple[ProvenanceRecord | None, str]:
    """A provenance line parsed and checked: (record, "") or (None, what is wrong with it).
    (json, not orjson: orjson reads an integer beyond 64 bits as a float, and the scan that
    would send such lines to json costs what orjson saves; the checks cost more than either.)"""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, f"not JSON ({exc})"
    problem = record_problem(data)
    if problem:
        return None, problem
    return data, ""


def record_problem(data: object) -> str | None:
    """What makes ``data`` unusable as a provenance record, or None. Checks every field a
    reader of cleankit uses (restore, diff, stats, report, resume), so none of them meets a
    wrong type, an impossible edit or an encoding record that cannot be applied."""
    if not isinstance(data, dict):
        return f"a record is a JSON object, not {type(data).__name__}"
    if _wrong(data, "schema", int) or data.get("schema") is None:
        return "no integer 'schema'"
    if not isinstance(data.get("source"), str):
        return "no string 'source'"
    status = data.get("status")
    if status not in STATUSES:
        return f"unknown status {status!r}"
    for key in _STRING_FIELDS:
        if _wrong(data, key, str):
            return f"{key!r} is not a string"
    for key in _INT_FIELDS:
        if _wrong(data, key, int) or (isinstance(data.get(key), int) and data[key] < 0):
            return f"{key!r} is not a non-negative integer"
    if data.get("output") is not None and not isinstance(data["output"], str):
        return "'output' is neither a string nor null"
    if status == "failed":
        return None if isinstance(data.get("error"), str) else "a failed record without a string 'error'"
    for key in ("output_sha256",):
        if not isinstance(data.get(key), str):
            return f"no string {key!r}"
    steps = data.get("steps")
    if not isinstance(steps, list) or not all(isinstance(step, str) for step in steps):
        return "'steps' is not a list of strings"
    stats = data.get("stats")
    if not isinstance(stats, dict) or not all(isinstance(value, dict) for value in stats.values()):
        return "'stats' is not an object of objects"
    if "metadata" in data and not isinstance(data["metadata"], dict):
        return "'metadata' is not an object"
    edits = data.get("edits")
    if not isinstance(edits, list):
        return "'edits' is not a list"
    for position, edit in enumerate(edits):
        problem = _edit_problem(edit, len(steps))
        if problem:
            return f"edit {position}: {problem}"
    encoding = data.get("encoding")
    if encoding is not None:
        problem = _encoding_problem(encoding)
        if problem:
            return f"encoding: {problem}"
    return None


STATUSES = ("ok", "failed", "duplicate")
_STRING_FIELDS = (
    "id", "error", "input_sha256", "settings", "output_sha256", "text_field", "file", "file_sha256", "run",
    "duplicate_of", "duplicate_of_id",
)  # fmt: skip
_INT_FIELDS = ("input_bytes", "output_chars", "output_bytes", "output_line", "file_records")


def _wrong(data: Mapping[str, Any], key: str, kind: type) -> bool:
    """A field that is present with another type (``bool`` is not an ``int`` here)."""
    if key not in data:
        return False
    value = data[key]
    return not isinstance(value, kind) or (kind is int and isinstance(value, bool))


def _edit_problem(edit: object, steps: int) -> str | None:
    if not isinstance(edit, dict):
        return "not an object"
    for key in ("stage", "rule", "old", "new"):
        if not isinstance(edit.get(key), str):
            return f"no string {key!r}"
    for key in ("step", "start", "end"):
        if _wrong(edit, key, int) or key not in edit:
            return f"no integer {key!r}"
    if not 0 <= edit["start"] <= edit["end"]:
        return f"span {edit['start']}..{edit['end']} is not a span"
    if not 0 <= edit["step"] < max(steps, 1):
        return f"step {edit['step']} is not one of the record's {steps} steps"
    if _wrong(edit, "reason", str) or (edit.get("ref") is not None and not isinstance(edit["ref"], str)):
        return "'reason' or 'ref' is not a string"
    return None


def _encoding_problem(encoding: object) -> str | None:
    if not isinstance(encoding, dict):
        return "not an object"
    name = encoding.get("name")
    if not isinstance(name, str):
        return "no string 'name'"
    if _wrong(encoding, "bom", bool) or _wrong(encoding, "method", str) or _wrong(encoding, "runner_up", str):
        return "'bom', 'method' or 'runner_up' of the wrong type"
    if "confidence" in encoding and (
        isinstance(encoding["confidence"], bool) or not isinstance(encoding["confidence"], int | float)
    ):
        return "'confidence' is not a number"
    notes = encoding.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
        return "'notes' is not a list of strings"
    fallback = encoding.get("raw_fallback_hex")
    if fallback is not None and not _is_hex(fallback):
        return "'raw_fallback_hex' is not hexadecimal"
    runs = encoding.get("undecodable", [])
    if not isinstance(runs, list) or not all(
        isinstance(run, list) and len(run) == 2 and _is_int(run[0]) and _is_hex(run[1]) for run in runs
    ):
        return "'undecodable' is not a list of [offset, hex bytes]"
    segments = encoding.get("segments", [])
    if not isinstance(segments, list) or not all(
        isinstance(seg, list) and len(seg) == 3 and _is_int(seg[0]) and _is_int(seg[1]) and isinstance(seg[2], str)
        for seg in segments
    ):
        return "'segments' is not a list of [byte offset, text offset, codec]"
    if fallback is None:
        # The codecs restore --bytes encodes with: each segment's, or the record's own.
        for codec in [seg[2] for seg in segments] or [name]:
            try:
                codecs.lookup(codec)
            except LookupError:
                return f"unknown codec {codec!r}"
        if encoding.get("bom") and name not in BOM_NAMES:
            return f"a byte order mark for {name!r}, which has none"
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hex(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return True
