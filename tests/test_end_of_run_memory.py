"""The end of a run holds one file's records at a time, not every replaced file's
(issue 12: peak memory independent of corpus size). Measured with tracemalloc on a
generated provenance file; the figures are in benchmarks/README.md."""

from __future__ import annotations

import errno
import os
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest

from cleankit.core.provenance import dumps_lines
from cleankit.io.files import PROVENANCE_FILE
from cleankit.run.state import FileRow, RunState, checksum

FILES = 120
TEXT_CHARS = 20_000  # a duplicate's record carries its whole text (its removal edit)


def _record(file: str, status: str, text: str) -> dict[str, object]:
    return {
        "source": file,
        "file": file,
        "status": status,
        "output": None if status == "duplicate" else f"{file}.txt",
        "output_chars": 0 if status == "duplicate" else len(text),
        "output_bytes": 0,
        "output_sha256": "",
        "steps": ["layout"],
        "stats": {},
        "edits": [{"stage": "neardup", "rule": "duplicate-document", "start": 0, "end": len(text), "before": text}],
    }


def _folder(outdir: Path) -> RunState:
    """A finished run's folder: FILES files, one record each, rows pointing at their lines."""
    state = RunState(outdir)
    rows, offset = [], 0
    with open(outdir / PROVENANCE_FILE, "wb") as out:
        for number in range(FILES):
            file = f"f{number:04d}.txt"
            data = dumps_lines([_record(file, "ok", "原" * TEXT_CHARS)])
            out.write(data)
            row = FileRow(file, "r1", "ok", "0" * 64, "s", "", f"{file}.txt", 1, "", 1, offset, len(data), 0, "{}")
            rows.append(replace(row, checksum=checksum(data)))
            offset += len(data)
    state.add(rows)
    return state


def test_replaced_records_are_not_held_until_the_commit(tmp_path: Path) -> None:
    state = _folder(tmp_path)
    end = state.changes()
    files = [row.file for row in state.rows()]
    tracemalloc.start()
    try:
        for file in files:
            end.replace(file, [_record(file, "duplicate", "副" * TEXT_CHARS)])
        held, _ = tracemalloc.get_traced_memory()
        end.commit()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        state.close()
    whole = FILES * TEXT_CHARS * 3  # the replaced texts alone, as UTF-8
    # Holding every replaced record (the old way) costs more than ``whole``; one at a time,
    # a few records' worth.
    assert held < whole / 10, held
    assert peak < whole / 4, peak
    lines = (tmp_path / PROVENANCE_FILE).read_bytes().splitlines(keepends=True)
    assert len(lines) == FILES
    assert all(b'"status":"duplicate"' in line for line in lines)
    rows = {row.file: row for row in RunState(tmp_path).rows()}
    assert rows["f0007.txt"].status == "duplicate" and rows["f0007.txt"].output is None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no scratch file left


def test_a_replaced_file_is_written_as_its_records_serialize(tmp_path: Path) -> None:
    """The compacted provenance holds the bytes ``dumps_lines`` makes of the new records, in
    the rows' order, whatever the order the files were replaced in."""
    state = _folder(tmp_path)
    end = state.changes()
    files = [row.file for row in state.rows()]
    new = {file: [_record(file, "duplicate", "新" * (number + 1))] for number, file in enumerate(files[::3])}
    for file in reversed(list(new)):
        end.replace(file, new[file])
    before = (tmp_path / PROVENANCE_FILE).read_bytes().splitlines(keepends=True)
    end.commit()
    after = (tmp_path / PROVENANCE_FILE).read_bytes().splitlines(keepends=True)
    state.close()
    expected = [dumps_lines(new[file]) if file in new else line for file, line in zip(files, before, strict=True)]
    assert after == expected


def _compacted(outdir: Path, monkeypatch: pytest.MonkeyPatch | None) -> tuple[bytes, list[FileRow]]:
    """Replace every third file's record and commit; with ``monkeypatch``, the kernel may not
    copy (the way every line is read and written back)."""
    if monkeypatch is not None:
        monkeypatch.setattr(os, "copy_file_range", _refused)
    outdir.mkdir()
    state = _folder(outdir)
    with open(outdir / PROVENANCE_FILE, "ab") as out:
        out.write(b'{"source":"f9999.txt","status":"ok"}\n')  # lines no row points to: dropped
    end = state.changes()
    for number, file in enumerate(row.file for row in state.rows()):
        if number % 3 == 1:
            end.replace(file, [_record(file, "duplicate", "新" * (number + 1))])
    end.commit()
    rows = state.rows()
    state.close()
    return (outdir / PROVENANCE_FILE).read_bytes(), rows


def _refused(*_args: object) -> int:
    raise OSError(errno.EXDEV, "Invalid cross-device link")


def test_the_kernels_copy_of_the_unchanged_lines_is_the_read_and_written_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_kernel = _compacted(tmp_path / "kernel", None)
    with monkeypatch.context() as patched:
        read_back = _compacted(tmp_path / "read", patched)
    assert in_kernel == read_back
    data, rows = in_kernel
    assert b"f9999" not in data
    for row in rows:  # every row's lines where it says, with their checksum
        assert checksum(data[row.offset : row.offset + row.length]) == row.checksum
    assert sum(row.length for row in rows) == len(data)
    assert not [p for p in (tmp_path / "kernel").iterdir() if p.name.startswith(".")]  # the old file is gone


def test_a_provenance_shorter_than_its_rows_is_compacted_as_before(tmp_path: Path) -> None:
    # The kernel copies fewer bytes than the last row says: the file is written again the way
    # it was before (each row's lines read, their checksum computed from what was read).
    state = _folder(tmp_path)
    provenance = tmp_path / PROVENANCE_FILE
    cut = provenance.stat().st_size - 10
    with open(provenance, "r+b") as handle:
        handle.truncate(cut)
    end = state.changes()
    end.replace("f0003.txt", [_record("f0003.txt", "duplicate", "新")])
    end.commit()
    rows = state.rows()
    state.close()
    data = provenance.read_bytes()
    assert rows[-1].offset + rows[-1].length == len(data)
    last = f"f{FILES - 1:04d}.txt"
    assert rows[-1].file == last
    assert rows[-1].length == len(dumps_lines([_record(last, "ok", "原" * TEXT_CHARS)])) - 10
    assert checksum(data[rows[-1].offset :]) == rows[-1].checksum


def test_the_rows_kept_after_each_batch_are_the_rows_the_table_holds(tmp_path: Path) -> None:
    # The runner commits its rows in batches; the end of the run then asks for every row,
    # which are kept as each batch is written instead of read again.
    state = RunState(tmp_path)
    assert state.verified_rows() == {}
    row = FileRow("a.txt", "r1", "ok", "0" * 64, "s", "", "a.txt", 10, "", 1, 0, 50, 7, "{}")
    first = [replace(row, file=f"f{n:02d}.txt", offset=n * 50) for n in range(6)]
    state.add(first[:4])
    state.add(first[4:])
    redone = replace(first[1], offset=300, length=40, checksum=9)  # a file cleaned again
    state.add([redone, replace(row, file="g.txt", offset=340)])
    kept = state.rows()
    state.close()
    fresh = RunState(tmp_path)
    assert kept == fresh.rows()
    assert [r.file for r in kept] == ["f00.txt", "f02.txt", "f03.txt", "f04.txt", "f05.txt", "f01.txt", "g.txt"]
    fresh.close()
