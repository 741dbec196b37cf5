"""Wall-clock timeline of one ``cleankit clean`` run: where the cores are not all busy.

    nice -n 10 python -P benchmarks/bench_timeline.py CORPUS OUT [-j 2] [--json F] [--bins S] [--every S]

Runs the command in this process (``cleankit.cli.main``, whichever cleankit this interpreter
imports: a snapshot of another commit on ``PYTHONPATH`` is timed the same way) with the run's
phases wrapped (each logs its wall-clock start and end: the pools, each pool's first result,
site learning, the end of run's decisions, rewrite, commit and ``summary.json``), while a
separate sampler process reads every process of the run's tree from ``/proc`` every 50 ms
(``--every``):
its CPU and its scheduler ``run + wait`` time (``/proc/PID/task/*/schedstat``). ``run + wait``
is the time a process ran or was ready to run: on a machine shared with other work, a worker
that waits for a core still counts as wanting one, so a dip in it is the run's own doing (a
worker waiting for its parent), not the machine's load.

Prints each phase's wall, each pool's workers' mean demand (``run + wait`` over the pool's
wall: 1.0 is a worker never idle), and the wall when no pool runs (the parent's serial parts);
then the run cut at its pools' starts and ends (the start, each pool, the gaps between, the
tail) with each piece's CPU and demand of the whole tree and its **idle core-seconds**: the
sum over samples of ``jobs`` cores less the tree's demand, where positive (a core the run did
not ask for, whatever else the machine ran on it); and for each pool, how long before its
end each worker last ran (a worker idle while the other finishes the pool's last task).
"""

from __future__ import annotations

import time

STARTED = time.time()

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

SAMPLER = r"""
import json, os, signal, sys, time
root, out, every = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
def tree():
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as handle:
                    stat = handle.read()
            except OSError:
                continue
            parents[int(name)] = int(stat[stat.rfind(")") + 2 :].split()[1])
    found, grown = {root}, True
    while grown:
        grown = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                grown = True
    sample = {}
    for pid in found:
        ran = waited = 0
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/schedstat") as handle:
                    fields = handle.read().split()
                ran, waited = ran + int(fields[0]), waited + int(fields[1])
        except OSError:
            continue
        sample[pid] = [ran, waited, parents.get(pid, 0)]
    return sample
rows = []
while not stop:
    rows.append((time.time(), tree()))
    time.sleep(every)
with open(out, "w") as handle:
    json.dump(rows, handle)
"""

events: list[tuple[float, str, str]] = []


def _mark(name: str, kind: str) -> None:
    events.append((time.time(), name, kind))


def _wrap(owner: Any, attribute: str, name: str) -> None:
    function = getattr(owner, attribute)

    @functools.wraps(function)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _mark(name, "start")
        try:
            return function(*args, **kwargs)
        finally:
            _mark(name, "end")

    setattr(owner, attribute, wrapped)


def _wrap_pools(executor_class: Any) -> None:
    results = executor_class.results

    @functools.wraps(results)
    def wrapped(self: Any, tasks: Any, work: Any, lost: Any) -> Iterator[Any]:
        name = f"pool {type(work).__name__}"
        _mark(name, "start")
        first = True
        for result in results(self, tasks, work, lost):
            if first:
                _mark(name, "first")
                first = False
            yield result
        _mark(name, "end")

    executor_class.results = wrapped


def instrument() -> None:
    from cleankit.neardup import crawl
    from cleankit.run import clean, executor, state

    for owner, attribute in [
        (clean, "run_clean"),
        (clean, "_learn"),
        (clean, "_set_context"),
        (clean._Run, "_write_summary"),
        (crawl.NearDupPass, "_decide"),
        (crawl.NearDupPass, "_rewrite"),
        (state.EndOfRun, "commit"),
        (state.RunState, "_apply"),
    ]:
        _wrap(owner, attribute, attribute)
    _wrap_pools(executor.LocalExecutor)


# The scheduler adds a process's wait to its schedstat only when the process next runs, so at
# 10 ms a waiting worker looks idle in one sample and over-busy in the next: demand is summed
# over windows this long before the idle cores are counted.
IDLE_WINDOW = 0.1


def _windows(
    steps: list[tuple[float, float, dict[int, float]]], ran_steps: list[dict[int, float]], window: float
) -> tuple[list[tuple[float, float, dict[int, float]]], list[dict[int, float]]]:
    """Consecutive sample steps merged into steps of at least ``window`` seconds."""
    merged: list[tuple[float, float, dict[int, float]]] = []
    merged_ran: list[dict[int, float]] = []
    for (a, b, moved), ran in zip(steps, ran_steps, strict=True):
        if merged and merged[-1][1] - merged[-1][0] < window:
            first, _end, total = merged[-1]
            for pid, value in moved.items():
                total[pid] = total.get(pid, 0.0) + value
            for pid, value in ran.items():
                merged_ran[-1][pid] = merged_ran[-1].get(pid, 0.0) + value
            merged[-1] = (first, b, total)
        else:
            merged.append((a, b, dict(moved)))
            merged_ran.append(dict(ran))
    return merged, merged_ran


