"""Cost of the audit commands (issue 8) on a cleaned corpus, as ratios to baselines measured
in the same process.

    python benchmarks/make_corpus.py --small
    cleankit clean benchmarks/data/small -o benchmarks/work/audit-out -q
    python benchmarks/bench_audit.py benchmarks/work/audit-out

Baselines: reading and JSON-parsing provenance.jsonl (what any audit must do) for
`stats`; reading each clean file and restoring its original (`restore`'s work) for `diff`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cleankit.audit.diff import render_inline, unified
from cleankit.audit.records import CleanTextReader, align, load_document, read_outdir
from cleankit.audit.report import ReportOptions, render_report
from cleankit.audit.stats import corpus_stats
from cleankit.core.provenance import restore_from_record


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    records = read_outdir(args.outdir)
    ok = [r for r in records if r["status"] != "failed"]
    edits = sum(len(r["edits"]) for r in ok)
    chars = sum(r["output_chars"] for r in ok)
    print(f"{len(records)} records, {edits:,} edits, {chars / 1e6:.1f} M clean characters")

    parse = best_of(args.runs, lambda: read_outdir(args.outdir))
    aligning = best_of(args.runs, lambda: [align(r["edits"]) for r in ok])
    stats = best_of(args.runs, lambda: corpus_stats(read_outdir(args.outdir)))

    def restore_all() -> None:
        reader = CleanTextReader(args.outdir)
        for record in ok:
            restore_from_record(reader(record), record)

    def diff_all(view: Callable) -> Callable[[], None]:
        def run() -> None:
            reader = CleanTextReader(args.outdir)
            for record in ok:
                view(load_document(record, reader))

        return run

    restore = best_of(args.runs, restore_all)
    plain = best_of(args.runs, diff_all(lambda doc: unified(doc, 3)))
    inline = best_of(args.runs, diff_all(lambda doc: render_inline(doc, 3, colour=True)))
    page: list[str] = []
    report = best_of(args.runs, lambda: page.append(render_report(args.outdir, records, ReportOptions())))
    rows = [
        ("read + parse provenance.jsonl (baseline A)", parse, parse),
        ("align every record's edits", aligning, parse),
        ("cleankit stats (parse + align + totals)", stats, parse),
        ("read clean + restore every document (baseline B)", restore, restore),
        ("cleankit diff --plain, every document", plain, restore),
        ("cleankit diff (inline view), every document", inline, restore),
        ("cleankit report (300 detailed views)", report, parse),
    ]
    print(f"{'step':52} {'seconds':>8} {'ratio':>7}")
    for name, seconds, base in rows:
        print(f"{name:52} {seconds:8.3f} {seconds / base:7.2f}")
    print(f"report size: {len(page[-1].encode('utf-8')) / 1e6:.1f} MB")


if __name__ == "__main__":
    sys.exit(main())
