"""``cleankit detect``: each file's encoding, confidence, runner-up and why."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from cleankit.cli.app import app
from cleankit.cli.common import ColorOption, JsonOption, consoles
from cleankit.core.errors import DecodeError
from cleankit.io.files import display


@app.command()
def detect(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Files whose encoding to detect.")],
    as_json: JsonOption = False,
    encoding: Annotated[
        Optional[str], typer.Option(metavar="NAME", help="Force an encoding (to check how it decodes).")
    ] = None,
    color: ColorOption = "auto",
) -> None:
    """Print each file's encoding, confidence, runner-up and why (the detector clean uses);
    with --json one object per line."""
    from cleankit.core.settings import Settings, validate

    if encoding is not None:
        validate(Settings(encoding=encoding), "--encoding")
    from cleankit.core.provenance import dumps
    from cleankit.io.encoding import detect_and_decode, sniff_binary

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
                consoles.err.print(f"{display(str(path))}: error: {display(message)}")
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