def _pieces(
    spans: list[dict[str, Any]],
    steps: list[tuple[float, float, dict[int, float]]],
    ran_steps: list[dict[int, float]],
    jobs: int,
    total: float,
    root: int,
    nurseries: set[int],
) -> list[dict[str, Any]]:
    """The run cut at its pools' edges: each piece's wall, the tree's CPU (and the parent's,
    the nurseries' apart) and demand, and the core-seconds of the ``jobs`` cores the tree did
    not ask for."""
    pools = sorted((s["start"], s["start"] + s["wall"], s["phase"]) for s in spans if s["phase"].startswith("pool "))
    cuts: list[tuple[float, float, str]] = []
    edge, gap = 0.0, 0
    for begin, end, name in pools:
        if begin > edge:
            cuts.append((edge, begin, "start" if not cuts else f"between {gap}"))
            gap += 1
        cuts.append((max(begin, edge), end, name))
        edge = max(edge, end)
    cuts.append((edge, total, "tail"))
    pieces = []
    for begin, end, name in cuts:
        cpu = demand = idle = parent_cpu = nurseries_cpu = 0.0
        for (a, b, moved), ran in zip(steps, ran_steps, strict=True):
            # a sample step counts by the share of it inside the piece
            share = max(0.0, min(b, end) - max(a, begin)) / max(b - a, 1e-9)
            if share <= 0:
                continue
            wanted = sum(moved.values())
            cpu += share * sum(ran.values())
            parent_cpu += share * ran.get(root, 0.0)
            nurseries_cpu += share * sum(value for pid, value in ran.items() if pid in nurseries)
            demand += share * wanted
            idle += share * max(0.0, jobs * (b - a) - wanted)
        pieces.append(
            {
                "piece": name,
                "start": round(begin, 3),
                "wall": round(end - begin, 3),
                "cpu": round(cpu, 3),
                "parent_cpu": round(parent_cpu, 3),
                "nurseries_cpu": round(nurseries_cpu, 3),
                "demand": round(demand, 3),
                "idle_core_s": round(idle, 3),
            }
        )
    return pieces


def _pool_tails(
    spans: list[dict[str, Any]],
    steps: list[tuple[float, float, dict[int, float]]],
    ran_steps: list[dict[int, float]],
    root: int,
) -> dict[str, list[float]]:
    """For each pool, how long before its end each of its workers last ran (more than a
    fifth of a sample step), longest first."""
    tails: dict[str, list[float]] = {}
    for span in spans:
        if not span["phase"].startswith("pool "):
            continue
        begin, end = span["start"], span["start"] + span["wall"]
        last: dict[int, float] = {}
        for (a, b, _moved), ran in zip(steps, ran_steps, strict=True):
            if b <= begin or a >= end:
                continue
            for pid, value in ran.items():
                if pid != root and value > 0.2 * (b - a):
                    last[pid] = min(b, end)
        busy = [pid for pid, at in last.items() if at - begin > 0.5 * span["wall"]]
        tails[span["phase"]] = sorted((round(end - last[pid], 3) for pid in busy), reverse=True)
    return tails


