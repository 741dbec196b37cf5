"""What a run takes from its inputs, through the real command (issue 15): cleankit output folders
under an input are passed over, --exclude prunes folders, patterns that match nothing and inputs
that do not exist warn with exit code 5 and create no output folder, and --dry-run says what a
run would do without writing anything. Run in the test's process (``run_cli_here``:
``cleankit.cli.main`` in the test's process, the same arguments, streams and exit code as a
subprocess, without a new interpreter's start-up each time)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import SAMPLES, run_cli_here

PAGE = "各市、县人民政府：现将规划印发给你们，请认真贯彻执行。\n"


def crawl(root: Path) -> Path:
    """A crawl folder of two sites with one page each."""
    src = root / "crawl"
    for site, name in (("www.gxst.gov.cn", "a.txt"), ("s.fjlib.net", "b.txt")):
        (src / site).mkdir(parents=True)
        (src / site / name).write_text(PAGE.replace("规划", f"{site}的规划"), encoding="utf-8")
    return src


def sources(outdir: Path) -> list[str]:
    return sorted(json.loads(line)["source"] for line in (outdir / "provenance.jsonl").read_text().splitlines())


def test_cleankit_output_folders_under_an_input_are_passed_over(tmp_path: Path) -> None:
    src = crawl(tmp_path)
    # An earlier run's output left inside the crawl, and a 0.1 output folder (its index only).
    assert run_cli_here("clean", str(SAMPLES), "-o", str(src / "old-run")).returncode == 0
    legacy = src / "www.gxst.gov.cn" / "older"
    legacy.mkdir()
    (legacy / "dedup-index.sqlite").write_bytes(b"SQLite format 3\x00")
    (legacy / "page.txt").write_text(PAGE, encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli_here("clean", str(src), "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    assert sources(out) == ["s.fjlib.net/b.txt", "www.gxst.gov.cn/a.txt"]
    err = result.stderr.decode()
    assert f"note: passed over {src / 'old-run'}: a cleankit output folder (provenance.jsonl, summary.json" in err
    assert f"note: passed over {legacy}: a cleankit output folder (dedup-index.sqlite)" in err
    # An output folder given as the input itself is passed over too: nothing to clean.
    again = run_cli_here("clean", str(src / "old-run"), "-o", str(tmp_path / "again"))
    assert again.returncode == 5 and not (tmp_path / "again").exists()


def test_exclude_of_a_folder_name_excludes_the_folder(tmp_path: Path) -> None:
    src = crawl(tmp_path)
    out = tmp_path / "out"
    result = run_cli_here("clean", str(src), "-o", str(out), "--exclude", "s.fjlib.net")
    assert result.returncode == 0, result.stderr.decode()
    assert sources(out) == ["www.gxst.gov.cn/a.txt"]


def test_patterns_that_match_nothing_warn_with_exit_3_and_write_nothing(tmp_path: Path) -> None:
    src = crawl(tmp_path)
    out = tmp_path / "out"
    nothing = run_cli_here("clean", str(src), "-o", str(out), "--include", "*.html")
    assert nothing.returncode == 5
    assert nothing.stderr.decode() == (
        "warning: --include '*.html' matched nothing\nwarning: nothing to clean; no output folder written\n"
    )
    assert not out.exists()
    typo = run_cli_here("clean", str(src), "-o", str(out), "--exclude", "s.fjlib.nt")
    assert typo.returncode == 5 and b"warning: --exclude 's.fjlib.nt' matched nothing" in typo.stderr
    assert sources(out) == ["s.fjlib.net/b.txt", "www.gxst.gov.cn/a.txt"], "what was found is still cleaned"


def test_an_input_that_does_not_exist_warns_with_exit_3(tmp_path: Path) -> None:
    out = tmp_path / "out"
    missing = run_cli_here("clean", str(tmp_path / "no-such-folder"), "-o", str(out))
    assert missing.returncode == 5 and not out.exists()
    assert f"warning: {tmp_path / 'no-such-folder'}: no such file or folder".encode() in missing.stderr
    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    partly = run_cli_here("clean", str(page), str(tmp_path / "gone.txt"), "-o", str(out))
    assert partly.returncode == 5 and sources(out) == ["page.txt"]


def test_negative_jobs_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli_here("clean", str(SAMPLES), "-o", str(tmp_path / "out"), "-j", "-1")
    assert result.returncode == 2 and not (tmp_path / "out").exists()
    assert result.stderr.decode().count("\n") == 1 and b"--jobs" in result.stderr
    config = tmp_path / "cleankit.toml"
    config.write_text("[clean]\njobs = -1\n")
    from_file = run_cli_here("clean", str(SAMPLES), "-o", str(tmp_path / "out"), "--config", str(config))
    assert from_file.returncode == 2 and b"jobs must be 0" in from_file.stderr


def test_dry_run_lists_what_would_be_done_and_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "in"
    shutil.copytree(SAMPLES, src)
    (src / "empty.txt").write_bytes(b"")
    out = tmp_path / "out"
    assert run_cli_here("clean", str(src), "-o", str(out / "nested")).returncode == 1  # an output folder inside out/
    shutil.copytree(out / "nested", src / "old")
    dry = run_cli_here("clean", str(src), "-o", str(out), "--dry-run")
    assert dry.returncode == 0, dry.stderr.decode()
    lines = dry.stdout.decode().splitlines()
    assert sorted(line.split()[1] for line in lines if line.startswith("clean ")) == sorted(
        p.name for p in SAMPLES.iterdir()
    )
    assert "fail   empty.txt  (empty file (0 bytes))" in lines
    assert any(line.startswith(f"pass   {src / 'old'}  (a cleankit output folder") for line in lines)
    assert b"nothing written" in dry.stderr and not (out / "provenance.jsonl").exists()
    assert run_cli_here("clean", str(src), "-o", str(out)).returncode == 1
    again = json.loads(run_cli_here("clean", str(src), "-o", str(out), "--dry-run", "--json").stdout)
    assert sorted(again["skip"]) == sorted(p.name for p in SAMPLES.iterdir()) and again["clean"] == []
    assert again["fail"] == [{"source": "empty.txt", "error": "empty file (0 bytes)"}]


def test_the_walk_asks_realpath_only_of_the_output_folder_itself(tmp_path: Path, monkeypatch) -> None:
    """A folder is compared with the output folder by its realpath only when it is that
    folder (same device and inode): realpath of every folder of a deep tree was an lstat per
    level of each (a million for a tree 990 deep). The output folder is still passed over
    when it lies inside the input, under its own name or through a symlink."""
    import os

    from cleankit.io.files import discover

    src = path = tmp_path / "in"
    src.mkdir()
    for _ in range(40):
        path = path / "d"
        path.mkdir()
    (path / "page.txt").write_text("正文。\n", encoding="utf-8")
    out = src / "out"
    out.mkdir()
    (out / "old.txt").write_text("已清洗。\n", encoding="utf-8")
    (src / "link-to-out").symlink_to(out, target_is_directory=True)
    asked: list[str] = []
    realpath = os.path.realpath

    def counted(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(str(name))
        return realpath(name, *args, **kwargs)

    monkeypatch.setattr(os.path, "realpath", counted)
    found = [item.rel for item in discover([src], [], [], skip_dirs=[out])]
    assert found == ["d/" * 40 + "page.txt"]
    # The skip list itself, then the output folder and the link to it where they are listed
    # and again where they are taken from the stack: never one of the 41 other folders.
    assert sorted(asked) == sorted([str(out)] * 3 + [str(src / "link-to-out")] * 2)
