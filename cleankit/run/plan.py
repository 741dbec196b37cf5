"""Planning a run: which inputs become tasks, which fail before cleaning, and what an
earlier run into the same folder already finished (resume, from the run state)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cleankit.io.files import RESERVED_NAMES, InputItem, display

if TYPE_CHECKING:
    from cleankit.core.document import EncodingInfo
    from cleankit.run.state import FileRow
    from cleankit.run.summary import RunSummary


@dataclass
class Task:
    path: str
    rel: str
    prior: FileRow | None
    # What the corpus passes learned for this file (a digest); part of what "done" means.
    context: str = ""
    # How a corpus pass's survey decoded the file: (sha256 of the bytes it read, encoding).
    # The cleaner decodes the same bytes the same way instead of detecting the encoding again.
    decoding: tuple[str, EncodingInfo] | None = None


@dataclass
class FileResult:
    """What cleaning one input file produced, made ready by the worker: its provenance
    lines (serialized there), their totals, the file's row for the run state, and what each
    corpus pass observed of it. The parent only appends and merges."""

    rel: str
    lines: bytes = b""
    records: int = 0
    size: int = 0
    skipped: bool = False
    observations: dict[str, Any] | None = None
    totals: RunSummary | None = None
    row: FileRow | None = None
    # A write failure that is the output folder's (disk full, read-only): the run stops.
    output_error: str | None = None

    @property
    def failures(self) -> list[tuple[str, str]]:
        return self.totals.failures if self.totals else []

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickled as its fields in order, not as a dict of them: every result crosses a pipe
        # to the parent, which unpickles it while both cores run workers.
        return FileResult, (
            self.rel,
            self.lines,
            self.records,
            self.size,
            self.skipped,
            self.observations,
            self.totals,
            self.row,
            self.output_error,
        )


def plan(
    items: Sequence[InputItem], outdir: Path, prior: dict[str, FileRow]
) -> tuple[list[Task], list[tuple[str, str]]]:
    """Tasks for the readable inputs; (input, reason) for those that cannot be cleaned."""
    tasks: list[Task] = []
    bad: list[tuple[str, str]] = []
    seen: dict[str, InputItem] = {}
    for item in items:
        error = item.error
        if error is None and item.rel in seen:
            error = f"output path collides with {display(str(seen[item.rel].path))}"
        elif error is None and item.rel in RESERVED_NAMES:
            error = "output name would overwrite cleankit's own file"
        elif error is None and _same_file(os.path.join(outdir, item.rel), str(item.path)):
            error = "output would overwrite the input itself (choose another output folder)"
        if error:
            bad.append((item.rel, error))
        else:
            seen[item.rel] = item
            tasks.append(Task(str(item.path), item.rel, prior.get(item.rel)))
    return tasks, bad


def _same_file(output: str, source: str) -> bool:
    """Would writing ``output`` overwrite ``source``? Their resolved paths are compared only
    when the output path names something: a path that names nothing cannot resolve to an
    existing input (the common case, a fresh output folder, then costs one ``stat``, not a
    ``realpath`` of both, which is an ``lstat`` per path component)."""
    if not os.path.exists(output) and os.path.exists(source):
        return False
    return os.path.realpath(output) == os.path.realpath(source)
