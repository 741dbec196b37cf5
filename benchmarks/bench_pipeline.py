"""Throughput and peak memory of cleankit's batch runner against a naive pipeline.

One invocation measures every configuration on the same corpus (built by
``make_corpus.py`` when missing), each run in a fresh subprocess of this script so that
its peak RSS is its own:

* ``cleankit-1``: ``run_clean([corpus], out, Settings(jobs=1), force=True)``
* ``cleankit-N``: the same with ``jobs=os.cpu_count()``
* ``naive``: what a user would write from the same libraries, one process:
  charset-normalizer ``from_bytes(raw).best()`` → OpenCC ``t2s`` → datasketch
  ``MinHash(num_perm=128).update_batch`` over character 5-gram shingles →
  ``MinHashLSH(threshold=0.8).insert``, writing each text to an output folder.

Configurations are interleaved and repeated; medians are reported, with ratios, since a
shared machine is noisy. After the runs each configuration's encoding decisions are
checked against the corpus manifest (untimed).

    python benchmarks/bench_pipeline.py --small               # ~20 MB, 3 rounds
    python benchmarks/bench_pipeline.py --profile             # 5,000 files, ~200 MB, 1 round
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import make_corpus
import pin_cleankit

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
RESULTS = HERE / "results"


def list_inputs(corpus: Path) -> list[tuple[Path, str]]:
    """(path, relative name) of the corpus files, hidden ones left out as cleankit does."""
    found: list[tuple[Path, str]] = []
    for root, dirs, files in os.walk(corpus):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                path = Path(root) / name
                found.append((path, path.relative_to(corpus).as_posix()))
    return found


def peak_rss_kb() -> tuple[int, int]:
    """Peak RSS in KiB of this process and of its largest waited-for child.

    Self is ``VmHWM`` from ``/proc/self/status`` where there is one: Linux carries
    ``ru_maxrss`` over ``execve``, so a fresh interpreter's ``RUSAGE_SELF`` starts at the
    peak of the process that spawned it. Children (pool workers, forked) come from
    ``RUSAGE_CHILDREN``; a forked worker's peak counts the pages it shares with its parent.
    """
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    self_kb = int(line.split()[1])
                    break
    except OSError:
        pass
    return self_kb, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def cpu_seconds() -> float:
    """User + system CPU time of this process and its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# ---------------------------------------------------------------------------- children


def child_cleankit(corpus: Path, out: Path, jobs: int) -> dict[str, Any]:
    """One batch run of cleankit; timing excludes imports."""
    # The module layout changed in 0.2 (issue 11); a pinned older revision has the flat one.
    try:
        from cleankit.core.settings import Settings
        from cleankit.run import clean as runner
    except ImportError:
        from cleankit.settings import Settings  # type: ignore[no-redef]

        from cleankit import runner  # type: ignore[no-redef]

    # Instrument the end-of-run step (provenance compaction + summary) from outside:
    # its time and the peak RSS reached before it started.
    finish: dict[str, float] = {}
    original_finish = getattr(runner, "_finish", None)
    if original_finish is not None:

        def timed_finish(*args: Any, **kwargs: Any) -> Any:
            finish["rss_before_kb"] = peak_rss_kb()[0]
            begun = time.perf_counter()
            try:
                return original_finish(*args, **kwargs)
            finally:
                finish["seconds"] = time.perf_counter() - begun

        runner._finish = timed_finish  # type: ignore[attr-defined]

    baseline, _ = peak_rss_kb()
    cpu = cpu_seconds()
    started = time.perf_counter()
    summary = runner.run_clean([corpus], out, Settings(jobs=jobs), force=True)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    main_rss, worker_rss = peak_rss_kb()
    detected: dict[str, Any] = {}
    with open(out / "provenance.jsonl", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            encoding = record.get("encoding") or {}
            detected[record.get("file", record["source"])] = [encoding.get("name"), encoding.get("bom", False)]
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "documents": summary.documents,
        "failed": summary.failed,
        "failures": summary.failures[:5],
        "bytes_in": summary.bytes_in,
        "baseline_rss_kb": baseline,
        "main_rss_kb": main_rss,
        "worker_rss_kb": worker_rss if jobs > 1 else 0,
        "finish_seconds": finish.get("seconds"),
        "rss_before_finish_kb": finish.get("rss_before_kb"),
        "provenance_bytes": (out / "provenance.jsonl").stat().st_size,
        "detected": detected,
    }


