"""CPU per stage of one ``cleankit clean -j 1`` run, in this process (issue 12, the stages).

``-j 1`` cleans in the process that runs the command, so wrapping ``Pipeline.run`` (each
stage's ``run`` and the restore check) and the cleaner's steps (record, provenance line,
near-duplicate signature, writing the output) with ``time.process_time`` says where the
per-document CPU goes. Run it with the code to measure first on the path (another checkout's
snapshot: ``PYTHONPATH=<snapshot> python -P benchmarks/bench_stages.py ...``), interleaved
with the branch's runs; the output hash (as ``bench_speed.py`` computes it, without the stdin
page) says whether the outputs are the same.

    nice -n 10 python benchmarks/bench_stages.py CORPUS OUT [--json FILE]
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run with ``python -P`` (another checkout's code first on the path), the script's folder is not
# on sys.path: bench_speed is found from here.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_speed

# (module, owner or None for a module function, name, label)
WRAPPED = (
    ("cleankit.run.cleaner", None, "build_record", "build_record"),
    ("cleankit.run.cleaner", None, "dumps_lines", "dumps_lines"),
    ("cleankit.run.cleaner", "Cleaner", "_observe", "neardup observe"),
    ("cleankit.run.cleaner", "Cleaner", "_write", "write output"),
    ("cleankit.core.pipeline", None, "decode", "decode (in clean_bytes)"),
    ("cleankit.run.cleaner", "Cleaner", "__call__", "Cleaner.__call__ (per document, all of it)"),
    ("cleankit.run.clean", None, "_learn", "site-learning survey (_learn)"),
)


class Timings:
    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.missing: list[str] = []

    def add(self, label: str, seconds: float) -> None:
        self.cpu[label] = self.cpu.get(label, 0.0) + seconds

    def wrap_pipeline(self) -> None:
        from cleankit.core import pipeline
        from cleankit.core.budget import check_deadline

        def run(self_: Any, document: Any, original: str | None = None, started: float | None = None) -> Any:
            for stage in self_.stages:
                began = time.process_time()
                document = stage.run(document)
                check_deadline()
                self.add("stage " + stage.name, time.process_time() - began)
            if self_.settings.verify_restore and original is not None:
                began = time.process_time()
                rebuilt = pipeline.restore_text(document.text, document.edits)
                self.add("restore check", time.process_time() - began)
                if rebuilt != original:
                    raise pipeline.StageBug(f"{document.source}: restore check failed")
            return document

        pipeline.Pipeline.run = run  # type: ignore[method-assign]

    def wrap(self) -> None:
        for module_name, owner_name, name, label in WRAPPED:
            try:
                module = importlib.import_module(module_name)
                owner = getattr(module, owner_name) if owner_name else module
                original = getattr(owner, name)
            except (ImportError, AttributeError):
                self.missing.append(f"{module_name}.{owner_name or ''}.{name}")
                continue
            setattr(owner, name, self._timed(label, original))

    def _timed(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(label, time.process_time() - began)

        return timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)
    timings = Timings()
    timings.wrap_pipeline()
    timings.wrap()
    from cleankit.cli import main as cleankit_main

    code = 0
    try:
        cleankit_main(["clean", str(args.corpus), "-o", str(args.out), "-j", "1", "-q"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    total = time.process_time()
    rows = dict(sorted(timings.cpu.items(), key=lambda item: -item[1]))
    rows["all stages + restore check"] = sum(
        v for k, v in timings.cpu.items() if k.startswith("stage ") or k == "restore check"
    )
    rows["whole process"] = total
    digest = bench_speed.output_hash(args.out, args.corpus)["hash"] if code == 0 else None
    print(f"{args.corpus}: exit {code}; code from {importlib.import_module('cleankit').__file__}")
    for label, seconds in rows.items():
        print(f"{seconds:8.3f}  {label}")
    print(f"output hash (no stdin page): {digest}")
    for name in timings.missing:
        print(f"note: {name} not found; not timed", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = {"cpu_s": {k: round(v, 3) for k, v in rows.items()}, "hash": digest, "not_timed": timings.missing}
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main())
