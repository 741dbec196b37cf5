"""Fault injection (issue 14, "Prove the promises"): a run is killed or broken at every phase
boundary and at random moments, and the rerun must leave exactly what an uninterrupted run
leaves.

Faults: SIGKILL at each boundary of :mod:`cleankit.run.faults` (the ``CLEANKIT_FAULT`` test
hook), a torn provenance append, SIGKILL at random moments, a worker killed, Ctrl-C, a full
disk and a read-only output folder part-way (a tmpfs the test mounts; skipped, saying why,
where it cannot), an input rewritten while the run reads it, two runs started at once. After
each: a rerun completes; every clean file is byte-identical to the uninterrupted run's;
provenance has one record per document and agrees with the near-duplicate index and the run
state (``PRAGMA integrity_check`` on both); ``restore --bytes`` rebuilds sampled inputs. A
JSON Lines run, whose duplicate lines are rewritten in their file at the end, is killed at
every boundary as well: the rerun leaves the same files and records, and the next run finds
every file done.

The normal suite runs a bounded form (every boundary once, one trial of each other fault:
about a minute). The full form, several kills per boundary and many random moments::

    CLEANKIT_FAULTS=full pytest tests/test_faults.py

``CLEANKIT_FAULTS_REPORT=FILE`` writes the trials, the faults injected and the failures as
JSON (benchmarks/README.md, "Fault injection (issue 14)", reports a full run).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import AS_FROM_A_TERMINAL, SAMPLES, child_pids

from cleankit import Pipeline, Settings
from cleankit.audit.records import CleanTextReader
from cleankit.core.errors import OutputBusy, OutputError
from cleankit.core.provenance import read_records, restore_bytes_from_record
from cleankit.io.files import INDEX_FILE, STATE_FILE
from cleankit.run import faults
from cleankit.run.clean import run_clean

FULL = os.environ.get("CLEANKIT_FAULTS") == "full"
BOUNDARIES = [
    "surveyed", "index-flush", "torn-append", "appended", "rows", "cleaned", "decided", "journaled",
    "index-decisions", "provenance-swapped", "outputs-applied", "journal-cleared",
]  # fmt: skip
# Kills at a later batch as well as the first (the full form).
REPEATS = [1, 2, 3] if FULL else [1]
RANDOM_TRIALS = 24 if FULL else 1
PAGES_PER_SITE = 10 if FULL else 6
TALLY: Counter[str] = Counter()
SETTINGS = Settings(jobs=2)


@functools.cache
def pipeline() -> Pipeline:
    """One pipeline for every run of the module (rule packs compiled once; forked runs share it)."""
    return Pipeline.from_settings(SETTINGS)


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    path = os.environ.get("CLEANKIT_FAULTS_REPORT")
    if path:
        Path(path).write_text(json.dumps({"form": "full" if FULL else "bounded", **TALLY}, indent=2) + "\n")


UNIQUE = "site-a/unique.txt"  # a page no other page reprints: the one rewritten while read


def build_crawl(src: Path) -> None:
    """Two sites of pages with shared furniture (learned), reprints (near-duplicates) and a
    mix of encodings, from the sample pages; and one page of its own."""
    bodies = [p.read_bytes().decode("utf-8") for p in sorted(SAMPLES.iterdir())]
    for site in ("site-a", "site-b"):
        (src / site).mkdir(parents=True)
        for number in range(PAGES_PER_SITE):
            body = bodies[number % len(bodies)]
            text = f"{site}市人民政府门户网站\n首页 > 通知公告\n{body}\n主办：{site}市人民政府办公室\n"
            encoding = "gb18030" if number % 3 == 0 else "utf-8"
            (src / site / f"{number:02d}.txt").write_bytes(text.encode(encoding))
    rules = "".join(f"第{n}条　各单位应当在{n + 3}日内完成第{n * 7}号文件规定的第{n}项整改。\n" for n in range(1, 40))
    (src / UNIQUE).write_text(f"site-a市人民政府门户网站\n首页 > 通知公告\n关于整改的通知\n{rules}", encoding="utf-8")


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The corpus and the clean files of an uninterrupted run (relative path -> sha256)."""
    root = tmp_path_factory.mktemp("faults")
    src = root / "in"
    build_crawl(src)
    out = root / "reference"
    run_clean([src], out, SETTINGS, pipeline=pipeline())
    return src, clean_files(out)