def child_naive(corpus: Path, out: Path) -> dict[str, Any]:
    """The pipeline a user would write from the same libraries, one process."""
    import opencc
    from charset_normalizer import from_bytes
    from datasketch import MinHash, MinHashLSH

    baseline, _ = peak_rss_kb()
    phases = dict.fromkeys(("read", "detect", "t2s", "minhash", "lsh", "write"), 0.0)
    detected: dict[str, Any] = {}
    documents = bytes_in = 0
    clock = time.perf_counter
    cpu = cpu_seconds()
    started = clock()
    converter = opencc.OpenCC("t2s.json")
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    for path, rel in list_inputs(corpus):
        t0 = clock()
        raw = path.read_bytes()
        t1 = clock()
        best = from_bytes(raw).best()
        text = str(best) if best is not None else raw.decode("utf-8", errors="replace")
        detected[rel] = [best.encoding, best.bom] if best is not None else [None, False]
        t2 = clock()
        text = converter.convert(text)
        t3 = clock()
        shingles = {text[i : i + 5] for i in range(max(1, len(text) - 4))}
        minhash = MinHash(num_perm=128)
        minhash.update_batch([s.encode("utf-8") for s in shingles])
        t4 = clock()
        lsh.insert(rel, minhash)
        t5 = clock()
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        t6 = clock()
        for name, spent in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5), strict=True):
            phases[name] += spent
        documents += 1
        bytes_in += len(raw)
    seconds = clock() - started
    cpu = cpu_seconds() - cpu
    main_rss, _ = peak_rss_kb()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "documents": documents,
        "failed": 0,
        "bytes_in": bytes_in,
        "baseline_rss_kb": baseline,
        "main_rss_kb": main_rss,
        "worker_rss_kb": 0,
        "phases": {name: round(spent, 3) for name, spent in phases.items()},
        "detected": detected,
    }


def child_profile(corpus: Path, out: Path, top: int = 25) -> dict[str, Any]:
    """cProfile of a one-worker cleankit run: the functions that take the time."""
    import cProfile
    import pstats

    from cleankit.core.settings import Settings
    from cleankit.run.clean import run_clean

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(run_clean, [corpus], out, Settings(jobs=1), force=True)
    seconds = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    total = sum(entry[2] for entry in stats.stats.values())  # type: ignore[attr-defined]
    rows = []
    for (filename, line, function), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{_short(filename)}:{line}({function})",
                "calls": calls,
                "tottime": round(tottime, 3),
                "cumtime": round(cumtime, 3),
                "tottime_share": round(tottime / total, 4) if total else 0.0,
                "cumtime_share": round(cumtime / total, 4) if total else 0.0,
            }
        )
    by_self = sorted(rows, key=lambda r: r["tottime"], reverse=True)[:top]
    by_cum = sorted(rows, key=lambda r: r["cumtime"], reverse=True)[:top]
    return {"seconds": seconds, "profiled_total": round(total, 3), "by_self": by_self, "by_cumulative": by_cum}


def _short(filename: str) -> str:
    for marker in ("/cleankit/", "/site-packages/", "/lib/python"):
        if marker in filename:
            return filename.split(marker, 1)[1] if marker != "/cleankit/" else "cleankit/" + filename.split(marker)[-1]
    return filename


def run_child(args: argparse.Namespace) -> None:
    corpus, out = args.corpus.resolve(), args.out.resolve()
    location = None
    if args.child != "naive":
        import cleankit

        location = str(Path(cleankit.__file__).parent)
    if args.child == "naive":
        result = child_naive(corpus, out)
    elif args.child == "profile":
        result = child_profile(corpus, out)
    else:
        result = child_cleankit(corpus, out, args.jobs)
    result["cleankit_location"] = location
    print(json.dumps(result, ensure_ascii=False))


# ---------------------------------------------------------------------------- parent


