"""``cleankit clean``: files and folders into an output folder, or standard input to
standard output (or into an output folder).

Before anything is written the inputs are looked at: an input that does not exist, an
``--include``/``--exclude`` pattern that matched nothing, a cleankit output folder under an
input (passed over), a JSON Lines file given without ``--jsonl`` — each is said on standard
error, and when nothing is left to clean no output folder is created (exit code 5).
"""

from __future__ import annotations

import atexit
import functools
import gc
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from cleankit.cli import EXIT_BUSY, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_NOTHING_MATCHED, EXIT_OK, EXIT_OUTPUT
from cleankit.cli.app import app
from cleankit.cli.common import (
    ColorOption,
    ConfigOption,
    JsonOption,
    RulesOption,
    build_pipeline,
    consoles,
    failure_line,
    load_cli_settings,
    note,
    settings_file,
    usage_error,
    warn,
    with_rule_packs,
)
from cleankit.core.settings import Settings
from cleankit.io.files import PROVENANCE_FILE, STDIN, InputItem, display
from cleankit.text.cjk import SCRIPT_TARGETS

if TYPE_CHECKING:
    from cleankit.core.pipeline import Pipeline
    from cleankit.run.executor import Executor
    from cleankit.run.inputs import Looked
    from cleankit.run.plan import FileResult
    from cleankit.run.ray_engine import RayExecutor
    from cleankit.run.summary import RunSummary


