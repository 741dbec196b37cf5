"""Parquet in and out (``--format parquet``): each row of an input file is a document.

The output file has the same columns, schema and metadata, with the text column cleaned;
rows that fail are left out (as JSON Lines lines are) and named in provenance. A document's
source is ``FILE#ID`` with an id column (``id_field``), else ``FILE#ROW`` (from 1, like a
JSON Lines line number). Provenance records say which output row holds the document
(``output_line``) and the column (``text_field``), so ``cleankit restore`` and the audit read
the clean text back from the Parquet file.

pyarrow is imported only here, and only by Parquet runs (it comes with ``cleankit[ray]``).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from cleankit.core.errors import InputError, SettingsError, StageBug
from cleankit.core.provenance import build_record, failure_record

if TYPE_CHECKING:
    from cleankit.core.pipeline import Pipeline
    from cleankit.core.records import ProvenanceRecord


def import_pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise SettingsError("Parquet needs pyarrow: pip install 'cleankit[ray]'") from exc
    return pyarrow


def clean_parquet(
    pipeline: Pipeline,
    raw: bytes,
    rel: str,
    fingerprint: str,
    internal_error: Any,
    expected: tuple[type[BaseException], ...],
) -> tuple[list[ProvenanceRecord], bytes | None]:
    """Clean every row of a Parquet file: its records (failures included) and the output
    file's bytes (None when the file itself cannot be read as Parquet)."""
    pa = import_pyarrow()
    settings = pipeline.settings
    text_field, id_field = settings.text_field, settings.id_field
    try:
        table = pa.parquet.read_table(io.BytesIO(raw))
    except (pa.ArrowException, OSError) as exc:
        return [failure_record(rel, f"not a readable Parquet file: {exc}", fingerprint)], None
    if text_field not in table.column_names:
        return [failure_record(rel, f"no column {text_field!r} in the Parquet file", fingerprint)], None
    if id_field and id_field not in table.column_names:
        return [failure_record(rel, f"no column {id_field!r} (id_field) in the Parquet file", fingerprint)], None
    texts = table.column(text_field).to_pylist()
    ids = table.column(id_field).to_pylist() if id_field else None
    records: list[ProvenanceRecord] = []
    kept_rows: list[int] = []
    cleaned: list[str] = []
    for row, text in enumerate(texts):
        source = f"{rel}#{ids[row] if ids is not None else row + 1}"
        try:
            if not isinstance(text, str):
                raise InputError(f"no string in column {text_field!r}")
            document = pipeline.clean_text(text, source=source)
        except StageBug as exc:
            records.append(failure_record(source, f"row {row + 1}: {internal_error(exc)}", fingerprint))
            continue
        except expected as exc:
            records.append(failure_record(source, f"row {row + 1}: {exc}", fingerprint))
            continue
        record = build_record(document, fingerprint, rel)
        record["output_line"] = len(cleaned)
        record["text_field"] = text_field
        records.append(record)
        kept_rows.append(row)
        cleaned.append(document.text)
    out = table.take(pa.array(kept_rows, type=pa.int64()))
    position = out.column_names.index(text_field)
    out = out.set_column(position, out.schema.field(position), pa.array(cleaned, type=out.schema.field(position).type))
    sink = io.BytesIO()
    pa.parquet.write_table(out, sink)
    return records, sink.getvalue()


def read_column(data: bytes, column: str) -> list[Any]:
    """The cells of one column of a Parquet file (the clean texts of its documents)."""
    pa = import_pyarrow()
    try:
        table = pa.parquet.read_table(io.BytesIO(data), columns=[column])
    except (pa.ArrowException, OSError) as exc:
        raise KeyError(f"column {column!r}: {exc}") from exc
    return list(table.column(column).to_pylist())
