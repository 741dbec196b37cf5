"""Time and peak memory of ``cleankit clean`` on one very large file.

Builds a ~200 MB file of real government text with web debris (the paragraphs and
debris of ``make_corpus.py``), in UTF-8 and in GBK, and runs the CLI on each in a fresh
subprocess: ``cleankit clean FILE -o OUT -j 1 -q --force --config C``, where C sets
``max_bytes`` (cleankit's default fell from 256 MiB to 32 MiB in 36cda7f; the run gets
256 MiB unless told otherwise). Peak RSS is reported two ways: ``ru_maxrss`` of that
child (``os.wait4``, the same figure as ``getrusage(RUSAGE_CHILDREN)`` for a single
child) and the child's ``VmHWM`` polled from ``/proc``. Linux carries ``ru_maxrss`` over
``execve``, so the first is never below the RSS of the process that spawned it; files
are therefore built in a separate subprocess to keep this one small.

    python benchmarks/bench_bigfile.py                    # UTF-8 and GBK, 200 MB each
    python benchmarks/bench_bigfile.py --mb 50 --variants utf-8
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
BIG = make_corpus.DATA / "bigfile"
WORK = HERE / "work" / "bigfile"
RESULTS = HERE / "results"
CODECS = {"utf-8": "utf-8", "gbk": "gbk"}


def build_file(path: Path, codec: str, megabytes: float, seed: int, source: Path, samples: Path) -> int:
    """Stream real paragraphs with debris into ``path`` until it holds ``megabytes`` MB."""
    pools = make_corpus.load_pools(source, samples)
    docs = pools.for_codec("simplified", codec)
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    written = 0
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        while written < target:
            chars = int(min(200_000, (target - written) / make_corpus.BYTES_PER_CHAR[codec]) or 1)
            data = make_corpus._debris(rng, make_corpus._cut(rng, docs, chars), codec).encode(codec)
            data = data[: target - written] if codec == "utf-8" and written + len(data) > target else data
            if codec == "utf-8":
                data = data.decode("utf-8", errors="ignore").encode("utf-8")  # never end mid-character
            handle.write(data)
            written += len(data)
    tmp.replace(path)
    return written


def ensure_file(codec: str, megabytes: float, seed: int, source: Path, samples: Path) -> Path:
    """The big file for ``codec``, built (in a subprocess) unless an identical one exists."""
    path = BIG / f"big-{codec}-{megabytes:g}MB.txt"
    stamp = path.with_suffix(".json")
    params = {"codec": codec, "mb": megabytes, "seed": seed, "source": str(source)}
    params["format"] = make_corpus.FORMAT_VERSION
    if path.is_file() and stamp.is_file() and json.loads(stamp.read_text()) == params:
        return path
    BIG.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, __file__, "--build-one", codec, "--mb", str(megabytes), "--seed", str(seed)]
    command += ["--source", str(source), "--samples", str(samples)]
    subprocess.run(command, check=True)
    stamp.write_text(json.dumps(params))
    return path


def _vmhwm_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def run_cleankit(
    path: Path, out: Path, timeout: float, env: dict[str, str] | None = None, max_bytes: int = 256 * 1024 * 1024
) -> dict[str, Any]:
    """One ``cleankit clean`` run in a subprocess: seconds, exit code, peak RSS both ways.

    ``max_bytes`` goes in through a settings file (``--config``), the one way every cleankit
    version takes it: the default fell from 256 MiB to 32 MiB in 36cda7f.
    """
    if out.exists():
        shutil.rmtree(out)
    config = out.parent / f"{out.name}.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f"[clean]\nmax_bytes = {max_bytes}\n", encoding="utf-8")
    cleankit = shutil.which("cleankit", path=str(Path(sys.executable).parent)) or "cleankit"
    command = [cleankit, "clean", str(path), "-o", str(out), "-j", "1", "-q", "--force", "--config", str(config)]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    polled = [0]
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            value = _vmhwm_kb(process.pid)
            if value:
                polled[0] = max(polled[0], value)
            stop.wait(0.05)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    # Drain the pipes without waiting on the process, so wait4 below still reaps it.
    output: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=lambda: output.__setitem__("out", process.stdout.read()), daemon=True),  # type: ignore[union-attr]
        threading.Thread(target=lambda: output.__setitem__("err", process.stderr.read()), daemon=True),  # type: ignore[union-attr]
    ]
    for reader in readers:
        reader.start()
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    for thread in (watcher, *readers):
        thread.join(5)
    summary: dict[str, Any] = {}
    if (out / "summary.json").is_file():
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    sizes = {p.name: p.stat().st_size for p in out.iterdir() if p.is_file()} if out.exists() else {}
    if out.exists():
        shutil.rmtree(out)
    return {
        "exit_code": process.returncode,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "loadavg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "ru_maxrss_mb": round(usage.ru_maxrss / 1024, 1),
        "vmhwm_polled_mb": round(polled[0] / 1024, 1),
        "failed": summary.get("failed"),
        "failures": summary.get("failures", [])[:3],
        "encodings": summary.get("encodings"),
        "output_sizes": sizes,
        "stderr_tail": output.get("err", b"").decode("utf-8", errors="replace")[-1500:],
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=200.0, help="file size in MB (default 200)")
    parser.add_argument("--variants", default="utf-8,gbk", help="comma-separated: utf-8, gbk")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--source", type=Path, default=make_corpus.DEFAULT_SOURCE)
    parser.add_argument("--samples", type=Path, default=make_corpus.DEFAULT_SAMPLES)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per run")
    parser.add_argument("--max-bytes", type=int, default=256 * 1024 * 1024, help="cleankit's max_bytes for the run")
    parser.add_argument("--results", type=Path, default=RESULTS / "bigfile.json")
    parser.add_argument("--cleankit-rev", help="measure cleankit as of this commit (default: the working tree)")
    parser.add_argument("--build-one", choices=sorted(CODECS), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.build_one:
        path = BIG / f"big-{args.build_one}-{args.mb:g}MB.txt"
        size = build_file(path, CODECS[args.build_one], args.mb, args.seed, args.source, args.samples)
        print(f"built {path} ({size / 1e6:.1f} MB)")
        return
    env, cleankit_version = pin_cleankit.pinned(args.cleankit_rev)
    print(f"cleankit: {cleankit_version}", flush=True)
    rows = []
    for variant in [v for v in args.variants.split(",") if v]:
        path = ensure_file(variant, args.mb, args.seed, args.source, args.samples)
        size = path.stat().st_size
        for repeat in range(args.repeats):
            result = run_cleankit(path, WORK / variant, args.timeout, env, args.max_bytes)
            result.update(variant=variant, repeat=repeat + 1, file_mb=round(size / 1e6, 1))
            peak = max(result["vmhwm_polled_mb"], 1.0)
            result["peak_rss_over_file_size"] = round(peak * 1024 * 1024 / size, 2)
            result["ru_maxrss_over_file_size"] = round(result["ru_maxrss_mb"] * 1024 * 1024 / size, 2)
            result["mb_per_s"] = round(size / 1e6 / result["seconds"], 2)
            result["mb_per_cpu_s"] = round(size / 1e6 / max(result["cpu_seconds"], 0.01), 2)
            rows.append(result)
            print(
                f"{variant} {size / 1e6:.0f} MB run {repeat + 1}: exit {result['exit_code']}, {result['seconds']} s "
                f"({result['mb_per_s']} MB/s; CPU {result['cpu_seconds']} s), "
                f"peak RSS {result['vmhwm_polled_mb']} MB polled / {result['ru_maxrss_mb']} MB ru_maxrss "
                f"= {result['peak_rss_over_file_size']}x the file",
                flush=True,
            )
            if result["exit_code"] != 0 or result["failed"]:
                print(result["failures"] or result["stderr_tail"], flush=True)
    print("\n| file | MB | exit | s | MB/s | CPU s | MB per CPU s | peak RSS (MB) | ru_maxrss (MB) | peak / file |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['variant']} | {row['file_mb']} | {row['exit_code']} | {row['seconds']} | {row['mb_per_s']} "
            f"| {row['cpu_seconds']} | {row['mb_per_cpu_s']} | {row['vmhwm_polled_mb']} | {row['ru_maxrss_mb']} "
            f"| {row['peak_rss_over_file_size']} |"
        )
    args.results.parent.mkdir(parents=True, exist_ok=True)
    machine = {"nproc": os.cpu_count(), "python": sys.version.split()[0], "cleankit": cleankit_version}
    document = {"machine": machine, "runs": rows}
    args.results.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.results}")


if __name__ == "__main__":
    main()