def summarize(data: dict[str, Any], samples: list[Any], bins: float | None, jobs: int = 2) -> dict[str, Any]:
    """Each phase's wall, each pool's workers' demand, the wall outside the pools."""
    t0 = data["t0"]
    spans: list[dict[str, Any]] = []
    opened: dict[str, dict[str, Any]] = {}
    for at, name, kind in data["events"]:
        if kind == "start":
            opened[name] = {"phase": name, "start": round(at - t0, 3)}
        elif kind == "first" and name in opened:
            opened[name]["first_result"] = round(at - t0, 3)
        elif kind == "end" and name in opened:
            span = opened.pop(name)
            span["wall"] = round(at - t0 - span["start"], 3)
            spans.append(span)
    root = data["pid"]
    sampler = data["sampler"]
    # demand (run + wait, s) of every process between consecutive samples
    steps: list[tuple[float, float, dict[int, float]]] = []
    ran_steps: list[dict[int, float]] = []
    forkers: set[int] = set()  # processes seen with a child: the parent and the nurseries
    previous: dict[int, tuple[int, int]] = {}
    last = None
    for at, sample in samples:
        now = {int(pid): (ran, ran + waited) for pid, (ran, waited, _) in sample.items() if int(pid) != sampler}
        forkers.update(parent for _ran, _waited, parent in sample.values())
        if last is not None:
            # A process seen for the first time (forked since the last sample) counts from zero.
            before = {pid: previous.get(pid, (0, 0)) for pid in now}
            moved = {pid: (value[1] - before[pid][1]) / 1e9 for pid, value in now.items()}
            steps.append((last - t0, at - t0, moved))
            ran_steps.append({pid: (value[0] - before[pid][0]) / 1e9 for pid, value in now.items()})
        previous, last = now, at
    for span in spans:
        if not span["phase"].startswith("pool "):
            continue
        begin, end = span["start"], span["start"] + span["wall"]
        per: dict[int, float] = {}
        for a, b, demand in steps:
            if a >= begin and b <= end:
                for pid, value in demand.items():
                    if pid != root:
                        per[pid] = per.get(pid, 0.0) + value
        busy = sorted((value / max(span["wall"], 1e-9) for value in per.values() if value > 0.02), reverse=True)
        span["workers_demand"] = [round(value, 2) for value in busy]
    pools = sorted((s["start"], s["start"] + s["wall"]) for s in spans if s["phase"].startswith("pool "))
    total = data["end"] - t0
    covered, edge = 0.0, 0.0
    for begin, end in pools:
        covered += max(0.0, end - max(begin, edge))
        edge = max(edge, end)
    out: dict[str, Any] = {"wall": round(total, 3), "outside_pools": round(total - covered, 3), "phases": spans}
    out["pieces"] = _pieces(spans, *_windows(steps, ran_steps, IDLE_WINDOW), jobs, total, root, forkers - {root})
    out["pool_tails"] = _pool_tails(spans, steps, ran_steps, root)
    if bins:
        table: dict[int, dict[int, float]] = {}
        for a, _b, demand in steps:
            row = table.setdefault(int(a / bins), {})
            for pid, value in demand.items():
                row[pid] = row.get(pid, 0.0) + value
        out["bins"] = [
            {"t": round(k * bins, 2), "parent": round(v.get(root, 0.0) / bins, 2),
             "others": round(sum(x for p, x in v.items() if p != root) / bins, 2)}
            for k, v in sorted(table.items())
        ]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("out")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--json", help="write the timeline here")
    parser.add_argument("--bins", type=float, help="also each BINS seconds: the parent's and the others' demand")
    parser.add_argument("--every", type=float, default=0.05, help="seconds between the sampler's readings")
    args = parser.parse_args()
    sample_file = f"{args.json or 'timeline'}.{os.getpid()}.samples"
    sampler = subprocess.Popen([sys.executable, "-c", SAMPLER, str(os.getpid()), sample_file, str(args.every)])
    import cleankit.cli

    instrument()
    sys.argv = ["cleankit", "clean", args.corpus, "-o", args.out, "-j", str(args.jobs), "-q"]
    code: Any = 0
    try:
        cleankit.cli.main()
    except SystemExit as exc:
        code = exc.code
    data = {"t0": STARTED, "pid": os.getpid(), "sampler": sampler.pid, "end": time.time(), "events": events}
    sampler.terminate()
    sampler.wait()
    with open(sample_file) as handle:
        samples = json.load(handle)
    os.unlink(sample_file)
    result = summarize(data, samples, args.bins, args.jobs)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=1)
    print(f"wall {result['wall']:.2f} s; outside the pools (the parent alone) {result['outside_pools']:.2f} s")
    for span in result["phases"]:
        extra = ""
        if "first_result" in span:
            extra = f"  first result +{span['first_result'] - span['start']:.3f} s"
        if "workers_demand" in span:
            extra += f"  workers' demand {span['workers_demand']}"
        print(f"{span['start']:8.3f} {span['wall']:7.3f}  {span['phase']}{extra}")
    for piece in result["pieces"]:
        print(
            f"{piece['start']:8.3f} {piece['wall']:7.3f}  {piece['piece']:<20} cpu {piece['cpu']:6.3f}"
            f" (parent {piece['parent_cpu']:5.3f}, nurseries {piece['nurseries_cpu']:5.3f})"
            f"  demand {piece['demand']:6.3f}  idle core-s {piece['idle_core_s']:6.3f}"
        )
    idle = sum(piece["idle_core_s"] for piece in result["pieces"])
    print(f"idle core-s in all {idle:.3f}; workers' idle before their pool's end (s): {result['pool_tails']}")
    for row in result.get("bins", []):
        print(f"{row['t']:7.2f} parent {row['parent']:4.2f} workers {row['others']:4.2f}")
    return 0 if code in (0, None) else 1


if __name__ == "__main__":
    sys.exit(main())