@app.command()
def clean(
    inputs: Annotated[
        list[str], typer.Argument(metavar="INPUT...", help="Files and folders to clean, or - for standard input.")
    ],
    output: Annotated[
        Optional[str],
        typer.Option(
            "-o",
            "--output",
            metavar="OUTDIR",
            help="Output folder, or a URL (s3://bucket/out) (with -: the clean text goes there).",
        ),
    ] = None,
    jsonl: Annotated[
        bool,
        typer.Option("--jsonl", help="Inputs are JSON Lines, one document per line; output line N is input line N."),
    ] = False,
    text_field: Annotated[
        Optional[str],
        typer.Option(
            metavar="FIELD", help="JSON field (--jsonl) or Parquet column (--format parquet) holding the text."
        ),
    ] = None,
    input_format: Annotated[
        Optional[str],
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="files (each file a document), jsonl (each line) or parquet (each row).",
        ),
    ] = None,
    id_field: Annotated[
        Optional[str],
        typer.Option(
            metavar="COLUMN", help="Parquet column naming each row's document in provenance (default: row number)."
        ),
    ] = None,
    include: Annotated[
        Optional[list[str]],
        typer.Option(metavar="GLOB", help="Take only files matching GLOB from folders (repeatable)."),
    ] = None,
    exclude: Annotated[
        Optional[list[str]],
        typer.Option(metavar="GLOB", help="Leave out files and folders matching GLOB (repeatable)."),
    ] = None,
    jobs: Annotated[
        Optional[int],
        typer.Option("-j", "--jobs", metavar="N", min=0, help="Worker processes (default 0: one per core)."),
    ] = None,
    skip: Annotated[Optional[list[str]], typer.Option(metavar="STAGE", help="Switch a stage off (repeatable).")] = None,
    encoding: Annotated[
        Optional[str], typer.Option(metavar="NAME", help="Force the input encoding (gb18030, big5, utf-8, ...).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo documents already done.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be cleaned, skipped and passed over; write nothing.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="No progress bar, notes or summary (warnings and failures stay).")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Also say which settings file is used and each file's outcome.")
    ] = False,
    as_json: JsonOption = False,
    provenance: Annotated[
        Optional[Path],
        typer.Option(metavar="FILE", help="Where provenance goes when standard input is cleaned to standard output."),
    ] = None,
    stdin_name: Annotated[
        str,
        typer.Option(metavar="NAME", help="Name of standard input in provenance and in OUTDIR (with -)."),
    ] = STDIN,
    to: Annotated[
        Optional[str],
        typer.Option(
            "--to", metavar="SCRIPT", help=f"Target script: {', '.join(SCRIPT_TARGETS)} (default: simplified)."
        ),
    ] = None,
    nfkc: Annotated[bool, typer.Option("--nfkc", help="Full-width Latin letters and digits to ASCII.")] = False,
    keep_duplicates: Annotated[
        bool, typer.Option("--keep-duplicates", help="Write near-duplicate documents too (marked in provenance).")
    ] = False,
    neardup_paragraphs: Annotated[
        bool,
        typer.Option(
            "--neardup-paragraphs", "--dedup-paragraphs", help="Remove paragraphs already in an earlier kept document."
        ),
    ] = False,
    no_neardup: Annotated[
        bool, typer.Option("--no-neardup", "--no-dedup-documents", help="Do not look for near-duplicate documents.")
    ] = False,
    engine: Annotated[
        str,
        typer.Option("--engine", metavar="ENGINE", help="Where documents are cleaned: local (processes here) or ray."),
    ] = "local",
    stage: Annotated[
        Optional[Path],
        typer.Option(
            metavar="DIR", help="With an output URL: the local (or shared) folder the run is staged in before upload."
        ),
    ] = None,
    address: Annotated[
        Optional[str],
        typer.Option(
            metavar="ADDRESS",
            help="Ray cluster to use with --engine ray: auto, or ray://host:10001 (default: start one here).",
        ),
    ] = None,
    config: ConfigOption = None,
    rules: RulesOption = None,
    color: ColorOption = "auto",
) -> None:
    """Clean INPUT... into OUTDIR: clean text, provenance.jsonl and summary.json.

    Exit codes: 0 every document cleaned; 1 some failed (each is named); 2 the command
    cannot run as given; 3 another run is writing into OUTDIR; 4 OUTDIR cannot be written;
    5 an input does not exist or --include/--exclude matched nothing (what was found is still
    cleaned); 130 interrupted (a rerun finishes)."""
    if engine not in ("local", "ray"):
        usage_error(f"--engine {engine!r}: choose local or ray")
    if address is not None and engine != "ray":
        usage_error("--address goes with --engine ray")
    if input_format not in (None, "files", "jsonl", "parquet"):
        usage_error(f"--format {input_format!r}: choose files, jsonl or parquet")
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
    quiet = quiet and not verbose
    origin = settings_file(config)
    if verbose:
        note(f"settings: {display(str(origin)) if origin else 'defaults (no cleankit.toml or [tool.cleankit] found)'}")
    from cleankit.io.remote import is_url

    if STDIN in inputs:
        if inputs != [STDIN]:
            usage_error("- (standard input) cannot be mixed with files and folders")
        if settings.parquet:
            usage_error("--format parquet reads files (or URLs), not standard input")
        if output is not None and is_url(output):
            usage_error("standard input is cleaned into a local folder (-o OUTDIR), not a URL")
        out = None if output is None else Path(output)
        raise typer.Exit(_clean_stdin(settings, origin, out, provenance, stdin_name, force, quiet, as_json, dry_run))
    if provenance is not None:
        usage_error(f"--provenance is for standard input; a run into OUTDIR writes OUTDIR/{PROVENANCE_FILE}")
    if output is None:
        usage_error("an output folder is needed: -o OUTDIR")
    paths: list[Path | str] = [p if is_url(p) else Path(p) for p in inputs]
    settings = _json_inputs(settings, paths, quiet)
    if not is_url(output):
        outdir = Path(output)
        looked = _look(paths, outdir, settings, quiet)
        if dry_run:
            raise typer.Exit(_dry_run(build_pipeline(settings, origin), looked, outdir, force, as_json))
        if not looked.items:
            warn("nothing to clean; no output folder written")
            raise typer.Exit(EXIT_NOTHING_MATCHED)
        summary = _run(
            build_pipeline(settings, origin), paths, outdir, force, quiet, verbose, looked.items, engine, address
        )
    else:
        if dry_run:
            usage_error("--dry-run lists what a run into a local folder would do; give -o OUTDIR")
        summary, looked = _run_into_url(settings, origin, paths, output, stage, force, quiet, verbose, engine, address)
    if as_json:
        _print_json_summary(summary, output, looked)
    elif not quiet:
        _print_summary(summary, output)
    raise typer.Exit(_exit_code(summary, looked))