def clean_files(out: Path) -> dict[str, str]:
    own = ("provenance.jsonl", "summary.json", INDEX_FILE, STATE_FILE)
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*.txt"))
        if p.is_file() and p.name not in own
    }


def fork_run(src: Path, out: Path, fault: str = "", jobs: int = 2) -> int:
    """A run in a forked child (no interpreter start-up to pay: the bounded suite stays short),
    with the fault hook armed; its pid. The child's exit code is the command's (4: output
    error, 130: interrupted), or it dies by the hook's SIGKILL."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        os.setpgid(0, 0)  # its own group, as a shell gives a command: killed with its workers
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        faults.arm(fault)
        summary = run_clean([src], out, SETTINGS.updated(jobs=jobs), pipeline=pipeline())
        code = 1 if summary.failed else 0
    except OutputBusy:
        code = 3
    except OutputError:
        code = 4
    except KeyboardInterrupt:
        code = 130
    finally:
        os._exit(code)


# Exit codes of forked runs that running() found ended (and so reaped): waitpid cannot give
# them twice.
ENDED: dict[int, int] = {}


def wait_child(pid: int, timeout: float = 300) -> int:
    if pid in ENDED:
        return ENDED.pop(pid)
    deadline = time.time() + timeout
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.killpg(pid, signal.SIGKILL)
    raise AssertionError("the run did not end")


def running(pid: int) -> bool:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        ENDED[pid] = os.waitstatus_to_exitcode(status)
    return not done


def start(
    src: Path, out: Path, fault: str | None = None, jobs: int = 2, terminal: bool = False, **popen: object
) -> subprocess.Popen[bytes]:
    """The command in a process of its own; ``terminal``: with SIGINT at its default, as a
    terminal starts it (conftest.AS_FROM_A_TERMINAL), for the Ctrl-C trial."""
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    if fault:
        env["CLEANKIT_FAULT"] = fault
    program = ["-c", AS_FROM_A_TERMINAL] if terminal else ["-m", "cleankit"]
    return subprocess.Popen(
        [sys.executable, *program, "clean", str(src), "-o", str(out), "-j", str(jobs), "-q"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        **popen,  # type: ignore[arg-type]
    )


def rerun_and_check(src: Path, out: Path, reference: dict[str, str], what: str) -> None:
    """The rerun completes and leaves exactly the uninterrupted run's folder."""
    TALLY["trials"] += 1
    try:
        summary = run_clean([src], out, SETTINGS, pipeline=pipeline())
        assert summary.failed == 0, (what, summary.failures)
        assert clean_files(out) == reference, f"{what}: clean files differ from the uninterrupted run"
        check_records(src, out)
    except BaseException:
        TALLY["failures"] += 1
        raise


def check_records(src: Path, out: Path) -> None:
    records = list(read_records(out / "provenance.jsonl"))
    sources = [r["source"] for r in records]
    inputs = sorted(str(p.relative_to(src)) for p in src.rglob("*.txt"))
    assert sorted(sources) == inputs, "one record per document"
    with sqlite3.connect(out / INDEX_FILE) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        states = {json.loads(s): state for s, state in db.execute("SELECT source, state FROM docs")}
    with sqlite3.connect(out / STATE_FILE) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == len(inputs)
    read_clean = CleanTextReader(out)
    for record in records:
        expected = "duplicate" if record["status"] == "duplicate" else "kept"
        assert states.get(record["source"]) == expected, record["source"]
        if record["status"] == "duplicate":
            assert not (out / record["source"]).exists()
    for record in random.Random(len(records)).sample(records, 4):
        clean = "" if record["status"] == "duplicate" else read_clean(record)
        assert restore_bytes_from_record(clean, record) == (src / record["source"]).read_bytes()


def wait_for_progress(out: Path, seconds: float) -> None:
    """Until the run has committed something, or ``seconds`` pass."""
    deadline = time.time() + seconds
    provenance = out / "provenance.jsonl"
    while time.time() < deadline:
        if provenance.exists() and provenance.stat().st_size > 0:
            return
        time.sleep(0.005)


@pytest.mark.parametrize("repeat", REPEATS)
@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_sigkill_at_every_phase_boundary(
    crawl: tuple[Path, dict[str, str]], tmp_path: Path, boundary: str, repeat: int
) -> None:
    src, reference = crawl
    out = tmp_path / "out"
    code = wait_child(fork_run(src, out, f"{boundary}:{repeat}"))
    if code == -signal.SIGKILL:
        TALLY["faults"] += 1
        TALLY[f"boundary {boundary}"] += 1
    else:  # this run meets the boundary fewer than ``repeat`` times (one batch, say)
        assert code == 0, code
        if repeat == 1:
            pytest.fail(f"the run never reached {boundary}")
    rerun_and_check(src, out, reference, f"SIGKILL at {boundary}:{repeat}")


