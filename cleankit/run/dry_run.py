"""What a run would do with each input, found by reading the inputs only.

Each document file gets a verdict: cleaned, skipped (finished by an earlier run into the
output folder, by the same test a real run makes), or failed, with why, when that is known
before cleaning (empty, binary, JSON given as text, over ``max_bytes``, unreadable).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleankit.core.pipeline import Pipeline
from cleankit.core.settings import Settings
from cleankit.run.inputs import Looked


@dataclass
class DryRun:
    """The verdicts of a dry run: files to clean, files already done, files that would fail."""

    clean: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    fail: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"clean": self.clean, "skip": self.skip, "fail": self.fail}


def dry_run(pipeline: Pipeline, looked: Looked, outdir: Path, force: bool) -> DryRun:
    """The verdict on each input of ``looked`` for a run of ``pipeline`` into ``outdir``."""
    from cleankit.run.cleaner import Cleaner
    from cleankit.run.plan import plan
    from cleankit.run.state import peek_rows

    settings = pipeline.settings
    tasks, bad = plan(looked.items, outdir, {} if force else peek_rows(outdir))
    cleaner = Cleaner(pipeline, outdir)
    verdicts = DryRun(fail=[{"source": rel, "error": error} for rel, error in bad])
    for task in tasks:
        try:
            size = os.path.getsize(task.path)
            if size > settings.max_bytes:
                raise ValueError(f"file is {size} bytes, over the max_bytes limit of {settings.max_bytes}")
            with open(task.path, "rb") as handle:
                raw = handle.read()
        except (OSError, ValueError) as exc:
            verdicts.fail.append({"source": task.rel, "error": getattr(exc, "strerror", None) or str(exc)})
            continue
        problem = known_problem(task.rel, raw, settings)
        if problem:
            verdicts.fail.append({"source": task.rel, "error": problem})
        elif task.prior is not None and cleaner.already_done(task.prior, hashlib.sha256(raw).hexdigest()):
            verdicts.skip.append(task.rel)
        else:
            verdicts.clean.append(task.rel)
    return verdicts


def known_problem(rel: str, raw: bytes, settings: Settings) -> str | None:
    """Why a file would fail, when that is seen without cleaning it."""
    from cleankit.io.encoding import sniff_binary
    from cleankit.run.cleaner import json_refusal
    from cleankit.run.jsonl import SNIFF_BYTES, json_kind

    if not raw:
        return "empty file (0 bytes)"
    if settings.jsonl:
        return None
    kind = json_kind(rel, raw[:SNIFF_BYTES])
    if kind:
        return json_refusal(kind)
    binary = None if settings.encoding else sniff_binary(raw)
    return f"not a text document: looks like {binary}" if binary else None