def _run_into_url(
    settings: Settings,
    origin: Path | None,
    paths: list[Path | str],
    output: str,
    stage: Path | None,
    force: bool,
    quiet: bool,
    verbose: bool,
    engine: str,
    address: str | None,
) -> tuple[RunSummary, Looked]:
    """A run whose output folder is a URL: staged in a local (or shared) folder, which is
    first brought up to date from the URL (so a rerun resumes) and pushed back at the end."""
    from cleankit.io.remote import RemoteOutput, staging_folder

    remote = RemoteOutput(output, stage or staging_folder(output))
    try:
        remote.pull()
        looked = _look(paths, remote.stage, settings, quiet)
        if not looked.items:
            warn("nothing to clean; nothing uploaded")
            raise typer.Exit(EXIT_NOTHING_MATCHED)
        summary = _run(
            build_pipeline(settings, origin), paths, remote.stage, force, quiet, verbose, looked.items, engine, address
        )
        uploaded, removed = remote.push()
    except OSError as exc:  # the remote filesystem refused (no bucket, no permission...)
        consoles.err.print(f"cannot use the output {remote.describe()}: {exc}", soft_wrap=True)
        raise typer.Exit(EXIT_OUTPUT) from exc
    if not quiet:
        note(f"{remote.describe()}: {uploaded} file(s) uploaded, {removed} removed")
    return summary, looked


def _exit_code(summary: RunSummary, looked: Looked) -> int:
    if looked.problems:
        return EXIT_NOTHING_MATCHED
    return EXIT_FAILED if summary.failed else EXIT_OK


def _json_inputs(settings: Settings, paths: list[Path | str], quiet: bool) -> Settings:
    """JSON Lines files named without --jsonl: when every input is one, the run switches to
    --jsonl and says so (cleaned as text, their JSON would be broken)."""
    from cleankit.run.inputs import json_lines_inputs

    lines = json_lines_inputs(settings, paths)
    if not lines:
        return settings
    if not quiet:
        names = ", ".join(display(path) for path in lines)
        note(f"{names}: JSON Lines, cleaning the {settings.text_field!r} field of each line (as with --jsonl)")
    return settings.updated(jsonl=True)


def _look(paths: list[Path | str], outdir: Path, settings: Settings, quiet: bool) -> Looked:
    """The run's inputs, with what was missing, unmatched or passed over said on standard error."""
    from cleankit.run.inputs import look_at_inputs

    looked = look_at_inputs(paths, outdir, settings)
    for problem in looked.problems:
        warn(problem)
    if not quiet:
        for folder, why in looked.selection.passed_over:
            note(f"passed over {display(folder)}: {why}")
    return looked


def _run(
    pipeline: Pipeline,
    paths: list[Path | str],
    output: Path,
    force: bool,
    quiet: bool,
    verbose: bool,
    items: Sequence[InputItem] | None = None,
    engine: str = "local",
    address: str | None = None,
) -> RunSummary:
    _freeze_at_exit()
    executor: RayExecutor | None = None
    if engine == "ray":
        from cleankit.run.ray_engine import RayExecutor, RaySession

        executor = RayExecutor(RaySession(address))
    try:
        return _run_with(pipeline, paths, output, force, quiet, verbose, items, executor)
    finally:
        if executor is not None:
            executor.close()


@functools.cache
def _freeze_at_exit() -> None:
    """The process ends soon after a batch run: its last garbage collection, at exit, would
    visit every object the run left (the stages' tables and memos, the run state's rows) only
    to free memory the process is giving back (after summary.json is written: 0.7 s at -j 1,
    0.25 s at -j 2 on the 2,000-page crawl). Everything is written and closed by then; the
    objects are left out of it (registered once a process: a test runs many commands)."""
    atexit.register(gc.freeze)


