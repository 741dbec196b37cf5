"""Files in and out: finding inputs, reading them read-only, writing outputs atomically.

Inputs are only ever opened with ``"rb"``. Every output is written to a temporary file
beside its destination and renamed over it, so a killed run leaves either the old file
or the new one, never half of one. Provenance lines are appended with one ``write`` each
and a torn last line (a run killed mid-write) is cut off before the next run appends.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, overload

from cleankit.core.errors import InputError, OutputBusy, OutputError

if TYPE_CHECKING:
    from cleankit.io.selection import Selection

TMP_MARK = ".cleankit-tmp-"
PROVENANCE_FILE = "provenance.jsonl"
SUMMARY_FILE = "summary.json"
# What names standard input on the command line, and in provenance unless --stdin-name says otherwise.
STDIN = "-"
INDEX_FILE = "neardup-index.sqlite"
# The index's name in cleankit 0.1; an output folder that has it is moved to INDEX_FILE.
LEGACY_INDEX_FILE = "dedup-index.sqlite"
# What the runner knows of the folder (finished files, the end-of-run journal): run/state.py.
STATE_FILE = "run-state.sqlite"
LOCK_FILE = ".cleankit.lock"
RESERVED_NAMES = {
    PROVENANCE_FILE,
    SUMMARY_FILE,
    *(name + suffix for name in (INDEX_FILE, LEGACY_INDEX_FILE, STATE_FILE) for suffix in ("", "-wal", "-shm")),
}
# Write errors that are the output folder's, not one document's: every later write would
# fail the same way, so the run stops with one line instead of failing each document.
FOLDER_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EFBIG}
)


@dataclass(frozen=True)
class InputItem:
    """One input file: where it is, where its output goes, or why it cannot be read."""

    path: Path | str  # a URL string for a remote input (cleankit.io.remote)
    rel: str
    error: str | None = None


# Any str to bytes and back unchanged, a file name's lone surrogates (surrogateescape) included.
_NAME_CODEC = ("utf-8", "surrogatepass")


class InputList(Sequence[InputItem]):
    """A run's input items held as two byte strings (every path, every output name) and the
    offsets where each ends, not as an object each: the list is made before the run forks its
    nurseries, and every worker they fork maps what the parent holds then (as a list of
    ``InputItem`` the 20,000-page crawl's was 11.6 MB, ~580 B a file, in each of them). An item
    is made again, equal to the one given, when it is asked for."""

    __slots__ = ("_errors", "_names", "_paths", "_urls")

    def __init__(self, items: Iterable[InputItem] = ()) -> None:
        paths, names = bytearray(), bytearray()
        path_ends, name_ends = array("Q"), array("Q")
        self._urls: set[int] = set()  # the items whose path is a URL string, not a Path
        self._errors: dict[int, str] = {}
        for index, item in enumerate(items):
            if not isinstance(item.path, Path):
                self._urls.add(index)
            if item.error is not None:
                self._errors[index] = item.error
            paths += str(item.path).encode(*_NAME_CODEC)
            path_ends.append(len(paths))
            names += item.rel.encode(*_NAME_CODEC)
            name_ends.append(len(names))
        self._paths = (bytes(paths), path_ends)
        self._names = (bytes(names), name_ends)

    def __len__(self) -> int:
        return len(self._paths[1])

    @overload
    def __getitem__(self, index: int) -> InputItem: ...

    @overload
    def __getitem__(self, index: slice) -> list[InputItem]: ...

    def __getitem__(self, index: int | slice) -> InputItem | list[InputItem]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("input index out of range")
        path = _piece(self._paths, index)
        return InputItem(
            path if index in self._urls else Path(path), _piece(self._names, index), self._errors.get(index)
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (InputList, list)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"InputList({list(self)!r})"


def _piece(blob: tuple[bytes, array[int]], index: int) -> str:
    data, ends = blob
    return data[ends[index - 1] if index else 0 : ends[index]].decode(*_NAME_CODEC)


def display(text: str) -> str:
    """A file name made printable even when it is not valid UTF-8."""
    return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")


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
    inputs: list[Path],
    include: list[str],
    exclude: list[str],
    skip_dirs: list[Path] | None = None,
    selection: Selection | None = None,
) -> Iterator[InputItem]:
    """Expand files and folders into input items, in a stable order.

    A single folder maps to output paths relative to it; with several inputs each keeps
    its own name as the first path component so outputs cannot collide. Hidden files and
    folders (names starting with a dot) are passed over, as are the folders in
    ``skip_dirs`` (the output folder, when it lies inside an input). Which files and
    folders are taken is the ``selection``'s decision (:mod:`cleankit.io.selection`: the
    include/exclude globs, cleankit output folders), which also records what it passed over.
    """
    from cleankit.io.selection import Selection

    selection = selection or Selection(include, exclude)
    skip = {os.path.realpath(d) for d in (skip_dirs or [])}
    single_folder = len(inputs) == 1 and inputs[0].is_dir()
    for top in inputs:
        if not os.path.lexists(top):
            yield InputItem(top, display(str(top)), "no such file or folder")
            continue
        if not top.is_dir():
            yield InputItem(top, top.name, _file_problem(top))
            continue
        if not selection.wants_folder("", top):
            continue
        prefix = "" if single_folder else (top.resolve().name + "/")
        yield from _walk(top, prefix, selection, skip)


def _walk(top: Path, prefix: str, selection: Selection, skip: set[str]) -> Iterator[InputItem]:
    """Files under ``top`` in os.walk's top-down order, without recursion (a tree nested a
    thousand folders deep must not end the run with RecursionError). A folder that cannot be
    listed is an input item with its error, so it is named and the run exits 1."""
    seen_dirs: set[tuple[int, int]] = set()

    def is_skipped(path: str, key: tuple[int, int] | None) -> bool:
        # realpath costs an lstat per component of the path: asked of every folder, it made a
        # tree nested 990 deep a million lstats (70 s). A folder whose realpath is a skipped
        # one is that folder (which exists now), with its device and inode: realpath is asked
        # only of a folder that has them.
        if not skip:
            return False
        if key is not None and key not in _existing_keys(skip):
            return False
        return os.path.realpath(path) in skip

    stack: list[str] = [str(top)]
    while stack:
        dirpath = stack.pop()
        rel_dir = os.path.relpath(dirpath, top)
        try:
            info = os.stat(dirpath)
            key = (info.st_dev, info.st_ino)
            # A symlinked folder that leads back up the tree is seen twice: stop there.
            if key in seen_dirs or is_skipped(dirpath, key):
                continue
            seen_dirs.add(key)
            with os.scandir(dirpath) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            rel = prefix + (rel_dir.replace(os.sep, "/") + "/" if rel_dir != "." else "")
            yield InputItem(Path(dirpath), rel or "./", f"cannot read folder: {exc.strerror or exc}")
            continue
        folders: list[str] = []
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            if _is_dir(entry):
                under = prefix + ("" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/")
                if is_skipped(entry.path, _key(entry)) or selection.wants_folder(under + name, entry.path):
                    folders.append(entry.path)  # the output folder itself is passed over just below
                continue
            if TMP_MARK in name:
                continue
            rel = prefix + (name if rel_dir == "." else f"{rel_dir}/{name}").replace(os.sep, "/")
            if not selection.wants_file(rel):
                continue
            path = Path(entry.path)
            yield InputItem(path, rel, _file_problem(path))
        stack.extend(reversed(folders))


def _existing_keys(paths: set[str]) -> set[tuple[int, int]]:
    """(device, inode) of each of ``paths`` that exists now."""
    keys = set()
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            continue
        keys.add((info.st_dev, info.st_ino))
    return keys


def _key(entry: os.DirEntry[str]) -> tuple[int, int] | None:
    """(device, inode) of what ``entry`` leads to (symlinks followed); None when unknown."""
    try:
        info = entry.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """A folder, or a symlink to one (followed, as os.walk(followlinks=True) does)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def walk_files(top: Path) -> Iterator[Path]:
    """Every file under ``top`` (symlinks not followed), without recursion."""
    stack = [str(top)]
    while stack:
        try:
            with os.scandir(stack.pop()) as listing:
                for entry in listing:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:
                        yield Path(entry.path)
        except OSError:
            continue


