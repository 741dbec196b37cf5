"""The ``cleankit`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import tomli_w
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from cleankit import __version__
from cleankit.boilerplate import BoilerplateStage
from cleankit.encoding import DecodeError, detect_and_decode, sniff_binary
from cleankit.index import DedupIndex, DedupIndexError
from cleankit.io import INDEX_FILE, PROVENANCE_FILE, display, write_atomic
from cleankit.pipeline import InputError, Pipeline
from cleankit.provenance import (
    RestoreError,
    build_record,
    dumps,
    read_records,
    restore_bytes_from_record,
    restore_from_record,
)
from cleankit.rules import RuleError
from cleankit.runner import FileResult, RunSummary, UsageError, run_clean
from cleankit.script import TARGETS
from cleankit.settings import Settings, SettingsError, load_settings, validate
from cleankit.sitelearn import FurnitureCounter

app = typer.Typer(
    name="cleankit",
    help="Clean scraped Chinese web text, and show exactly what changed and why.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
# Markup off: file names and scraped text are printed, and "[red]" in a name is not a style.
err = Console(stderr=True, highlight=False, markup=False)


def failure_line(source: str, error: str) -> Text:
    return Text.assemble(("failed", "red"), f" {display(source)}: {display(error)}")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cleankit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """cleankit: clean, canonical, explainable text from crawled pages."""


def _settings(config: Path | None, **overrides: Any) -> Settings:
    try:
        settings = load_settings(config).updated(**overrides)
        validate(settings)
    except SettingsError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return settings


RulesOption = Annotated[
    Optional[list[Path]],
    typer.Option("--rules", help="Folder of extra boilerplate rule packs (*.yaml); repeatable."),
]
ConfigOption = Annotated[
    Optional[Path], typer.Option("--config", help="Settings file (default: ./cleankit.toml if present).")
]


@app.command()
def clean(
    inputs: Annotated[list[str], typer.Argument(help="Files and folders to clean, or - for standard input.")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Output folder.")] = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Inputs are JSON Lines, one document per line.")] = False,
    text_field: Annotated[Optional[str], typer.Option(help="JSON field holding the text (with --jsonl).")] = None,
    include: Annotated[Optional[list[str]], typer.Option(help="Glob of files to take from folders.")] = None,
    exclude: Annotated[Optional[list[str]], typer.Option(help="Glob of files to leave out.")] = None,
    jobs: Annotated[Optional[int], typer.Option("-j", "--jobs", help="Worker processes (default: all cores).")] = None,
    skip: Annotated[Optional[list[str]], typer.Option(help="Switch a stage off (repeatable).")] = None,
    encoding: Annotated[Optional[str], typer.Option(help="Force the input encoding.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo documents already done.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar or summary.")] = False,
    provenance: Annotated[Optional[Path], typer.Option(help="Provenance file when reading standard input.")] = None,
    to: Annotated[
        Optional[str], typer.Option("--to", help=f"Target script: {', '.join(TARGETS)} (default: simplified).")
    ] = None,
    nfkc: Annotated[bool, typer.Option("--nfkc", help="Full-width Latin letters and digits to ASCII.")] = False,
    keep_duplicates: Annotated[
        bool, typer.Option("--keep-duplicates", help="Write near-duplicate documents too (marked in provenance).")
    ] = False,
    dedup_paragraphs: Annotated[
        bool, typer.Option("--dedup-paragraphs", help="Remove paragraphs already in an earlier kept document.")
    ] = False,
    no_dedup_documents: Annotated[
        bool, typer.Option("--no-dedup-documents", help="Do not look for near-duplicate documents.")
    ] = False,
    config: ConfigOption = None,
    rules: RulesOption = None,
) -> None:
    """Clean INPUTS into OUTPUT: clean text, provenance.jsonl and summary.json."""
    settings = _settings(
        config,
        keep_duplicates=keep_duplicates or None,
        dedup_paragraphs=dedup_paragraphs or None,
        dedup_documents=False if no_dedup_documents else None,
        jsonl=jsonl or None,
        text_field=text_field,
        include=include or None,
        exclude=exclude or None,
        jobs=jobs,
        skip=skip or None,
        encoding=encoding,
    )
    settings = _canonical_text_options(settings, to, nfkc)
    settings = _with_rule_packs(settings, rules)
    if inputs == ["-"]:
        raise typer.Exit(_clean_stdin(settings, provenance))
    if "-" in inputs:
        raise typer.BadParameter("- (standard input) cannot be mixed with files")
    if output is None:
        raise typer.BadParameter("an output folder is needed: -o OUTDIR")
    paths = [Path(p) for p in inputs]
    show_progress = not quiet and err.is_terminal
    progress = Progress(
        TextColumn("cleaning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not show_progress,
    )
    with progress:
        task = progress.add_task("clean", total=None)

        def on_start(total: int) -> None:
            progress.update(task, total=total)

        def on_result(result: FileResult) -> None:
            progress.advance(task)
            for record in result.records:
                if record["status"] == "failed":
                    err.print(failure_line(record["source"], record["error"]))

        try:
            summary = run_clean(paths, output, settings, force=force, on_start=on_start, on_result=on_result)
        except UsageError as exc:
            raise typer.BadParameter(str(exc)) from exc
        except DedupIndexError as exc:
            err.print(f"cannot use the dedup index: {exc}")
            raise typer.Exit(2) from exc
    if not quiet:
        _print_summary(summary, output)
    raise typer.Exit(1 if summary.failed else 0)


def _canonical_text_options(settings: Settings, to: str | None, nfkc: bool) -> Settings:
    """``--to`` and ``--nfkc`` set options of the script and punctuation stages."""
    if to is None and not nfkc:
        return settings
    options = {name: dict(values) for name, values in settings.stage_options.items()}
    if to is not None:
        if to not in TARGETS:
            raise typer.BadParameter(f"--to {to!r}: choose one of {', '.join(TARGETS)}")
        options.setdefault("script", {})["to"] = to
    if nfkc:
        options.setdefault("punctuation", {})["nfkc"] = True
    return settings.updated(stage_options=options)


def _clean_stdin(settings: Settings, provenance: Path | None) -> int:
    """Clean standard input to standard output; provenance goes to a file if asked."""
    raw = sys.stdin.buffer.read()
    pipeline = Pipeline.from_settings(settings)
    fingerprint = settings.output_fingerprint()
    records = []
    failed = 0
    if settings.jsonl:
        for number, line in enumerate(raw.decode("utf-8-sig").split("\n"), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                document = pipeline.clean_text(obj[settings.text_field], source=f"-#{number}")
            except (ValueError, KeyError, TypeError) as exc:
                err.print(f"failed -#{number}: {exc}")
                failed += 1
                continue
            obj[settings.text_field] = document.text
            sys.stdout.write(dumps(obj) + "\n")
            records.append(build_record(document, fingerprint, None))
    else:
        try:
            document = pipeline.clean_bytes(raw, source="-")
        except (InputError, DecodeError, RestoreError) as exc:
            err.print(f"failed -: {exc}")
            return 1
        sys.stdout.write(document.text)
        records.append(build_record(document, fingerprint, None))
    if provenance is not None:
        write_atomic(provenance, "".join(dumps(r) + "\n" for r in records).encode("utf-8"))
    return 1 if failed else 0


def _print_summary(summary: RunSummary, outdir: Path) -> None:
    mb = summary.bytes_in / 1e6
    rate = mb / summary.seconds if summary.seconds else 0.0
    if summary.duplicates:
        err.print(f"near-duplicate documents: {summary.duplicates} (see duplicate_of in {PROVENANCE_FILE})")
    err.print(
        f"cleaned {summary.documents} document(s), skipped {summary.skipped} already done, "
        f"failed {summary.failed}; {mb:.1f} MB in {summary.seconds:.1f}s ({rate:.1f} MB/s) -> {display(str(outdir))}"
    )
    if summary.rules:
        table = Table(title="what each stage changed", title_justify="left")
        for column in ("stage/rule", "documents", "edits", "chars removed", "chars added"):
            table.add_column(column, justify="left" if column == "stage/rule" else "right", overflow="fold")
        for key, entry in sorted(summary.rules.items()):
            table.add_row(
                key,
                str(entry["documents"]),
                str(entry["edits"]),
                str(entry["chars_removed"]),
                str(entry["chars_added"]),
            )
        err.print(table)
    if summary.encodings:
        err.print("encodings: " + ", ".join(f"{name} {count}" for name, count in summary.encodings.most_common()))
    for source, error in summary.failures[:20]:
        err.print(failure_line(source, error))
    if len(summary.failures) > 20:
        err.print(f"... and {len(summary.failures) - 20} more failures (see {PROVENANCE_FILE})")


def find_record(provenance: Path, source: str) -> dict[str, Any]:
    """The record of ``source`` (its path relative to the input, as in the record)."""
    wanted = source.replace("\\", "/")
    match = None
    for record in read_records(provenance):
        if record["source"] == wanted or (wanted == "-" and record["source"].startswith("-")):
            match = record
    if match is None:
        for record in read_records(provenance):
            if wanted.endswith("/" + record["source"]):
                match = record
    if match is None:
        raise typer.BadParameter(f"no provenance record for {source!r} in {provenance}")
    return match


def _clean_text_of(record: dict[str, Any], outdir: Path) -> str:
    from cleankit.audit import AuditError, CleanTextReader

    if record.get("output") is None and record.get("status") == "duplicate":
        return ""  # a near-duplicate's record removes its whole text: restore needs no file
    try:
        return CleanTextReader(outdir)(record)
    except AuditError as exc:
        raise RestoreError(str(exc)) from exc


@app.command()
def restore(
    outdir: Annotated[Optional[Path], typer.Argument(help="Output folder of a clean run.")] = None,
    source: Annotated[Optional[str], typer.Argument(help="Input path as recorded in provenance.")] = None,
    as_bytes: Annotated[bool, typer.Option("--bytes", help="Write the original raw bytes instead of text.")] = False,
    provenance: Annotated[Optional[Path], typer.Option(help="Provenance file (standard-input runs).")] = None,
    clean_file: Annotated[
        Optional[Path], typer.Option("--clean", help="Clean text file (standard-input runs).")
    ] = None,
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
            raise typer.BadParameter("give OUTDIR SOURCE, or --provenance FILE --clean FILE")
        if as_bytes:
            sys.stdout.buffer.write(restore_bytes_from_record(clean, record))
        else:
            sys.stdout.buffer.write(restore_from_record(clean, record).encode("utf-8", errors="surrogatepass"))
        sys.stdout.flush()
    except (RestoreError, OSError, UnicodeDecodeError) as exc:
        err.print(f"restore failed: {exc}")
        raise typer.Exit(1) from exc


@app.command()
def detect(
    files: Annotated[list[Path], typer.Argument(help="Files whose encoding to detect.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file, for machines.")] = False,
    encoding: Annotated[Optional[str], typer.Option(help="Force an encoding (to check how it decodes).")] = None,
) -> None:
    """Print each file's encoding, confidence, runner-up and why (the detector clean uses)."""
    failed = 0
    for path in files:
        result: dict[str, Any] = {"file": display(str(path))}
        try:
            raw = path.read_bytes()
            kind = sniff_binary(raw)
            if kind and not encoding:
                raise DecodeError(f"not a text document: looks like {kind}")
            text, info = detect_and_decode(raw, encoding)
        except (OSError, DecodeError) as exc:
            failed += 1
            message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            result["error"] = message
            if as_json:
                typer.echo(dumps(result))
            else:
                err.print(f"{display(str(path))}: error: {display(message)}")
            continue
        result.update(
            encoding=info.name,
            confidence=round(info.confidence, 3),
            runner_up=info.runner_up,
            why=info.method,
            bom=info.bom,
            bytes=len(raw),
            chars=len(text),
            undecodable_runs=len(info.undecodable),
        )
        if info.segments:
            result["segments"] = [{"byte": b, "char": t, "encoding": e} for b, t, e in info.segments]
        if info.notes:
            result["notes"] = info.notes
        if as_json:
            typer.echo(dumps(result))
        else:
            runner_up = f", runner-up {info.runner_up}" if info.runner_up else ""
            typer.echo(f"{result['file']}: {info.name} (confidence {info.confidence:.2f}{runner_up}) - {info.method}")
            for note in info.notes:
                typer.echo(f"    {note}")
    raise typer.Exit(1 if failed else 0)