def _run_with(
    pipeline: Pipeline,
    paths: list[Path | str],
    output: Path,
    force: bool,
    quiet: bool,
    verbose: bool,
    items: Sequence[InputItem] | None,
    executor: Executor | None,
) -> RunSummary:
    from cleankit.core.errors import NearDupIndexError, OutputBusy, OutputError
    from cleankit.run.clean import RunInterrupted, run_clean

    # The rich console only where it is needed: a run on a pipe that fails nothing prints
    # its notes without importing rich (common.Consoles.plain).
    disabled = quiet or consoles.plain(stderr=True) or not consoles.err.is_terminal
    progress = _progress(None if disabled else consoles.err, disabled)
    with progress:
        task = progress.add_task("clean", total=None)

        def on_start(total: int) -> None:
            progress.update(task, total=total)

        def on_result(result: FileResult) -> None:
            progress.advance(task)
            for source, error in result.failures:
                consoles.err.print(failure_line(source, error))
            for source, warning in result.totals.warnings if result.totals else []:
                warn(f"{display(source)}: {warning}")
            if verbose:
                consoles.err.print(f"{'skipped' if result.skipped else 'cleaned'} {display(result.rel)}", markup=False)

        try:
            return run_clean(
                paths,
                output,
                pipeline.settings,
                force=force,
                on_start=on_start,
                on_result=on_result,
                pipeline=pipeline,
                items=items,
                executor=executor,
            )
        except NearDupIndexError as exc:
            usage_error(f"cannot use the near-duplicate index: {exc}")
        except OutputBusy as exc:
            consoles.err.print(f"output folder in use: {exc}", soft_wrap=True)
            raise typer.Exit(EXIT_BUSY) from exc
        except OutputError as exc:
            consoles.err.print(f"cannot write the output: {exc}; a rerun resumes once that is fixed", soft_wrap=True)
            raise typer.Exit(EXIT_OUTPUT) from exc
        except RunInterrupted as exc:
            progress.stop()
            consoles.err.print(
                f"interrupted: {exc.finished} document file(s) finished in this run are recorded, "
                f"{exc.remaining} not yet; run the same command again to finish them",
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_INTERRUPTED) from exc


