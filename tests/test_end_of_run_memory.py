"""The end of a run holds one file's records at a time, not every replaced file's
(issue 12: peak memory independent of corpus size). Measured with tracemalloc on a
generated provenance file; the figures are in benchmarks/README.md."""

from __future__ import annotations

import tracemalloc
from dataclasses import replace
from pathlib import Path

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