@app.command("config")
def config_command(
    show: Annotated[bool, typer.Option("--show", help="Print the effective settings as TOML.")] = False,
    config: ConfigOption = None,
) -> None:
    """Show the effective settings (defaults overlaid by the settings file)."""
    settings = _settings(config)
    if not show:
        typer.echo("use --show to print the effective settings")
        return
    data = settings.to_dict()
    stage_options = data.pop("stage_options")
    document: dict[str, Any] = {"clean": {k: v for k, v in data.items() if v is not None}}
    if stage_options:
        document["stage"] = stage_options
    typer.echo(tomli_w.dumps(document), nl=False)


# --- rule packs (issue 6): --rules on clean, and the `rules` command group ------------------

rules_app = typer.Typer(help="Boilerplate rule packs: list them, and see which fire on a file and why.")
app.add_typer(rules_app, name="rules")


def _with_rule_packs(settings: Settings, folders: list[Path] | None) -> Settings:
    """Add --rules folders to the boilerplate stage's packs, and check every pack loads."""
    if folders:
        options = {name: dict(values) for name, values in settings.stage_options.items()}
        boilerplate = options.setdefault("boilerplate", {})
        boilerplate["rules"] = [*boilerplate.get("rules", []), *(str(folder) for folder in folders)]
        settings = settings.updated(stage_options=options)
    if "boilerplate" in settings.active_stages():
        _boilerplate_stage(settings)
    return settings


