"""The batch runner under faults (issue 14): kills at the end-of-run phases, torn appends,
concurrent runs, dead workers, Ctrl-C, output folders that cannot be written, deep and
unreadable folders, malformed provenance, and what a rerun may skip.

The runs that are killed, interrupted, locked against each other or fill a disk are processes
of their own; the reruns after them and the commands that only read or refuse run in the
test's process (``run_cli_here``: ``cleankit.cli.main``, the same arguments, streams and exit
code, without a new interpreter's start-up each time)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import AS_FROM_A_TERMINAL, SAMPLES, child_pids, run_cli, run_cli_here

from cleankit import Settings
from cleankit.core.document import Document
from cleankit.core.errors import OutputBusy
from cleankit.core.stage import register_stage
from cleankit.io.files import INDEX_FILE, STATE_FILE, FolderLock

PAGES = [p.read_bytes() for p in sorted(SAMPLES.iterdir())]
# The head of each sample (whole lines, ~5-6 kB): what the crawls below test (kills at
# phase boundaries, resumes, duplicates, locks) does not depend on a page's length, and the
# whole samples (up to 106 kB, 36 kB on average) made near-duplicates of a crawl cost
# seconds each to verify: the Ctrl-C test's 300 pages took ~19 s of CPU, ~7 s as heads.
HEADS = [page[:6000].rpartition(b"\n")[0] + b"\n" for page in PAGES]


@register_stage("test-kill-worker", order=95, default=False)
@dataclass
class KillWorkerStage:
    """Kills the process cleaning a page that asks for it, as the OOM killer would."""

    name: str = "test-kill-worker"

    def run(self, document: Document) -> Document:
        if "KILL-WORKER" in document.text:
            os.kill(os.getpid(), signal.SIGKILL)
        return document


def crawl(src: Path, count: int = 30) -> Path:
    """Sample pages (their heads) copied under several names: every copy after the first is a
    near-duplicate."""
    src.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (src / f"{index:03d}.txt").write_bytes(HEADS[index % len(HEADS)])
    return src


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "provenance.jsonl").read_text(encoding="utf-8").splitlines()]


def cli_env(**extra: str) -> dict[str, str]:
    return dict(os.environ, COLUMNS="200", NO_COLOR="1", **extra)


def killed_run(*args: str, fault: str) -> subprocess.CompletedProcess[bytes]:
    """A clean run with the fault hook set: it must end by SIGKILL at that boundary."""
    result = subprocess.run(
        [sys.executable, "-m", "cleankit", "clean", *args, "-q"],
        capture_output=True,
        env=cli_env(CLEANKIT_FAULT=fault),
        timeout=300,
    )
    assert result.returncode == -signal.SIGKILL, (fault, result.returncode, result.stderr.decode()[-2000:])
    return result


def check_consistent(out: Path, inputs: list[str]) -> None:
    """One record per document, each agreeing with its output and with the index."""
    found = records(out)
    sources = [r["source"] for r in found]
    assert sorted(sources) == sorted(inputs) and len(set(sources)) == len(sources)
    index_states: dict[str, str] = {}
    if (out / INDEX_FILE).exists():
        with sqlite3.connect(out / INDEX_FILE) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            index_states = {json.loads(s): state for s, state in db.execute("SELECT source, state FROM docs")}
    with sqlite3.connect(out / STATE_FILE) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == 0
    for record in found:
        if record["status"] == "duplicate":
            assert record["output"] is None and not (out / record["source"]).exists()
            assert index_states.get(record["source"]) == "duplicate"
        elif record["status"] == "ok":
            assert (out / record["output"]).is_file()
            assert index_states.get(record["source"], "kept") == "kept"


def test_a_rerun_of_a_finished_crawl_rewrites_nothing(tmp_path: Path) -> None:
    # Found by the unseeded property test (test_rerun_skips_finished_work): with duplicates in
    # the crawl, every rerun copied the whole provenance and wrote every row again.
    from cleankit.run.clean import run_clean

    src, out = crawl(tmp_path / "in", 6), tmp_path / "out"
    first = run_clean([src], out, Settings(jobs=1))
    assert first.duplicates > 0
    written = ("provenance.jsonl", STATE_FILE)
    before = {name: ((out / name).stat().st_ino, (out / name).read_bytes()) for name in written}
    second = run_clean([src], out, Settings(jobs=1))
    assert second.skipped == first.documents and second.documents == 0
    assert {name: ((out / name).stat().st_ino, (out / name).read_bytes()) for name in written} == before
    check_consistent(out, [f"{index:03d}.txt" for index in range(6)])


def test_kill_after_the_index_decisions_before_provenance_is_rewritten(tmp_path: Path) -> None:
    src, out = crawl(tmp_path / "in"), tmp_path / "out"
    killed_run(str(src), "-o", str(out), "-j", "1", fault="index-decisions")
    with sqlite3.connect(out / INDEX_FILE) as db:
        assert db.execute("SELECT COUNT(*) FROM docs WHERE state = 'duplicate'").fetchone()[0] > 0
    assert all(r["status"] == "ok" for r in records(out)), "provenance not rewritten yet"
    result = run_cli_here("clean", str(src), "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    check_consistent(out, [f"{i:03d}.txt" for i in range(30)])
    assert sum(r["status"] == "duplicate" for r in records(out)) == 30 - len(PAGES)


def test_kill_after_the_provenance_rewrite_before_duplicates_are_deleted(tmp_path: Path) -> None:
    src, out = crawl(tmp_path / "in"), tmp_path / "out"
    killed_run(str(src), "-o", str(out), "-j", "1", fault="provenance-swapped")
    assert sum(r["status"] == "duplicate" for r in records(out)) == 30 - len(PAGES)
    assert all((out / f"{i:03d}.txt").exists() for i in range(30)), "duplicate outputs not deleted yet"
    result = run_cli_here("clean", str(src), "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    check_consistent(out, [f"{i:03d}.txt" for i in range(30)])
    assert b"skipped 30 already done" in result.stderr


def test_json_lines_file_killed_while_its_records_are_appended(tmp_path: Path) -> None:
    # One file is one batch of provenance lines, cut at half its bytes whatever its length:
    # 300 lines tear as 3,000 did (which cost the suite ~3 minutes of one worker).
    count = 300
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    texts = [{"id": n, "text": f"第{n}号通知，请各单位遵照执行。"} for n in range(count)]
    lines = [json.dumps(text, ensure_ascii=False) for text in texts]
    (src / "pages.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    killed_run(str(src), "-o", str(out), "--jsonl", fault="torn-append")
    assert 0 < len((out / "provenance.jsonl").read_bytes().splitlines()) < count
    result = run_cli_here("clean", str(src), "-o", str(out), "--jsonl")
    assert result.returncode == 0, result.stderr.decode()
    assert b"skipped 0 already done" in result.stderr
    found = records(out)
    assert sorted(r["source"] for r in found) == sorted(f"pages.jsonl#{n}" for n in range(1, count + 1))
    assert len((out / "pages.jsonl").read_text(encoding="utf-8").splitlines()) == count
    last = run_cli_here("restore", str(out), f"pages.jsonl#{count}").stdout.decode()
    assert last == f"第{count - 1}号通知，请各单位遵照执行。"


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    holder = FolderLock(out)
    try:
        with pytest.raises(OutputBusy, match=f"pid {os.getpid()}"):
            FolderLock(out)
        result = run_cli("clean", str(SAMPLES), "-o", str(out))
        assert result.returncode == 3
        assert b"another cleankit run" in result.stderr and b"Traceback" not in result.stderr
    finally:
        holder.release()
    # A lock file left by a dead run (its pid is no longer running) is not a lock.
    (out / ".cleankit.lock").write_text("999999999\n")
    assert run_cli("clean", str(SAMPLES), "-o", str(out)).returncode == 0


def test_two_runs_at_once_one_refused_the_other_whole(tmp_path: Path) -> None:
    src, out = crawl(tmp_path / "in", 120), tmp_path / "out"
    command = [sys.executable, "-m", "cleankit", "clean", str(src), "-o", str(out), "-j", "1", "-q"]
    first = subprocess.Popen(command, stderr=subprocess.PIPE, env=cli_env())
    deadline = time.time() + 60
    while not (out / ".cleankit.lock").exists() and time.time() < deadline:
        time.sleep(0.01)
    second = subprocess.run(command, capture_output=True, env=cli_env(), timeout=300)
    assert first.wait(timeout=300) == 0
    assert second.returncode == 3, second.stderr.decode()
    check_consistent(out, [f"{i:03d}.txt" for i in range(120)])


def test_an_unreadable_subfolder_is_a_named_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cleankit.run.clean import run_clean

    src = crawl(tmp_path / "in", 3)
    (src / "locked").mkdir()
    (src / "locked" / "page.txt").write_bytes(PAGES[0])
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        # Root reads every folder whatever its mode: the refusal is simulated here.
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    summary = run_clean([src], tmp_path / "out", Settings(jobs=1))
    assert summary.failures == [("locked/", "cannot read folder: Permission denied")]


def test_a_folder_nested_990_deep_is_walked(tmp_path: Path) -> None:
    src = path = tmp_path / "in"
    src.mkdir()
    for _ in range(990):  # one level at a time: os.makedirs would recurse as deep
        path = path / "d"
        path.mkdir()
    (path / "page.txt").write_bytes(PAGES[0])
    try:
        result = run_cli("clean", str(src), "-o", str(tmp_path / "out"))
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        assert (tmp_path / "out" / ("d/" * 990) / "page.txt").is_file()
    finally:
        # pytest removes old temporary folders with a recursive rmtree, which this depth breaks.
        subprocess.run(["rm", "-rf", str(src), str(tmp_path / "out")], check=True)


def test_a_worker_killed_mid_run_does_not_hang_the_run(tmp_path: Path) -> None:
    # 120 documents: the worker is killed at the first batch of provenance (half a second
    # in), most of the run still to do.
    count = 120
    src, out = crawl(tmp_path / "in", count), tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "cleankit", "clean", str(src), "-o", str(out), "-j", "2", "-q"],
        stderr=subprocess.PIPE,
        env=cli_env(),
    )
    children: list[int] = []
    deadline = time.time() + 120
    while not children and time.time() < deadline and process.poll() is None:
        if (out / "provenance.jsonl").exists():
            children = child_pids(process.pid)
        time.sleep(0.02)
    assert children, "the run ended before a worker could be killed"
    # The newest child is a cleaning worker; the oldest, when there are more, the nursery the
    # late pools fork from (forked with the survey's pool): the end of the run does without it.
    for child in {min(children), max(children)}:
        os.kill(child, signal.SIGKILL)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr.decode()
    check_consistent(out, [f"{i:03d}.txt" for i in range(count)])



def test_a_document_that_kills_its_worker_fails_alone(tmp_path: Path) -> None:
    from cleankit import Pipeline
    from cleankit.core.stage import default_stage_names
    from cleankit.run.clean import run_clean

    src = crawl(tmp_path / "in", 12)
    (src / "bomb.txt").write_text("这一页让清洗它的进程崩溃。KILL-WORKER\n", encoding="utf-8")
    settings = Settings(jobs=2, neardup=False, stages=[*default_stage_names(), "test-kill-worker"])
    summary = run_clean([src], tmp_path / "out", settings, pipeline=Pipeline.from_settings(settings))
    assert summary.documents == 12 and summary.failed == 1
    assert summary.failures[0][0] == "bomb.txt" and "worker process cleaning it" in summary.failures[0][1]


def test_ctrl_c_exits_130_with_one_line_and_the_rerun_resumes(tmp_path: Path) -> None:
    src, out = crawl(tmp_path / "in", 300), tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-c", AS_FROM_A_TERMINAL, "clean", str(src), "-o", str(out), "-j", "2"],
        stderr=subprocess.PIPE,
        env=cli_env(),
        start_new_session=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        provenance = out / "provenance.jsonl"
        if provenance.exists() and provenance.stat().st_size > 0:
            break
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal does: every process of the group
    _, stderr = process.communicate(timeout=60)
    text = stderr.decode()
    assert process.returncode == 130, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    assert [line for line in text.splitlines() if line.strip()] == [
        next(line for line in text.splitlines() if line.startswith("interrupted:"))
    ]
    assert "run the same command again" in text
    result = run_cli_here("clean", str(src), "-o", str(out), "-j", "2")
    assert result.returncode == 0, result.stderr.decode()
    check_consistent(out, [f"{i:03d}.txt" for i in range(300)])


def test_output_folder_that_is_a_file_or_under_one(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for outdir in (blocker, blocker / "out"):
        result = run_cli_here("clean", str(SAMPLES), "-o", str(outdir))
        assert result.returncode == 4, result.stderr.decode()
        lines = result.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and str(blocker) in lines[0] and "Traceback" not in lines[0]


@pytest.fixture
def small_tmpfs(tmp_path: Path, request: pytest.FixtureRequest):
    """A small tmpfs (``size`` mark, default 1m; root can mount one); the test is skipped,
    saying why, where it cannot."""
    marker = request.node.get_closest_marker("tmpfs_size")
    size = marker.args[0] if marker else "1m"
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_disk_full_is_one_line_and_exit_4(tmp_path: Path, small_tmpfs: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for index in range(40):  # ~1.5 MB of output and more provenance: over 1 MiB
        (src / f"{index:03d}.txt").write_bytes(PAGES[index % len(PAGES)].replace(b"\n", f"{index}\n".encode()))
    result = run_cli("clean", str(src), "-o", str(small_tmpfs / "out"), "-j", "2", "--no-neardup")
    text = result.stderr.decode()
    assert result.returncode == 4, text
    assert "No space left on device" in text or "disk full" in text
    assert "Traceback" not in text and "internal error" not in text


@pytest.mark.tmpfs_size("32m")
def test_read_only_output_folder_is_one_line_and_exit_4(tmp_path: Path, small_tmpfs: Path) -> None:
    out = small_tmpfs / "out"
    assert run_cli_here("clean", str(SAMPLES), "-o", str(out)).returncode == 0
    assert subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)]).returncode == 0
    result = run_cli("clean", str(SAMPLES), "-o", str(out), "--force")
    text = result.stderr.decode()
    assert result.returncode == 4, text
    assert "Read-only file system" in text or "read-only" in text
    assert len(text.strip().splitlines()) == 1


BAD_LINES = [
    "[1,2,3]",
    '{"schema": 1, "source": 5, "status": "ok"}',
    '{"schema": 1, "source": "x.txt", "status": "ok", "output_sha256": "", "steps": [], "stats": {}, "edits": "no"}',
    '{"schema": 1, "source": "y.txt", "status": "ok", "output": "y.txt", "output_sha256": "", "steps": ["a"],'
    ' "stats": {}, "edits": [], "encoding": {"name": "no-such-codec"}}',
    '{"schema": 1, "source": "z.txt", "status": "ok", "output": "z.txt", "output_sha256": "", "steps": ["a"],'
    ' "stats": {}, "edits": [], "encoding": {"name": "utf-8", "undecodable": [[0, "zz"]]}}',
    '{"schema": 1, "source": "w.txt", "status": "ok", "output": "w.txt", "output_sha256": "", "steps": ["a"],'
    ' "stats": {}, "edits": [{"step": 0, "stage": "a", "rule": "b", "start": 5, "end": 2, "old": "", "new": ""}]}',
    "not json at all",
]


@pytest.mark.parametrize("bad_line", BAD_LINES)
def test_the_reader_refuses_each_malformed_line(tmp_path: Path, bad_line: str) -> None:
    from cleankit.core.provenance import parse_line, read_records

    record, problem = parse_line(bad_line.encode() + b"\n")
    assert record is None and problem
    provenance = tmp_path / "provenance.jsonl"
    good = {"schema": 1, "source": "a.txt", "status": "failed", "error": "e"}
    provenance.write_text(json.dumps(good) + "\n" + bad_line + "\n" + json.dumps(good) + "\n", encoding="utf-8")
    reported: list[tuple[int, str]] = []
    found = list(read_records(provenance, report=lambda _path, line, why: reported.append((line, why))))
    assert found == [good, good] and [line for line, _ in reported] == [2]


def test_malformed_provenance_lines_are_named_and_skipped_by_every_command(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli_here("clean", str(SAMPLES), "-o", str(out)).returncode == 0
    # Each command a process of its own, as a user runs them: a process reports a file's
    # malformed lines once, whichever of its reads finds them.
    provenance = out / "provenance.jsonl"
    lines = provenance.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2:2] = [bad + "\n" for bad in BAD_LINES]  # lines 3 .. 3 + len(BAD_LINES) - 1
    provenance.write_text("".join(lines), encoding="utf-8")
    named = [f"{provenance}:{n}: skipped a malformed provenance line".encode() for n in range(3, 3 + len(BAD_LINES))]
    name = sorted(p.name for p in SAMPLES.iterdir())[-1]
    restored = run_cli("restore", "--bytes", str(out), name)
    assert restored.returncode == 0 and restored.stdout == (SAMPLES / name).read_bytes()
    assert all(line in restored.stderr for line in named), restored.stderr.decode()
    for command in (["stats", str(out)], ["diff", str(out)], ["report", str(out), "-o", str(tmp_path / "r.html")]):
        result = run_cli(*command)
        assert result.returncode == 0, (command, result.stderr.decode()[-1500:])
        assert all(line in result.stderr for line in named), (command, result.stderr.decode()[-1500:])
    again = run_cli("clean", str(SAMPLES), "-o", str(out))
    assert again.returncode == 0, again.stderr.decode()
    assert all(line in again.stderr for line in named), again.stderr.decode()
    assert len(records(out)) == len(PAGES), "compaction drops the malformed lines"


def test_a_rerun_redoes_a_document_whose_output_or_index_entry_disagrees(tmp_path: Path) -> None:
    src, out = crawl(tmp_path / "in", 10), tmp_path / "out"
    assert run_cli_here("clean", str(src), "-o", str(out)).returncode == 0
    kept = next(r["source"] for r in records(out) if r["status"] == "ok")
    (out / kept).write_text("changed by hand, same size?", encoding="utf-8")
    duplicate = next(r["source"] for r in records(out) if r["status"] == "duplicate")
    with sqlite3.connect(out / INDEX_FILE) as db:
        db.execute("UPDATE docs SET state = 'kept' WHERE source = ?", (json.dumps(duplicate),))
    result = run_cli_here("clean", str(src), "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    assert b"cleaned 2 document(s), skipped 8 already done" in result.stderr
    check_consistent(out, [f"{i:03d}.txt" for i in range(10)])


def test_learned_furniture_is_part_of_what_done_means(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cleankit.run.clean import run_clean
    from cleankit.stages.boilerplate import SiteLearningPass

    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    body = "本市各有关单位：为做好今年的防汛工作，现将有关事项通知如下，请认真贯彻执行。"

    def page(n: int, footer: str) -> str:
        return f"第{n}号通知\n{body}{n}\n{footer}\n"

    for n in range(4):
        (src / f"{n}.txt").write_text(page(n, "本站由某某信息中心维护"), encoding="utf-8")
    settings = Settings(jobs=1, neardup=False)
    run_clean([src], out, settings)
    assert "本站由某某信息中心维护" in (out / "0.txt").read_text(encoding="utf-8")  # 4 pages: too few to learn
    (src / "4.txt").write_text(page(4, "本站由某某信息中心维护"), encoding="utf-8")
    surveyed: list[str] = []
    real_survey = SiteLearningPass.survey_decoding  # the runner's survey: it keeps the decoding

    def survey(self: SiteLearningPass, source: str, raw: bytes) -> object:
        surveyed.append(source)
        return real_survey(self, source, raw)

    monkeypatch.setattr(SiteLearningPass, "survey_decoding", survey)
    summary = run_clean([src], out, settings)
    assert surveyed == ["4.txt"], "unchanged pages are not decoded again to learn from them"
    assert summary.skipped == 0, "the footer is now learned: every page of the site is redone"
    assert "本站由某某信息中心维护" not in (out / "0.txt").read_text(encoding="utf-8")
    surveyed.clear()
    summary = run_clean([src], out, settings)
    assert surveyed == [] and summary.skipped == 5


def test_json_lines_learned_templates_are_cached_and_part_of_what_done_means(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JSON Lines records that name their site are surveyed once per file content; a line
    whose date and number vary is learned as one template; when pages in another file make
    it furniture, the unchanged file is redone."""
    from cleankit.run.clean import run_clean
    from cleankit.stages.boilerplate import SiteLearningPass

    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()

    def records(numbers: range) -> str:
        rows = [
            {
                "url": f"https://www.kjw.example.cn/news/{n}.html",
                "text": f"某某科技网 第{n}期 2024年3月{n}日\n"
                f"近日，全市第{n}次科技工作会议召开，会议总结了去年工作，部署了今年的重点任务。\n",
            }
            for n in numbers
        ]
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)

    (src / "a.jsonl").write_text(records(range(1, 5)), encoding="utf-8")
    settings = Settings(jobs=1, jsonl=True)
    run_clean([src], out, settings)
    assert "某某科技网" in (out / "a.jsonl").read_text(encoding="utf-8")  # 4 pages: too few to learn
    surveyed: list[str] = []
    real_survey = SiteLearningPass.survey_decoding  # the runner's survey: it keeps the decoding

    def survey(self: SiteLearningPass, source: str, raw: bytes) -> object:
        surveyed.append(source)
        return real_survey(self, source, raw)

    monkeypatch.setattr(SiteLearningPass, "survey_decoding", survey)
    (src / "b.jsonl").write_text(records(range(5, 9)), encoding="utf-8")
    summary = run_clean([src], out, settings)
    assert surveyed == ["b.jsonl"], "an unchanged file is not read again to learn from it"
    assert summary.skipped == 0, "the head line's template is now learned for the host: a.jsonl is redone"
    for name in ("a.jsonl", "b.jsonl"):
        texts = [json.loads(line)["text"] for line in (out / name).read_text(encoding="utf-8").splitlines()]
        assert len(texts) == 4 and not any("某某科技网" in text for text in texts)
    surveyed.clear()
    summary = run_clean([src], out, settings)
    assert surveyed == [] and summary.skipped == 2


