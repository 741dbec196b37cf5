"""Peak memory of one large document, per stage and for the whole ``cleankit clean`` run.

Two files at the size ``max_bytes`` allows by default (32 MiB), each cleaned in fresh
subprocesses:

- ``letter``: one ASCII letter repeated (``a`` × 31,000,000, no line break): the page that
  peaked at 3.5 GB in issue 14, where every anchor of the ``repeats`` stage repeats;
- ``text``: real government text with web debris, UTF-8 (``bench_bigfile.build_file``, the
  paragraphs of ``make_corpus.py``).

Per stage: a child decodes the file and runs the default stages one at a time, resetting its
peak RSS (``VmHWM``, through ``/proc/self/clear_refs``) before each and reading it after, so
each figure is the peak *during* that stage (what earlier stages left included), then the
restore check and the provenance record. Whole run: ``cleankit clean FILE -o OUT -j 1`` with
its ``ru_maxrss`` (``bench_bigfile.run_cleankit``).

    python benchmarks/bench_memory.py                       # both files, working tree
    python benchmarks/bench_memory.py --files letter --cleankit-rev main
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import bench_bigfile
import make_corpus
import pin_cleankit

HERE = Path(__file__).resolve().parent
WORK = HERE / "work" / "memory"
RESULTS = HERE / "results"
SIZE = 32 * 1024 * 1024 - 1024 * 1024  # under the default max_bytes with room to spare

STAGES_CHILD = r"""
import hashlib, json, sys, time
from cleankit import Pipeline, Settings
from cleankit.core.document import Document
from cleankit.core.provenance import build_record, dumps, restore_text
from cleankit.io.encoding import detect_and_decode

def peak_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) // 1024

def reset():
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")

rows = []
def step(name, started):
    rows.append({"step": name, "peak_rss_mb": peak_mb(), "seconds": round(time.perf_counter() - started, 1)})
    print(json.dumps(rows[-1]), file=sys.stderr, flush=True)

raw = open(sys.argv[1], "rb").read()
# No time budget here (a revision older than document_seconds has none to switch off).
unbudgeted = {"document_seconds": 0} if "document_seconds" in Settings.__dataclass_fields__ else {}
pipeline = Pipeline.from_settings(Settings(**unbudgeted))
reset(); started = time.perf_counter()
text, info = detect_and_decode(raw, None)
digest = hashlib.sha256(raw).hexdigest()
document = Document(id=digest[:16], source="big", text=text, sha256=digest, size=len(raw), encoding=info)
step("decode", started)
for stage in pipeline.stages:
    reset(); started = time.perf_counter()
    document = stage.run(document)
    step(stage.name, started)
reset(); started = time.perf_counter()
assert restore_text(document.text, document.edits) == text
step("restore check", started)
reset(); started = time.perf_counter()
line = dumps(build_record(document, "bench", "big"))
step("provenance record", started)
print(json.dumps(rows))
"""


def build(kind: str, source: Path, samples: Path) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"{kind}-{SIZE}.txt"
    if path.is_file() and path.stat().st_size >= SIZE - 4:
        return path
    if kind == "letter":
        path.write_bytes(b"a" * SIZE)
    else:
        bench_bigfile.build_file(path, "utf-8", SIZE / 1e6, 7, source, samples)
    return path


def per_stage(path: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-c", STAGES_CHILD, str(path)], capture_output=True, env=env, check=True)
    rows: list[dict[str, Any]] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", default="letter,text", help="comma-separated: letter, text")
    parser.add_argument("--cleankit-rev", help="measure cleankit as of this commit (default: the working tree)")
    parser.add_argument("--source", type=Path, default=make_corpus.DEFAULT_SOURCE)
    parser.add_argument("--samples", type=Path, default=make_corpus.DEFAULT_SAMPLES)
    parser.add_argument("--results", type=Path, default=RESULTS / "memory.json")
    args = parser.parse_args(argv)
    env, version = pin_cleankit.pinned(args.cleankit_rev)
    print(f"cleankit: {version}", flush=True)
    report: dict[str, Any] = {"cleankit": version, "when": time.strftime("%Y-%m-%d %H:%M"), "files": {}}
    for kind in [k for k in args.files.split(",") if k]:
        path = build(kind, args.source, args.samples)
        size = path.stat().st_size
        stages = per_stage(path, env)
        run = bench_bigfile.run_cleankit(path, WORK / f"out-{kind}", 3600, env, max_bytes=32 * 1024 * 1024)
        report["files"][kind] = {"bytes": size, "stages": stages, "run": run}
        worst = max(stages, key=lambda row: row["peak_rss_mb"])
        print(f"{kind} ({size / 1e6:.1f} MB): whole run peak {run['ru_maxrss_mb']:.0f} MB in {run['seconds']} s "
              f"(exit {run['exit_code']}); worst step {worst['step']} {worst['peak_rss_mb']} MB")
        for row in stages:
            print(f"  {row['step']:<18} {row['peak_rss_mb']:>6} MB  {row['seconds']:>6} s")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
