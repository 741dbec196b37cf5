"""`cleankit diff` and `cleankit stats` through the real command on samples/, colour off: in the
test's process (``run_cli_here``: ``cleankit.cli.main`` in the test's process, the same
arguments, streams and exit code as a subprocess, without a new interpreter's start-up each
time), but for the diff piped into patch."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import SAMPLES, run_cli, run_cli_here

from cleankit.audit.records import read_outdir
from cleankit.audit.stats import corpus_stats, duplicate_clusters
from cleankit.text.fold import match_view

ANSI = re.compile(r"\x1b\[")


@pytest.fixture(scope="module")
def mixed_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """samples/ plus an empty file and an image: two failed records."""
    corpus = tmp_path_factory.mktemp("mixed") / "in"
    shutil.copytree(SAMPLES, corpus)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "picture.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (corpus / "odd [red]name[bold].txt").write_text("正文  \n", encoding="utf-8")
    out = corpus.parent / "out"
    result = run_cli_here("clean", str(corpus), "-o", str(out), "-j", "1")
    assert result.returncode == 1, result.stderr.decode()
    return out


def sources(out: Path) -> list[str]:
    return [json.loads(line)["source"] for line in (out / "provenance.jsonl").read_text().split("\n") if line]


def test_plain_diff_of_every_sample_applies_with_patch(samples_out: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(SAMPLES, work)
    result = run_cli("diff", str(samples_out))  # piped (a process of its own): plain unified diff
    assert result.returncode == 0, result.stderr.decode()
    diff = result.stdout.decode()
    assert not ANSI.search(diff)
    assert diff.count("\n--- a/") + diff.startswith("--- a/") == len(sources(samples_out))
    assert re.search(r"^@@ -\S+ \+\S+ @@ paragraphs/paragraph-break", diff, re.MULTILINE)
    patch = subprocess.run(["patch", "-p1", "-d", str(work)], input=result.stdout, capture_output=True)
    assert patch.returncode == 0, patch.stdout.decode() + patch.stderr.decode()
    for name in sources(samples_out):
        assert (work / name).read_bytes() == (samples_out / name).read_bytes(), name


def test_inline_view_without_colour_labels_each_change(samples_out: Path) -> None:
    name = "001_e11f24d6c84acc9d.txt"
    result = run_cli_here("diff", str(samples_out), name, "--inline", "-C", "1")
    assert result.returncode == 0, result.stderr.decode()
    view = result.stdout.decode()
    assert not ANSI.search(view), "NO_COLOR must give a view without escape codes"
    assert view.startswith(f"━━ {name} ━━ utf-8 · ")
    assert "of the original changed or removed" in view
    # (The breadcrumb line's no-break spaces go with the line itself since the boilerplate stage.)
    assert re.search(r"\[-⟨U\+[0-9A-F]{4}⟩-\]\{\+·\+\}⟨hygiene/space-variants⟩", view)
    assert "[-万博水晶宫微信-]⟨boilerplate/qr-caption⟩" in view
    assert re.search(r"\[-·+-\]⟨hygiene/line-trim⟩", view)
    # 001's unterminated last line is page furniture: its final line break comes from a kept line.
    assert "paragraphs/paragraph-break⟩" in view and "paragraphs/trailing-blank-lines⟩" in view
    changed = [line for line in view.splitlines() if line.startswith("~ ")]
    context = [line for line in view.splitlines() if line.startswith("  ")]
    assert changed and context


def test_filters_show_only_that_stage_or_rule(samples_out: Path) -> None:
    name = "001_e11f24d6c84acc9d.txt"
    only_trim = run_cli_here("diff", str(samples_out), name, "--rule", "line-trim", "-C", "0").stdout.decode()
    headers = [line for line in only_trim.splitlines() if line.startswith("@@")]
    assert headers and all("hygiene/line-trim" in h for h in headers)
    removed = [line[1:] for line in only_trim.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in only_trim.splitlines() if line.startswith("+") and not line.startswith("+++")]
    # Only edges of lines changed (whitespace-only lines go with the paragraph break that took them).
    assert removed and len(removed) > len(added)
    # Lines the boilerplate stage then removed whole have no counterpart in the clean text
    # (compared through the rules' match view, which folds the punctuation stage's widths).
    record = next(r for r in read_outdir(samples_out) if r["source"] == name)

    def key(line: str) -> str:
        return "".join(match_view(line).split())

    furniture = {key(e["old"]) for e in record["edits"] if e["stage"] == "boilerplate"}
    kept = [r.strip(" \u00a0") for r in removed if r.strip(" \u00a0")]
    assert [r for r in kept if key(r) not in furniture] == [a for a in added if a]
    by_stage = run_cli_here("diff", str(samples_out), name, "--stage", "paragraphs", "-C", "0").stdout.decode()
    assert all("paragraphs/" in line for line in by_stage.splitlines() if "hygiene/line-trim" in line)
    assert all("paragraphs/" in h for h in by_stage.splitlines() if h.startswith("@@"))
    assert run_cli_here("diff", str(samples_out), "--stage", "no-such-stage").stdout == b""
    fewer = run_cli_here("diff", str(samples_out), name, "-C", "0").stdout.count(b"\n@@")
    more = run_cli_here("diff", str(samples_out), name, "-C", "5").stdout.count(b"\n@@")
    assert 0 < more < fewer, "more context joins hunks"


def test_diff_names_what_it_cannot_show(mixed_out: Path) -> None:
    failed = run_cli_here("diff", str(mixed_out), "empty.txt")
    assert failed.returncode == 1
    assert b"empty.txt failed to clean" in failed.stderr
    missing = run_cli_here("diff", str(mixed_out), "nope[/x].txt")  # names are never read as rich markup
    assert missing.returncode == 1 and b"no provenance record for 'nope[/x].txt'" in missing.stderr
    everything = run_cli_here("diff", str(mixed_out))
    assert everything.returncode == 0 and b"2 document(s) not shown" in everything.stderr
    not_an_outdir = run_cli_here("diff", str(SAMPLES))
    assert not_an_outdir.returncode == 2 and b"no provenance.jsonl" in not_an_outdir.stderr


def test_stats_json_matches_summary_and_lists_failures(mixed_out: Path) -> None:
    result = run_cli_here("stats", str(mixed_out), "--json")
    assert result.returncode == 0, result.stderr.decode()
    figures = json.loads(result.stdout)
    summary = json.loads((mixed_out / "summary.json").read_text())
    assert figures["documents"] == 8 and figures["statuses"] == {"ok": 6, "failed": 2}
    assert {f["source"] for f in figures["failures"]} == {"empty.txt", "picture.txt"}
    for key, entry in summary["rules"].items():
        assert {n: figures["rules"][key][n] for n in entry} == entry
    assert set(figures["stages"]) == {key.split("/")[0] for key in summary["rules"]}
    assert figures["encodings"] == summary["encodings"]
    shares = [d["removed_share"] for d in figures["largest_share_removed"]]
    assert shares == sorted(shares, reverse=True) and len(shares) == 6
    assert "odd [red]name[bold].txt" in {d["source"] for d in figures["largest_share_removed"]}
    assert figures["duplicates"]["clusters"] == 0
    assert sum(figures["removed_share_histogram"].values()) == 6
    text = run_cli_here("stats", str(mixed_out)).stdout.decode()
    for expected in (
        "per stage",
        "per rule",
        "hygiene/line-trim",
        "encodings: utf-8 6",
        "failed empty.txt",
        "odd [red]name[bold].txt",
    ):
        assert expected in text


def test_duplicate_clusters_follow_ids_sources_and_chains() -> None:
    def record(source: str, **extra: object) -> dict:
        base = {"source": source, "id": "id-" + source, "status": "ok", "output_chars": 3, "edits": [], "stats": {}}
        return base | extra

    records = [
        record("a.txt"),
        record("b.txt", status="duplicate", duplicate_of="id-a.txt", similarity=0.97),
        record("c.txt", status="duplicate", duplicate_of="b.txt", similarity=0.9),  # chain, by source
        record("d.txt"),
        record("e.txt", status="duplicate", duplicate_of="d.txt"),
        record("f.txt", status="duplicate", duplicate_of="gone.txt"),  # kept copy not in this folder
        {"source": "g.txt", "status": "failed", "error": "empty file"},
    ]
    clusters = duplicate_clusters(records)
    assert [(c["kept"], c["size"]) for c in clusters] == [("a.txt", 3), ("d.txt", 2), ("gone.txt", 2)]
    assert [d["source"] for d in clusters[0]["duplicates"]] == ["b.txt", "c.txt"]
    assert clusters[2]["kept_found"] is False
    figures = corpus_stats(records)
    assert figures["duplicates"]["cluster_sizes"] == {2: 2, 3: 1}
    assert figures["statuses"] == {"duplicate": 4, "ok": 2, "failed": 1}
    assert all(d["status"] == "ok" for d in figures["largest_share_removed"])


def test_diff_and_stats_of_json_lines_output(tmp_path: Path) -> None:
    lines = [
        {"url": "a", "text": "第一段  \r\n\r\n\r\n第二段"},
        {"url": "b", "text": "\u3000\u3000正文\u2028内容"},
        {"url": "c", "text": 5},
    ]
    source = tmp_path / "pages.jsonl"
    source.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli_here("clean", str(source), "-o", str(out), "--jsonl").returncode == 1  # line 3 has no text
    whole = run_cli_here("diff", str(out), "pages.jsonl", "--inline")
    assert whole.returncode == 1 and b"pages.jsonl#3 failed to clean" in whole.stderr
    view = whole.stdout.decode()
    assert "━━ pages.jsonl#1 ━━" in view and "━━ pages.jsonl#2 ━━" in view
    assert "[-··-]⟨hygiene/line-trim⟩" in view
    one = run_cli_here("diff", str(out), "pages.jsonl#2")
    assert one.returncode == 0 and one.stdout.decode().startswith("--- a/pages.jsonl#2")
    figures = json.loads(run_cli_here("stats", str(out), "--json").stdout)
    assert figures["statuses"] == {"ok": 2, "failed": 1} and figures["documents"] == 3


def test_layout_edits_are_counted_apart_and_hidden_unless_asked(samples_out: Path) -> None:
    name = "001_e11f24d6c84acc9d.txt"
    inline = run_cli_here("diff", str(samples_out), name, "--inline").stdout.decode()
    # A change made only of line breaks (paragraph layout) carries only layout labels.
    layout_only = re.compile(r"⟨(?:paragraphs/[a-z-]+|reflow/[a-z-]+)(?:, (?:paragraphs|reflow)/[a-z-]+)*⟩")
    assert not layout_only.search(inline)
    shown = run_cli_here("diff", str(samples_out), name, "--inline", "--layout").stdout.decode()
    assert layout_only.search(shown)
    # A filter that names the layout rule shows it without --layout.
    only = run_cli_here("diff", str(samples_out), name, "--inline", "--rule", "paragraph-break").stdout.decode()
    assert "paragraphs/paragraph-break" in only
    # The plain diff holds every change (patch must rebuild the clean text).
    assert "paragraphs/paragraph-break" in run_cli_here("diff", str(samples_out), name).stdout.decode()
    figures = json.loads(run_cli_here("stats", str(samples_out), "--json").stdout)
    breaks = figures["rules"]["paragraphs/paragraph-break"]
    assert breaks["layout_edits"] == breaks["edits"] and figures["layout"]["edits"] > 0
    assert "paragraphs/paragraph-break" in figures["layout"]["rules"] and figures["layout_chars"] > 0
    for doc in figures["largest_share_removed"]:
        assert not doc["rules"] or not doc["rules"][0].startswith("paragraphs/"), "layout never 'removed most'"
    text = run_cli_here("stats", str(samples_out)).stdout.decode()
    tables = text.split("layout (line breaks only")[1]
    assert "│ paragraphs/paragraph-break" not in tables and "--layout shows them" in text
    with_layout = run_cli_here("stats", str(samples_out), "--layout").stdout.decode()
    assert "│ paragraphs/paragraph-break" in with_layout and "layout edits" in with_layout