def test_end_of_run_reads_checked_lines_as_they_are_and_checks_changed_ones(tmp_path: Path) -> None:
    """Lines whose checksum is their row's are parsed without checking each record again;
    lines that are not the row's bytes are checked, and a broken record is dropped."""
    from cleankit.io.files import PROVENANCE_FILE
    from cleankit.run.clean import run_clean
    from cleankit.run.state import RunState

    page = tmp_path / "in" / "page.txt"
    page.parent.mkdir()
    page.write_text("第一段文字，在这里。\n\n第二段文字，在那里。\n", encoding="utf-8")
    out = tmp_path / "out"
    run_clean([page.parent], out, Settings())
    provenance = out / PROVENANCE_FILE
    written = json.loads(provenance.read_bytes())
    state = RunState(out)
    assert state.changes().records_of(["page.txt"]) == {"page.txt": [written]}
    provenance.write_bytes(provenance.read_bytes().replace(b'"status":"ok"', b'"status":"no"'))
    assert state.changes().records_of(["page.txt"]) == {"page.txt": []}
    state.close()


def test_plan_refuses_an_output_that_resolves_to_its_input(tmp_path: Path) -> None:
    # The output folder is a symlink to the input folder: every output path names an
    # existing input; a fresh folder names nothing and costs no realpath.
    from cleankit.io.files import InputItem
    from cleankit.run.plan import plan

    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.txt").write_text("一", encoding="utf-8")
    items = [InputItem(src / "sub" / "a.txt", "sub/a.txt")]
    linked = tmp_path / "linked"
    linked.symlink_to(src, target_is_directory=True)
    tasks, bad = plan(items, linked, {})
    assert not tasks and [rel for rel, _why in bad] == ["sub/a.txt"] and "overwrite the input" in bad[0][1]
    tasks, bad = plan(items, tmp_path / "fresh", {})
    assert [task.rel for task in tasks] == ["sub/a.txt"] and not bad


