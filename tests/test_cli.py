"""End to end through the real command: in a subprocess where the process is what is tested
(a kill, piped standard input and output, the exit code a shell sees, forked workers), else
by ``cleankit.cli.main`` in the test's process (``run_cli_here``: the same arguments, streams
and exit code, without a new interpreter's start-up each time)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SAMPLES, run_cli, run_cli_here


def tree_hashes(folder: Path) -> dict[str, tuple[str, float]]:
    return {
        str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def records(outdir: Path) -> list[dict]:
    return [json.loads(line) for line in (outdir / "provenance.jsonl").read_text().splitlines()]


def test_help_and_version() -> None:
    for command in ([], ["clean"], ["restore"], ["config"]):
        result = run_cli_here(*command, "--help")
        assert result.returncode == 0, result.stderr
        assert b"Usage" in result.stdout
    assert run_cli("--version").stdout.decode().startswith("cleankit ")


def test_clean_samples_then_restore_every_document(tmp_path: Path) -> None:
    before = tree_hashes(SAMPLES)
    out = tmp_path / "out"
    result = run_cli("clean", str(SAMPLES), "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    assert tree_hashes(SAMPLES) == before, "inputs must never be modified"
    recs = records(out)
    assert sorted(r["source"] for r in recs) == sorted(p.name for p in SAMPLES.iterdir())
    for record in recs:
        assert record["schema"] == 1 and record["status"] == "ok"
        clean = (out / record["output"]).read_bytes()
        assert b"\r" not in clean and b"\n\n\n" not in clean and clean.endswith(b"\n")
        text = run_cli_here("restore", str(out), record["source"])
        assert text.returncode == 0, text.stderr
        assert text.stdout == (SAMPLES / record["source"]).read_bytes()
        raw = run_cli_here("restore", "--bytes", str(out), record["source"])
        assert raw.stdout == (SAMPLES / record["source"]).read_bytes()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["documents"] == len(recs) and summary["failed"] == 0
    assert "paragraphs/paragraph-break" in summary["rules"]
    assert b"cleaned 5 document(s)" in result.stderr


def test_rerun_skips_and_force_redoes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli_here("clean", str(SAMPLES), "-o", str(out)).returncode == 0
    again = run_cli_here("clean", str(SAMPLES), "-o", str(out))
    assert b"skipped 5 already done" in again.stderr
    forced = run_cli_here("clean", str(SAMPLES), "-o", str(out), "--force")
    assert b"cleaned 5 document(s)" in forced.stderr
    assert len(records(out)) == 5
    changed = run_cli_here("clean", str(SAMPLES), "-o", str(out), "--skip", "paragraphs")
    assert b"cleaned 5 document(s)" in changed.stderr, "other settings must redo the work"


def test_stdin_to_stdout_with_provenance(tmp_path: Path) -> None:
    raw = "各市、县人民政府：\r\n\r\n\u3000\u3000现将规划印发给你们。\r\n".encode("gbk")
    prov = tmp_path / "p.jsonl"
    result = run_cli("clean", "-", "--provenance", str(prov), stdin=raw)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == "各市、县人民政府：\n\n现将规划印发给你们。\n"
    clean = tmp_path / "clean.txt"
    clean.write_bytes(result.stdout)
    back = run_cli("restore", "--provenance", str(prov), "--clean", str(clean), "--bytes")
    assert back.stdout == raw


def test_jsonl_in_and_out_carries_other_fields(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    lines = [
        {"id": 1, "url": "http://example.gov.cn/a", "content": "  第一章\u3000总则\r\n\r\n\r\n本规划。"},
        {"id": 2, "url": "http://example.gov.cn/b", "content": "廣佛極點建設\t再進一步"},
    ]
    (src / "pages.jsonl").write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\nnot json\n")
    out = tmp_path / "out"
    result = run_cli_here("clean", str(src), "-o", str(out), "--jsonl", "--text-field", "content")
    assert result.returncode == 1, "the broken line is a failure"
    assert b"pages.jsonl#3" in result.stderr
    cleaned = [json.loads(x) for x in (out / "pages.jsonl").read_text().splitlines()]
    assert [c["url"] for c in cleaned[:2]] == [x["url"] for x in lines]
    assert cleaned[0]["content"] == "第一章 总则\n\n本规划。\n"
    # The broken line stays in its place (output line N is input line N), marked as failed.
    assert cleaned[2]["cleankit"]["status"] == "failed" and cleaned[2]["cleankit"]["line"] == "not json"
    for line in lines:
        source = f"pages.jsonl#{line['id']}"
        back = run_cli_here("restore", str(out), source)
        assert back.stdout.decode() == line["content"]


def test_bad_inputs_are_named_and_the_run_goes_on(tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    shutil.copy(SAMPLES / "003_9e13396f754b10da.txt", src / "good.txt")
    (src / "sub" / "gbk.txt").write_bytes("通知\r\n正文".encode("gbk"))
    (src / "empty.txt").write_bytes(b"")
    (src / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (src / "doc.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n")
    (src / "archive.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    os.symlink(src / "missing.txt", src / "broken.txt")
    os.symlink(src / "loop.txt", src / "loop.txt")
    os.symlink(src, src / "sub" / "back-to-top")
    os.mkfifo(src / "fifo.txt")
    bad_name = os.fsencode(src) + b"/\xff\xfe-name.txt"
    with open(bad_name, "wb") as handle:
        handle.write("名称不是UTF-8".encode())
    out = tmp_path / "out"
    result = run_cli_here("clean", str(src), "-o", str(out), "-j", "2")
    assert result.returncode == 1
    err = result.stderr.decode()
    for name, reason in [
        ("empty.txt", "empty file"),
        ("image.png", "PNG image"),
        ("doc.pdf", "PDF document"),
        ("archive.zip", "ZIP archive"),
        ("broken.txt", "broken symlink"),
        ("loop.txt", "symlink loop"),
        ("fifo.txt", "not a regular file"),
    ]:
        assert any(name in line and reason in line for line in err.splitlines()), (name, err)
    assert (out / "good.txt").is_file() and (out / "sub" / "gbk.txt").read_text() == "通知\n\n正文\n"
    assert os.path.exists(os.fsencode(out) + b"/\xff\xfe-name.txt")
    by_status = {}
    for record in records(out):
        by_status.setdefault(record["status"], []).append(record["source"])
    assert len(by_status["ok"]) == 3
    assert len(by_status["failed"]) == 7
    assert "failed 7" in err


def test_too_large_file_is_refused_by_setting(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "big.txt").write_text("广西" * 1000)
    (src / "small.txt").write_text("广西")
    config = tmp_path / "cleankit.toml"
    config.write_text("[clean]\nmax_bytes = 1000\n")
    result = run_cli_here("clean", str(src), "-o", str(tmp_path / "out"), "--config", str(config))
    assert result.returncode == 1
    assert b"big.txt" in result.stderr and b"max_bytes" in result.stderr
    assert (tmp_path / "out" / "small.txt").exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_cli("clean", str(SAMPLES)).returncode == 2, "no -o"
    assert run_cli("clean", str(SAMPLES), "-o", str(tmp_path), "--skip", "nonsense").returncode == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[clean]\nunknown_key = 1\n")
    result = run_cli("config", "--show", "--config", str(bad))
    assert result.returncode == 2 and b"unknown_key" in result.stderr


def test_config_show_prints_effective_settings(tmp_path: Path) -> None:
    config = tmp_path / "cleankit.toml"
    config.write_text('[clean]\nskip = ["paragraphs"]\n\n[stage.hygiene]\nnfc = false\n')
    # A process of its own: --show lists every registered stage, and test modules register
    # stages of their own in the test's process.
    result = run_cli("config", "--show", "--config", str(config))
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    assert 'skip = [\n    "paragraphs",\n]' in text and "nfc = false" in text
    again = tmp_path / "again.toml"
    again.write_text(text)
    assert run_cli("config", "--show", "--config", str(again)).stdout.decode() == text


def test_include_and_exclude_globs(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.txt", "b.html", "c.txt"):
        (src / name).write_text("通知")
    out = tmp_path / "out"
    run_cli_here("clean", str(src), "-o", str(out), "--include", "*.txt", "--exclude", "c.*")
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".cleankit.lock", "a.txt", "neardup-index.sqlite", "provenance.jsonl", "run-state.sqlite", "summary.json"
    ]


def test_killed_run_resumes_with_every_output_whole(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    # The head of each sample (whole lines, ~6 kB): the samples whole, up to three times over
    # (11.5 MB in all), cost the suite ~55 s of one worker, most of it aligning near-duplicates
    # of 300 kB; the run is still killed with most of it to do.
    pages = [p.read_bytes()[:6000].rpartition(b"\n")[0] + b"\n" for p in sorted(SAMPLES.iterdir())]
    # 160 documents: the kill lands as soon as the first batch of provenance lines is written
    # (a batch every half second: 19-21 of the 160 lines, the next batch held all the rest, a
    # run of 1.8 s in all; waiting for 40 lines saw the run end first), most of it still to do.
    count = 160
    for index in range(count):
        (src / f"{index:04d}.txt").write_bytes(pages[index % len(pages)] * (1 + index % 3))
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "cleankit", "clean", str(src), "-o", str(out), "-j", "2", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    provenance = out / "provenance.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline:
        if provenance.exists() and provenance.read_bytes().count(b"\n") >= 1:
            break
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = provenance.read_bytes().count(b"\n")
    assert 0 < done_before < count, "the run must be killed part-way"

    result = run_cli_here("clean", str(src), "-o", str(out), "-j", "2")
    assert result.returncode == 0, result.stderr.decode()
    recs = records(out)
    sources = [r["source"] for r in recs]
    assert len(sources) == len(set(sources)) == count, "no provenance line lost or doubled"
    assert not list(out.rglob("*.cleankit-tmp-*"))
    for record in recs:
        if record["status"] == "duplicate":  # the pages repeat: copies are near-duplicates, not written
            assert record["output"] is None and not (out / record["source"]).exists()
            continue
        clean = (out / record["output"]).read_text()
        assert hashlib.sha256(clean.encode()).hexdigest() == record["output_sha256"]
    assert sum(r["status"] == "duplicate" for r in recs) >= count - 3 * len(pages)
    for name in ("0000.txt", f"{count - 1:04d}.txt"):
        assert run_cli_here("restore", str(out), name).stdout == (src / name).read_bytes()
    assert f"skipped {done_before}".encode() in result.stderr or b"skipped" in result.stderr


def test_parallel_and_serial_give_the_same_outputs(tmp_path: Path) -> None:
    # Two serial runs (into two folders) and a parallel one (a process of its own, whose
    # workers are forked from it) against the first: one reference for both comparisons,
    # which were two tests each cleaning it again.
    reference = tmp_path / "reference"
    assert run_cli_here("clean", str(SAMPLES), "-o", str(reference), "-j", "1").returncode == 0
    assert run_cli_here("clean", str(SAMPLES), "-o", str(tmp_path / "1"), "-j", "1").returncode == 0
    assert run_cli("clean", str(SAMPLES), "-o", str(tmp_path / "2"), "-j", "2").returncode == 0
    for jobs in ("1", "2"):
        for sample in SAMPLES.iterdir():
            assert (tmp_path / jobs / sample.name).read_bytes() == (reference / sample.name).read_bytes(), jobs


def test_output_folder_equal_to_input_never_overwrites_inputs(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    page = "  通知\r\n".encode("gbk")
    (src / "a.txt").write_bytes(page)
    result = run_cli_here("clean", str(src), "-o", str(src))
    assert result.returncode == 2
    assert b"is an input folder" in result.stderr
    assert (src / "a.txt").read_bytes() == page
    # The same file given twice, once inside the output folder, is refused per file.
    result = run_cli_here("clean", str(src / "a.txt"), "-o", str(src))
    assert result.returncode == 1 and b"overwrite the input" in result.stderr
    assert (src / "a.txt").read_bytes() == page


def test_rebuilt_state_keeps_the_latest_run_even_when_runs_touch(tmp_path: Path) -> None:
    """A provenance file without a run state (an older cleankit's) is read once to know what
    is finished: the latest run of each file, and no JSON Lines file (not provably whole)."""
    from cleankit.run.state import rebuild_rows

    def failed(file: str, run: str, n: int, source: str | None = None) -> dict:
        return {"schema": 1, "source": source or file, "status": "failed", "error": f"e{n}", "file": file, "run": run}

    old, new, other = failed("a.txt", "r1", 1), failed("a.txt", "r2", 2), failed("b.txt", "r2", 3)
    lines = [failed("p.jsonl", "r1", 10 + i, f"p.jsonl#{i}") for i in (1, 2)]
    provenance = tmp_path / "provenance.jsonl"
    # a.txt was the last file of run r1 and the first of run r2: adjacent, yet two runs.
    provenance.write_text("".join(json.dumps(r) + "\n" for r in [other, old, new, *lines]))
    rows = {row.file: row for row in rebuild_rows(provenance)}
    assert sorted(rows) == ["a.txt", "b.txt"]
    data = provenance.read_bytes()
    assert json.loads(data[rows["a.txt"].offset : rows["a.txt"].offset + rows["a.txt"].length])["error"] == "e2"
    assert rows["a.txt"].run == "r2" and rows["b.txt"].run == "r2"


def test_a_batch_run_leaves_what_it_built_out_of_the_last_garbage_collection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The process ends with the run: its last collection, at exit, would visit every object
    # the run left (0.7 s at -j 1 on the 2,000-page crawl) to free memory given back anyway.
    # Asked for once per process, however many runs it makes.
    import gc
    from types import SimpleNamespace

    from cleankit.cli import clean as clean_command

    at_exit: list[object] = []
    monkeypatch.setattr(clean_command, "atexit", SimpleNamespace(register=at_exit.append))
    clean_command._freeze_at_exit.cache_clear()
    page = tmp_path / "in" / "page.txt"
    page.parent.mkdir()
    page.write_text("第一段文字，在这里。\n", encoding="utf-8")
    for out in ("one", "two"):
        assert run_cli_here("clean", str(page.parent), "-o", str(tmp_path / out), "-q").returncode == 0
    assert at_exit == [gc.freeze]
