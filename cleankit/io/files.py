"""Files in and out: finding inputs, reading them read-only, writing outputs atomically.

Inputs are only ever opened with ``"rb"``. Every output is written to a temporary file
beside its destination and renamed over it, so a killed run leaves either the old file
or the new one, never half of one. Provenance lines are appended with one ``write`` each
and a torn last line (a run killed mid-write) is cut off before the next run appends.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cleankit.core.errors import InputError

TMP_MARK = ".cleankit-tmp-"
PROVENANCE_FILE = "provenance.jsonl"
SUMMARY_FILE = "summary.json"
INDEX_FILE = "neardup-index.sqlite"
# The index's name in cleankit 0.1; an output folder that has it is moved to INDEX_FILE.
LEGACY_INDEX_FILE = "dedup-index.sqlite"
RESERVED_NAMES = {
    PROVENANCE_FILE,
    SUMMARY_FILE,
    *(name + suffix for name in (INDEX_FILE, LEGACY_INDEX_FILE) for suffix in ("", "-wal", "-shm")),
}


@dataclass(frozen=True)
class InputItem:
    """One input file: where it is, where its output goes, or why it cannot be read."""

    path: Path
    rel: str
    error: str | None = None


def display(text: str) -> str:
    """A file name made printable even when it is not valid UTF-8."""
    return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")


def _matches(rel: str, patterns: list[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(rel, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def _selected(rel: str, include: list[str], exclude: list[str]) -> bool:
    if include and not _matches(rel, include):
        return False
    return not _matches(rel, exclude)


def _file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as an input file, or None."""
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        if os.path.islink(path):
            return f"broken symlink (points to {display(os.readlink(path))})"
        return f"cannot stat: {exc.strerror}"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return "permission denied (not readable)"
    return None


def discover(
    inputs: list[Path], include: list[str], exclude: list[str], skip_dirs: list[Path] | None = None
) -> Iterator[InputItem]:
    """Expand files and folders into input items, in a stable order.

    A single folder maps to output paths relative to it; with several inputs each keeps
    its own name as the first path component so outputs cannot collide. Hidden files and
    folders (names starting with a dot) are passed over, as are the folders in
    ``skip_dirs`` (the output folder, when it lies inside an input).
    """
    skip = {os.path.realpath(d) for d in (skip_dirs or [])}
    single_folder = len(inputs) == 1 and inputs[0].is_dir()
    for top in inputs:
        if not os.path.lexists(top):
            yield InputItem(top, display(str(top)), "no such file or folder")
            continue
        if not top.is_dir():
            yield InputItem(top, top.name, _file_problem(top))
            continue
        prefix = "" if single_folder else (top.resolve().name + "/")
        yield from _walk(top, prefix, include, exclude, skip)


def _walk(top: Path, prefix: str, include: list[str], exclude: list[str], skip: set[str]) -> Iterator[InputItem]:
    seen_dirs: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
        info = os.stat(dirpath)
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs or os.path.realpath(dirpath) in skip:
            dirnames.clear()
            continue
        seen_dirs.add(key)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = os.path.relpath(dirpath, top)
        for name in sorted(filenames):
            if name.startswith(".") or TMP_MARK in name:
                continue
            rel = prefix + (name if rel_dir == "." else f"{rel_dir}/{name}").replace(os.sep, "/")
            if not _selected(rel, include, exclude):
                continue
            path = Path(dirpath) / name
            yield InputItem(path, rel, _file_problem(path))
        # A symlinked folder that leads back up the tree is reported by the walk as a folder;
        # the (dev, inode) check above stops it, so loops end instead of recursing forever.


def read_input(path: Path, max_bytes: int) -> bytes:
    """Read a whole input file, refusing ones over ``max_bytes`` before reading them."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise InputError(f"file is {size} bytes, over the max_bytes limit of {max_bytes}")
        return handle.read()


@contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A file to write ``path`` through: a temporary file renamed over ``path`` only when
    the block ends without an error, so readers see the old file or the whole new one.

    No fsync: the rename makes the write atomic for a killed process, which is the case
    resume handles; an fsync per file would cost more than cleaning a small page.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_output`)."""
    with atomic_output(path) as handle:
        handle.write(data)


def remove_stale_temp_files(outdir: Path) -> int:
    """Delete temporary files a killed run left behind."""
    count = 0
    for dirpath, _dirs, files in os.walk(outdir):
        for name in files:
            if TMP_MARK in name:
                os.unlink(os.path.join(dirpath, name))
                count += 1
    return count


def repair_torn_tail(path: Path) -> int:
    """Cut a partial last line from an append-only JSON Lines file; return bytes cut."""
    if not path.exists():
        return 0
    with open(path, "rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return 0
        block = 1 << 16
        position = size
        while position > 0:
            start = max(0, position - block)
            handle.seek(start)
            chunk = handle.read(position - start)
            index = chunk.rfind(b"\n")
            if index >= 0:
                keep = start + index + 1
                handle.truncate(keep)
                return size - keep
            position = start
        handle.truncate(0)
        return size


class LineAppender:
    """Appends whole lines to a file, one ``os.write`` per line, so lines are never torn
    by the writer itself (a SIGKILL can still cut one, which :func:`repair_torn_tail` mends)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, line: str) -> None:
        data = (line + "\n").encode("utf-8")
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def close(self) -> None:
        os.fsync(self.fd)
        os.close(self.fd)
