"""The persistent dedup index: one SQLite file in the output folder.

It holds, per document, a compact MinHash signature and its LSH band keys (64-bit
hashes of each band), never the text; and, for ``--dedup-paragraphs``, a 64-bit hash
per paragraph seen in a kept document. A later run over new pages finds candidates
among everything kept before with indexed lookups, so memory does not grow with the
corpus: the run's own documents are added to the same tables as their signatures
arrive and are queried the same way.

Schema (version 1):

- ``meta(key, value)``: the signature parameters the index was built with; a run with
  other parameters is refused (they would give incomparable signatures).
- ``docs(rowid, doc_id, source, output, chars, quality, run, state, signature)``:
  ``state`` is ``kept`` (a canonical document, written), ``duplicate`` (its
  ``duplicate_of`` names the kept one) or ``pending`` (added by the current run, or by a
  run killed before its pass; the next run decides it).
- ``bands(band, key, doc)``: LSH buckets, indexed by ``(band, key)``.
- ``paragraphs(hash, doc)``: first kept document of each paragraph.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cleankit.core.errors import NearDupIndexError
from cleankit.io.files import INDEX_FILE, LEGACY_INDEX_FILE

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL,
    source TEXT NOT NULL UNIQUE,
    output TEXT,
    chars INTEGER NOT NULL,
    quality TEXT NOT NULL,
    run TEXT NOT NULL,
    state TEXT NOT NULL,
    duplicate_of INTEGER,
    signature BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_state ON docs (state);
CREATE TABLE IF NOT EXISTS bands (band INTEGER NOT NULL, key INTEGER NOT NULL, doc INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS bands_key ON bands (band, key);
CREATE INDEX IF NOT EXISTS bands_doc ON bands (doc);
CREATE TABLE IF NOT EXISTS paragraphs (hash INTEGER PRIMARY KEY, doc INTEGER NOT NULL) WITHOUT ROWID;
"""


def _key(path: str | None) -> str | None:
    """Paths may hold lone surrogates (undecodable file names): stored as JSON strings."""
    return None if path is None else json.dumps(path)


def _path(key: str | None) -> str | None:
    return None if key is None else _source(key)


def _source(key: str) -> str:
    return str(json.loads(key))



@dataclass
class IndexedDoc:
    rowid: int
    doc_id: str
    source: str
    output: str | None
    chars: int
    state: str
    signature: np.ndarray


