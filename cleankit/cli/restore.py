"""``cleankit restore``: the original text or bytes of a document, rebuilt from its clean
text and provenance record alone."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from cleankit.cli.app import app
from cleankit.cli.common import ColorOption, consoles, usage_error
from cleankit.core.errors import AuditError, RestoreError
from cleankit.core.records import ProvenanceRecord
from cleankit.io.files import PROVENANCE_FILE


def find_record(provenance: Path, source: str) -> ProvenanceRecord:
    """The latest record of ``source``, matched as every audit command matches sources
    (:func:`cleankit.audit.records.find_records`)."""
    from cleankit.audit.records import find_records
    from cleankit.core.provenance import read_records

    if not provenance.is_file():
        if provenance.name == PROVENANCE_FILE:
            usage_error(
                f"{provenance.parent}: no {PROVENANCE_FILE} here; is this the output folder of `cleankit clean`?"
            )
        usage_error(f"{provenance}: no such provenance file")
    found = find_records(list(read_records(provenance)), source)
    if not found:
        usage_error(f"no provenance record for {source!r} in {provenance}")
    return found[-1]


def _clean_text_of(record: ProvenanceRecord, outdir: Path) -> str:
    from cleankit.audit.records import CleanTextReader

    if record.get("output") is None and record.get("status") == "duplicate":
        return ""  # a near-duplicate's record removes its whole text: restore needs no file
    try:
        return CleanTextReader(outdir)(record)
    except AuditError as exc:
        raise RestoreError(str(exc)) from exc


@app.command()
def restore(
    outdir: Annotated[Optional[Path], typer.Argument(metavar="[OUTDIR]", help="Output folder of a clean run.")] = None,
    source: Annotated[
        Optional[str], typer.Argument(metavar="[SOURCE]", help="Input path as recorded in provenance.")
    ] = None,
    as_bytes: Annotated[bool, typer.Option("--bytes", help="Write the original raw bytes instead of text.")] = False,
    provenance: Annotated[
        Optional[Path], typer.Option(metavar="FILE", help="Provenance file (standard-input runs).")
    ] = None,
    clean_file: Annotated[
        Optional[Path], typer.Option("--clean", metavar="FILE", help="Clean text file (standard-input runs).")
    ] = None,
    color: ColorOption = "auto",
) -> None:
    """Print the original text of SOURCE, rebuilt from its clean output and provenance alone."""
    try:
        if provenance is not None and clean_file is not None:
            record = find_record(provenance, source or "-")
            clean = clean_file.read_bytes().decode("utf-8")
        elif outdir is not None and source is not None:
            record = find_record(outdir / PROVENANCE_FILE, source)
            if record.get("status") == "failed":
                raise RestoreError(f"{source} failed to clean ({record.get('error')}); nothing to restore")
            clean = _clean_text_of(record, outdir)
        else:
            usage_error("give OUTDIR SOURCE, or --provenance FILE --clean FILE")
        from cleankit.core.provenance import restore_bytes_from_record, restore_from_record

        if as_bytes:
            sys.stdout.buffer.write(restore_bytes_from_record(clean, record))
        else:
            sys.stdout.buffer.write(restore_from_record(clean, record).encode("utf-8", errors="surrogatepass"))
        sys.stdout.flush()
    except (RestoreError, OSError, UnicodeDecodeError) as exc:
        consoles.err.print(f"restore failed: {exc}")
        raise typer.Exit(1) from exc
