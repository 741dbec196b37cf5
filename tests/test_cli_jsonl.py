"""JSON Lines and standard input through the real command (issue 15): output line N is input line
N, duplicates across lines are decided as in folder runs, JSON files are never cleaned into
broken JSON, and standard input honours -o and says where its provenance went. Run in the test's
process (``run_cli_here``: ``cleankit.cli.main`` in the test's process, the same arguments,
streams and exit code as a subprocess, without a new interpreter's start-up each time), but for
a -j 2 run and one page piped to standard output."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SAMPLES, run_cli, run_cli_here

NOTICE = "各市、县人民政府，自治区人民政府各组成部门：现将《广西科技创新规划》印发给你们，请结合实际认真贯彻执行。"
OTHER = "会议指出，要深入实施创新驱动发展战略，加快建设创新型广西，推动科技成果转化和产业化。"


def write_jsonl(path: Path, lines: list[object]) -> None:
    path.write_text(
        "".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines),
        encoding="utf-8",
    )


def records(outdir: Path) -> dict[str, dict]:
    found = [json.loads(line) for line in (outdir / "provenance.jsonl").read_text().splitlines()]
    return {r["source"]: r for r in found}


def test_output_line_n_is_input_line_n_and_failures_pass_through_marked(tmp_path: Path) -> None:
    source = tmp_path / "pages.jsonl"
    write_jsonl(
        source,
        [
            {"id": 1, "text": "  通知\r\n\r\n\r\n正文"},
            "not json at all",
            {"id": 3, "body": "no text field"},
            "",
            ["an", "array"],
            {"id": 6, "text": OTHER},
        ],
    )
    out = tmp_path / "out"
    result = run_cli_here("clean", str(source), "-o", str(out), "--jsonl")
    assert result.returncode == 1, result.stderr.decode()
    lines = (out / "pages.jsonl").read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) - 1 == 6, "one output line per input line"
    first, bad, missing, blank, array, last = lines[:6]
    assert json.loads(first) == {"id": 1, "text": "通知\n\n正文\n"}
    assert json.loads(bad)["cleankit"] == {
        "status": "failed",
        "error": "line 2: Expecting value: line 1 column 1 (char 0)",
        "line": "not json at all",
    }
    assert json.loads(missing) == {
        "id": 3,
        "body": "no text field",
        "cleankit": {"status": "failed", "error": "line 3: no string field 'text'"},
    }
    assert blank == ""
    assert json.loads(array)["cleankit"]["line"] == '["an", "array"]'
    assert json.loads(last)["id"] == 6 and "cleankit" not in json.loads(last)
    found = records(out)
    assert {s: r["status"] for s, r in found.items()} == {
        "pages.jsonl#1": "ok",
        "pages.jsonl#2": "failed",
        "pages.jsonl#3": "failed",
        "pages.jsonl#5": "failed",
        "pages.jsonl#6": "ok",
    }
    assert found["pages.jsonl#6"]["output_line"] == 5


def test_duplicate_lines_are_decided_as_in_folder_runs(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    write_jsonl(src / "a.jsonl", [{"url": "a1", "text": NOTICE}, {"url": "a2", "text": OTHER}])
    near = NOTICE.replace("请结合实际认真", "请认真")  # shorter: the longer copy is kept, as in folder runs
    write_jsonl(
        src / "b.jsonl", [{"url": "b1", "text": OTHER}, {"url": "b2", "text": near}, {"url": "b3", "text": "短"}]
    )
    out = tmp_path / "out"
    result = run_cli("clean", str(src), "-o", str(out), "--jsonl", "-j", "2")  # observations cross processes
    assert result.returncode == 0, result.stderr.decode()
    a = [json.loads(x) for x in (out / "a.jsonl").read_text().splitlines()]
    b = [json.loads(x) for x in (out / "b.jsonl").read_text().splitlines()]
    assert [x["url"] for x in a + b] == ["a1", "a2", "b1", "b2", "b3"], "every line stays, in its place"
    assert "cleankit" not in a[0] and "cleankit" not in a[1] and "cleankit" not in b[2]
    assert b[0]["text"] == "" and b[0]["cleankit"] == {
        "status": "duplicate",
        "duplicate_of": "a.jsonl#2",
        "similarity": 1.0,
    }
    assert b[1]["text"] == "" and b[1]["cleankit"]["duplicate_of"] == "a.jsonl#1"
    assert 0.8 <= b[1]["cleankit"]["similarity"] < 1
    found = records(out)
    duplicate = found["b.jsonl#2"]
    assert duplicate["status"] == "duplicate" and duplicate["duplicate_of"] == "a.jsonl#1"
    assert duplicate["edits"][-1]["rule"] == "duplicate-document"
    # The dropped text is rebuilt from the record alone, and the summary counts the duplicates.
    assert run_cli_here("restore", str(out), "b.jsonl#2").stdout.decode() == near
    assert json.loads((out / "summary.json").read_text())["duplicates"] == 2
    assert b"near-duplicate documents: 2" in result.stderr
    again = run_cli_here("clean", str(src), "-o", str(out), "--jsonl")
    assert again.returncode == 0 and b"skipped 2 already done" in again.stderr, again.stderr.decode()
    kept = tmp_path / "kept"
    assert run_cli_here("clean", str(src), "-o", str(kept), "--jsonl", "--keep-duplicates").returncode == 0
    b_kept = [json.loads(x) for x in (kept / "b.jsonl").read_text().splitlines()]
    assert b_kept[0]["text"] == OTHER + "\n" and b_kept[0]["cleankit"]["status"] == "duplicate"


def test_stdin_json_lines_are_deduplicated_too() -> None:
    data = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in (NOTICE, OTHER, NOTICE))
    result = run_cli_here("clean", "-", "--jsonl", stdin=data.encode())
    assert result.returncode == 0, result.stderr.decode()
    out = [json.loads(x) for x in result.stdout.decode().splitlines()]
    assert len(out) == 3 and out[2]["text"] == "" and out[2]["cleankit"]["duplicate_of"] == "-#1"


def test_a_json_lines_file_without_jsonl_is_switched_or_refused(tmp_path: Path) -> None:
    source = tmp_path / "corpus.jsonl"
    write_jsonl(source, [{"text": "通知:现将规划印发给你们,请认真执行。"}])
    out = tmp_path / "out"
    switched = run_cli_here("clean", str(source), "-o", str(out))
    assert switched.returncode == 0, switched.stderr.decode()
    assert b"JSON Lines" in switched.stderr and b"--jsonl" in switched.stderr
    assert json.loads((out / "corpus.jsonl").read_text()) == {"text": "通知：现将规划印发给你们，请认真执行。\n"}
    # Mixed with text files: one line, exit code 2, nothing written.
    mixed = run_cli_here("clean", str(source), str(SAMPLES / "000_ad233eb0e25883aa.txt"), "-o", str(tmp_path / "m"))
    assert mixed.returncode == 2 and mixed.stderr.decode().count("\n") == 1 and b"--jsonl" in mixed.stderr
    assert not (tmp_path / "m").exists()
    document = tmp_path / "data.json"
    document.write_text('{\n  "text": "通知"\n}\n')
    refused = run_cli_here("clean", str(document), "-o", str(tmp_path / "j"))
    assert refused.returncode == 2 and b"holds JSON" in refused.stderr
    # Met inside a folder: that file fails with the reason, the rest is cleaned.
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "page.txt").write_text("通知\n", encoding="utf-8")
    write_jsonl(folder / "meta.jsonl", [{"text": "a,b"}])
    result = run_cli_here("clean", str(folder), "-o", str(tmp_path / "f"))
    assert result.returncode == 1
    assert b"meta.jsonl: a JSON Lines file: clean it with --jsonl" in result.stderr
    assert (tmp_path / "f" / "page.txt").exists() and not (tmp_path / "f" / "meta.jsonl").exists()


def test_stdin_honours_output_folder_and_says_where_provenance_went(tmp_path: Path) -> None:
    raw = (SAMPLES / "003_9e13396f754b10da.txt").read_bytes()
    out = tmp_path / "out"
    result = run_cli_here("clean", "-", "-o", str(out), stdin=raw)
    assert result.returncode == 0, result.stderr.decode()
    assert f"standard input cleaned to {out / '-'}; provenance in {out / 'provenance.jsonl'}" in result.stderr.decode()
    assert (out / "-").is_file() and result.stdout == b""
    assert run_cli_here("restore", str(out), "-", "--bytes").stdout == raw
    other = (SAMPLES / "004_c5e9d85b3d031f23.txt").read_bytes()
    named = run_cli_here("clean", "-", "-o", str(out), "--stdin-name", "page.txt", stdin=other)
    assert named.returncode == 0 and (out / "page.txt").is_file()
    assert run_cli_here("restore", str(out), "page.txt", "--bytes").stdout == other
    to_stdout = run_cli("clean", "-", stdin=raw)  # piped through a process of its own
    assert to_stdout.stdout == (out / "-").read_bytes()
    assert b"provenance not kept: give --provenance FILE, or -o OUTDIR" in to_stdout.stderr
    kept = run_cli_here("clean", "-", "--provenance", str(tmp_path / "p.jsonl"), stdin=raw)
    assert f"provenance written to {tmp_path / 'p.jsonl'}".encode() in kept.stderr
    both = run_cli_here("clean", "-", "-o", str(out), "--provenance", str(tmp_path / "p.jsonl"), stdin=raw)
    assert both.returncode == 2 and both.stderr.decode().count("\n") == 1


def test_a_lone_surrogate_in_traditional_text_is_converted_around(tmp_path: Path) -> None:
    # JSON may escape a lone surrogate ("\ud800": a scraper cut a pair in two); OpenCC cannot
    # encode one, and the whole record used to fail. Converted around it, it stays in place.
    source = tmp_path / "pages.jsonl"
    original = "臺灣的軟體產業發展迅速\ud800。電腦軟體產業發展。"
    source.write_text(json.dumps({"id": 1, "text": original}) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli_here("clean", str(source), "-o", str(out), "--jsonl", "--to", "simplified")
    assert result.returncode == 0, result.stderr.decode()
    cleaned = json.loads((out / "pages.jsonl").read_text(encoding="utf-8"))
    assert cleaned["text"].startswith("台湾的软体产业发展迅速\ud800。电脑软体产业发展。")
    assert records(out)["pages.jsonl#1"]["status"] == "ok"
    restored = run_cli_here("restore", str(out), "pages.jsonl#1").stdout.decode("utf-8", "surrogatepass")
    assert restored == original
