"""Parallel scaling of the batch runner: ``-j 1`` against ``-j 2`` on one crawl, for the
working tree and a pinned baseline revision, interleaved in one session (issue 12, runner).

Each run is ``cleankit clean CORPUS -o OUT -j N -q`` into a fresh folder, through the command
line as a user runs it. Measured per run: wall time, the CPU of the whole process tree
(the children's rusage), and the CPU of the parent process alone (its ``/proc/PID/stat`` user+system,
sampled every 20 ms until it exits), the CPU and the peak resident memory (``VmHWM``) of
every worker process, and of those samples the parent's CPU while it had no
worker process alive (``/proc/PID/task/PID/children`` empty): the serial part of a run, which
bounds what more workers can give. After the runs, the clean outputs of every configuration
are compared file by file (they must be identical).

    python benchmarks/bench_runner.py --baseline f1ec70d            # 2,000 pages, 3 rounds
    python benchmarks/bench_runner.py --corpus /tmp/crawl2000 --rounds 5
    python benchmarks/bench_runner.py --corpus data/speed-2000p-13.5mb-s20240612/crawl \
        --baseline c72413b --pin HEAD    # bench_speed's crawl; both sides snapshots

The corpus is built by ``make_corpus.py --files 2000 --total-mb 13`` when missing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import make_corpus
import pin_cleankit

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
TICK = os.sysconf("SC_CLK_TCK")


def own_cpu(pid: int) -> tuple[float, bool] | None:
    """User + system seconds of ``pid`` itself (not its children), and whether it is stopped
    (SIGSTOP from outside: the run's wall time is then void), or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK, fields[0] in ("T", "t")


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` now (its pool workers)."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def peak_rss_mb(pid: int) -> float | None:
    """``VmHWM`` of ``pid``: its own peak resident memory so far (a forked worker's starts at
    what it maps right after the fork; ``ru_maxrss`` would start at its spawner's peak)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def run_once(corpus: Path, out: Path, jobs: int, env: dict[str, str]) -> dict[str, float]:
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "cleankit", "clean", str(corpus), "-o", str(out), "-j", str(jobs), "-q"]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parent = 0.0
    # The parent's CPU while it has no worker process: the serial part of the run (start-up,
    # site learning, the decisions between rounds, the end-of-run commit), sampled.
    serial = 0.0
    alone = True
    stopped = False
    parent_peak = 0.0
    workers: dict[int, tuple[float, float]] = {}  # each worker process: last CPU and peak RSS seen
    while process.poll() is None:
        sample = own_cpu(process.pid)
        found = children(process.pid)
        alone_now = not found
        if sample is not None:
            if alone and alone_now:
                serial += sample[0] - parent
            parent, halted = sample
            stopped = stopped or halted
            parent_peak = max(parent_peak, peak_rss_mb(process.pid) or 0.0)
        for child in found:
            cpu, peak = own_cpu(child), peak_rss_mb(child)
            if cpu is not None and peak is not None:
                workers[child] = (cpu[0], max(peak, workers.get(child, (0.0, 0.0))[1]))
        alone = alone_now
        time.sleep(0.02)
    wall = time.perf_counter() - started
    if process.returncode not in (0, 1):
        raise SystemExit(f"cleankit failed ({process.returncode}): {process.stderr.read().decode()[-2000:]}")
    if stopped:
        print(f"  (-j{jobs}: the process was stopped from outside during the run; its wall time is void)")
    return {
        "wall": wall,
        "parent_cpu": parent,
        "serial_cpu": serial,
        "stopped": float(stopped),
        "parent_peak_rss_mb": parent_peak,
        # Sampled every 20 ms: a worker's last 20 ms (and a worker shorter than that) is missed.
        "worker_processes": float(len(workers)),
        "max_worker_cpu": max((cpu for cpu, _ in workers.values()), default=0.0),
        "worker_peak_rss_mb": max((peak for _, peak in workers.values()), default=0.0),
    }


def tree_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def outputs(out: Path) -> dict[str, str]:
    """sha256 of every clean file (cleankit's own files left out)."""
    found = {}
    for path in sorted(out.rglob("*")):
        name = path.name
        if path.is_file() and not name.startswith(".") and not name.startswith(
            ("provenance.jsonl", "summary.json", "neardup-index", "dedup-index", "run-state")
        ):
            found[str(path.relative_to(out))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=WORK / "crawl2000")
    parser.add_argument("--baseline", help="revision to compare with (a snapshot of its cleankit/)")
    parser.add_argument("--pin", help="measure this revision (a snapshot) instead of the working tree")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if not args.corpus.is_dir():
        make_corpus.main(["--files", "2000", "--total-mb", "13", "--out", str(args.corpus)])
    configs: list[tuple[str, dict[str, str]]] = []
    if args.baseline:
        env, what = pin_cleankit.pinned(args.baseline)
        configs.append((f"baseline {args.baseline}", env))
        print(f"baseline: {what}")
    env, what = pin_cleankit.pinned(args.pin)
    configs.append((args.pin or "this tree", env))
    print(f"{args.pin or 'this tree'}: {what}")
    print(f"corpus: {args.corpus} ({sum(1 for p in args.corpus.rglob('*') if p.is_file())} files); "
          f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    figures: dict[tuple[str, int], list[dict[str, float]]] = {}
    hashes: dict[tuple[str, int], dict[str, str]] = {}
    for round_number in range(args.rounds):
        for name, env in configs:
            for jobs in args.jobs:
                out = WORK / f"bench-runner-out-{len(figures) % 2}"
                before = tree_cpu()
                result = run_once(args.corpus, out, jobs, env)
                result["cpu"] = tree_cpu() - before
                figures.setdefault((name, jobs), []).append(result)
                if round_number == 0:
                    hashes[(name, jobs)] = outputs(out)
                print(f"round {round_number + 1} {name:>18} -j{jobs}: wall {result['wall']:6.1f} s, "
                      f"cpu {result['cpu']:6.1f} s, parent cpu {result['parent_cpu']:5.1f} s "
                      f"(alone {result['serial_cpu']:4.1f} s), "
                      f"{result['worker_processes']:.0f} worker processes (largest {result['max_worker_cpu']:.1f} s), "
                      f"peak RSS parent {result['parent_peak_rss_mb']:.0f} MB, "
                      f"worker {result['worker_peak_rss_mb']:.0f} MB, "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
    print()
    # Two readings of what -jN can give on N free cores, from CPU alone (the wall ratio needs
    # a quiet machine): the run's CPU over its longest process (the parent, or a worker if
    # the workers share the rest evenly); and Amdahl's, the -j1 CPU over the wall time of
    # the parent's CPU with no worker alive (serial) plus the rest spread over N cores.
    print("| cleankit | -j | wall s (median) | CPU s, all processes | CPU s, parent | parent share "
          "| parent alone (serial) s | CPU / max(parent, per worker) | Amdahl: CPU(-j1) / (serial + rest / N) "
          "| -jN / -j1 throughput (wall) | worker processes | peak RSS MB: parent / largest worker (VmHWM) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, _env in configs:
        walls = {jobs: statistics.median(r["wall"] for r in figures[(name, jobs)]) for jobs in args.jobs}
        one = statistics.median(r["cpu"] for r in figures[(name, args.jobs[0])])
        for jobs in args.jobs:
            runs = figures[(name, jobs)]
            cpu = statistics.median(r["cpu"] for r in runs)
            parent = statistics.median(r["parent_cpu"] for r in runs)
            serial = statistics.median(r["serial_cpu"] for r in runs)
            worker = (cpu - parent) / jobs if jobs > 1 else 0.0
            amdahl = one / (serial + (cpu - serial) / jobs)
            ratio = f"{walls[args.jobs[0]] / walls[jobs]:.2f}×" if jobs != args.jobs[0] else ""
            processes = statistics.median(r["worker_processes"] for r in runs)
            parent_peak = statistics.median(r["parent_peak_rss_mb"] for r in runs)
            worker_peak = statistics.median(r["worker_peak_rss_mb"] for r in runs)
            print(f"| {name} | {jobs} | {walls[jobs]:.1f} | {cpu:.1f} | {parent:.1f} | {parent / cpu:.0%} "
                  f"| {serial:.1f} | {cpu / max(parent, worker):.2f}× | {amdahl:.2f}× | {ratio} "
                  f"| {processes:.0f} | {parent_peak:.0f} / {worker_peak:.0f} |")
    reference = next(iter(hashes.values()))
    same = all(found == reference for found in hashes.values())
    print(f"\nclean outputs identical across configurations: {same} ({len(reference)} files)")
    if not same:
        for key, found in hashes.items():
            differing = sorted(k for k in reference.keys() | found.keys() if reference.get(k) != found.get(k))
            print(f"  {key}: {len(differing)} differ, e.g. {differing[:5]}")


if __name__ == "__main__":
    main()