@pytest.mark.parametrize("trial", range(RANDOM_TRIALS))
def test_sigkill_at_a_random_moment(crawl: tuple[Path, dict[str, str]], tmp_path: Path, trial: int) -> None:
    src, reference = crawl
    out = tmp_path / "out"
    rng = random.Random(trial)
    pid = fork_run(src, out)
    wait_for_progress(out, 60)
    time.sleep(rng.uniform(0, 1.0))  # anywhere from cleaning to compaction
    if running(pid):
        os.killpg(pid, signal.SIGKILL)
        TALLY["faults"] += 1
        TALLY["random SIGKILL"] += 1
    wait_child(pid)
    rerun_and_check(src, out, reference, f"random SIGKILL, trial {trial}")


def test_a_worker_killed(crawl: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    src, reference = crawl
    out = tmp_path / "out"
    pid = fork_run(src, out)
    wait_for_progress(out, 60)
    workers = child_pids(pid)
    if workers:
        os.kill(workers[0], signal.SIGKILL)
        TALLY["faults"] += 1
        TALLY["worker SIGKILL"] += 1
    assert wait_child(pid) == 0
    rerun_and_check(src, out, reference, "worker killed")



def test_ctrl_c(crawl: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    src, reference = crawl
    out = tmp_path / "out"
    process = start(src, out, terminal=True, start_new_session=True)  # the command itself: exit code and message
    wait_for_progress(out, 60)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode in (0, 130), stderr.decode()[-2000:]
    assert b"Traceback" not in stderr
    TALLY["faults"] += process.returncode == 130
    TALLY["Ctrl-C"] += process.returncode == 130
    rerun_and_check(src, out, reference, "Ctrl-C")


def test_two_runs_at_once(crawl: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    src, reference = crawl
    out = tmp_path / "out"
    first, second = fork_run(src, out), fork_run(src, out)
    codes = sorted([wait_child(first), wait_child(second)])
    assert codes in ([0, 0], [0, 3]), codes  # one after the other, or the second refused (busy)
    TALLY["faults"] += 1
    TALLY["concurrent runs"] += 1
    rerun_and_check(src, out, reference, "two runs at once")


def test_an_input_rewritten_while_the_run_reads_it(crawl: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    src, reference = crawl
    copy = tmp_path / "in"
    subprocess.run(["cp", "-r", str(src), str(copy)], check=True)
    victim = copy / UNIQUE
    original = victim.read_bytes()
    out = tmp_path / "out"
    pid = fork_run(copy, out)
    rng = random.Random(7)
    while running(pid):  # truncated and rewritten in place, as a crawler would
        with open(victim, "wb") as handle:
            handle.write(original[: rng.randrange(1, len(original))])
            handle.flush()
            handle.write(original[handle.tell() :])
    victim.write_bytes(original)
    TALLY["faults"] += 1
    TALLY["input rewritten while read"] += 1
    rerun_and_check(copy, out, reference, "input rewritten while read")


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_disk_full_part_way(crawl: tuple[Path, dict[str, str]], tmpfs: Path) -> None:
    src, reference = crawl
    out = tmpfs / "out"
    # The file system's ENOSPC, or SQLite's own "database or disk is full" when the index or
    # the run state is what ran out of room.
    with pytest.raises(OutputError, match=r"No space left on device|disk (?:is )?full"):
        run_clean([src], out, SETTINGS, pipeline=pipeline())
    TALLY["faults"] += 1
    TALLY["disk full"] += 1
    subprocess.run(["mount", "-o", "remount,size=64m", str(tmpfs)], check=True)
    rerun_and_check(src, out, reference, "disk full")


def test_read_only_part_way(crawl: tuple[Path, dict[str, str]], tmpfs: Path) -> None:
    """A run killed part-way, then the folder turns read-only (a tmpfs cannot be remounted
    read-only while a run writes into it): the next run says so in one line and changes
    nothing; once writable again, the rerun finishes."""
    src, reference = crawl
    out = tmpfs / "out"
    subprocess.run(["mount", "-o", "remount,size=64m", str(tmpfs)], check=True)
    assert wait_child(fork_run(src, out, "rows")) == -signal.SIGKILL
    deadline = time.time() + 30
    # The killed run's workers die with it, a moment later: until then the mount is busy.
    while subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], capture_output=True).returncode != 0:
        assert time.time() < deadline, "the tmpfs stays busy"
        time.sleep(0.1)
    result = subprocess.run(
        [sys.executable, "-m", "cleankit", "clean", str(src), "-o", str(out), "-q"], capture_output=True, timeout=300
    )
    text = result.stderr.decode()
    assert result.returncode == 4 and "Read-only file system" in text and len(text.strip().splitlines()) == 1, text
    TALLY["faults"] += 1
    TALLY["read-only part-way"] += 1
    subprocess.run(["mount", "-o", "remount,rw", str(tmpfs)], check=True)
    rerun_and_check(src, out, reference, "read-only part-way")


# -- JSON Lines: duplicate lines decided through the same journal --------------------------------

JSONL_SETTINGS = Settings(jobs=1, jsonl=True)
JSONL_BOUNDARIES = [
    "index-flush", "appended", "rows", "cleaned", "decided", "journaled",
    "index-decisions", "provenance-swapped", "outputs-applied", "journal-cleared",
]  # fmt: skip


@functools.cache
def jsonl_pipeline() -> Pipeline:
    return Pipeline.from_settings(JSONL_SETTINGS)


def build_jsonl(src: Path) -> None:
    """Two JSON Lines files whose lines reprint each other (within a file and across files)."""
    bodies = [p.read_bytes().decode("utf-8") for p in sorted(SAMPLES.iterdir())][:3]
    src.mkdir(parents=True)
    first = [{"id": n, "text": body} for n, body in enumerate(bodies)] + [{"id": 9, "text": bodies[0]}]
    second = [{"id": 10, "text": bodies[1] + "\n本文来源：新华社"}, {"id": 11, "text": "短"}]
    for name, lines in (("a.jsonl", first), ("b.jsonl", second)):
        (src / name).write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")


def jsonl_state(out: Path) -> tuple[dict[str, str], list[tuple[str, str, str | None]]]:
    """The output files' bytes (sha256) and each record's (source, status, duplicate_of)."""
    files = {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in ("a.jsonl", "b.jsonl")}
    found = sorted((r["source"], r["status"], r.get("duplicate_of")) for r in read_records(out / "provenance.jsonl"))
    return files, found


@pytest.fixture(scope="module")
def jsonl_crawl(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[object, ...]]:
    root = tmp_path_factory.mktemp("faults-jsonl")
    src = root / "in"
    build_jsonl(src)
    out = root / "reference"
    summary = run_clean([src], out, JSONL_SETTINGS, pipeline=jsonl_pipeline())
    assert summary.duplicates == 2, "the fixture has two duplicate lines"
    return src, jsonl_state(out)


def fork_jsonl_run(src: Path, out: Path, fault: str) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        os.setpgid(0, 0)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        faults.arm(fault)
        summary = run_clean([src], out, JSONL_SETTINGS, pipeline=jsonl_pipeline())
        code = 1 if summary.failed else 0
    finally:
        os._exit(code)


@pytest.mark.parametrize("boundary", JSONL_BOUNDARIES)
def test_json_lines_duplicates_survive_a_kill_at_every_boundary(
    jsonl_crawl: tuple[Path, tuple[object, ...]], tmp_path: Path, boundary: str
) -> None:
    """A JSON Lines run whose duplicate lines are rewritten at the end, killed at each
    boundary: the rerun leaves the uninterrupted run's files and records, and the run after
    it finds everything done (the rows agree with the rewritten files)."""
    src, reference = jsonl_crawl
    out = tmp_path / "out"
    code = wait_child(fork_jsonl_run(src, out, boundary))
    assert code == -signal.SIGKILL, f"the run never reached {boundary}"
    run_clean([src], out, JSONL_SETTINGS, pipeline=jsonl_pipeline())
    assert jsonl_state(out) == reference, f"SIGKILL at {boundary}: the rerun differs from an uninterrupted run"
    with sqlite3.connect(out / STATE_FILE) as db:
        assert db.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == 0
    again = run_clean([src], out, JSONL_SETTINGS, pipeline=jsonl_pipeline())
    assert (again.skipped, again.documents) == (2, 0), f"after SIGKILL at {boundary}: not everything was done"
    assert jsonl_state(out) == reference