def spawn(
    config: str, corpus: Path, out: Path, jobs: int, timeout: float, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run one configuration in a fresh interpreter and return its figures."""
    if out.exists():
        shutil.rmtree(out)
    kind = "naive" if config == "naive" else "profile" if config == "profile" else "cleankit"
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind]
    command += ["--corpus", str(corpus), "--out", str(out), "--jobs", str(jobs)]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    wall = time.perf_counter() - started
    load_after = os.getloadavg()[0]
    if done.returncode != 0:
        raise SystemExit(f"{config} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = wall
    result["loadavg_1min"] = [round(load_before, 2), round(load_after, 2)]
    if out.exists():
        result["output_bytes"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        shutil.rmtree(out)
    return result


def decoded_correctly(raw: bytes, truth: str, name: str | None, bom: bool) -> bool:
    """Whether decoding as the detector said gives the file's true text (BOM aside)."""
    if not name:
        return False
    expected = make_corpus.true_text(raw, truth).lstrip("\ufeff")
    for body in (make_corpus.strip_bom(raw),) if bom else (raw, make_corpus.strip_bom(raw)):
        try:
            if body.decode(name).lstrip("\ufeff") == expected:
                return True
        except (UnicodeDecodeError, LookupError):
            continue
    return False


def accuracy(corpus: Path, manifest: dict[str, Any], detected: dict[str, Any]) -> dict[str, Any]:
    """Share of files decoded to their true text, overall, by true encoding, and for files < 1 kB."""
    by_encoding: dict[str, list[int]] = {}
    small = [0, 0]
    wrong_examples: list[str] = []
    for entry in manifest["entries"]:
        raw = (corpus / entry["file"]).read_bytes()
        name, bom = detected.get(entry["file"], [None, False])
        ok = decoded_correctly(raw, entry["encoding"], name, bom)
        tally = by_encoding.setdefault(entry["encoding"], [0, 0])
        tally[0] += ok
        tally[1] += 1
        if len(raw) < 1000:
            small[0] += ok
            small[1] += 1
        if not ok and len(wrong_examples) < 8:
            wrong_examples.append(f"{entry['file']} ({entry['encoding']}, {len(raw)} B) -> {name}")
    right = sum(t[0] for t in by_encoding.values())
    total = sum(t[1] for t in by_encoding.values())
    return {
        "correct": right / total if total else 0.0,
        "correct_under_1kB": small[0] / small[1] if small[1] else None,
        "by_encoding": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_encoding.items())},
        "wrong_examples": wrong_examples,
    }


def machine(cleankit_version: str) -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for dist in ("cleankit", "charset-normalizer", "opencc", "datasketch", "numpy"):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = None
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "cleankit": cleankit_version,
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def _median_or_none(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 2) if present else None


def _mb_or_none(kb: float | None) -> float | None:
    return round(kb / 1024, 1) if kb is not None else None


def summarize(config: str, runs: list[dict[str, Any]], corpus_bytes: int, files: int) -> dict[str, Any]:
    seconds = statistics.median(r["seconds"] for r in runs)
    return {
        "config": config,
        "runs": len(runs),
        "seconds": round(seconds, 2),
        "seconds_all": [round(r["seconds"], 2) for r in runs],
        "mb_per_s": round(corpus_bytes / 1e6 / seconds, 2),
        "docs_per_s": round(files / seconds, 1),
        "cpu_seconds": _median_or_none([r.get("cpu_seconds") for r in runs]),
        "mb_per_cpu_s": round(corpus_bytes / 1e6 / statistics.median(r["cpu_seconds"] for r in runs), 2),
        "loadavg_1min": [r["loadavg_1min"] for r in runs],
        "baseline_rss_mb": round(statistics.median(r["baseline_rss_kb"] for r in runs) / 1024, 1),
        "main_rss_mb": round(statistics.median(r["main_rss_kb"] for r in runs) / 1024, 1),
        "worker_rss_mb": round(statistics.median(r["worker_rss_kb"] for r in runs) / 1024, 1),
        "finish_seconds": _median_or_none([r.get("finish_seconds") for r in runs]),
        "rss_before_finish_mb": _mb_or_none(_median_or_none([r.get("rss_before_finish_kb") for r in runs])),
        "failed": runs[0]["failed"],
        "output_bytes": runs[0].get("output_bytes"),
        "provenance_bytes": runs[0].get("provenance_bytes"),
        "phases": runs[0].get("phases"),
    }


