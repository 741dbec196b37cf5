"""A small on-disk cache of work that is the same in every process: rule packs read and
checked, tables derived from OpenCC's dictionaries.

A command that cleans one page in a pipe pays every start-up cost for that one page, so what
costs tens of milliseconds to derive and never changes for the same inputs is kept in the
user's cache folder (``$XDG_CACHE_HOME/cleankit``, else ``~/.cache/cleankit``; on Windows
``%LOCALAPPDATA%\\cleankit``), named by a hash of everything it was derived from. The cache is
never required: a folder that cannot be made or written, a missing, unreadable or damaged
entry are the same as no entry, and the work is done again. Entries are JSON (reading one
runs no code); each is written to a temporary file and renamed into place, so a reader never
sees half of one and two processes filling the same entry do not harm each other.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import orjson

from cleankit import __version__

# Part of every key: an entry written by another version (or another layout of an entry)
# is never read.
FORMAT = "1"


def cache_dir() -> Path | None:
    """The cache folder of this user (not created here), or None when there is no home."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return Path(base) / "cleankit" if base else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "cleankit"
    try:
        return Path.home() / ".cache" / "cleankit"
    except RuntimeError:  # no home directory
        return None


@lru_cache(maxsize=64)
def code_fingerprint(*modules: str) -> str | None:
    """A hash of the source of ``modules`` (dotted names) and of the interpreter's version:
    part of the key of anything those modules derive, so an entry made by other code is never
    read. None when a source file cannot be read (nothing is cached then)."""
    digest = hashlib.sha256(sys.version.encode())
    for name in modules:
        spec = find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is None:
            return None
        try:
            digest.update(Path(origin).read_bytes())
        except OSError:
            return None
    return digest.hexdigest()


@lru_cache(maxsize=16)
def source_fingerprint(package: str, *files: str) -> str | None:
    """A hash of ``files`` (names inside the top-level ``package``'s folder) and of the
    interpreter's version, found without importing the package: part of the key of what is
    derived from that package's code. None when the package or a file cannot be read."""
    try:
        spec = find_spec(package)
    except (ImportError, ValueError):
        return None
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    if len(folders) != 1:
        return None
    digest = hashlib.sha256(sys.version.encode())
    for name in files:
        try:
            data = (Path(folders[0]) / name).read_bytes()
        except OSError:
            return None
        digest.update(len(name).to_bytes(8, "little") + name.encode() + len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


def key_of(*parts: str | bytes) -> str:
    """A key for data derived from ``parts`` (and this cleankit version)."""
    digest = hashlib.sha256(f"{FORMAT}\0{__version__}".encode())
    for part in parts:
        data = part.encode("utf-8", errors="surrogatepass") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()[:32]


def load(kind: str, key: str) -> Any:
    """The JSON value stored under ``kind`` and ``key``, or None (no entry, or unreadable)."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        with open(folder / f"{kind}-{key}.json", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    try:
        # orjson: the same values as the json module, read 2-3x faster (the language model's
        # entry is 0.6 MB); what it refuses (an integer beyond 64 bits) is left to json.
        return orjson.loads(data)
    except ValueError:
        pass
    try:
        return json.loads(data)
    except ValueError:
        return None


def store(kind: str, key: str, value: Any) -> None:
    """Keep ``value`` (JSON-serialisable) under ``kind`` and ``key``; failures are ignored."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        data = json.dumps(value, separators=(",", ":")).encode("ascii")
    except (TypeError, ValueError):  # a value JSON cannot hold is simply not kept
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, folder / f"{kind}-{key}.json")
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return


def cached(kind: str, key: str, compute: Callable[[], Any], valid: Callable[[Any], bool]) -> Any:
    """The stored value when there is one that ``valid`` accepts, else ``compute()`` (stored)."""
    value = load(kind, key)
    if value is not None and valid(value):
        return value
    value = compute()
    store(kind, key, value)
    return value
