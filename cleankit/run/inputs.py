"""What a run's inputs are, found before anything is written.

:func:`look_at_inputs` lists the documents of the files, folders and URLs a run is given,
and keeps what it met on the way: inputs that are not there, ``--include``/``--exclude``
patterns that matched nothing, folders passed over (a cleankit output folder under an
input). :func:`json_lines_inputs` decides whether inputs named as text are JSON Lines, which
cleaned as text would come out as broken JSON. Neither prints: the command line says what
they found.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cleankit.core.errors import UsageError
from cleankit.core.settings import Settings
from cleankit.io.files import InputItem, InputList, display
from cleankit.io.selection import Selection


@dataclass
class Looked:
    """What looking at the inputs found, before anything is written."""

    items: Sequence[InputItem]
    selection: Selection
    missing: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """What exit code 5 stands for: an input that is not there, a pattern that matched nothing."""
        found = [f"{display(path)}: no such file or folder" for path in self.missing]
        found += [f"{flag} {pattern!r} matched nothing" for flag, pattern in self.selection.unmatched()]
        return found

    @property
    def passed_over(self) -> list[dict[str, str]]:
        """Folders left out as a whole, each with why (the form ``--json`` prints)."""
        return [{"path": path, "why": why} for path, why in self.selection.passed_over]


def look_at_inputs(paths: Sequence[Path | str], outdir: Path, settings: Settings) -> Looked:
    """Discover the inputs without writing anything. Inputs that are URLs are listed where
    they live; what --include/--exclude matched is counted on local inputs only. An output
    folder that is one of the input folders is a :class:`UsageError`."""
    from cleankit.io.files import discover
    from cleankit.io.remote import discover_inputs

    local = [path for path in paths if isinstance(path, Path)]
    for path in local:
        if path.is_dir() and os.path.realpath(path) == os.path.realpath(outdir):
            raise UsageError(f"the output folder {display(str(outdir))} is an input folder; choose another")
    missing = [str(path) for path in local if not os.path.lexists(path)]
    selection = Selection(list(settings.include), list(settings.exclude))
    found: Iterable[InputItem]
    if len(local) == len(paths):
        present = [path for path in local if os.path.lexists(path)]
        found = discover(present, settings.include, settings.exclude, skip_dirs=[outdir], selection=selection)
    else:
        present_or_urls = [path for path in paths if not isinstance(path, Path) or os.path.lexists(path)]
        found = discover_inputs(present_or_urls, settings.include, settings.exclude, skip_dirs=[outdir])
        selection = Selection()
    return Looked(InputList(found), selection, missing)


def json_lines_inputs(settings: Settings, paths: Sequence[Path | str]) -> list[str]:
    """The inputs, named without --jsonl, that hold JSON Lines: every input (the run should
    read them as JSON Lines) or none. A file of plain JSON, or JSON Lines among other
    inputs, is a :class:`UsageError` (either way the output would be broken JSON)."""
    if settings.jsonl or settings.parquet:
        return []
    from cleankit.run.jsonl import SNIFF_BYTES, json_kind

    kinds: dict[Path | str, str | None] = {}
    for path in paths:
        if not isinstance(path, Path) or not path.is_file():
            kinds[path] = None
            continue
        try:
            with open(path, "rb") as handle:
                kinds[path] = json_kind(path.name, handle.read(SNIFF_BYTES))
        except OSError:
            kinds[path] = None  # reported with its reason when the run reads it
    for path, kind in kinds.items():
        if kind == "json":
            raise UsageError(f"{display(str(path))} holds JSON, not text or JSON Lines (one object per line)")
    lines = [str(path) for path, kind in kinds.items() if kind == "jsonl"]
    if lines and len(lines) < len(paths):
        raise UsageError(
            f"{display(lines[0])} is JSON Lines and other inputs are not: give --jsonl to read every input "
            "as JSON Lines, or clean it in a run of its own"
        )
    return lines
