"""Standard input cleaned as a run of one file.

The bytes are written to a file of their own in a temporary folder and go through the batch
runner like any folder run, so a JSON Lines stream is cleaned line by line and deduplicated
across its lines exactly as a file would be, and provenance is the same. The clean text
goes into an output folder, or is handed back (with the provenance) for standard output.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cleankit.core.errors import UsageError
from cleankit.core.pipeline import Pipeline
from cleankit.core.settings import Settings
from cleankit.io.files import PROVENANCE_FILE, STDIN, InputItem
from cleankit.run.summary import RunSummary

# How the caller runs a pipeline over files into a folder: (pipeline, inputs, outdir,
# force, items) -> summary. The command line passes its own (progress, failures said).
RunFiles = Callable[[Pipeline, list[Path | str], Path, bool, Sequence[InputItem]], RunSummary]


@dataclass
class StreamRun:
    summary: RunSummary
    json_lines: bool  # the stream held JSON Lines and was cleaned as such
    clean: bytes | None  # for standard output: the clean text (None: failed, or a duplicate not written)
    provenance: bytes | None  # for standard output: the provenance lines


def check_stream_name(name: str) -> None:
    """The name standard input takes in provenance and in the output folder must be a plain file name."""
    if not name or "/" in name or name in (".", "..") or name.startswith("."):
        raise UsageError(f"--stdin-name {name!r}: give a file name (no folders, not hidden)")


def clean_stream(
    raw: bytes,
    name: str,
    settings: Settings,
    *,
    output: Path | None,
    force: bool,
    build: Callable[[Settings], Pipeline],
    run: RunFiles,
) -> StreamRun:
    """Clean ``raw`` as the one file ``name``: into ``output/name`` when ``output`` is given
    (a rerun into the same folder resumes like any run), else in a temporary folder whose
    clean text and provenance are returned. Without ``--jsonl`` a stream that holds JSON
    Lines is cleaned as JSON Lines."""
    check_stream_name(name)
    json_lines = False
    if not settings.jsonl:
        from cleankit.run.json_kind import SNIFF_BYTES, json_kind

        # A stream has no name to go by: sniffed as if it were named *.jsonl.
        if json_kind(name if name != STDIN else "-.jsonl", raw[:SNIFF_BYTES]) == "jsonl":
            settings = settings.updated(jsonl=True)
            json_lines = True
    if output is None and not settings.jsonl:
        # One document into a new temporary folder is nobody's near-duplicate: the crawl's
        # pass (an index, a signature, numpy's import) could not change its output or its
        # provenance. ``neardup`` is not an output field: the settings hash stays the same.
        settings = settings.updated(neardup=False)
    with tempfile.TemporaryDirectory(prefix="cleankit-stdin-") as work:
        source = Path(work) / "in" / name
        source.parent.mkdir()
        source.write_bytes(raw)
        outdir = output if output is not None else Path(work) / "out"
        summary = run(build(settings), [source], outdir, force or output is None, [InputItem(source, name)])
        if output is not None:
            return StreamRun(summary, json_lines, None, None)
        clean_file = outdir / name
        clean = clean_file.read_bytes() if clean_file.is_file() else None
        return StreamRun(summary, json_lines, clean, (outdir / PROVENANCE_FILE).read_bytes())
