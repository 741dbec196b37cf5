"""Inputs and outputs on any filesystem fsspec knows (``s3://``, ``gs://``, ``hdfs://``...).

**Inputs** given as URLs are listed here (:func:`discover_inputs`: the same order, hidden-name
and include/exclude rules as local folders) and read where they live by whichever process
cleans them (:func:`open_url`): a Ray worker reads its pages from the object store itself.

**An output URL** (``-o s3://bucket/out``) is served through a staging folder on the driver
(:class:`RemoteOutput`): the run's lock, run state, provenance and index need a local
filesystem (SQLite, ``flock``, atomic renames), so the run writes into the staging folder as
into any output folder, and :meth:`RemoteOutput.push` then uploads what changed (and removes
what the run removed, e.g. near-duplicates' outputs) — the driver alone commits, as
for local folders. :meth:`RemoteOutput.pull` first brings down what the remote holds that the
staging folder lacks (a rerun from another machine resumes from it). Workers write their
clean files into the staging folder, so on a cluster of several machines it must be a
shared filesystem (``--stage``).

Connection settings come from fsspec's configuration (e.g. ``FSSPEC_S3_ENDPOINT_URL`` for an
S3-compatible server) and the usual credentials (``AWS_ACCESS_KEY_ID``...); the Ray engine
passes these environment variables on to its workers.

fsspec is imported only when a URL is used (it comes with ``cleankit[ray]``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from cleankit.core.errors import UsageError
from cleankit.io.files import InputItem, discover, display, walk_files, write_atomic
from cleankit.io.selection import Selection

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# What the staging folder remembers of its last upload: path -> sha256.
PUSHED_FILE = ".cleankit-pushed.json"
# Environment variables the workers need to reach the same filesystems as the driver.
FORWARDED_ENV = re.compile(r"^(FSSPEC_|AWS_|GOOGLE_|AZURE_|HADOOP_|ARROW_)")


def is_url(value: str | os.PathLike[str]) -> bool:
    return isinstance(value, str) and bool(URL.match(value))


def _fsspec() -> Any:
    try:
        import fsspec
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise UsageError("inputs and outputs given as URLs need fsspec: pip install 'cleankit[ray]'") from exc
    return fsspec


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` and the path within it."""
    fs, path = _fsspec().core.url_to_fs(url)
    return fs, str(path).rstrip("/")


def open_url(url: str) -> IO[bytes]:
    fs, path = filesystem(url)
    handle: IO[bytes] = fs.open(path, "rb")
    return handle


def size_of(url: str) -> int:
    fs, path = filesystem(url)
    return int(fs.size(path))


def _join(url: str, rel: str) -> str:
    return url.rstrip("/") + "/" + rel


def _walk_url(top: str, prefix: str, include: list[str], exclude: list[str]) -> Iterator[InputItem]:
    fs, root = filesystem(top)
    try:
        if not fs.exists(root):
            yield InputItem(Path(top), top, "no such file or folder")
            return
        if not fs.isdir(root):
            yield InputItem(top, prefix + root.rsplit("/", 1)[-1])
            return
        found = sorted(fs.find(root, detail=False))
    except OSError as exc:
        yield InputItem(top, prefix or top, f"cannot read folder: {exc}")
        return
    selection = Selection(include, exclude)
    for path in found:
        rel = str(path)[len(root) :].lstrip("/")
        if any(part.startswith(".") for part in rel.split("/")) or not selection.wants_file(prefix + rel):
            continue
        yield InputItem(_join(top, rel), prefix + rel)


def discover_inputs(
    inputs: Sequence[Path | str], include: list[str], exclude: list[str], skip_dirs: list[Path] | None = None
) -> Iterator[InputItem]:
    """:func:`cleankit.io.files.discover` for inputs that may be URLs (an item's ``path`` is
    then the URL string): one input maps to paths relative to it; with several each keeps
    its own name as the first path component."""
    if not any(is_url(top) for top in inputs):
        yield from discover([Path(top) for top in inputs], include, exclude, skip_dirs)
        return
    for top in inputs:
        if is_url(top):
            name = str(top).rstrip("/").rsplit("/", 1)[-1]
            yield from _walk_url(str(top), "" if len(inputs) == 1 else name + "/", include, exclude)
        else:
            for item in discover([Path(top)], include, exclude, skip_dirs):
                if len(inputs) > 1 and Path(top).is_dir():
                    item = replace(item, rel=f"{Path(top).resolve().name}/{item.rel}")
                yield item


def staging_folder(url: str) -> Path:
    """Where an output URL is staged unless ``--stage`` says: under the user's cache."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256(url.rstrip("/").encode("utf-8")).hexdigest()[:16]
    return base / "cleankit" / "stage" / digest


@dataclass
class RemoteOutput:
    """An output folder at ``url``, staged in ``stage`` (see the module's doc)."""

    url: str
    stage: Path

    def pull(self) -> int:
        """Download what the remote holds and the staging folder lacks (or holds otherwise
        than it last pushed); returns how many files came down."""
        fs, root = filesystem(self.url)
        if not fs.exists(root):
            return 0
        pushed = self._pushed()
        count = 0
        for path in sorted(fs.find(root, detail=False)):
            rel = str(path)[len(root) :].lstrip("/")
            local = self.stage / rel
            if local.exists() and rel in pushed and _sha256(local) == pushed[rel]:
                continue
            with fs.open(path, "rb") as handle:
                write_atomic(local, handle.read())
            count += 1
        return count

    def push(self) -> tuple[int, int]:
        """Upload the staged files that changed since the last push and remove the remote
        files the run removed; returns (uploaded, removed)."""
        fs, root = filesystem(self.url)
        pushed = self._pushed()
        now: dict[str, str] = {}
        uploaded = 0
        for path in sorted(walk_files(self.stage)):
            rel = path.relative_to(self.stage).as_posix()
            if rel.startswith(".") or "/." in rel or rel.endswith(("-wal", "-shm")):
                continue  # the lock, temporary files, SQLite's side files (checkpointed below)
            sha = _sha256(path)
            now[rel] = sha
            if pushed.get(rel) != sha:
                fs.pipe_file(f"{root}/{rel}", path.read_bytes())
                uploaded += 1
        removed = 0
        for rel in sorted(set(pushed) - set(now)):
            try:
                fs.rm_file(f"{root}/{rel}")
                removed += 1
            except FileNotFoundError:
                pass
        write_atomic(self.stage / PUSHED_FILE, json.dumps(now, sort_keys=True).encode("utf-8"))
        return uploaded, removed

    def _pushed(self) -> dict[str, str]:
        try:
            data = json.loads((self.stage / PUSHED_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def describe(self) -> str:
        return f"{display(self.url)} (staged in {display(str(self.stage))})"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
