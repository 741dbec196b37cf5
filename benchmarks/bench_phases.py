"""CPU per phase of one ``cleankit clean -j 1`` run, in this process (issue 12, the 10× row).

``-j 1`` cleans in the process that runs the command, so the process's own CPU clock
(``time.process_time``) split at the run's phase boundaries says where a run's time goes:

* the run's fault-injection points (``cleankit.run.faults.boundary``, a no-op unless a test
  arms it) are wrapped to note the CPU clock when the run passes ``surveyed`` (start-up, the
  site-learning survey), ``cleaned`` (every document through the stages, provenance,
  signatures, commits), ``decided`` and ``journaled`` (the crawl near-duplicate pass);
* the near-duplicate pass's decisions (``NearDupPass._decide``), its pair verification
  (``NearDupPass._similarity``: calls and CPU), the rewrite of the duplicates' records
  (``NearDupPass._rewrite``) and the end-of-run commit (``EndOfRun.commit``) are wrapped to
  add up their own CPU.

With ``--stages``, each stage's ``run`` and the restore check (wrapped with a clock in each
pipeline built) and the cleaner's steps around them (the record, its JSON line, the
near-duplicate signature, writing the output; ``STEPS``) are timed too, and the run's output
hash (``bench_speed.output_hash``, without the stdin page) is printed: run it with another
checkout's code first on the path (``PYTHONPATH=<snapshot> python -P ...``), interleaved with
the branch's runs, to compare the stages' CPU on the same outputs.

A name that is not found (the code moved) is reported and left out; the run itself is
unchanged. With the crawl's manifest (``bench_speed.py`` writes one) it also prints the
near-duplicate share the run marked, planted and accidental.

    nice -n 10 python benchmarks/bench_phases.py CORPUS OUT [--json FILE] [--stages]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Under ``python -P`` (another checkout's code first on the path) the script's folder is not on
# sys.path: the benchmark modules are found from here.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_speed
import make_corpus

BOUNDARIES = ("surveyed", "cleaned", "decided", "journaled")
# (module, class, method, label)
WRAPPED = (
    ("cleankit.neardup.crawl", "NearDupPass", "_decide", "near-duplicate decisions (_decide)"),
    ("cleankit.neardup.crawl", "NearDupPass", "_similarity", "verifying pairs (_similarity)"),
    ("cleankit.neardup.crawl", "NearDupPass", "_rewrite", "rewriting the duplicates' records (_rewrite)"),
    ("cleankit.run.state", "EndOfRun", "commit", "end-of-run commit (EndOfRun.commit)"),
)
# With --stages: the cleaner's steps around the stages ("" for a module function).
STEPS = (
    ("cleankit.run.cleaner", "Cleaner", "__call__", "per document, all of it (Cleaner.__call__)"),
    ("cleankit.run.clean", "", "_learn", "site-learning survey (_learn)"),
    ("cleankit.run.cleaner", "", "build_record", "provenance record (build_record)"),
    ("cleankit.run.cleaner", "", "dumps_lines", "its JSON line (dumps_lines)"),
    ("cleankit.run.cleaner", "Cleaner", "_observe", "near-duplicate signature (Cleaner._observe)"),
    ("cleankit.run.cleaner", "Cleaner", "_write", "writing the output (Cleaner._write)"),
    ("cleankit.core.pipeline", "", "decode", "decoding with the survey's encoding (decode)"),
)
RESTORE_CHECK = "restore check"


class Phases:
    def __init__(self) -> None:
        self.marks: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.missing: list[str] = []

    def wrap_boundary(self) -> None:
        from cleankit.run import faults

        original = faults.boundary

        def boundary(name: str, *args: Any, **kwargs: Any) -> Any:
            if name in BOUNDARIES:
                self.marks[name] = time.process_time()
            return original(name, *args, **kwargs)

        faults.boundary = boundary  # type: ignore[assignment]

    def wrap_stages(self) -> None:
        """Each stage's ``run`` in every pipeline built, timed, and the pipeline's restore check."""
        from cleankit.core import pipeline

        build = pipeline.Pipeline.from_settings.__func__  # type: ignore[attr-defined]

        def from_settings(cls: Any, settings: Any) -> Any:
            built = build(cls, settings)
            for stage in built.stages:
                stage.run = self._timed(f"stage {stage.name}", stage.run)
            return built

        pipeline.Pipeline.from_settings = classmethod(from_settings)  # type: ignore[assignment]
        # The restore check as Pipeline.run calls it (restore_log since edits9; before, restore_text).
        check = "restore_log" if hasattr(pipeline, "restore_log") else "restore_text"
        setattr(pipeline, check, self._timed(RESTORE_CHECK, getattr(pipeline, check)))

    def _add(self, label: str, seconds: float) -> None:
        self.cpu[label] = self.cpu.get(label, 0.0) + seconds
        self.calls[label] = self.calls.get(label, 0) + 1

    def wrap_methods(self, wrapped: tuple[tuple[str, str, str, str], ...] = WRAPPED) -> None:
        import importlib

        for module_name, class_name, method, label in wrapped:
            try:
                module = importlib.import_module(module_name)
                owner = getattr(module, class_name) if class_name else module
                original = getattr(owner, method)
            except (ImportError, AttributeError):
                self.missing.append(f"{module_name}.{class_name}.{method}")
                continue
            self.cpu[label] = 0.0
            self.calls[label] = 0
            setattr(owner, method, self._timed(label, original))

    def _timed(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self._add(label, time.process_time() - started)

        return timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--stages", action="store_true", help="time each stage and the cleaner's steps too")
    args = parser.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)
    wall = time.perf_counter()
    phases = Phases()
    phases.wrap_boundary()
    phases.wrap_methods()
    if args.stages:
        phases.wrap_stages()
        phases.wrap_methods(STEPS)
    from cleankit.cli import main as cleankit_main

    code = 0
    try:
        cleankit_main(["clean", str(args.corpus), "-o", str(args.out), "-j", "1", "-q"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    total = time.process_time()
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    manifest_path = args.corpus / make_corpus.MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else None
    pages = manifest["files"] if manifest else None

    rows: list[tuple[str, float]] = []
    marks = phases.marks
    if "surveyed" in marks:
        rows.append(("start-up and site-learning survey", marks["surveyed"]))
        if "cleaned" in marks:
            rows.append(("cleaning (stages, provenance, signatures, commits)", marks["cleaned"] - marks["surveyed"]))
            rows.append(("after cleaning (near-duplicate pass, end of run)", total - marks["cleaned"]))
    rows += list(phases.cpu.items())
    if args.stages:
        stages = [seconds for label, seconds in phases.cpu.items() if label.startswith("stage ")]
        rows.append(("all stages and the restore check", sum(stages) + phases.cpu.get(RESTORE_CHECK, 0.0)))
    rows.append(("whole run (this process)", total))
    print(f"{args.corpus}: exit {code}, {pages if pages is not None else '?'} pages")
    print("| phase | CPU s | calls | CPU ms / page |")
    print("|---|---:|---:|---:|")
    for label, seconds in rows:
        calls = phases.calls.get(label)
        per_page = f"{1000 * seconds / pages:.2f}" if pages else "–"
        print(f"| {label} | {seconds:.2f} | {calls if calls is not None else ''} | {per_page} |")
    similarity = "verifying pairs (_similarity)"
    if pages and similarity in phases.calls:
        calls = phases.calls[similarity]
        per_call = 1000 * phases.cpu[similarity] / calls if calls else 0.0
        print(f"pairs verified per page {calls / pages:.3f}; CPU per verified pair {per_call:.3f} ms")
    print(
        f"rusage: self {own.ru_utime + own.ru_stime:.2f} s, children {children.ru_utime + children.ru_stime:.2f} s; "
        f"wall {time.perf_counter() - wall:.1f} s"
    )
    digest = bench_speed.output_hash(args.out, args.corpus)["hash"] if args.stages and code == 0 else None
    if digest:
        print(f"output hash (no stdin page): {digest}; code from {sys.modules['cleankit'].__file__}")
    found = bench_speed.near_duplicates(args.out, manifest) if manifest and code == 0 else None
    if found:
        print(bench_speed.near_duplicate_line(found))
    for name in phases.missing:
        print(f"note: {name} not found; not timed", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = {
            "corpus": str(args.corpus),
            "pages": pages,
            "exit": code,
            "phases_cpu_s": {label: round(seconds, 3) for label, seconds in rows},
            "calls": phases.calls,
            "rusage_self_s": round(own.ru_utime + own.ru_stime, 2),
            "rusage_children_s": round(children.ru_utime + children.ru_stime, 2),
            "near_duplicates": found,
            "output_hash": digest,
            "not_timed": phases.missing,
        }
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main())
