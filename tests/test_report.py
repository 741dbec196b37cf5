"""`cleankit report`: the page for samples/ plus planted hostile pages, checked in a real
headless Chromium (Debian's `chromium`, driven by playwright; `.ci/run` installs it).

Without Chromium these browser tests are skipped on a developer machine but FAIL in CI
(CI=true), so they can never be skipped silently there.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLES, run_cli_here

from cleankit.audit.records import read_outdir
from cleankit.audit.report import ReportOptions, build_report_data, script_json
from cleankit.audit.stats import corpus_stats

CHROMIUM = os.environ.get("CLEANKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

HOSTILE_NAME = "<img src=x onerror=window.__pwned=5>.txt"
HOSTILE_TEXT = (
    "通知  \r\n"
    "<script>window.__pwned = 1; document.title = 'pwned'</script>\u00a0\r\n"
    '<img src=x onerror="window.__pwned = 2">  \r\n'
    "</textarea><textarea>\u3000</script><script>window.__pwned = 3</script>\r\n"
    "\u2028<!-- ]]> {{7*7}} ${7*7} <svg onload=window.__pwned=4></svg> &lt;b&gt; \r\n\r\n\r\n"
)


def make_corpus(root: Path) -> Path:
    corpus = root / "in"
    shutil.copytree(SAMPLES, corpus)
    (corpus / HOSTILE_NAME).write_text(HOSTILE_TEXT, encoding="utf-8", newline="")
    (corpus / "empty.txt").write_bytes(b"")
    return corpus


def add_duplicates(outdir: Path, copies: int) -> None:
    """Add records as the dedup stage writes them (status "duplicate", ``duplicate_of``,
    ``similarity``), plus hostile metadata and flags, to exercise links and pagination."""
    path = outdir / "provenance.jsonl"
    records = [json.loads(line) for line in path.read_text().split("\n") if line]
    kept = next(r for r in records if r["source"] == "000_ad233eb0e25883aa.txt")
    hostile = next(r for r in records if r["source"] == HOSTILE_NAME)
    hostile["metadata"] = {"title": "<script>window.__pwned = 7</script>", "date": "</textarea>"}
    hostile["flags"] = [
        {"stage": "x", "rule": "y", "step": 0, "start": 0, "end": 2, "text": "<b onmouseover=z>", "reason": "<i>"}
    ]
    for n in range(copies):
        copy = dict(kept, source=f"copies/copy-{n:03d}.txt", id=f"dup{n:013d}", status="duplicate")
        copy["duplicate_of"] = kept["id"]
        copy["similarity"] = 0.97
        records.append(copy)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("report")
    corpus = make_corpus(root)
    out = root / "out"
    # The markup stage would strip the planted tags from the clean text; keep them there so the
    # report has to show hostile markup in both the original and the clean view.
    cleaned = run_cli_here("clean", str(corpus), "-o", str(out), "-j", "1", "--skip", "markup")
    assert cleaned.returncode == 1, cleaned.stderr.decode()  # empty.txt fails, the rest is cleaned
    plain = root / "report.html"
    result = run_cli_here("report", str(out), "-o", str(plain))
    assert result.returncode == 0, result.stderr.decode()
    dup_out = root / "dup-out"
    shutil.copytree(out, dup_out)
    add_duplicates(dup_out, 130)
    dups = root / "dups.html"
    result = run_cli_here("report", str(dup_out), "-o", str(dups), "--details", "4")
    assert result.returncode == 0, result.stderr.decode()
    summary = json.loads((out / "summary.json").read_text())
    return {"plain": plain, "dups": dups, "summary": summary, "out": out}


def test_script_json_cannot_close_its_element_and_round_trips() -> None:
    data = {"t": "</script><script>x</script><!-- \u2028\u2029 & <b>", "bad": "\ud800", "k": ["é", 1]}
    text = script_json(data)
    for forbidden in ("<", ">", "&", "\u2028", "\u2029", "\ud800"):
        assert forbidden not in text
    text.encode("utf-8")
    assert json.loads(text) == data


def test_hostile_text_never_reaches_the_markup(reports: dict[str, Any]) -> None:
    page = reports["plain"].read_text(encoding="utf-8")
    assert page.count("<script") == 2, "only the data block and the page's own script"
    opening = '<script type="application/json" id="cleankit-data">'
    start = page.index(opening) + len(opening)
    end = page.index("</script>", start)
    block, markup = page[start:end], page[:start] + page[end:]
    assert "<" not in block and ">" not in block and "\u2028" not in block
    assert "__pwned" in block, "the hostile page is in the data, escaped"
    assert "__pwned" not in markup and "<img" not in markup and "</textarea>" not in markup
    assert "Content-Security-Policy" in page and "'unsafe-inline'" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page


def test_long_documents_are_shortened_and_say_so(reports: dict[str, Any]) -> None:
    records = read_outdir(reports["out"])
    _, data = build_report_data(records, reports["out"], ReportOptions(details=2, detail_chars=1000))
    assert len(data["details"]) == 2 and "Detailed views for 2 of 6 documents" in data["sampling_note"]
    largest = max(
        (i for i, d in enumerate(data["docs"]) if d["share"] is not None), key=lambda i: data["docs"][i]["share"]
    )
    assert str(largest) in data["details"], "half the views go to the largest share removed"
    for detail in data["details"].values():
        shown = sum(len(p if isinstance(p, str) else p[0]) for p in detail["pieces"])
        assert detail["truncated"] == (detail["original_chars"] > shown)
        assert shown < 1000 + max(len(p if isinstance(p, str) else p[0]) for p in detail["pieces"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}: .ci/run must install Debian's chromium")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium); CI runs these tests")
    try:
        from playwright import sync_api
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("playwright is not installed: it is in the [test] extra")
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_page(browser: Any, path: Path, width: int = 1280) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))
    page.on(
        "request", lambda r: problems.append(f"request: {r.url}") if not r.url.startswith(("file:", "data:")) else None
    )
    page.goto(path.as_uri())
    page.wait_for_selector("#doc-table tbody tr")
    return page, problems


def not_pwned(page: Any) -> None:
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.title().startswith("cleankit report")
    assert page.evaluate("document.querySelectorAll('[onerror], [onload], [onmouseover], textarea').length") == 0
    assert page.evaluate("document.querySelectorAll('main img, #doc-view script, #doc-view svg').length") == 0


def test_report_for_samples_loads_cleanly_with_tables_and_charts(browser: Any, reports: dict[str, Any]) -> None:
    page, problems = open_page(browser, reports["plain"])
    summary = reports["summary"]
    assert page.locator("#doc-table tbody tr").count() == 7  # 5 samples, the hostile page, the empty file
    for chart in ("chart-stages", "chart-rules", "chart-share", "chart-encodings", "chart-clusters"):
        assert page.locator(f"#{chart}").count() == 1, chart
    # One bar per rule that removed or changed text; rules that only laid it out have none.
    figures = corpus_stats(read_outdir(reports["out"]))
    content_rules = [key for key, entry in figures["rules"].items() if entry["edits"] > entry.get("layout_edits", 0)]
    assert 0 < len(content_rules) < len(summary["rules"])
    assert page.locator("#chart-rules svg g.bar").count() == len(content_rules)
    assert "paragraphs/paragraph-break" not in page.inner_text("#chart-rules")
    assert page.inner_text("#total-layout") == f"{figures['layout']['edits']:,}"
    assert page.locator("#chart-share svg g.bar").count() == 10
    assert "utf-8" in page.locator("#chart-encodings").inner_text()
    assert page.locator("#total-documents").inner_text() == "7"
    # Sorted by removed share (largest first) by default; clicking the header reverses it.
    shares = page.locator("#doc-table tbody tr td:nth-child(6)").all_inner_texts()
    values = [float(s.rstrip("%")) for s in shares if s]
    assert values == sorted(values, reverse=True) and len(values) == 6
    page.click("th[data-key=share]")
    values = [float(s.rstrip("%")) for s in page.locator("#doc-table tbody tr td:nth-child(6)").all_inner_texts() if s]
    assert values == sorted(values)
    # Search narrows the table; failed documents say why.
    page.fill("#search", "failed")
    assert page.locator("#doc-table tbody tr").count() == 1
    assert "empty file" in page.locator("#doc-table tbody tr").inner_text()
    page.fill("#search", "")
    # A document view: removals highlighted and labelled.
    page.click("#doc-table a:has-text('001_e11f24d6c84acc9d.txt')")
    page.wait_for_selector("#doc-text .chg")
    assert page.locator("#doc-text del").count() > 100
    labels = set(page.locator("#doc-text .label").all_inner_texts())
    assert "hygiene/line-trim" in labels and "hygiene/space-variants" in labels
    assert "⟨U+00A0⟩)×" in page.inner_text("#doc-text"), "runs of invisible characters are counted, as in the terminal"
    page.select_option("#mode", "clean")
    assert page.locator("#doc-text .chg").count() == 0
    not_pwned(page)
    assert problems == []
    page.close()


def test_planted_payloads_show_as_text_and_run_nothing(browser: Any, reports: dict[str, Any]) -> None:
    page, problems = open_page(browser, reports["plain"])
    row = page.locator("#doc-table tbody tr", has_text="onerror")
    assert row.count() == 1
    assert HOSTILE_NAME in row.inner_text()
    row.locator("a").first.click()
    page.wait_for_selector("#doc-text")
    shown = page.locator("#doc-text").inner_text()
    for payload in (
        "<script>window.__pwned = 1;",
        '<img src=x onerror="window.__pwned = 2">',
        "</textarea>",
        "</script>",
        "<svg onload",
    ):
        assert payload in shown, payload
    assert page.locator("#doc-view h3").inner_text() == HOSTILE_NAME
    page.uncheck("#collapse")
    page.select_option("#mode", "clean")
    assert "<script>window.__pwned = 3</script>" in page.locator("#doc-text").inner_text()
    not_pwned(page)
    assert problems == []
    page.close()


def test_duplicates_link_both_ways_and_large_tables_paginate(browser: Any, reports: dict[str, Any]) -> None:
    page, problems = open_page(browser, reports["dups"])
    assert page.locator("#doc-table tbody tr").count() == 100
    assert "137 documents" in page.inner_text("#count") and "page 1 of 2" in page.inner_text("#page")
    assert "Detailed views for 4 of 136 documents" in page.inner_text("#sampling-note")
    detailed = page.evaluate("Object.keys(JSON.parse(document.getElementById('cleankit-data').textContent).details)")
    assert len(detailed) == 4
    # The two largest shares removed are among them (half the views go to the largest).
    assert page.evaluate("document.querySelector('#doc-table tbody tr').dataset.index") in detailed
    undetailed = page.evaluate(
        "(() => { const d = JSON.parse(document.getElementById('cleankit-data').textContent);"
        " return d.docs.findIndex((doc, i) => !(String(i) in d.details) && doc.status !== 'failed'); })()"
    )
    page.evaluate(f"window.location.hash = '#doc={undetailed}'")
    page.wait_for_selector("#doc-view .note")
    assert "No detailed view in this report" in page.inner_text("#doc-view")
    page.click("#next")
    assert page.locator("#doc-table tbody tr").count() == 37
    page.fill("#search", "copy-007")
    duplicate = page.locator("#doc-table tbody tr")
    assert duplicate.count() == 1 and "000_ad233eb0e25883aa.txt (0.97)" in duplicate.inner_text()
    duplicate.locator("td:last-child a").click()  # to the kept copy
    page.wait_for_selector("#doc-view h3")
    assert page.inner_text("#doc-view h3") == "000_ad233eb0e25883aa.txt"
    assert page.locator("#doc-view .duplicates a").count() == 130
    page.locator("#doc-view .duplicates a", has_text="copy-007").click()
    # A locator's wait, not wait_for_function: the report's CSP forbids eval, which a string
    # predicate needs whenever it has to be polled (the view not yet drawn: it failed 1 run in 3).
    page.locator("#doc-view h3", has_text="copy-007").wait_for()
    assert "similarity 0.97" in page.inner_text("#doc-view .facts")
    page.fill("#search", "onerror")
    page.locator("#doc-table tbody tr a").first.click()
    page.locator("#doc-view h3", has_text="onerror").wait_for()
    facts = page.inner_text("#doc-view")
    assert "<script>window.__pwned = 7</script>" in facts and "x/y: <b·onmouseover=z> — <i>" in facts
    not_pwned(page)
    assert problems == []
    page.close()


def test_layout_edits_are_hidden_until_asked_and_chips_filter(browser: Any, reports: dict[str, Any]) -> None:
    page, problems = open_page(browser, reports["plain"])
    page.click("#doc-table a:has-text('001_e11f24d6c84acc9d.txt')")
    page.wait_for_selector("#doc-text .chg")

    def layout_only() -> int:
        """Shown changes labelled only by layout rules (line breaks between paragraphs)."""
        return sum(
            all(name.startswith(("paragraphs/", "reflow/")) for name in text.split(", "))
            for text in page.locator("#doc-text .label").all_inner_texts()
        )

    def chips() -> dict[str, int]:
        found = {}
        for text in page.locator(".doc-legend li").all_inner_texts():
            name, count = text.rsplit(" × ", 1)
            found[name] = int(count)
        return found

    hidden = chips()
    assert layout_only() == 0
    page.check("#layout")
    assert layout_only() > 0
    assert sum(chips().values()) > sum(hidden.values())
    page.uncheck("#layout")
    assert layout_only() == 0
    # A chip shows only its rule's changes; pressing it again shows every change.
    before = page.locator("#doc-text .chg").count()
    counts = chips()
    page.click(".doc-legend li[data-label='hygiene/line-trim']")
    assert page.locator(".doc-legend li[data-label='hygiene/line-trim']").get_attribute("aria-pressed") == "true"
    assert all("hygiene/line-trim" in t for t in page.locator("#doc-text .label").all_inner_texts())
    assert page.locator("#doc-text .chg").count() == counts["hygiene/line-trim"] < before
    page.click(".doc-legend li[data-label='hygiene/line-trim']")
    assert page.locator("#doc-text .chg").count() == before
    assert problems == []
    page.close()


def test_labels_sit_on_the_line_of_what_they_label(browser: Any, reports: dict[str, Any]) -> None:
    page, problems = open_page(browser, reports["plain"])
    page.click("#doc-table a:has-text('001_e11f24d6c84acc9d.txt')")
    page.wait_for_selector("#doc-text .chg")
    # Changes that remove a whole line (its line break too): the label must overlap the last
    # line of the struck-out text, not start the next line in front of kept text.
    placement = page.evaluate(
        """() => Array.from(document.querySelectorAll('#doc-text .chg')).filter(
             c => c.querySelector('del') && c.querySelector('del').textContent.endsWith('↵')
           ).map(c => {
             const rects = c.querySelector('del').getClientRects();
             const last = rects[rects.length - 1];
             const label = c.querySelector('.label').getBoundingClientRect();
             return label.top < last.bottom && label.bottom > last.top;
           })"""
    )
    assert len(placement) >= 3 and all(placement)
    assert problems == []
    page.close()


def test_file_names_do_not_wrap_inside_a_name(browser: Any, reports: dict[str, Any]) -> None:
    page, problems = open_page(browser, reports["dups"], width=480)
    # The lines a name takes: the distinct tops of its text's boxes.
    lines = page.evaluate(
        """() => Array.from(document.querySelectorAll('#doc-table td a.name')).map(a => {
             const range = document.createRange();
             range.selectNodeContents(a);
             const boxes = Array.from(range.getClientRects()).filter(r => r.width > 0);
             const tops = new Set(boxes.map(r => Math.round(r.top)));
             return [a.textContent, tops.size];
           })"""
    )
    assert lines and all(count == 1 for name, count in lines if "/" not in name), lines
    # A path may break, but only after a '/'.
    assert all(count <= name.count("/") + 1 for name, count in lines), lines
    assert problems == []
    page.close()
