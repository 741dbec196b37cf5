"""The reviewer's commands: ``cleankit diff``, ``stats`` and ``report`` over an output folder.

Layout edits (only line breaks: a ``\n`` that became ``\n\n`` between paragraphs) are not
removals: the labelled diff, ``stats`` and the report leave them out unless ``--layout`` (or a
``--stage``/``--rule`` filter naming them) asks for them. The plain unified diff always holds
every change, so that ``patch`` rebuilds the clean text.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.text import Text

from cleankit.cli.app import app
from cleankit.cli.common import ColorOption, OutdirArgument, consoles, usage_error
from cleankit.core.errors import AuditError
from cleankit.core.records import ProvenanceRecord
from cleankit.io.files import display

if TYPE_CHECKING:
    from cleankit.audit.records import AuditedDocument

LayoutOption = Annotated[
    bool, typer.Option("--layout", help="Also show layout edits (only line breaks), hidden by default.")
]


def _audit_records(outdir: Path) -> list[ProvenanceRecord]:
    from cleankit.audit.records import read_outdir

    try:
        return read_outdir(outdir)
    except AuditError as exc:
        usage_error(str(exc))


@app.command("diff")
def diff_command(
    outdir: OutdirArgument,
    sources: Annotated[
        Optional[list[str]],
        typer.Argument(metavar="[SOURCE]...", help="Inputs as recorded in provenance (default: every document)."),
    ] = None,
    context: Annotated[
        int, typer.Option("-C", "--context", metavar="N", min=0, help="Unchanged lines around each change.")
    ] = 3,
    stage: Annotated[
        Optional[list[str]], typer.Option(metavar="STAGE", help="Only changes made by this stage (repeatable).")
    ] = None,
    rule: Annotated[
        Optional[list[str]],
        typer.Option(metavar="RULE", help="Only changes made by this rule, RULE or STAGE/RULE (repeatable)."),
    ] = None,
    plain: Annotated[
        bool, typer.Option("--plain", help="Plain unified diff of every change (the default when not a terminal).")
    ] = False,
    inline: Annotated[
        bool, typer.Option("--inline", help="Labelled inline view even when not a terminal (colour only on one).")
    ] = False,
    layout: LayoutOption = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="The change list as JSON Lines: one object per document.")
    ] = False,
    color: ColorOption = "auto",
) -> None:
    """Show the original against the clean text, each change labelled by stage and rule.

    On a terminal (or with --inline) each change is shown in place and layout edits (line
    breaks only) are left out unless --layout; piped (or with --plain) it is a unified diff of
    every change that patch applies to the original."""
    from cleankit.audit.diff import describe, render_inline, unified
    from cleankit.audit.records import CleanTextReader, filtered, find_records, load_document
    from cleankit.core.provenance import dumps

    if sum((plain, inline, as_json)) > 1:
        usage_error("--plain, --inline and --json exclude each other")
    records = _audit_records(outdir)
    out, err = consoles.out, consoles.err
    labelled = inline or (not plain and not as_json and out.is_terminal)
    colour = out.color_system is not None
    problems = 0
    if sources:
        chosen = []
        for source in sources:
            found = find_records(records, source)
            if not found:
                err.print(f"diff: no provenance record for {display(source)!r} in {display(str(outdir))}")
                problems += 1
            chosen.extend(found)
    else:
        chosen = records
    failed_quietly = 0
    read_clean = CleanTextReader(outdir)
    for record in chosen:
        try:
            doc = load_document(record, read_clean)
        except AuditError as exc:
            if sources:
                err.print(f"diff: {display(str(exc))}")
                problems += 1
            else:
                failed_quietly += 1
            continue
        if as_json:
            sys.stdout.write(dumps(change_list(filtered(doc, stage or (), rule or ()))) + "\n")
        elif labelled:
            view = filtered(doc, stage or (), rule or (), layout=layout)
            body = render_inline(view, context, colour=colour)
            if not body.plain and not sources:
                continue
            out.print(f"━━ {display(record['source'])} ━━ {describe(doc)}", style="bold")
            hidden = "(only layout edits: --layout shows them)" if doc.changes else "(no changes)"
            out.print(body if body.plain else hidden, end="")
            out.print()
        else:
            sys.stdout.flush()
            view = filtered(doc, stage or (), rule or ())
            sys.stdout.buffer.write(unified(view, context).encode("utf-8", errors="surrogatepass"))
    sys.stdout.flush()
    if failed_quietly:
        err.print(f"diff: {failed_quietly} document(s) not shown (failed, or no clean output); see cleankit stats")
    raise typer.Exit(1 if problems else 0)


def change_list(doc: AuditedDocument) -> dict[str, Any]:
    """One document's changes for machines: offsets in the original and the clean text
    (code points), the text before and after, the stage/rule labels, and whether the change
    is layout (only line breaks)."""
    from cleankit.audit.records import is_layout_change, labels_of

    edits = doc.record["edits"]
    return {
        "source": doc.record["source"],
        "status": doc.record.get("status", "ok"),
        "original_chars": len(doc.original),
        "clean_chars": len(doc.clean),
        "changes": [
            {
                "original": [change.orig_start, change.orig_end],
                "clean": [change.clean_start, change.clean_end],
                "old": doc.original[change.orig_start : change.orig_end],
                "new": doc.clean[change.clean_start : change.clean_end],
                "labels": labels_of(change, edits),
                "layout": is_layout_change(change, edits),
            }
            for change in doc.changes
        ],
    }


@app.command("stats")
def stats_command(
    outdir: OutdirArgument,
    as_json: Annotated[bool, typer.Option("--json", help="Print every figure as JSON (layout included).")] = False,
    top: Annotated[int, typer.Option(metavar="N", min=0, help="How many documents and clusters to list.")] = 20,
    layout: LayoutOption = False,
    color: ColorOption = "auto",
) -> None:
    """Totals per stage and rule, encodings, duplicate clusters and the most-changed documents.

    Layout edits (only line breaks) are counted apart from removals: one line says how many,
    --layout puts them in the tables."""
    from cleankit.audit.stats import corpus_stats
    from cleankit.core.provenance import dumps

    figures = corpus_stats(_audit_records(outdir), top=top)
    if as_json:
        typer.echo(dumps(figures, indent=2))
        return
    _print_stats(figures, consoles.out, layout)


def _content_counts(entry: dict[str, Any], layout: bool) -> tuple[int, int, int]:
    """(edits, chars removed, chars added) of a stats row, without its layout edits unless asked."""
    if layout:
        return entry["edits"], entry["chars_removed"], entry["chars_added"]
    return (
        entry["edits"] - entry.get("layout_edits", 0),
        entry["chars_removed"] - entry.get("layout_chars_removed", 0),
        entry["chars_added"] - entry.get("layout_chars_added", 0),
    )


def _print_stats(figures: dict[str, Any], out: Console, layout: bool) -> None:
    from rich.table import Table  # only here: every command loads this module

    statuses = ", ".join(f"{name} {count}" for name, count in figures["statuses"].items())
    out.print(
        f"{figures['documents']} document(s): {statuses}. {figures['original_chars']:,} original characters, "
        f"{figures['removed_chars']:,} changed or removed ({figures['removed_share']:.2%}), "
        f"{figures['clean_chars']:,} clean."
    )
    found = figures["layout"]
    if found["edits"]:
        shown = "shown in the tables" if layout else "--layout shows them in the tables"
        out.print(
            f"layout (line breaks only, not counted as removed): {found['edits']:,} edit(s) in "
            f"{found['documents']:,} document(s), by {', '.join(found['rules'])}; {shown}"
        )
    for title, rows in (("per stage", figures["stages"]), ("per rule", figures["rules"])):
        table = Table(title=title, title_justify="left")
        columns = [
            "stage" if title == "per stage" else "stage/rule",
            "documents",
            "edits",
            "chars removed",
            "chars added",
        ]
        if layout:
            columns.append("layout edits")
        for column in columns:
            table.add_column(column, justify="left" if column.startswith("stage") else "right", overflow="fold")
        for key, entry in rows.items():
            edits, removed, added = _content_counts(entry, layout)
            if not edits:
                continue  # a rule that only laid text out
            cells = [f"{entry['documents']:,}", f"{edits:,}", f"{removed:,}", f"{added:,}"]
            if layout:
                cells.append(f"{entry.get('layout_edits', 0):,}")
            table.add_row(Text(key), *cells)
        out.print(table)
    if figures["encodings"]:
        out.print("encodings: " + ", ".join(f"{n} {c}" for n, c in figures["encodings"].items()))
    duplicates = figures["duplicates"]
    if duplicates["clusters"]:
        sizes = ", ".join(f"{count}×{size}" for size, count in duplicates["cluster_sizes"].items())
        out.print(
            f"duplicate clusters: {duplicates['clusters']} ({duplicates['documents_marked']} documents marked "
            f"duplicate_of); sizes: {sizes}",
            markup=False,
        )
        for cluster in duplicates["largest"]:
            names = ", ".join(display(d["source"]) for d in cluster["duplicates"][:5])
            more = f" +{len(cluster['duplicates']) - 5}" if len(cluster["duplicates"]) > 5 else ""
            out.print(f"  {cluster['size']}: kept {display(cluster['kept'])} ← {names}{more}")
    else:
        out.print("duplicate clusters: none")
    table = Table(title="largest share of the original removed", title_justify="left")
    for column in ("document", "original", "clean", "removed", "share", "most removed by"):
        table.add_column(
            column, justify="left" if column in ("document", "most removed by") else "right", overflow="fold"
        )
    for doc in figures["largest_share_removed"]:
        table.add_row(
            Text(display(doc["source"])),  # a name is data, never rich markup
            f"{doc['original_chars']:,}",
            f"{doc['clean_chars']:,}",
            f"{doc['removed_chars']:,}",
            f"{doc['removed_share']:.1%}",
            Text(doc["rules"][0] if doc["rules"] else ""),
        )
    out.print(table)
    for failure in figures["failures"][:20]:
        out.print(f"failed {display(failure['source'])}: {display(failure['error'])}")
    if len(figures["failures"]) > 20:
        out.print(f"... and {len(figures['failures']) - 20} more failures (--json lists all)")


@app.command("report")
def report_command(
    outdir: OutdirArgument,
    output: Annotated[Path, typer.Option("-o", "--output", metavar="FILE", help="HTML file to write.")] = Path(
        "report.html"
    ),
    details: Annotated[
        int,
        typer.Option(
            metavar="N", min=0, help="At most this many documents get a detailed view (the rest are sampled out)."
        ),
    ] = 300,
    detail_chars: Annotated[
        int, typer.Option(metavar="N", min=1000, help="Show at most this many characters per document.")
    ] = 200_000,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed of the random sample of detailed views.")] = 0,
    title: Annotated[Optional[str], typer.Option(metavar="TEXT", help="Page title.")] = None,
    color: ColorOption = "auto",
) -> None:
    """Write one self-contained HTML report (no network, no external files) for OUTDIR.

    Layout edits (only line breaks) are counted apart and hidden in the document views
    until "show layout edits" is ticked."""
    from cleankit.audit.report import ReportOptions, write_report

    err = consoles.err
    try:
        figures = write_report(outdir, output, ReportOptions(details, detail_chars, seed, title or ""))
    except AuditError as exc:
        usage_error(str(exc))
    except OSError as exc:
        err.print(f"report: cannot write {display(str(output))}: {exc.strerror or exc}")
        raise typer.Exit(1) from exc
    err.print(
        f"report of {figures['documents']} document(s) written to {display(str(output))} ({figures['bytes']:,} bytes)"
    )
