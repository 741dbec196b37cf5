"""``cleankit clean``: files and folders into an output folder, or standard input to
standard output."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from cleankit.cli.app import app
from cleankit.cli.common import (
    ConfigOption,
    RulesOption,
    build_pipeline,
    err,
    failure_line,
    load_cli_settings,
    with_rule_packs,
)
from cleankit.core.errors import NearDupIndexError, OutputBusy, OutputError, UsageError
from cleankit.core.settings import Settings
from cleankit.io.files import PROVENANCE_FILE, display, write_atomic
from cleankit.text.cjk import SCRIPT_TARGETS

# Exit codes besides 0 (all cleaned), 1 (some documents failed) and 2 (usage): README, "Exit codes".
EXIT_BUSY = 3  # another run holds the output folder
EXIT_OUTPUT = 4  # the output folder cannot be written (disk full, read-only, a file)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it

if TYPE_CHECKING:
    from cleankit.core.pipeline import Pipeline
    from cleankit.run.executor import Executor
    from cleankit.run.plan import FileResult
    from cleankit.run.ray_engine import RayExecutor
    from cleankit.run.summary import RunSummary


@app.command()
def clean(
    inputs: Annotated[list[str], typer.Argument(help="Files and folders to clean, or - for standard input.")],
    output: Annotated[
        Optional[str], typer.Option("-o", "--output", help="Output folder, or a URL (s3://bucket/out).")
    ] = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Inputs are JSON Lines, one document per line.")] = False,
    text_field: Annotated[
        Optional[str], typer.Option(help="JSON field (--jsonl) or Parquet column (--format parquet) holding the text.")
    ] = None,
    input_format: Annotated[
        Optional[str],
        typer.Option("--format", help="files (each file a document), jsonl (each line) or parquet (each row)."),
    ] = None,
    id_field: Annotated[
        Optional[str],
        typer.Option(help="Parquet column naming each row's document in provenance (default: row number)."),
    ] = None,
    include: Annotated[Optional[list[str]], typer.Option(help="Glob of files to take from folders.")] = None,
    exclude: Annotated[Optional[list[str]], typer.Option(help="Glob of files to leave out.")] = None,
    jobs: Annotated[Optional[int], typer.Option("-j", "--jobs", help="Worker processes (default: all cores).")] = None,
    skip: Annotated[Optional[list[str]], typer.Option(help="Switch a stage off (repeatable).")] = None,
    encoding: Annotated[Optional[str], typer.Option(help="Force the input encoding.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo documents already done.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar or summary.")] = False,
    provenance: Annotated[Optional[Path], typer.Option(help="Provenance file when reading standard input.")] = None,
    to: Annotated[
        Optional[str], typer.Option("--to", help=f"Target script: {', '.join(SCRIPT_TARGETS)} (default: simplified).")
    ] = None,
    nfkc: Annotated[bool, typer.Option("--nfkc", help="Full-width Latin letters and digits to ASCII.")] = False,
    keep_duplicates: Annotated[
        bool, typer.Option("--keep-duplicates", help="Write near-duplicate documents too (marked in provenance).")
    ] = False,
    neardup_paragraphs: Annotated[
        bool, typer.Option(
            "--neardup-paragraphs", "--dedup-paragraphs", help="Remove paragraphs already in an earlier kept document."
        )
    ] = False,
    no_neardup: Annotated[
        bool, typer.Option("--no-neardup", "--no-dedup-documents", help="Do not look for near-duplicate documents.")
    ] = False,
    engine: Annotated[
        str, typer.Option("--engine", help="Where documents are cleaned: local (processes here) or ray.")
    ] = "local",
    stage: Annotated[
        Optional[Path],
        typer.Option(help="With an output URL: the local (or shared) folder the run is staged in before upload."),
    ] = None,
    address: Annotated[
        Optional[str],
        typer.Option(help="Ray cluster to use with --engine ray: auto, or ray://host:10001 (default: start one here)."),
    ] = None,
    config: ConfigOption = None,
    rules: RulesOption = None,
) -> None:
    """Clean INPUTS into OUTPUT: clean text, provenance.jsonl and summary.json."""
    if engine not in ("local", "ray"):
        raise typer.BadParameter(f"--engine {engine!r}: choose local or ray")
    if address is not None and engine != "ray":
        raise typer.BadParameter("--address goes with --engine ray")
    if input_format not in (None, "files", "jsonl", "parquet"):
        raise typer.BadParameter(f"--format {input_format!r}: choose files, jsonl or parquet")
    if input_format == "jsonl":
        jsonl = True
    settings = load_cli_settings(
        config,
        parquet=True if input_format == "parquet" else None,
        id_field=id_field,
        keep_duplicates=keep_duplicates or None,
        neardup_paragraphs=neardup_paragraphs or None,
        neardup=False if no_neardup else None,
        jsonl=jsonl or None,
        text_field=text_field,
        include=include or None,
        exclude=exclude or None,
        jobs=jobs,
        skip=skip or None,
        encoding=encoding,
    )
    settings = with_rule_packs(_canonical_text_options(settings, to, nfkc), rules)
    if inputs == ["-"] and settings.parquet:
        raise typer.BadParameter("--format parquet reads files (or URLs), not standard input")
    if inputs == ["-"]:
        raise typer.Exit(_clean_stdin(build_pipeline(settings, config), provenance))
    if "-" in inputs:
        raise typer.BadParameter("- (standard input) cannot be mixed with files")
    if output is None:
        raise typer.BadParameter("an output folder is needed: -o OUTDIR")
    pipeline = build_pipeline(settings, config)
    from cleankit.io.remote import is_url

    paths: list[Path | str] = [p if is_url(p) else Path(p) for p in inputs]
    if not is_url(output):
        summary = _run(pipeline, paths, Path(output), force, quiet, engine, address)
    else:
        from cleankit.io.remote import RemoteOutput, staging_folder

        remote = RemoteOutput(output, stage or staging_folder(output))
        try:
            remote.pull()
            summary = _run(pipeline, paths, remote.stage, force, quiet, engine, address)
            uploaded, removed = remote.push()
        except OSError as exc:  # the remote filesystem refused (no bucket, no permission...)
            err.print(f"cannot use the output {remote.describe()}: {exc}", soft_wrap=True)
            raise typer.Exit(EXIT_OUTPUT) from exc
        if not quiet:
            err.print(f"{remote.describe()}: {uploaded} file(s) uploaded, {removed} removed", soft_wrap=True)
    if not quiet:
        _print_summary(summary, output)
    raise typer.Exit(1 if summary.failed else 0)


def _run(
    pipeline: Pipeline,
    paths: list[Path | str],
    output: Path,
    force: bool,
    quiet: bool,
    engine: str,
    address: str | None,
) -> RunSummary:
    executor: RayExecutor | None = None
    if engine == "ray":
        from cleankit.run.ray_engine import RayExecutor, RaySession

        executor = RayExecutor(RaySession(address))
    try:
        return _run_with(pipeline, paths, output, force, quiet, executor)
    finally:
        if executor is not None:
            executor.close()


def _run_with(
    pipeline: Pipeline, paths: list[Path | str], output: Path, force: bool, quiet: bool, executor: Executor | None
) -> RunSummary:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from cleankit.run.clean import RunInterrupted, run_clean

    progress = Progress(
        TextColumn("cleaning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=quiet or not err.is_terminal,
    )
    with progress:
        task = progress.add_task("clean", total=None)

        def on_start(total: int) -> None:
            progress.update(task, total=total)

        def on_result(result: FileResult) -> None:
            progress.advance(task)
            for source, error in result.failures:
                err.print(failure_line(source, error))

        try:
            return run_clean(
                paths,
                output,
                pipeline.settings,
                force=force,
                on_start=on_start,
                on_result=on_result,
                pipeline=pipeline,
                executor=executor,
            )
        except UsageError as exc:
            raise typer.BadParameter(str(exc)) from exc
        except NearDupIndexError as exc:
            err.print(f"cannot use the near-duplicate index: {exc}")
            raise typer.Exit(2) from exc
        except OutputBusy as exc:
            err.print(f"output folder in use: {exc}", soft_wrap=True)
            raise typer.Exit(EXIT_BUSY) from exc
        except OutputError as exc:
            err.print(f"cannot write the output: {exc}; a rerun resumes once that is fixed", soft_wrap=True)
            raise typer.Exit(EXIT_OUTPUT) from exc
        except RunInterrupted as exc:
            progress.stop()
            err.print(
                f"interrupted: {exc.finished} document file(s) finished in this run are recorded, "
                f"{exc.remaining} not yet; run the same command again to finish them",
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_INTERRUPTED) from exc


def _canonical_text_options(settings: Settings, to: str | None, nfkc: bool) -> Settings:
    """``--to`` and ``--nfkc`` set options of the script and punctuation stages."""
    if to is None and not nfkc:
        return settings
    options = {name: dict(values) for name, values in settings.stage_options.items()}
    if to is not None:
        if to not in SCRIPT_TARGETS:
            raise typer.BadParameter(f"--to {to!r}: choose one of {', '.join(SCRIPT_TARGETS)}")
        options.setdefault("script", {})["to"] = to
    if nfkc:
        options.setdefault("punctuation", {})["nfkc"] = True
    return settings.updated(stage_options=options)


def _learn_stdin(pipeline: Pipeline, raw: bytes) -> None:
    """Standard input is one input file: the passes that learn from surveys (site learning
    of JSON Lines records that name their site) survey it and learn before it is cleaned."""
    for corpus_pass in pipeline.corpus_passes():
        survey, learn = getattr(corpus_pass, "survey", None), getattr(corpus_pass, "learn", None)
        if callable(survey) and callable(learn):
            learn([("-", survey("-", raw))])


def _clean_stdin(pipeline: Pipeline, provenance: Path | None) -> int:
    """Clean standard input to standard output; provenance goes to a file if asked."""
    from cleankit.core.errors import InputError, StageBug
    from cleankit.core.provenance import build_record, dumps
    from cleankit.run.cleaner import clean_jsonl

    settings = pipeline.settings
    raw = sys.stdin.buffer.read()
    fingerprint = settings.output_fingerprint()
    if settings.jsonl:
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            err.print(f"failed -: JSON Lines input is not UTF-8: {exc}")
            return 1
        _learn_stdin(pipeline, raw)
        records, out_lines = clean_jsonl(pipeline, content, "-", fingerprint, output=None)
        sys.stdout.write("".join(line + "\n" for line in out_lines))
        failed = [record for record in records if record["status"] == "failed"]
        for record in failed:
            err.print(failure_line(record["source"], record["error"]))
        records = [record for record in records if record["status"] != "failed"]
    else:
        try:
            document = pipeline.clean_bytes(raw, source="-")
        except (InputError, StageBug) as exc:
            err.print(f"failed -: {exc}")
            return 1
        sys.stdout.write(document.text)
        records, failed = [build_record(document, fingerprint, None)], []
    if provenance is not None:
        write_atomic(provenance, "".join(dumps(r) + "\n" for r in records).encode("utf-8"))
    return 1 if failed else 0


def _print_summary(summary: RunSummary, outdir: Path | str) -> None:
    from rich.table import Table

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
    for rule_key, counts in sorted(summary.timeouts.items()):
        stopped = f", stopped in {counts['stopped']}" if counts["stopped"] else ""
        err.print(
            f"rule {rule_key}: {counts['timeouts']} search(es) over the time limit in {counts['documents']} document(s)"
            f"{stopped} (counted as not matched; flags in {PROVENANCE_FILE})"
        )
    if summary.encodings:
        err.print("encodings: " + ", ".join(f"{name} {count}" for name, count in summary.encodings.most_common()))
    for source, error in summary.failures[:20]:
        err.print(failure_line(source, error))
    if len(summary.failures) > 20:
        err.print(f"... and {len(summary.failures) - 20} more failures (see {PROVENANCE_FILE})")