def _boilerplate_stage(settings: Settings) -> BoilerplateStage:
    try:
        return BoilerplateStage(**settings.stage_options.get("boilerplate", {}))
    except (RuleError, TypeError, ValueError) as exc:
        raise typer.BadParameter(f"boilerplate rules: {exc}") from exc


@rules_app.command("list")
def rules_list(config: ConfigOption = None, rules: RulesOption = None) -> None:
    """List every rule in use: id, family, zone, action, pack and what it matches."""
    settings = _with_rule_packs(_settings(config), rules)
    stage = _boilerplate_stage(settings)
    # Plain aligned lines, never wrapped or cut, so the output can be searched and piped.
    rows = [("id", "family", "zone", "action", "pack", "description")]
    rows += [
        (rule.id, rule.family, rule.zone, rule.action, rule.describe_source(), rule.description)
        for rule in stage.ruleset.rules
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row[:5], widths, strict=True)) + "  " + row[5])
    typer.echo(f"{len(stage.ruleset.rules)} rules")


@rules_app.command("test")
def rules_test(
    file: Annotated[Path, typer.Argument(help="A page to try the rules on.")],
    show_all: Annotated[bool, typer.Option("--all", help="Show every line, not only those a rule fired on.")] = False,
    learn_from: Annotated[
        Optional[Path],
        typer.Option("--learn-from", help="Learn site furniture from this folder's files (FILE's site) first."),
    ] = None,
    config: ConfigOption = None,
    rules: RulesOption = None,
) -> None:
    """Show which rules fire on FILE's lines, what is removed and why, and the metadata found.

    The file goes through the stages before boilerplate first, as in a clean run. Site
    learning needs other pages of the site: give them with --learn-from DIR (every file in DIR,
    recursively, counts as a page of FILE's site)."""
    settings = _with_rule_packs(_settings(config), rules)
    stage = _boilerplate_stage(settings)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"{file}: cannot read: {exc.strerror or exc}") from exc
    before = settings.active_stages()
    before = before[: before.index("boilerplate")] if "boilerplate" in before else before
    pipeline = Pipeline.from_settings(settings.updated(stages=before, skip=[], verify_restore=False))
    try:
        document = pipeline.clean_bytes(raw, source=str(file))
    except (InputError, DecodeError) as exc:
        raise typer.BadParameter(f"{file}: {exc}") from exc
    site = None
    if learn_from is not None:
        if not learn_from.is_dir():
            raise typer.BadParameter(f"{learn_from}: not a folder")
        counter = FurnitureCounter(by="folder", max_chars=stage.learn_max_chars)
        for path in sorted(p for p in learn_from.rglob("*") if p.is_file() and not p.name.startswith(".")):
            counter.add_file("site/page", path, settings.max_bytes, settings.encoding)
        site = counter.result(stage.learn_min_pages, stage.learn_min_share).sites.get("site")
        pages = counter.pages.get("site", 0)
        learned = sum(len(zone) for zone in site.counts.values()) if site else 0
        typer.echo(f"learned from {pages} page(s) of {learn_from}: {learned} furniture line(s)")
    analysis = stage.analyse(document.text, site)
    removed = 0
    for line in analysis.lines:
        removed += line.remove
        if not (show_all or line.remove or line.fired):
            continue
        verdict = "REMOVE" if line.remove else "keep"
        text = line.text if len(line.text) <= 60 else line.text[:57] + "..."
        typer.echo(f"{line.index + 1:>5} {line.zone:<9} {verdict:<6} {line.rule or '-':<22} {text}")
        if line.remove:
            typer.echo(f"{'':>5} {'':<9} {'':<6} why: {line.reason}")
        if line.fired and line.fired != [line.rule]:
            typer.echo(f"{'':>5} {'':<9} {'':<6} rules fired: {', '.join(line.fired)}")
        if line.fields:
            typer.echo(f"{'':>5} {'':<9} {'':<6} fields: {json.dumps(line.fields, ensure_ascii=False)}")
    typer.echo(f"{removed} of {len(analysis.lines)} lines removed")
    typer.echo("metadata: " + json.dumps(analysis.metadata, ensure_ascii=False))


