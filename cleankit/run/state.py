"""What a run knows of its output folder: which input files are finished, and what the end
of a run still has to apply. Kept in ``OUTDIR/run-state.sqlite`` (SQLite: each write is a
transaction, so a killed run leaves the state before or after it, never half of it).

**Finished files.** One row per input file: the input's sha256, the settings fingerprint and
the corpus passes' context it was cleaned under, its output's path, size and sha256, its
totals for ``summary.json``, and where its provenance lines are (offset, length, xxh64 of
the bytes). The runner commits a batch of results in this order: outputs (workers, atomic
renames) → near-duplicate index → provenance lines appended → rows. A row therefore exists
only when the file's lines are all in provenance, whatever the moment of a kill; a rerun
checks every row's bytes against provenance and the output against its size and sha256
before it skips anything, and redoes what does not agree. Lines no row points to (a run
killed between appending and committing) are dropped at the next compaction.

**The end of a run** (near-duplicate decisions, compaction) is prepared in full first: the
compacted provenance is written to a temporary file, and the new rows, the decisions of each
corpus pass and the output files to delete or rewrite are committed here as one *journal*
with the temporary file's name. Only then are the decisions committed to the index, the file
renamed into place, and the outputs changed; then the journal is cleared. A rerun that finds
a journal finishes it (every step can be repeated) before doing anything else.

**Surveys.** What a corpus pass surveyed of each input file (site learning), keyed by the
file's sha256, so an unchanged file is not decoded again to learn from it.
"""

from __future__ import annotations

import errno
import hashlib
import importlib
import io
import itertools
import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, BinaryIO

import xxhash

from cleankit.core.errors import OutputError
from cleankit.core.provenance import dumps_lines, parse_line, read_lines, report_on_stderr
from cleankit.core.records import ProvenanceRecord
from cleankit.io.files import PROVENANCE_FILE, STATE_FILE, TMP_MARK, display, folder_error, write_atomic
from cleankit.run import faults
from cleankit.run.summary import RunSummary

SCHEMA_VERSION = "1"
# SQLite result codes that are the folder's fault (full, read-only, I/O, no permission).
FOLDER_CODES = {13: "disk full", 8: "read-only", 10: "I/O error", 14: "cannot open", 3: "permission denied"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    file TEXT PRIMARY KEY,
    run TEXT NOT NULL,
    status TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    settings TEXT NOT NULL,
    context TEXT NOT NULL,
    output TEXT,
    output_bytes INTEGER NOT NULL,
    output_sha256 TEXT NOT NULL,
    records INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    checksum INTEGER NOT NULL,
    totals TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, target TEXT, data BLOB);