def open_input(path: Path | str) -> BinaryIO:
    """An input file opened for reading: a local path, or a URL (:mod:`cleankit.io.remote`)."""
    if isinstance(path, str) and "://" in path:
        from cleankit.io.remote import is_url, open_url

        if is_url(path):
            return open_url(path)  # type: ignore[return-value]
    return open(path, "rb")


def read_input(path: Path | str, max_bytes: int) -> bytes:
    """Read a whole input file, refusing ones over ``max_bytes`` before reading them."""
    with open_input(path) as handle:
        try:
            size = os.fstat(handle.fileno()).st_size
        except (OSError, AttributeError, NotImplementedError, ValueError):  # a remote file
            size = int(getattr(handle, "size", 0) or 0)
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
    make_dirs(path.parent)
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


def make_dirs(path: Path) -> None:
    """``mkdir -p`` without recursion (``Path.mkdir(parents=True)`` recurses once per level)."""
    missing: list[Path] = []
    current = path
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            if not folder.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "a file is in the way", str(folder)) from None


def remove_stale_temp_files(outdir: Path) -> int:
    """Delete temporary files a killed run left behind."""
    count = 0
    for path in walk_files(outdir):
        if TMP_MARK in path.name:
            path.unlink(missing_ok=True)
            count += 1
    return count


