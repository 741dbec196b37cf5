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

from cleankit import __version__
from cleankit.encoding import DecodeError, detect_and_decode, sniff_binary
from cleankit.io import PROVENANCE_FILE, display, write_atomic
from cleankit.pipeline import InputError, Pipeline
from cleankit.provenance import (
    RestoreError,
    build_record,
    dumps,
    read_records,
    restore_bytes_from_record,
    restore_from_record,
)
from cleankit.runner import FileResult, RunSummary, run_clean
from cleankit.settings import Settings, SettingsError, load_settings, validate

app = typer.Typer(
    name="cleankit",
    help="Clean scraped Chinese web text, and show exactly what changed and why.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
err = Console(stderr=True, highlight=False)


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
    config: ConfigOption = None,
) -> None:
    """Clean INPUTS into OUTPUT: clean text, provenance.jsonl and summary.json."""
    settings = _settings(
        config,
        jsonl=jsonl or None,
        text_field=text_field,
        include=include or None,
        exclude=exclude or None,
        jobs=jobs,
        skip=skip or None,
        encoding=encoding,
    )
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
                    err.print(f"[red]failed[/red] {display(record['source'])}: {display(record['error'])}", markup=True)

        summary = run_clean(paths, output, settings, force=force, on_start=on_start, on_result=on_result)
    if not quiet:
        _print_summary(summary, output)
    raise typer.Exit(1 if summary.failed else 0)


def _clean_stdin(settings: Settings, provenance: Path | None) -> int:
    """Clean standard input to standard output; provenance goes to a file if asked."""
    raw = sys.stdin.buffer.read()
    pipeline = Pipeline.from_settings(settings)
    fingerprint = settings.output_fingerprint()
    records = []
    failed = 0
    if settings.jsonl:
        for number, line in enumerate(raw.decode("utf-8-sig").splitlines(), start=1):
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
        err.print(f"[red]failed[/red] {display(source)}: {display(error)}", markup=True)
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
    data = (outdir / record["output"]).read_bytes().decode("utf-8")
    if "output_line" in record:
        return json.loads(data.splitlines()[record["output_line"]])[record["text_field"]]
    return data


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


if __name__ == "__main__":
    app()