class NearDupIndex:
    """Signatures and band keys of the documents of an output folder, in SQLite."""

    def __init__(self, path: Path, params: dict[str, Any] | None = None) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(path)
            # Each document is committed as it arrives (a killed run loses none); without
            # fsync, which a killed process does not need (only a power cut would). Set before
            # the schema is made: a new index's tables were made with an fsync each, serial
            # time before a run's first pool (0.14 s on a busy disk).
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=OFF")
            self.db.executescript(_SCHEMA)
            stored = dict(self.db.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as exc:
            raise NearDupIndexError(f"{path}: not a usable dedup index ({exc})") from exc
        if params is not None:
            wanted = {"schema": SCHEMA_VERSION, **{k: str(v) for k, v in params.items()}}
            if stored and stored != wanted:
                changed = sorted(k for k in wanted if stored.get(k) != wanted[k])
                raise NearDupIndexError(
                    f"{path}: built with other signature settings ({', '.join(changed)}); "
                    "use the same settings, or delete the index file to start a new one"
                )
            if not stored:
                self.db.executemany("INSERT INTO meta VALUES (?, ?)", wanted.items())
                self.db.commit()
        self.params = stored or {}

    def close(self, commit: bool = True) -> None:
        """Close; without ``commit`` what was not committed is dropped (SQLite rolls it back)."""
        if commit:
            self.db.commit()
        self.db.close()

    def __enter__(self) -> NearDupIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------

    def add(
        self,
        doc_id: str,
        source: str,
        output: str | None,
        chars: int,
        quality: Sequence[Any],
        run: str,
        signature: np.ndarray,
        band_keys: Sequence[int],
    ) -> int:
        """Add (or replace: same source) a pending document; returns its row id."""
        self.forget(source)
        source, output = _key(source), _key(output)  # type: ignore[assignment]
        cursor = self.db.execute(
            "INSERT INTO docs (doc_id, source, output, chars, quality, run, state, signature) "
            "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
            (
                doc_id,
                source,
                output,
                chars,
                json.dumps(list(quality)),
                run,
                signature.astype("<u4").tobytes(),
            ),
        )
        rowid = int(cursor.lastrowid or 0)
        self.db.executemany("INSERT INTO bands VALUES (?, ?, ?)", [(b, k, rowid) for b, k in enumerate(band_keys)])
        return rowid

    def forget(self, source: str) -> None:
        row = self.db.execute("SELECT rowid FROM docs WHERE source = ?", (_key(source),)).fetchone()
        if row is not None:
            self._delete([row[0]])

    def forget_lines(self, file: str) -> None:
        """Forget every line of a JSON Lines file (sources ``FILE#LINE``): the file is being
        redone, and a line it no longer has must not stay a kept copy."""
        low = str(_key(file + "#"))[:-1]  # the stored source up to its closing quote
        high = low[:-1] + chr(ord("#") + 1)
        rows = self.db.execute("SELECT rowid FROM docs WHERE source >= ? AND source < ?", (low, high)).fetchall()
        self._delete([row[0] for row in rows])

    def _delete(self, rowids: list[int]) -> None:
        for start in range(0, len(rowids), 500):
            chunk = rowids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            self.db.execute(f"DELETE FROM bands WHERE doc IN ({marks})", chunk)
            self.db.execute(f"DELETE FROM paragraphs WHERE doc IN ({marks})", chunk)
            self.db.execute(f"DELETE FROM docs WHERE rowid IN ({marks})", chunk)

    def set_state(self, rowid: int, state: str, duplicate_of: int | None = None) -> None:
        self.db.execute("UPDATE docs SET state = ?, duplicate_of = ? WHERE rowid = ?", (state, duplicate_of, rowid))

    def commit(self) -> None:
        self.db.commit()

    # -- reading -------------------------------------------------------------------

    def candidates(self, rowid: int, states: tuple[str, ...]) -> list[int]:
        """Documents sharing at least one LSH bucket with ``rowid``, in the given states."""
        marks = ",".join("?" * len(states))
        rows = self.db.execute(
            "SELECT DISTINCT other.doc FROM bands AS mine JOIN bands AS other "
            "ON other.band = mine.band AND other.key = mine.key "
            f"JOIN docs ON docs.rowid = other.doc WHERE mine.doc = ? AND other.doc != ? AND docs.state IN ({marks})",
            (rowid, rowid, *states),
        )
        return sorted(row[0] for row in rows)

    def pending_candidates(self, states: tuple[str, ...]) -> dict[int, list[int]]:
        """:meth:`candidates` of every pending document, in one query (a query per document
        was most of the serial time before the first pairs of a run's end are verified)."""
        marks = ",".join("?" * len(states))
        rows = self.db.execute(
            "SELECT DISTINCT mine.doc, other.doc FROM docs AS me JOIN bands AS mine ON mine.doc = me.rowid "
            "JOIN bands AS other ON other.band = mine.band AND other.key = mine.key "
            "JOIN docs ON docs.rowid = other.doc "
            f"WHERE me.state = 'pending' AND other.doc != mine.doc AND docs.state IN ({marks})",
            states,
        )
        found: dict[int, list[int]] = {}
        for rowid, other in rows:
            found.setdefault(rowid, []).append(other)
        for others in found.values():
            others.sort()
        return found

    def get(self, rowid: int) -> IndexedDoc:
        row = self.db.execute(
            "SELECT rowid, doc_id, source, output, chars, state, signature FROM docs WHERE rowid = ?", (rowid,)
        ).fetchone()
        rowid, doc_id, source, output, chars, state, sig = row
        return IndexedDoc(rowid, doc_id, _source(source), _path(output), chars, state, np.frombuffer(sig, dtype="<u4"))

    def docs_in(self, states: tuple[str, ...]) -> dict[int, IndexedDoc]:
        """rowid -> document, for every document in the given states (a distributed pass)."""
        marks = ",".join("?" * len(states))
        rows = self.db.execute(
            f"SELECT rowid, doc_id, source, output, chars, state, signature FROM docs WHERE state IN ({marks})", states
        )
        return {
            rowid: IndexedDoc(rowid, doc_id, _source(source), _path(output), chars, state, np.frombuffer(sig, "<u4"))
            for rowid, doc_id, source, output, chars, state, sig in rows
        }

    def band_entries(self, states: tuple[str, ...]) -> np.ndarray:
        """(band, key, rowid) of every band bucket entry of the documents in the given states,
        as an int64 array of three columns (24 bytes an entry, read in chunks)."""
        marks = ",".join("?" * len(states))
        cursor = self.db.execute(
            f"SELECT band, key, doc FROM bands JOIN docs ON docs.rowid = bands.doc WHERE docs.state IN ({marks})",
            states,
        )
        chunks = [np.zeros((0, 3), dtype=np.int64)]
        while rows := cursor.fetchmany(65536):
            chunks.append(np.asarray(rows, dtype=np.int64).reshape(-1, 3))
        return np.concatenate(chunks)

    def pending(self) -> Iterator[tuple[int, str, str]]:
        """(rowid, source, quality) of the documents the current run added."""
        for rowid, source, quality in self.db.execute(
            "SELECT rowid, source, quality FROM docs WHERE state = 'pending'"
        ):
            yield rowid, _source(source), quality

    def paragraph_owner(self, hashes: Sequence[int]) -> dict[int, int]:
        found: dict[int, int] = {}
        for start in range(0, len(hashes), 500):
            chunk = list(hashes[start : start + 500])
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(f"SELECT hash, doc FROM paragraphs WHERE hash IN ({marks})", chunk))
        return found

    def add_paragraphs(self, rowid: int, hashes: Sequence[int]) -> None:
        self.add_paragraphs_of([(h, rowid) for h in hashes])

    def add_paragraphs_of(self, pairs: Sequence[tuple[int, int]]) -> None:
        """(paragraph hash, row id of its first kept document) pairs; a hash already held stays."""
        self.db.executemany("INSERT OR IGNORE INTO paragraphs VALUES (?, ?)", pairs)

    def rowids(self) -> dict[str, int]:
        """source -> row id of every document."""
        return {_source(source): rowid for rowid, source in self.db.execute("SELECT rowid, source FROM docs")}

    def states(self) -> dict[str, tuple[str, str]]:
        """source -> (state, doc id) of every document: what a rerun checks its rows against."""
        rows = self.db.execute("SELECT source, state, doc_id FROM docs")
        return {_source(source): (state, doc_id) for source, state, doc_id in rows}

    def source_of(self, rowid: int) -> str:
        row = self.db.execute("SELECT source FROM docs WHERE rowid = ?", (rowid,)).fetchone()
        return _source(row[0]) if row else "?"

    # -- management ----------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        states = dict(self.db.execute("SELECT state, COUNT(*) FROM docs GROUP BY state"))
        runs = self.db.execute("SELECT COUNT(DISTINCT run) FROM docs").fetchone()[0]
        bands = self.db.execute("SELECT COUNT(*) FROM bands").fetchone()[0]
        paragraphs = self.db.execute("SELECT COUNT(*) FROM paragraphs").fetchone()[0]
        return {
            "file": str(self.path),
            "bytes": self.path.stat().st_size if self.path.exists() else 0,
            "documents": sum(states.values()),
            "kept": states.get("kept", 0),
            "duplicates": states.get("duplicate", 0),
            "pending": states.get("pending", 0),
            "runs": runs,
            "band_keys": bands,
            "paragraph_hashes": paragraphs,
            "settings": {k: v for k, v in self.params.items() if k != "schema"},
        }

    def prune(self, outdir: Path, older_than_days: float | None = None, duplicates: bool = False) -> int:
        """Drop entries whose output file is gone, that are older than the given age, or
        (``duplicates``) that are duplicates; returns how many documents were dropped."""
        doomed: list[int] = []
        cutoff = time.time() - older_than_days * 86400 if older_than_days is not None else None
        rows = self.db.execute("SELECT rowid, output, run, state FROM docs").fetchall()
        for rowid, output, run, state in rows:
            output = _path(output)
            gone = state == "kept" and (output is None or not _output_exists(outdir, output))
            old = cutoff is not None and float(run.split("@", 1)[0]) < cutoff
            # Pending entries (a run killed before its pass) are left for the next run to decide.
            if state != "pending" and (gone or old or (duplicates and state == "duplicate")):
                doomed.append(rowid)
        self._delete(doomed)
        self.db.commit()
        self.db.execute("VACUUM")
        return len(doomed)


def _output_exists(outdir: Path, output: str) -> bool:
    """An output file, or the file of a JSON Lines document (``FILE#LINE``), is there."""
    if (outdir / output).is_file():
        return True
    name, _, line = output.rpartition("#")
    return bool(name) and line.isdigit() and (outdir / name).is_file()


def index_path(outdir: Path) -> Path:
    """The index file of an output folder; one written by cleankit 0.1 under its old name
    is moved to the current one first (with its SQLite journal files)."""
    path = outdir / INDEX_FILE
    legacy = outdir / LEGACY_INDEX_FILE
    if legacy.exists() and not path.exists():
        for suffix in ("-wal", "-shm", ""):
            old = legacy.with_name(legacy.name + suffix)
            if old.exists():
                os.replace(old, path.with_name(path.name + suffix))
    return path