def test_the_end_of_a_run_reads_no_row_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its changes, its commit and summary.json each ask for every row: the rows kept as each
    batch was written (none read back from the run state in the run's serial part), then the
    rows the commit wrote, which are the state's rows as a fresh reader finds them."""
    from cleankit.run.clean import run_clean
    from cleankit.run.state import FileRow, RunState
    from cleankit.run.summary import RunSummary

    read: list[object] = []
    from_sql = FileRow.from_sql.__func__  # type: ignore[attr-defined]

    def counted(cls: type[FileRow], row: object) -> FileRow:
        read.append(row)
        return from_sql(cls, row)  # type: ignore[no-any-return]

    monkeypatch.setattr(FileRow, "from_sql", classmethod(counted))
    src = crawl(tmp_path / "crawl", count=len(HEADS) + 1)
    out = tmp_path / "out"
    summary = run_clean([src], out, Settings(jobs=1))
    assert summary.duplicates == 1 and read == []  # none at the start (a new folder), none at the end
    monkeypatch.undo()
    state = RunState(out)
    folder = RunSummary()
    for row in state.rows():
        folder.merge(RunSummary.from_totals(row.totals))
    state.close()
    written = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    expected = folder.to_json()
    expected.pop("seconds")
    written.pop("last_run")
    assert written == expected and expected["duplicates"] == summary.duplicates


def test_a_cleaned_result_crosses_the_pipe_whole(tmp_path: Path) -> None:
    # Results are pickled as their fields in order (and the signature as its bytes): what the
    # parent unpickles is what the worker made, row, totals and near-duplicate observation.
    import pickle

    import numpy as np

    from cleankit.core.pipeline import Pipeline
    from cleankit.run.clean import run_passes
    from cleankit.run.cleaner import Cleaner
    from cleankit.run.plan import Task

    page = tmp_path / "notice.html.txt"
    page.write_bytes(PAGES[0].decode("utf-8").encode("gb18030"))
    settings = Settings()
    pipeline = Pipeline.from_settings(settings)
    out = tmp_path / "out"
    out.mkdir()
    passes = [p for p in run_passes(settings, pipeline, out) if p.name == "neardup"]
    made = Cleaner(pipeline, out, passes, "run-1")(Task(str(page), "notice.html.txt", None))
    assert made.row is not None and made.totals is not None and made.observations
    back = pickle.loads(pickle.dumps(made))
    assert (back.rel, back.lines, back.records, back.size, back.skipped, back.output_error) == (
        made.rel, made.lines, made.records, made.size, made.skipped, made.output_error
    )
    assert back.row == made.row and back.totals == made.totals
    assert back.totals.encodings == made.totals.encodings and back.totals.encodings["gb18030"] == 1
    sent, got = made.observations["neardup"], back.observations["neardup"]  # type: ignore[index]
    assert np.array_equal(got.signature, sent.signature) and got.signature.dtype == sent.signature.dtype
    assert (got.doc_id, got.source, got.output, got.chars, got.quality, got.band_keys) == (
        sent.doc_id, sent.source, sent.output, sent.chars, sent.quality, sent.band_keys
    )


def test_a_batchs_observations_are_merged_and_flushed_before_its_lines_are_appended(tmp_path: Path) -> None:
    # The committer merges a batch's observations when it commits the batch (together, in
    # the order the results came), then flushes the passes, then appends the lines, then
    # writes the rows: a kill anywhere leaves no row whose document the index lacks.
    from cleankit.io.files import PROVENANCE_FILE
    from cleankit.run.clean import _Committer
    from cleankit.run.plan import FileResult
    from cleankit.run.state import FileRow, RunState

    events: list[str] = []
    NEWLINE = b"\n"

    @dataclass
    class Recorder:
        name: str = "recorder"

        def merge(self, observation: str) -> None:
            events.append(f"merge {observation}")

        def flush(self) -> None:
            lines = (tmp_path / PROVENANCE_FILE).read_bytes() if (tmp_path / PROVENANCE_FILE).exists() else b""
            events.append(f"flush with {lines.count(NEWLINE)} lines")

    state = RunState(tmp_path)
    committer = _Committer(state, tmp_path / PROVENANCE_FILE, [Recorder()])  # type: ignore[list-item]
    for n in range(3):
        line = json.dumps({"source": f"通知{n}.txt"}, ensure_ascii=False).encode() + b"\n"
        row = FileRow(f"通知{n}.txt", "r", "ok", "0" * 64, "s", "", None, 0, "", 1, 0, len(line), 0, "{}")
        committer.add(FileResult(f"通知{n}.txt", line, 1, 10, observations={"recorder": f"doc{n}"}, row=row))
    assert events == []  # nothing merged before the batch is committed
    committer.flush()
    committer.close()
    assert events == ["merge doc0", "merge doc1", "merge doc2", "flush with 0 lines"]
    assert [row.file for row in state.rows()] == ["通知0.txt", "通知1.txt", "通知2.txt"]
    state.close()