def report(results: dict[str, Any]) -> str:
    """Markdown tables of the medians and the ratios."""
    rows = results["summary"]
    lines = [
        f"corpus: {results['corpus']['files']} files, {results['corpus']['bytes'] / 1e6:.1f} MB; "
        f"repeats: {results['repeats']}; machine: {results['machine']['nproc']} CPUs, "
        f"Python {results['machine']['python']}; cleankit: {results['machine']['cleankit']}",
        "",
        "| configuration | s (median) | runs (s) | MB/s | docs/s | CPU s | MB per CPU s | peak RSS main (MB) "
        "| peak RSS largest worker (MB) | RSS after imports (MB) | decoded correctly | failed |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    finish_lines = [
        "",
        "| configuration | end-of-run `_finish` (s) | share of run | peak RSS before `_finish` (MB) "
        "| peak RSS after (MB) | provenance.jsonl / input |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows.values():
        acc = results["accuracy"].get(row["config"], {})
        correct = f"{acc['correct']:.2%}" if acc else ""
        lines.append(
            f"| {row['config']} | {row['seconds']} | {', '.join(map(str, row['seconds_all']))} | {row['mb_per_s']} "
            f"| {row['docs_per_s']} | {row['cpu_seconds']} | {row['mb_per_cpu_s']} | {row['main_rss_mb']} "
            f"| {row['worker_rss_mb'] or '–'} | {row['baseline_rss_mb']} "
            f"| {correct} | {row['failed']} |"
        )
        if row.get("finish_seconds") is not None:
            finish_lines.append(
                f"| {row['config']} | {row['finish_seconds']} | {row['finish_seconds'] / row['seconds']:.0%} "
                f"| {row['rss_before_finish_mb']} | {row['main_rss_mb']} "
                f"| {row['provenance_bytes'] / results['corpus']['bytes']:.2f} |"
            )
    if len(finish_lines) > 3:
        lines += finish_lines
    lines += ["", "| ratio | value |", "|---|---:|"]
    for name, value in results["ratios"].items():
        lines.append(f"| {name} | {value} |")
    naive = rows.get("naive")
    if naive and naive.get("phases"):
        total = sum(naive["phases"].values()) or 1.0
        shares = ", ".join(f"{k} {v / total:.0%}" for k, v in naive["phases"].items())
        lines += ["", f"naive time by phase: {shares}"]
    return "\n".join(lines)


def ratios(runs: dict[str, list[dict[str, Any]]], rows: dict[str, dict[str, Any]], jobs: int) -> dict[str, float]:
    """Ratios of one configuration to another: wall time paired within a round (the runs
    were adjacent in time), then the median over rounds; also CPU time and peak RSS."""

    def paired(a: str, b: str, key: str) -> float:
        pairs = [y[key] / x[key] for x, y in zip(runs[a], runs[b], strict=True) if x[key]]
        return round(statistics.median(pairs), 2)

    out: dict[str, float] = {}
    one, many = "cleankit-1", f"cleankit-{jobs}"
    if one in runs and "naive" in runs:
        out["throughput cleankit-1 / naive (wall, per-round median)"] = paired(one, "naive", "seconds")
        out["CPU time naive / cleankit-1"] = paired(one, "naive", "cpu_seconds")
        out["peak RSS cleankit-1 / naive"] = round(rows[one]["main_rss_mb"] / rows["naive"]["main_rss_mb"], 2)
    if one in runs and many in runs and many != one:
        out[f"throughput cleankit-{jobs} / cleankit-1 (wall, per-round median)"] = paired(many, one, "seconds")
        out[f"CPU time cleankit-{jobs} (all processes) / cleankit-1"] = paired(one, many, "cpu_seconds")
        out[f"peak RSS cleankit-{jobs} main + {jobs} workers (upper bound) / cleankit-1"] = round(
            (rows[many]["main_rss_mb"] + jobs * rows[many]["worker_rss_mb"]) / rows[one]["main_rss_mb"], 2
        )
    if many in runs and "naive" in runs and many != one:
        out[f"throughput cleankit-{jobs} / naive (wall, per-round median)"] = paired(many, "naive", "seconds")
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="corpus folder (default: data/<preset>, built if missing)")
    parser.add_argument("--small", action="store_true", help="use the ~20 MB preset corpus")
    parser.add_argument("--source", type=Path, default=make_corpus.DEFAULT_SOURCE, help="real text: git mirror/folder")
    parser.add_argument("--samples", type=Path, default=make_corpus.DEFAULT_SAMPLES)
    parser.add_argument("--repeats", type=int, help="rounds of every configuration (default: 3 with --small, else 1)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="workers of the parallel configuration")
    parser.add_argument("--configs", default="naive,cleankit-1,cleankit-N", help="comma-separated subset")
    parser.add_argument("--profile", action="store_true", help="also cProfile one cleankit-1 run")
    parser.add_argument("--cleankit-rev", help="measure cleankit as of this commit (default: the working tree)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per run")
    parser.add_argument("--results", type=Path, help="JSON results file (default: benchmarks/results/<corpus>.json)")
    parser.add_argument("--child", choices=["cleankit", "naive", "profile"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        run_child(args)
        return
    preset = "small" if args.small else "full"
    if args.repeats is None:
        args.repeats = 3 if args.small else 1
    corpus = (args.corpus or make_corpus.DATA / preset).resolve()
    manifest_path = corpus / make_corpus.MANIFEST
    if args.corpus and manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    else:
        files, total_mb = make_corpus.PRESETS[preset]
        manifest = make_corpus.build_corpus(corpus, files, total_mb, source=args.source, samples=args.samples)
    inputs = list_inputs(corpus)
    corpus_bytes = sum(path.stat().st_size for path, _ in inputs)
    for path, _ in inputs:  # warm the page cache so every configuration reads from memory
        path.read_bytes()

    env, cleankit_version = pin_cleankit.pinned(args.cleankit_rev)
    print(f"cleankit: {cleankit_version}", flush=True)
    configs = [c.replace("-N", f"-{args.jobs}") for c in args.configs.split(",") if c]
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
    detected: dict[str, dict[str, Any]] = {}
    for round_number in range(args.repeats):
        shift = round_number % len(configs)
        for config in configs[shift:] + configs[:shift]:  # rotate the order between rounds
            jobs = int(config.rsplit("-", 1)[1]) if config.startswith("cleankit-") else 1
            result = spawn(config, corpus, WORK / config, jobs, args.timeout, env)
            detected.setdefault(config, result.pop("detected"))
            result.pop("detected", None)
            runs[config].append(result)
            print(
                f"round {round_number + 1} {config}: {result['seconds']:.1f} s, "
                f"{corpus_bytes / 1e6 / result['seconds']:.2f} MB/s, peak RSS {result['main_rss_kb'] / 1024:.0f} MB"
                + (f" (worker {result['worker_rss_kb'] / 1024:.0f} MB)" if result["worker_rss_kb"] else ""),
                flush=True,
            )

    summary = {c: summarize(c, r, corpus_bytes, len(inputs)) for c, r in runs.items()}
    results: dict[str, Any] = {
        "corpus": {
            "path": str(corpus),
            "files": len(inputs),
            "bytes": corpus_bytes,
            "encodings": manifest["encodings"],
        },
        "repeats": args.repeats,
        "machine": machine(cleankit_version),
        "summary": summary,
        "ratios": ratios(runs, summary, args.jobs),
        "accuracy": {c: accuracy(corpus, manifest, d) for c, d in detected.items()},
        "runs": runs,
    }
    if args.profile:
        print("profiling one cleankit-1 run ...", flush=True)
        results["profile"] = spawn("profile", corpus, WORK / "profile", 1, args.timeout, env)
    text = report(results)
    print()
    print(text)
    if args.profile:
        print("\ncProfile of cleankit-1, by own time:")
        for row in results["profile"]["by_self"][:15]:
            print(f"  {row['tottime_share']:6.1%} own {row['cumtime_share']:6.1%} cum  {row['function']}")
    target = args.results or RESULTS / f"pipeline-{corpus.name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\nresults written to {target}")


if __name__ == "__main__":
    main()
