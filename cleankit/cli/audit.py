"""The reviewer's commands: ``cleankit diff``, ``stats`` and ``report`` over an output folder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cleankit.cli.app import app
from cleankit.cli.common import OutdirArgument, err
from cleankit.core.errors import AuditError
from cleankit.core.records import ProvenanceRecord
from cleankit.io.files import display


def _audit_records(outdir: Path) -> list[ProvenanceRecord]:
    from cleankit.audit.records import read_outdir

    try:
        return read_outdir(outdir)
    except AuditError as exc:
        raise typer.BadParameter(str(exc)) from exc


@app.command("diff")
def diff_command(
    outdir: OutdirArgument,
    sources: Annotated[
        Optional[list[str]], typer.Argument(help="Inputs as recorded in provenance (default: every document).")
    ] = None,
    context: Annotated[int, typer.Option("-C", "--context", min=0, help="Unchanged lines around each change.")] = 3,
    stage: Annotated[Optional[list[str]], typer.Option(help="Only changes made by this stage (repeatable).")] = None,
    rule: Annotated[
        Optional[list[str]], typer.Option(help="Only changes made by this rule, RULE or STAGE/RULE (repeatable).")
    ] = None,
    plain: Annotated[
        bool, typer.Option("--plain", help="Plain unified diff (the default when not a terminal).")
    ] = False,
    inline: Annotated[
        bool, typer.Option("--inline", help="Labelled inline view even when not a terminal (colour only on one).")
    ] = False,
) -> None:
    """Show the original against the clean text, each change labelled by stage and rule."""
    from cleankit.audit.diff import describe, render_inline, unified
    from cleankit.audit.records import CleanTextReader, filtered, find_records, load_document

    if plain and inline:
        raise typer.BadParameter("--plain and --inline exclude each other")
    records = _audit_records(outdir)
    out = Console(highlight=False, soft_wrap=True, emoji=False)  # names are data: no :emoji: codes
    labelled = inline or (not plain and out.is_terminal)
    colour = out.color_system is not None
    problems = 0
    if sources:
        chosen = []
        for source in sources:
            found = find_records(records, source)
            if not found:
                err.print(f"diff: no provenance record for {display(source)!r} in {display(str(outdir))}", markup=False)
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
                err.print(f"diff: {display(str(exc))}", markup=False)
                problems += 1
            else:
                failed_quietly += 1
            continue
        view = filtered(doc, stage or (), rule or ())
        if labelled:
            body = render_inline(view, context, colour=colour)
            if not body.plain and not sources:
                continue
            out.print(f"━━ {display(record['source'])} ━━ {describe(doc)}", style="bold", markup=False)
            out.print(body if body.plain else "(no changes)", end="", markup=False)
            out.print()
        else:
            sys.stdout.buffer.write(unified(view, context).encode("utf-8", errors="surrogatepass"))
    sys.stdout.flush()
    if failed_quietly:
        err.print(f"diff: {failed_quietly} document(s) not shown (failed, or no clean output); see cleankit stats")
    raise typer.Exit(1 if problems else 0)


@app.command("stats")
def stats_command(
    outdir: OutdirArgument,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    top: Annotated[int, typer.Option(min=0, help="How many documents and clusters to list.")] = 20,
) -> None:
    """Totals per stage and rule, encodings, duplicate clusters and the most-changed documents."""
    from cleankit.audit.stats import corpus_stats
    from cleankit.core.provenance import dumps

    figures = corpus_stats(_audit_records(outdir), top=top)
    if as_json:
        typer.echo(dumps(figures, indent=2))
        return
    terminal = Console().is_terminal
    _print_stats(figures, Console(highlight=False, emoji=False, width=None if terminal else 132))


def _print_stats(figures: dict[str, Any], out: Console) -> None:
    statuses = ", ".join(f"{name} {count}" for name, count in figures["statuses"].items())
    out.print(
        f"{figures['documents']} document(s): {statuses}. {figures['original_chars']:,} original characters, "
        f"{figures['removed_chars']:,} changed or removed ({figures['removed_share']:.2%}), "
        f"{figures['clean_chars']:,} clean.",
        markup=False,
    )
    for title, rows in (("per stage", figures["stages"]), ("per rule", figures["rules"])):
        table = Table(title=title, title_justify="left")
        for column in (
            "stage" if title == "per stage" else "stage/rule",
            "documents",
            "edits",
            "chars removed",
            "chars added",
        ):
            table.add_column(column, justify="left" if column.startswith("stage") else "right", overflow="fold")
        for key, entry in rows.items():
            counts = (f"{entry[n]:,}" for n in ("documents", "edits", "chars_removed", "chars_added"))
            table.add_row(Text(key), *counts)
        out.print(table)
    if figures["encodings"]:
        out.print("encodings: " + ", ".join(f"{n} {c}" for n, c in figures["encodings"].items()), markup=False)
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
            out.print(f"  {cluster['size']}: kept {display(cluster['kept'])} ← {names}{more}", markup=False)
    else:
        out.print("duplicate clusters: none", markup=False)
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
        out.print(f"failed {display(failure['source'])}: {display(failure['error'])}", markup=False)
    if len(figures["failures"]) > 20:
        out.print(f"... and {len(figures['failures']) - 20} more failures (--json lists all)", markup=False)


@app.command("report")
def report_command(
    outdir: OutdirArgument,
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")] = Path("report.html"),
    details: Annotated[
        int, typer.Option(min=0, help="At most this many documents get a detailed view (the rest are sampled out).")
    ] = 300,
    detail_chars: Annotated[
        int, typer.Option(min=1000, help="Show at most this many characters per document.")
    ] = 200_000,
    seed: Annotated[int, typer.Option(help="Seed of the random sample of detailed views.")] = 0,
    title: Annotated[Optional[str], typer.Option(help="Page title.")] = None,
) -> None:
    """Write one self-contained HTML report (no network, no external files) for OUTDIR."""
    from cleankit.audit.report import ReportOptions, write_report

    try:
        figures = write_report(outdir, output, ReportOptions(details, detail_chars, seed, title or ""))
    except AuditError as exc:
        raise typer.BadParameter(str(exc)) from exc
    except OSError as exc:
        err.print(f"report: cannot write {display(str(output))}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(1) from exc
    err.print(
        f"report of {figures['documents']} document(s) written to {display(str(output))} ({figures['bytes']:,} bytes)",
        markup=False,
    )
