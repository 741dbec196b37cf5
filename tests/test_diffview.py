"""The diff views (cleankit/diffview.py): hunks cut from the alignment are a valid unified diff."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from test_audit import PIPELINE, edit_chains
from test_properties import web_text

from cleankit.audit.diff import blocks, render_inline, unified, visible
from cleankit.audit.records import AuditedDocument, align
from cleankit.core.document import Document, Edit
from cleankit.core.provenance import build_record

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply_unified(original: str, diff: str) -> str:
    """A strict unified-diff applier: context and removed lines must match the original."""
    lines = [line + "\n" for line in original.split("\n")]
    lines[-1] = lines[-1][:-1]
    lines = lines if lines[-1] else lines[:-1]
    out: list[str] = []
    cursor = 0
    diff_lines = [line + "\n" for line in diff.split("\n")][:-1]
    i = 0
    while i < len(diff_lines):
        line = diff_lines[i]
        match = HUNK.match(line)
        if not match:
            assert line.startswith(("---", "+++")), line
            i += 1
            continue
        start, count = int(match[1]), int(match[2] if match[2] is not None else 1)
        first = start - 1 if count else start
        assert first >= cursor
        out.extend(lines[cursor:first])
        cursor = first
        i += 1
        while i < len(diff_lines) and not diff_lines[i].startswith("@@"):
            sign, body = diff_lines[i][0], diff_lines[i][1:]
            if i + 1 < len(diff_lines) and diff_lines[i + 1].startswith("\\ No newline"):
                body = body.removesuffix("\n")
                i += 1
            if sign in " -":
                assert lines[cursor] == body, (lines[cursor], body)
                cursor += 1
            if sign in " +":
                out.append(body)
            i += 1
    out.extend(lines[cursor:])
    return "".join(out)


def audited(original: str, document: Document) -> AuditedDocument:
    record = build_record(document, "test", None)
    return AuditedDocument(record, original, document.text, align(record["edits"]))


def check_views(doc: AuditedDocument) -> None:
    for context in (0, 1, 3):
        diff = unified(doc, context)
        assert apply_unified(doc.original, diff) == doc.clean
        # A change undone by a later step still shows (the log says it happened), as -x/+x.
        assert (diff == "") == (not any(c.removed or c.clean_end > c.clean_start for c in doc.changes))
    all_blocks = blocks(doc)
    assert "".join(line for b in all_blocks for line in b.orig_lines) == doc.original
    assert "".join(line for b in all_blocks for line in b.clean_lines) == doc.clean
    for block in all_blocks:
        if not block.changes:
            assert block.orig_lines == block.clean_lines and len(block.orig_lines) == 1
    view = render_inline(doc, 2, colour=False).plain
    assert len(re.findall(r"⟨(?!U\+)", view)) == sum(len(b.changes) for b in all_blocks)


@settings(max_examples=200, deadline=None)
@given(st.one_of(web_text, st.text(alphabet="ab \n\r\t\u3000", max_size=60)))
def test_unified_diff_of_a_pipeline_run_applies_to_the_original(text: str) -> None:
    check_views(audited(text, PIPELINE.clean_text(text)))


@settings(max_examples=300, deadline=None)
@given(edit_chains())
def test_unified_diff_of_random_edit_chains_applies_to_the_original(chain: tuple[str, Document]) -> None:
    original, document = chain
    check_views(audited(original, document))


def test_edge_cases_at_the_ends_of_the_text() -> None:
    for text in ["abc", "\n\nabc", "abc\n\n\n", "  a\r\nb  ", "a\nb\nc\nd\ne\nf\ng\n\n\nh", "\u200b", "x"]:
        check_views(audited(text, PIPELINE.clean_text(text)))


def test_text_written_and_removed_again_leaves_no_block() -> None:
    document = Document.from_text("aaa\n\n")
    document.apply("s1", [Edit("", "r1", 0, 1, "a", "")])
    document.apply(
        "s1", [Edit("", "r1", 0, 1, "a", ""), Edit("", "r1", 1, 2, "a", "XX"), Edit("", "r1", 4, 4, "", "XX")]
    )
    document.apply("s1", [Edit("", "r1", 4, 6, "XX", "")])
    check_views(audited("aaa\n\n", document))
    assert unified(audited("aaa\n\n", document), 0).endswith("@@ -1 +1 @@ s1/r1\n-aaa\n+XX\n")


def test_inline_view_labels_every_change_and_shows_invisible_characters() -> None:
    text = "第一段\u00a0内容  \r\n\r\n\r\n第二段\n"
    view = render_inline(audited(text, PIPELINE.clean_text(text)), 3, colour=False).plain
    assert "[-⟨U+00A0⟩-]{+·+}⟨hygiene/space-variants⟩" in view
    assert "[-··-]⟨hygiene/line-trim⟩" in view
    assert "paragraphs/paragraph-break" in view and "hygiene/line-endings" in view
    assert visible("a b\tc\r\n\u200b") == "a·b→c␍↵⟨U+200B⟩"
    assert visible("中文，正常。") == "中文，正常。"
    assert visible(" \u00a0" * 36) == "(·⟨U+00A0⟩)×36"
    assert visible("    ") == "·×4" and visible("   ") == "···"
    assert visible("a\u3000\u3000\u3000\u3000\u3000b\n\n\n\n") == "a⟨U+3000⟩×5b↵↵↵↵"
    assert visible("哈哈哈哈哈") == "哈哈哈哈哈"


def test_unified_header_names_the_labels_of_the_hunk() -> None:
    text = "甲\n\n\n\n乙\n\n丙\n\n丁\n\n戊\n\n己\n\n庚\n\n辛\n\n壬  \n"
    diff = unified(audited(text, PIPELINE.clean_text(text)), 1)
    headers = [line for line in diff.splitlines() if line.startswith("@@")]
    assert headers == [
        "@@ -1,5 +1,3 @@ paragraphs/paragraph-break",
        "@@ -18,2 +16,2 @@ hygiene/line-trim",
    ]
    assert apply_unified(text, diff) == PIPELINE.clean_text(text).text