class _NoProgress:
    """What a disabled rich ``Progress`` does (nothing), without importing rich.progress."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, description: str, total: float | None = None) -> int:
        return 0

    def update(self, task: int, total: float | None = None) -> None:
        return None

    def advance(self, task: int) -> None:
        return None

    def stop(self) -> None:
        return None


def _progress(err: Any, disabled: bool) -> Any:
    """The progress bar of a run on standard error, or nothing when it would not be shown."""
    if disabled:
        return _NoProgress()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("cleaning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


def _canonical_text_options(settings: Settings, to: str | None, nfkc: bool) -> Settings:
    """``--to`` and ``--nfkc`` set options of the script and punctuation stages."""
    if to is None and not nfkc:
        return settings
    options = {name: dict(values) for name, values in settings.stage_options.items()}
    if to is not None:
        if to not in SCRIPT_TARGETS:
            usage_error(f"--to {to!r}: choose one of {', '.join(SCRIPT_TARGETS)}")
        options.setdefault("script", {})["to"] = to
    if nfkc:
        options.setdefault("punctuation", {})["nfkc"] = True
    return settings.updated(stage_options=options)


# --- standard input -------------------------------------------------------------------------


def _clean_stdin(
    settings: Settings,
    origin: Path | None,
    output: Path | None,
    provenance: Path | None,
    name: str,
    force: bool,
    quiet: bool,
    as_json: bool,
    dry_run: bool,
) -> int:
    """Standard input as a run of one file named ``name`` (:mod:`cleankit.run.stream`): into
    ``OUTDIR/name`` with ``-o``, else to standard output with provenance where
    ``--provenance`` says."""
    from cleankit.run.stream import check_stream_name, clean_stream

    check_stream_name(name)
    if output is not None and provenance is not None:
        usage_error(f"-o writes provenance to OUTDIR/{PROVENANCE_FILE}; --provenance is for standard output")
    if output is None and as_json:
        usage_error("--json prints the run summary on standard output, where the clean text goes: give -o OUTDIR")
    if dry_run:
        usage_error("--dry-run lists files and folders; standard input is always cleaned")

    def run_quietly(
        pipeline: Pipeline, paths: list[Path | str], outdir: Path, force: bool, items: Sequence[InputItem]
    ) -> RunSummary:
        return _run(pipeline, paths, outdir, force, True, False, items)

    stream = clean_stream(
        sys.stdin.buffer.read(),
        name,
        settings,
        output=output,
        force=force,
        build=lambda settings: build_pipeline(settings, origin),
        run=run_quietly,
    )
    if stream.json_lines and not quiet:
        note(f"standard input is JSON Lines: cleaned the {settings.text_field!r} field of each line")
    code = EXIT_FAILED if stream.summary.failed else EXIT_OK
    if output is not None:
        if as_json:
            _print_json_summary(stream.summary, output, None)
        elif not quiet:
            where = display(str(output / name))
            note(f"standard input cleaned to {where}; provenance in {display(str(output / PROVENANCE_FILE))}")
        return code
    if stream.clean is not None:
        sys.stdout.buffer.write(stream.clean)
        sys.stdout.flush()
    if provenance is not None and stream.provenance is not None:
        from cleankit.io.files import write_atomic

        write_atomic(provenance, stream.provenance)
        if not quiet:
            note(f"provenance written to {display(str(provenance))}")
    elif not quiet:
        note("provenance not kept: give --provenance FILE, or -o OUTDIR to clean into a folder")
    return code


# --- dry run --------------------------------------------------------------------------------


def _dry_run(pipeline: Pipeline, looked: Looked, outdir: Path, force: bool, as_json: bool) -> int:
    """Say what a run would do with each input (:mod:`cleankit.run.dry_run`), writing nothing."""
    from cleankit.run.dry_run import dry_run

    verdicts = dry_run(pipeline, looked, outdir, force)
    if as_json:
        from cleankit.core.provenance import dumps

        report = {**verdicts.to_json(), "passed_over": looked.passed_over, "problems": looked.problems}
        typer.echo(dumps({**report, "outdir": str(outdir)}, indent=2))
    else:
        out = consoles.out
        for rel in verdicts.clean:
            out.print(f"clean  {display(rel)}")
        for rel in verdicts.skip:
            out.print(f"skip   {display(rel)}  (done by an earlier run into {display(str(outdir))})", soft_wrap=True)
        for failure in verdicts.fail:
            out.print(f"fail   {display(failure['source'])}  ({display(failure['error'])})")
        for entry in looked.passed_over:
            out.print(f"pass   {display(entry['path'])}  ({entry['why']})")
        consoles.err.print(
            f"dry run: {len(verdicts.clean)} to clean, {len(verdicts.skip)} already done, "
            f"{len(verdicts.fail)} would fail, {len(looked.passed_over)} folder(s) passed over; nothing written"
        )
    return EXIT_NOTHING_MATCHED if looked.problems else EXIT_OK


# --- the end of a run -----------------------------------------------------------------------


def _print_json_summary(summary: RunSummary, outdir: Path | str, looked: Looked | None) -> None:
    from cleankit.core.provenance import dumps

    data = {"outdir": str(outdir), **summary.to_json()}
    if looked is not None:
        data["problems"] = looked.problems
        data["passed_over"] = looked.passed_over
    sys.stdout.write(dumps(data, indent=2) + "\n")
    sys.stdout.flush()


def _print_summary(summary: RunSummary, outdir: Path | str) -> None:
    from rich.table import Table

    err = consoles.err
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
    if summary.flags:
        parts = []
        for key, flagged in summary.flags.items():
            guessed = f", {flagged['guessed_chars']} character(s) guessed" if flagged["guessed_chars"] else ""
            parts.append(f"{key} {flagged['flags']} in {flagged['documents']} document(s){guessed}")
        err.print(f"flags (in {PROVENANCE_FILE}): " + "; ".join(parts))
    if summary.warnings:
        err.print(f"{len(summary.warnings)} document(s) with warnings (warnings in {PROVENANCE_FILE})")
    for source, error in summary.failures[:20]:
        err.print(failure_line(source, error))
    if len(summary.failures) > 20:
        err.print(f"... and {len(summary.failures) - 20} more failures (see {PROVENANCE_FILE})")