def folder_error(exc: OSError, path: Path | str) -> OutputError | None:
    """The run-stopping error for a write failure that is the output folder's (disk full,
    read-only, no permission), or None when it is one document's (a name too long, say)."""
    if exc.errno not in FOLDER_ERRNOS:
        return None
    return OutputError(f"cannot write {display(str(path))}: {exc.strerror or exc}")


def prepare_outdir(outdir: Path) -> None:
    """Create the output folder, or say in one line why it cannot be one."""
    shown = display(str(outdir))
    if os.path.lexists(outdir) and not outdir.is_dir():
        raise OutputError(f"{shown}: exists and is not a folder; choose another output folder")
    try:
        make_dirs(outdir)
    except NotADirectoryError as exc:
        raise OutputError(f"{shown}: cannot create the output folder: {display(str(exc.filename))} is a file") from exc
    except OSError as exc:
        raise OutputError(f"{shown}: cannot create the output folder: {exc.strerror or exc}") from exc


# Descriptors of the locks this process holds: a forked worker closes its copies
# (release_inherited_locks), so a killed run's workers, dying a moment after it, never hold
# the folder against the rerun.
_LOCK_FDS: set[int] = set()


def release_inherited_locks() -> None:
    """In a forked child: close the copies of the parent's lock descriptors (the parent keeps
    its lock)."""
    for fd in list(_LOCK_FDS):
        with suppress(OSError):
            os.close(fd)
    _LOCK_FDS.clear()


class FolderLock:
    """One run at a time per output folder: an exclusive ``flock`` on ``OUTDIR/.cleankit.lock``
    holding the owner's pid. The kernel drops the lock when its process dies, so a killed run
    never leaves a stale lock; where ``flock`` is not supported (some network file systems) a
    lock whose pid is no longer running is taken over."""

    def __init__(self, outdir: Path) -> None:
        self.path = outdir / LOCK_FILE
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot write {display(str(outdir))}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder()
            os.close(self.fd)
            raise OutputBusy(
                f"{display(str(outdir))}: another cleankit run (pid {holder or '?'}) is writing into this "
                "folder; wait for it to end or choose another output folder"
            ) from None
        except OSError:
            holder = self._holder()
            if holder and holder != os.getpid() and _running(holder):
                os.close(self.fd)
                raise OutputBusy(
                    f"{display(str(outdir))}: another cleankit run (pid {holder}) is writing into this folder"
                ) from None
        try:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as exc:
            os.close(self.fd)
            raise OutputError(f"cannot write {display(str(self.path))}: {exc.strerror or exc}") from exc
        _LOCK_FDS.add(self.fd)

    def _holder(self) -> int | None:
        try:
            return int(os.pread(self.fd, 32, 0).decode().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        if self.fd >= 0:
            _LOCK_FDS.discard(self.fd)
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = -1


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    """Appends whole lines to a file the run alone writes (it holds the folder's lock), so the
    offset of every append is known without asking the file. A SIGKILL can cut the last line,
    which :func:`repair_torn_tail` mends at the next start."""

    def __init__(self, path: Path) -> None:
        make_dirs(path.parent)
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.position = os.fstat(self.fd).st_size

    def append(self, line: str) -> None:
        self.append_bytes((line + "\n").encode("utf-8"))

    def append_bytes(self, data: bytes, limit: int | None = None) -> int:
        """Append ``data`` (whole lines); return the offset it starts at. ``limit`` writes only
        that many bytes (the fault hook that leaves a torn append)."""
        offset = self.position
        view = memoryview(data)[:limit]
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
            self.position += written
        return offset

    def close(self) -> None:
        if self.fd < 0:
            return
        fd, self.fd = self.fd, -1
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