CREATE TABLE IF NOT EXISTS surveys (
    pass TEXT NOT NULL, file TEXT NOT NULL, file_sha256 TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (pass, file)
);
"""


@dataclass
class FileRow:
    """One finished input file (see the module docstring). Paths are stored as JSON strings
    (input names that are not UTF-8 carry lone surrogates)."""

    file: str
    run: str
    status: str  # "ok", "duplicate" or "failed" (a failed file is retried by the next run)
    file_sha256: str
    settings: str
    context: str
    output: str | None
    output_bytes: int
    output_sha256: str  # of the output file's bytes
    records: int
    offset: int
    length: int
    checksum: int  # xxh64 of the provenance lines, as a signed 64-bit integer (SQLite's)
    totals: str  # RunSummary.totals_json()

    def to_sql(self) -> tuple[Any, ...]:
        # Not dataclasses.astuple, which deep-copies every field (a profile showed it).
        values = [getattr(self, name) for name in FIELD_NAMES]
        values[0], values[6] = _key(self.file), _key(self.output)
        return tuple(values)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Its fields in order (a result's row crosses a pipe to the parent: plan.FileResult).
        return FileRow, tuple(getattr(self, name) for name in FIELD_NAMES)

    @classmethod
    def from_sql(cls, row: Sequence[Any]) -> FileRow:
        values = list(row)
        values[0], values[6] = _path(values[0]), _path(values[6])
        return cls(*values)


FIELD_NAMES = tuple(f.name for f in fields(FileRow))
COLUMNS = ", ".join(FIELD_NAMES)
MARKS = ", ".join("?" * len(fields(FileRow)))


def _offset(row: FileRow) -> int:
    return row.offset


def checksum(data: bytes) -> int:
    return xxhash.xxh64_intdigest(data) - (1 << 63)


def _key(path: str | None) -> str | None:
    return None if path is None else json.dumps(path)


def _path(key: str | None) -> str | None:
    return None if key is None else str(json.loads(key))


class RunState:
    """The run state of one output folder (the caller holds the folder's lock)."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self.path = outdir / STATE_FILE
        self.provenance = outdir / PROVENANCE_FILE
        self._rows: list[FileRow] | None = None  # every row, as last read or written (rows())
        self._freeing: threading.Thread | None = None  # dropping the old provenance (_swap)
        try:
            self.db = self._open()
        except sqlite3.DatabaseError as exc:
            error = self._folder_error(exc)
            if error:
                raise error from exc
            # A damaged state is rebuilt from provenance (rows) or redone (a journal): move it aside.
            os.replace(self.path, self.path.with_name(self.path.name + ".damaged"))
            self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        # A killed process loses nothing without fsync; only a power cut would (as for the index).
        db.execute("PRAGMA synchronous=OFF")
        db.executescript(_SCHEMA)
        stored = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if stored is None:
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        elif stored[0] != SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"run state schema {stored[0]}, this cleankit writes {SCHEMA_VERSION}")
        return db

    def close(self) -> None:
        self.db.close()
        if self._freeing is not None:
            self._freeing.join()
            self._freeing = None

    def _swap(self, tmp: Path, keep_old: bool) -> None:
        """Rename the compacted provenance ``tmp`` over the old one. ``keep_old``: the old
        file's last name is dropped by a thread, which :meth:`close` waits for: renaming over
        a file frees its blocks before the rename returns (the disk's, 71 MB on the bench
        crawl: 40-70 ms here, in the end of a run's serial part), and the run has more to do
        meanwhile (the outputs, the journal, ``summary.json``). A kill before the thread ends
        leaves a temporary name, which the next run removes."""
        old: Path | None = None
        if keep_old:
            old = self.provenance.with_name(f".{self.provenance.name}{TMP_MARK}old-{os.getpid()}")
            try:
                old.unlink(missing_ok=True)
                os.link(self.provenance, old)
            except OSError:  # no old file, or no hard links here: freed by the rename
                old = None
        os.replace(tmp, self.provenance)
        if old is not None:
            freeing = threading.Thread(target=old.unlink, kwargs={"missing_ok": True}, name="cleankit-free-old")
            freeing.start()
            if self._freeing is not None:
                self._freeing.join()
            self._freeing = freeing

    def _folder_error(self, exc: sqlite3.Error) -> OutputError | None:
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in FOLDER_CODES:
            return OutputError(f"cannot write {display(str(self.path))}: {FOLDER_CODES[code & 0xFF]} ({exc})")
        return None

    def _write(self, statements: Callable[[sqlite3.Connection], object]) -> None:
        """Run ``statements`` as one transaction; a full or read-only disk is an OutputError."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                statements(self.db)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise (self._folder_error(exc) or exc) from exc

    # -- finished files ------------------------------------------------------------------

    def add(self, rows: Sequence[FileRow]) -> None:
        values = [row.to_sql() for row in rows]
        known, self._rows = self._rows, None
        self._write(lambda db: db.executemany(f"INSERT OR REPLACE INTO files VALUES ({MARKS})", values))
        if known is not None:  # kept as the table now holds them: the end of a run reads them all
            added = {row.file for row in rows}
            merged = sorted([row for row in known if row.file not in added] + list(rows), key=_offset)
            if all(a.offset != b.offset for a, b in itertools.pairwise(merged)):  # else SQLite's order of ties
                self._rows = merged

    def rows(self) -> list[FileRow]:
        """Every row, in provenance order. Read once between writes of the rows: the end of a
        run asks three times (its changes, its commit, ``summary.json``), in its serial part."""
        if self._rows is None:
            self._rows = [FileRow.from_sql(r) for r in self.db.execute(f"SELECT {COLUMNS} FROM files ORDER BY offset")]
        return list(self._rows)

    def _replace_rows(self, statements: Callable[[sqlite3.Connection], object], rows: list[FileRow] | None) -> None:
        """Write the rows (``statements``, one transaction): ``rows`` are then every row, in
        provenance order (None: read them again when asked)."""
        self._rows = None
        self._write(statements)
        self._rows = rows

    def verified_rows(self) -> dict[str, FileRow]:
        """The rows whose provenance lines are in ``provenance.jsonl`` byte for byte; a row that
        does not match (provenance edited, or replaced) is dropped, so its file is redone.
        Without rows, an existing provenance file (an older cleankit's, or a state file that
        was deleted) is read once to rebuild them. Malformed lines after the last finished
        file are named (on standard error) here, as every reader names them."""
        rows = self.rows()
        if not self.provenance.exists():
            if rows:
                self._replace_rows(lambda db: db.execute("DELETE FROM files"), [])
            return {}
        if not rows:
            rebuilt = list(rebuild_rows(self.provenance))
            if rebuilt:
                self.add(rebuilt)
            return {row.file: row for row in rebuilt}
        good: dict[str, FileRow] = {}
        bad: list[str] = []
        end = 0
        with open(self.provenance, "rb") as handle:
            for row in rows:
                handle.seek(row.offset)
                whole = checksum(handle.read(row.length)) == row.checksum
                if whole and (row.offset == 0 or _after_newline(handle, row.offset)):
                    good[row.file] = row
                    end = max(end, row.offset + row.length)
                else:
                    bad.append(row.file)
        if bad:
            self._replace_rows(
                lambda db: db.executemany("DELETE FROM files WHERE file = ?", [(_key(f),) for f in bad]), None
            )
        _name_bad_lines_after(self.provenance, end)
        return good

    # -- surveys -------------------------------------------------------------------------

    def surveys(self, pass_id: str) -> dict[str, tuple[str, str]]:
        """file -> (sha256, survey as JSON) of what ``pass_id`` surveyed before."""
        rows = self.db.execute("SELECT file, file_sha256, data FROM surveys WHERE pass = ?", (pass_id,))
        return {str(_path(file)): (sha, data) for file, sha, data in rows}

    def save_surveys(self, pass_id: str, items: Iterable[tuple[str, str, str]]) -> None:
        values = [(pass_id, _key(file), sha, data) for file, sha, data in items]
        if values:
            self._write(lambda db: db.executemany("INSERT OR REPLACE INTO surveys VALUES (?, ?, ?, ?)", values))

    # -- the end of a run ----------------------------------------------------------------

    def changes(self) -> EndOfRun:
        return EndOfRun(self)

    def recover(self) -> bool:
        """Finish the end-of-run journal of a killed run, if there is one; True if there was."""
        entries = self.db.execute("SELECT kind, target, data FROM journal ORDER BY seq").fetchall()
        if not entries:
            return False
        self._apply(entries)
        return True

    def _apply(self, entries: list[tuple[str, str | None, bytes | None]], replays: bool = True) -> None:
        """Apply a committed journal; every step may have been done already by a killed run.
        ``replays``: the corpus passes' own decisions too (a run that committed them itself
        has no need to)."""
        for kind, target, data in entries:
            if kind == "replay" and replays:
                module, _, function = str(target).partition(":")
                getattr(importlib.import_module(module), function)(self.outdir, json.loads(data or b"null"))
        faults.boundary("index-decisions")
        for kind, target, _data in entries:
            if kind == "swap":
                tmp = self.outdir / str(target)
                if tmp.exists():
                    self._swap(tmp, keep_old=not replays)
        faults.boundary("provenance-swapped")
        for kind, target, data in entries:
            if kind not in ("write", "delete"):
                continue
            path = self.outdir / str(_path(target))
            try:
                if kind == "write":
                    write_atomic(path, data or b"")
                elif kind == "delete":
                    path.unlink(missing_ok=True)
            except OSError as exc:
                raise (folder_error(exc, path) or exc) from exc
        faults.boundary("outputs-applied")
        self._write(lambda db: db.execute("DELETE FROM journal"))
        faults.boundary("journal-cleared")


def _after_newline(handle: Any, offset: int) -> bool:
    handle.seek(offset - 1)
    return bool(handle.read(1) == b"\n")


def _name_bad_lines_after(provenance: Path, end: int) -> None:
    """Lines after ``end`` belong to no finished file (a killed run's, or added by hand):
    compaction drops them. Malformed ones among them are named now, as any reader names them."""
    if provenance.stat().st_size <= end:
        return
    number = _line_number(provenance, end)  # numbered from the top of the file, as an editor shows them
    with open(provenance, "rb") as handle:
        handle.seek(end)
        for raw in handle:
            number += 1
            record, problem = parse_line(raw)
            if raw.endswith(b"\n") and record is None:
                report_on_stderr(provenance, number, problem)


def _line_number(path: Path, offset: int) -> int:
    """How many lines end before ``offset``."""
    count = 0
    with open(path, "rb") as handle:
        remaining = offset
        while remaining > 0:
            chunk = handle.read(min(remaining, 1 << 20))
            if not chunk:
                break
            count += chunk.count(b"\n")
            remaining -= len(chunk)
    return count


def rebuild_rows(provenance: Path) -> Iterator[FileRow]:
    """Rows for a provenance file written without a run state: the latest run of each input
    file that has one record on one line (a JSON Lines file's records cannot be shown to be
    complete without the state, so it is redone). The output's sha256 is the record's: for a
    plain output they are the same bytes."""
    latest: dict[str, tuple[str, int, bytes, ProvenanceRecord]] = {}
    counts: dict[tuple[str, str], int] = {}
    for _number, offset, raw, record in read_lines(provenance):
        file = str(record.get("file", record["source"]))
        run = str(record.get("run", ""))
        counts[(file, run)] = counts.get((file, run), 0) + 1
        latest[file] = (run, offset, raw, record)
    for file, (run, offset, raw, record) in latest.items():
        failed = record["status"] == "failed"
        if counts[(file, run)] != 1 or "output_line" in record or not (failed or "file_sha256" in record):
            continue
        totals = RunSummary()
        totals.add_record(record)
        yield FileRow(
            file=file,
            run=run,
            status=record["status"],
            file_sha256=str(record.get("file_sha256", "")),
            settings=str(record.get("settings", "")),
            context="",
            output=record.get("output"),
            output_bytes=int(record.get("output_bytes", -1)),
            output_sha256=str(record.get("output_sha256", "")),
            records=1,
            offset=offset,
            length=len(raw),
            checksum=checksum(raw),
            totals=totals.totals_json(),
        )


def peek_rows(outdir: Path) -> dict[str, FileRow]:
    """The finished files of an output folder, read without writing anything (for a dry run):
    only the rows whose provenance lines are still there byte for byte. None when the folder
    has no run state."""
    path, provenance = outdir / STATE_FILE, outdir / PROVENANCE_FILE
    if not path.is_file() or not provenance.is_file():
        return {}
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = [FileRow.from_sql(r) for r in db.execute(f"SELECT {COLUMNS} FROM files ORDER BY offset")]
        finally:
            db.close()
    except sqlite3.Error:
        return {}  # unreadable or damaged: the run itself will say so, or rebuild it
    good: dict[str, FileRow] = {}
    with open(provenance, "rb") as handle:
        for row in rows:
            handle.seek(row.offset)
            if checksum(handle.read(row.length)) == row.checksum:
                good[row.file] = row
    return good


class EndOfRun:
    """The :class:`cleankit.core.corpus_pass.RecordChanges` of a run: what the corpus passes
    change at the end, gathered, then committed as one journal and applied (see the module
    docstring)."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.outdir = state.outdir
        # The replaced records, serialized as they arrive into a scratch file beside the
        # provenance (unnamed: nothing is left behind by a kill): file -> where its new lines
        # are there and what its row changes. Holding the records themselves until the
        # commit was the run's peak memory, growing with the corpus (the duplicates' records
        # carry their whole text: 1.2 GB of the parent's 1.56 GB at 20,000 pages).
        self.replaced: dict[str, tuple[int, int, dict[str, Any]]] = {}
        self._scratch: BinaryIO | None = None
        self._scratch_end = 0
        self.entries: list[tuple[str, str | None, bytes | None]] = []
        # Outputs rewritten (a JSON Lines file whose lines changed): the rows of the files
        # that wrote them get the new size and sha256, so a rerun still finds them done.
        self.written: dict[str, bytes] = {}
        self.commit_actions: list[Callable[[], None]] = []
        self._rows = {row.file: row for row in state.rows()}

    def _compact(self) -> bool:
        """Whether the provenance holds the rows' lines and nothing else, in their order."""
        position = 0
        for row in self.state.rows():
            if row.offset != position:
                return False
            position += row.length
        provenance = self.state.provenance
        return position == (provenance.stat().st_size if provenance.exists() else 0)

    def records_of(self, files: Sequence[str]) -> dict[str, list[ProvenanceRecord]]:
        """The records of these input files. Lines whose checksum is their row's were checked
        when the row was made (a worker serialized them from records it built, or rebuilding
        the rows read them checked), so they are only parsed: the end of a run rewrites many
        duplicates' records, and checking each again was a third of its time. Any other lines
        are checked record by record (:func:`parse_lines`)."""
        return {file: records_from(data, self._rows[file].checksum) for file, data in self.lines_of(files).items()}

    def row_checksum(self, file: str) -> int | None:
        """The checksum of a file's provenance lines in its row (lines that have it were
        checked when the row was made: :func:`records_from` only parses them)."""
        row = self._rows.get(file)
        return None if row is None else row.checksum

    def lines_of(self, files: Sequence[str]) -> dict[str, bytes]:
        """The provenance lines of these input files as written, unparsed (the Ray engine
        parses them in its workers: cleankit.neardup.distributed)."""
        found: dict[str, bytes] = {}
        with open(self.state.provenance, "rb") as handle:
            for file in files:
                row = self._rows.get(file)
                if row is None:
                    continue
                handle.seek(row.offset)
                found[file] = handle.read(row.length)
        return found

    def spans_of(self, files: Sequence[str]) -> tuple[str, dict[str, tuple[int, int]]]:
        """Where the provenance lines of these input files are (offset, length), and in which
        file: for a reader in another process (the end of a run's workers) to read them itself."""
        spans = {file: (row.offset, row.length) for file in files if (row := self._rows.get(file)) is not None}
        return str(self.state.provenance), spans

    def replace(self, file: str, records: list[ProvenanceRecord]) -> None:
        """The new records of ``file``: serialized now (the bytes the commit writes) and kept
        on disk, with what they change in the file's row."""
        if file in self._rows:  # not serialized for nothing (replace_prepared)
            self.replace_prepared(file, Replacement.of(records))

    def replace_prepared(self, file: str, replacement: Replacement) -> None:
        """:meth:`replace` with the records already serialized (by the worker that rewrote them)."""
        if file not in self._rows:  # no row, no line of it in the compacted provenance
            return
        data = replacement.lines
        try:
            if self._scratch is None:
                self._scratch = tempfile.TemporaryFile(dir=self.outdir, prefix=f".{TMP_MARK}")  # noqa: SIM115
            self._scratch.seek(self._scratch_end)
            self._scratch.write(data)
        except OSError as exc:
            raise (folder_error(exc, self.outdir) or exc) from exc
        self.replaced[file] = (self._scratch_end, len(data), replacement.row)
        self._scratch_end += len(data)

    def close(self) -> None:
        """Let go of the scratch file (committed or abandoned)."""
        if self._scratch is not None:
            self._scratch.close()
            self._scratch = None

    def write_output(self, path: str, data: bytes) -> None:
        self.entries.append(("write", _key(path), data))
        self.written[path] = data

    def delete_output(self, path: str) -> None:
        self.entries.append(("delete", _key(path), None))

    def journal(self, replay: str, data: Any) -> None:
        self.entries.insert(0, ("replay", replay, json.dumps(data).encode("utf-8")))

    def on_commit(self, action: Callable[[], None]) -> None:
        self.commit_actions.append(action)

    def commit(self) -> None:
        """Write the compacted provenance (latest finished lines of every file, replaced
        records in their place) beside the old one, commit the journal, then apply it. The
        lines are copied one file at a time: nothing here holds more than one file's lines."""
        provenance = self.state.provenance
        if not (self.replaced or self.entries or self.written) and self._compact():
            # Nothing to change and nothing superseded to drop (a rerun that found every file
            # done): copying the provenance and writing every row again would change nothing.
            self.close()
            for action in self.commit_actions:
                action()
            return
        tmp_name = f".{provenance.name}{TMP_MARK}{os.getpid()}"
        tmp = provenance.with_name(tmp_name)
        try:
            try:
                rows = self._write_compacted(provenance, tmp, in_kernel=True)
            except _NotInKernel:  # another file system, or a provenance shorter than its rows
                rows = self._write_compacted(provenance, tmp, in_kernel=False)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise (folder_error(exc, tmp) or exc) from exc
        finally:
            self.close()
        faults.boundary("decided")
        entries = [*self.entries, ("swap", tmp_name, None)]

        def commit(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM files")
            db.executemany(f"INSERT INTO files VALUES ({MARKS})", [row.to_sql() for row in rows])
            db.executemany("INSERT INTO journal (kind, target, data) VALUES (?, ?, ?)", entries)

        try:
            self.state._replace_rows(commit, rows)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        faults.boundary("journaled")
        for action in self.commit_actions:
            action()
        self.state._apply(entries, replays=False)

    def _write_compacted(self, provenance: Path, tmp: Path, in_kernel: bool) -> list[FileRow]:
        """Write the compacted provenance into ``tmp``: every row's latest lines in row order,
        the replaced records in their place; the rows that say where each file's lines are now.

        ``in_kernel``: the unchanged lines (most of the file: 47 of 76 MB on the bench crawl, in
        the end of a run's serial part) are copied by the kernel (``copy_file_range``), a run of
        consecutive rows at a time, not read into this process and written back; their rows
        keep their checksums (every row here was checked against these bytes when the run
        started, or made by this run from them). Raises :class:`_NotInKernel` when the kernel
        cannot copy them, or copies fewer bytes than the rows say (a shorter provenance): the
        caller then writes the file again the old way, reading every line and checksumming it."""
        rows: list[FileRow] = []
        source_file = open(provenance, "rb") if provenance.exists() else io.BytesIO()  # noqa: SIM115
        with source_file as source, open(tmp, "wb", buffering=0 if in_kernel else -1) as out:
            copier = _KernelCopy(source, out) if in_kernel else None
            position = 0
            for row in self.state.rows():
                if row.file in self.replaced:
                    at, length, changed = self.replaced[row.file]
                    assert self._scratch is not None
                    self._scratch.seek(at)
                    data = self._scratch.read(length)
                    row = replace(row, **changed)
                    if row.output is not None and row.output in self.written:
                        output = self.written[row.output]
                        row = replace(row, output_bytes=len(output), output_sha256=hashlib.sha256(output).hexdigest())
                    if copier is not None:
                        copier.write(data)
                    else:
                        out.write(data)
                    rows.append(_moved(row, position, len(data), checksum(data)))
                    position += len(data)
                elif copier is not None:
                    copier.copy(row.offset, row.length)
                    rows.append(_moved(row, position, row.length, row.checksum))
                    position += row.length
                else:
                    source.seek(row.offset)
                    data = source.read(row.length)
                    out.write(data)
                    rows.append(_moved(row, position, len(data), checksum(data)))
                    position += len(data)
            if copier is not None:
                copier.finish()
        return rows


class _NotInKernel(Exception):
    """The kernel could not copy the provenance's unchanged lines (:class:`_KernelCopy`)."""


class _KernelCopy:
    """Bytes of one file appended to another by the kernel (``os.copy_file_range``), runs of
    consecutive source bytes joined into one copy; bytes of this process (``write``) in
    between. ``out`` is unbuffered: every write goes at its own offset."""

    def __init__(self, source: BinaryIO, out: Any) -> None:
        try:
            self.source, self.out = source.fileno(), out.fileno()
        except (OSError, ValueError, io.UnsupportedOperation) as exc:  # an empty provenance: no file
            raise _NotInKernel from exc
        if not hasattr(os, "copy_file_range"):
            raise _NotInKernel
        self.start = self.end = 0  # the source's run not copied yet
        self.written = 0

    def copy(self, offset: int, length: int) -> None:
        if offset != self.end:
            self._flush()
            self.start = offset
        self.end = offset + length

    def write(self, data: bytes) -> None:
        self._flush()
        view = memoryview(data)
        while view:
            done = os.pwrite(self.out, view, self.written)
            self.written += done
            view = view[done:]

    def finish(self) -> None:
        self._flush()

    def _flush(self) -> None:
        while self.start < self.end:
            try:
                done = os.copy_file_range(self.source, self.out, self.end - self.start, self.start, self.written)
            except OSError as exc:
                if exc.errno in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF):
                    raise _NotInKernel from exc
                raise
            if done <= 0:  # the provenance ends before the rows say it does
                raise _NotInKernel
            self.start += done
            self.written += done
        self.start = self.end


def _moved(row: FileRow, offset: int, length: int, checksum: int) -> FileRow:
    """``row`` with its lines at ``offset`` (``dataclasses.replace`` builds each row through
    ``__init__`` and its field checks: 2,000 rows in the end of a run's serial part)."""
    moved = object.__new__(FileRow)
    moved.__dict__.update(row.__dict__)
    moved.offset, moved.length, moved.checksum = offset, length, checksum
    return moved


@dataclass
class Replacement:
    """A file's new records as the end of a run commits them: their provenance lines and what
    they change in the file's row. Made where the records are rewritten (a worker, at
    ``-j N > 1``): the parent then only copies bytes, instead of unpickling every rewritten
    record (a duplicate's carries its whole text) and serializing it again."""

    lines: bytes
    row: dict[str, Any]

    @classmethod
    def of(cls, records: list[ProvenanceRecord]) -> Replacement:
        return cls(dumps_lines(records), row_changes(records))


def records_from(data: bytes, trusted: int | None) -> list[ProvenanceRecord]:
    """The records of a file's provenance lines: only parsed when their checksum is
    ``trusted`` (their row's), else checked record by record (:func:`parse_lines`)."""
    if trusted is not None and checksum(data) == trusted:
        return [json.loads(line) for line in data.split(b"\n")[:-1]]
    return parse_lines(data)


def parse_lines(data: bytes) -> list[ProvenanceRecord]:
    """The well-formed records of a file's provenance lines (:meth:`EndOfRun.lines_of`)."""
    records = [parse_line(raw + b"\n")[0] for raw in data.split(b"\n")[:-1]]
    return [record for record in records if record is not None]


def row_changes(records: list[ProvenanceRecord]) -> dict[str, Any]:
    """What replacing a file's records changes in its row (its totals; the output of a file
    of one record)."""
    totals = RunSummary()
    for record in records:
        totals.add_record(record)
    changed: dict[str, Any] = {"totals": totals.totals_json()}
    if len(records) == 1 and "output_line" not in records[0]:
        record = records[0]
        changed.update(
            status=record["status"],
            output=record.get("output"),
            output_bytes=int(record.get("output_bytes", 0)),
            output_sha256=str(record.get("output_sha256", "")),
        )
    return changed
