"""Soak: one long ``cleankit clean`` run of many small documents with 2 workers, watched.

Builds ``--docs`` small documents of real government text with web debris (the paragraphs
and debris of ``make_corpus.py``, about ``--chars`` characters each) as JSON Lines files of
``--per-file`` documents (a folder of a million files would test the file system more than
cleankit), then runs ``cleankit clean IN -o OUT --jsonl -j 2 -q`` and samples once a second:

- RSS of the parent and of each worker (``/proc/PID/status`` ``VmRSS``), and their sum;
- open file descriptors of each (``/proc/PID/fd``);
- documents done, from the lines of ``provenance.jsonl`` (the parent appends one per document).

It reports throughput (documents/s) in the first and the last tenth of the documents, RSS
and descriptors at the start, middle and end of the cleaning, their peaks, and writes every
sample to ``results/soak.json``.

    python benchmarks/bench_soak.py                            # 1,000,000 documents, ~1.3 GB
    python benchmarks/bench_soak.py --docs 100000              # a scaled-down run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import make_corpus
import pin_cleankit

HERE = Path(__file__).resolve().parent
WORK = HERE / "work" / "soak"
RESULTS = HERE / "results"


def build(docs: int, per_file: int, chars: int, seed: int, source: Path, samples: Path) -> tuple[Path, int]:
    """The JSON Lines input folder (reused when built with the same parameters) and its bytes."""
    folder = WORK / f"in-{docs}-{chars}-{seed}"
    stamp = folder / ".built.json"
    if stamp.is_file():
        return folder, json.loads(stamp.read_text())["bytes"]
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    pools = make_corpus.load_pools(source, samples)
    texts = pools.for_codec("simplified", "utf-8")
    rng = random.Random(seed)
    total = 0
    for start in range(0, docs, per_file):
        lines = []
        for number in range(start, min(docs, start + per_file)):
            size = max(40, int(rng.gauss(chars, chars / 3)))
            text = make_corpus._debris(rng, make_corpus._cut(rng, texts, size), "utf-8")
            lines.append(json.dumps({"id": number, "text": text}, ensure_ascii=False))
        data = ("\n".join(lines) + "\n").encode("utf-8")
        (folder / f"part-{start // per_file:05d}.jsonl").write_bytes(data)
        total += len(data)
    stamp.write_text(json.dumps({"docs": docs, "bytes": total}))
    return folder, total


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            return [int(child) for child in handle.read().split()]
    except OSError:
        return []


def _fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


class LineCounter:
    """Lines of a file that only grows, counted from where the last count stopped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.lines = 0

    def count(self) -> int:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                while chunk := handle.read(1 << 20):
                    self.lines += chunk.count(b"\n")
                    self.offset += len(chunk)
        except OSError:
            pass
        return self.lines


def soak(folder: Path, out: Path, jobs: int, env: dict[str, str], interval: float) -> dict[str, Any]:
    if out.exists():
        shutil.rmtree(out)
    cleankit = shutil.which("cleankit", path=str(Path(sys.executable).parent)) or "cleankit"
    command = [cleankit, "clean", str(folder), "-o", str(out), "--jsonl", "-j", str(jobs), "-q", "--force"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    counter = LineCounter(out / "provenance.jsonl")
    samples: list[dict[str, Any]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            workers = _children(process.pid)
            pids = [process.pid, *workers]
            samples.append(
                {
                    "t": round(time.perf_counter() - started, 2),
                    "done": counter.count(),
                    "parent_rss_mb": round(_status_kb(process.pid, "VmRSS:") / 1024, 1),
                    "worker_rss_mb": [round(_status_kb(pid, "VmRSS:") / 1024, 1) for pid in workers],
                    "total_rss_mb": round(sum(_status_kb(pid, "VmRSS:") for pid in pids) / 1024, 1),
                    "parent_fds": _fds(process.pid),
                    "worker_fds": [_fds(pid) for pid in workers],
                    # The machine's load: other work on it moves throughput, not RSS or fds.
                    "loadavg_1min": round(os.getloadavg()[0], 2),
                }
            )
            stop.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, errors = process.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join(5)
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").is_file() else {}
    return {
        "exit_code": process.returncode,
        "seconds": round(seconds, 1),
        "documents": summary.get("documents"),
        "failed": summary.get("failed"),
        "stderr_tail": errors.decode("utf-8", errors="replace")[-800:],
        "samples": samples,
    }


def _at(samples: list[dict[str, Any]], done: float) -> dict[str, Any]:
    """The first sample with at least ``done`` documents finished."""
    return next((s for s in samples if s["done"] >= done), samples[-1])


def describe(run: dict[str, Any], docs: int) -> dict[str, Any]:
    """Throughput over the first and the last tenth of the documents; RSS and descriptors at
    10 %, 50 % and 90 % of them, and their peaks while cleaning."""
    samples = [s for s in run["samples"] if s["worker_rss_mb"]]  # while the workers live
    first_a, first_b = _at(samples, 0.0 * docs + 1), _at(samples, 0.1 * docs)
    last_a, last_b = _at(samples, 0.8 * docs), _at(samples, 0.9 * docs)

    def rate(a: dict[str, Any], b: dict[str, Any]) -> float:
        return round((b["done"] - a["done"]) / max(b["t"] - a["t"], 1e-9), 1)

    points = {f"{p}%": _at(samples, p / 100 * docs) for p in (10, 50, 90)}
    return {
        "docs_per_s_first_tenth": rate(first_a, first_b),
        "docs_per_s_last_tenth": rate(last_a, last_b),
        "end_over_start": round(rate(last_a, last_b) / max(rate(first_a, first_b), 1e-9), 3),
        "total_rss_mb": {k: s["total_rss_mb"] for k, s in points.items()},
        "parent_rss_mb": {k: s["parent_rss_mb"] for k, s in points.items()},
        "worker_rss_mb": {k: s["worker_rss_mb"] for k, s in points.items()},
        "fds": {k: [s["parent_fds"], *s["worker_fds"]] for k, s in points.items()},
        "peak_total_rss_mb": max(s["total_rss_mb"] for s in samples),
        "peak_fds": max(s["parent_fds"] + sum(s["worker_fds"]) for s in samples),
        "loadavg_1min": {k: s["loadavg_1min"] for k, s in points.items()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--chars", type=int, default=450, help="mean characters per document")
    parser.add_argument("--per-file", type=int, default=2000, help="documents per JSON Lines file")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--source", type=Path, default=make_corpus.DEFAULT_SOURCE)
    parser.add_argument("--samples", type=Path, default=make_corpus.DEFAULT_SAMPLES)
    parser.add_argument("--cleankit-rev", help="measure cleankit as of this commit (default: the working tree)")
    parser.add_argument("--results", type=Path, default=RESULTS / "soak.json")
    args = parser.parse_args(argv)
    env, version = pin_cleankit.pinned(args.cleankit_rev)
    print(f"cleankit: {version}", flush=True)
    folder, size = build(args.docs, args.per_file, args.chars, args.seed, args.source, args.samples)
    print(f"input: {args.docs} documents, {size / 1e9:.2f} GB in {folder}", flush=True)
    run = soak(folder, WORK / "out", args.jobs, env, args.interval)
    figures = describe(run, args.docs)
    report = {"cleankit": version, "docs": args.docs, "bytes": size, "jobs": args.jobs, **figures, **run}
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "samples"}, indent=1))


if __name__ == "__main__":
    main()