# --- audit: diff, stats, report (issue 8) ---------------------------------------------------
# Imports are local so the commands above start without loading the audit modules, and so
# that this block merges cleanly beside other branches' edits to the import list.

OutdirArgument = Annotated[Path, typer.Argument(help="Output folder of a clean run.", file_okay=False)]


def _audit_records(outdir: Path) -> list[dict[str, Any]]:
    from cleankit.audit import AuditError, read_outdir

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
    from cleankit.audit import AuditError, CleanTextReader, filtered, find_records, load_document
    from cleankit.diffview import describe, render_inline, unified

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
    from cleankit.corpus_stats import corpus_stats

    figures = corpus_stats(_audit_records(outdir), top=top)
    if as_json:
        typer.echo(dumps(figures, indent=2))
        return
    terminal = Console().is_terminal
    _print_stats(figures, Console(highlight=False, emoji=False, width=None if terminal else 132))


def _print_stats(figures: dict[str, Any], out: Console) -> None:
    from rich.text import Text

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
    from cleankit.audit import AuditError
    from cleankit.report import ReportOptions, write_report

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


index_app = typer.Typer(help="Inspect and manage the near-duplicate index of an output folder.", no_args_is_help=True)
app.add_typer(index_app, name="index")


def _open_index(outdir: Path) -> DedupIndex:
    path = outdir / INDEX_FILE
    if not path.is_file():
        raise typer.BadParameter(f"no dedup index in {outdir} ({INDEX_FILE} not found)")
    try:
        return DedupIndex(path)
    except DedupIndexError as exc:
        raise typer.BadParameter(str(exc)) from exc


@index_app.command("stats")
def index_stats(
    outdir: Annotated[Path, typer.Argument(help="Output folder of a clean run.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """How many documents, band keys and paragraph hashes the index holds."""
    with _open_index(outdir) as index:
        stats = index.stats()
    if as_json:
        typer.echo(dumps(stats, indent=2))
        return
    for key, value in stats.items():
        typer.echo(f"{key}: {value}")


@index_app.command("prune")
def index_prune(
    outdir: Annotated[Path, typer.Argument(help="Output folder of a clean run.")],
    older_than: Annotated[
        Optional[float], typer.Option("--older-than", help="Also drop entries added more than DAYS ago.")
    ] = None,
    duplicates: Annotated[bool, typer.Option("--duplicates", help="Also drop entries of duplicate documents.")] = False,
) -> None:
    """Drop index entries whose clean file is gone (and, if asked, old or duplicate ones)."""
    with _open_index(outdir) as index:
        dropped = index.prune(outdir, older_than, duplicates)
        left = index.stats()["documents"]
    typer.echo(f"dropped {dropped} document(s); {left} left")


if __name__ == "__main__":
    app()
