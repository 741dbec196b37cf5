"""Repairs that guess and marks that stand for lost characters, through the real command
(issue 15): flagged in provenance, counted in the run summary, and a document that is mostly
guesses says so."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli_here
from garble import utf8_as_gbk


def run(tmp_path: Path, pages: dict[str, str]) -> tuple[Path, str, dict[str, dict]]:
    src = tmp_path / "in"
    src.mkdir()
    for name, text in pages.items():
        (src / name).write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli_here("clean", str(src), "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    records = [json.loads(line) for line in (out / "provenance.jsonl").read_text().splitlines()]
    return out, result.stderr.decode(), {r["source"]: r for r in records}


def test_a_question_mark_standing_for_a_lost_character_is_flagged_not_widened(tmp_path: Path) -> None:
    out, err, records = run(tmp_path, {"notice.txt": "国务院关于印发?国家标准化发展纲要?的通知\n是否可行?请研究。\n"})
    assert (out / "notice.txt").read_text() == "国务院关于印发?国家标准化发展纲要?的通知\n\n是否可行？请研究。\n"
    flags = records["notice.txt"]["flags"]
    assert [(f["rule"], f["text"]) for f in flags] == [("lost-character", "?"), ("lost-character", "?")]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["flags"]["punctuation/lost-character"] == {"documents": 1, "flags": 2, "guessed_chars": 0}
    assert "punctuation/lost-character 2 in 1 document(s)" in err


def test_guessed_characters_are_flagged_counted_and_a_mostly_guessed_page_warns(tmp_path: Path) -> None:
    # UTF-8 read as GBK: every character lost a byte GBK could not read, which the repair fills in.
    guessed = utf8_as_gbk("开怀一刀") + "\n"
    sentence = "建设具有区域特色的广西创新体系，支撑实现两个建成目标。"
    partly = utf8_as_gbk("本报记者") + sentence + "\n"  # 者 lost a byte: one guess in a long line
    out, err, records = run(tmp_path, {"guessed.txt": guessed, "partly.txt": partly})
    for source in ("guessed.txt", "partly.txt"):
        flags = [f for f in records[source]["flags"] if f.get("guess")]
        assert flags and all(f["rule"] == "utf8-as-gbk" for f in flags), source
        assert records[source]["edits"][0]["rule"] == "utf8-as-gbk"
    assert records["guessed.txt"]["warnings"][0].startswith("mostly guessed: 100%")
    assert "warnings" not in records["partly.txt"]
    assert "warning: guessed.txt: mostly guessed" in err and "partly.txt: mostly" not in err
    summary = json.loads((out / "summary.json").read_text())
    entry = summary["flags"]["mojibake/utf8-as-gbk"]
    assert entry["documents"] == 2 and entry["guessed_chars"] == sum(
        f["end"] - f["start"] for r in records.values() for f in r.get("flags", []) if f.get("guess")
    )
    assert summary["warnings"] == [{"source": "guessed.txt", "warning": records["guessed.txt"]["warnings"][0]}]
