"""The alignment of original and clean text (cleankit/audit.py) against a per-character model."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import web_text

from cleankit import Pipeline, Settings
from cleankit.audit.records import (
    AuditedDocument,
    align,
    filtered,
    is_layout,
    iter_pieces,
    original_length,
    removed_share,
)
from cleankit.core.document import Document, Edit
from cleankit.core.provenance import build_record

PIPELINE = Pipeline.from_settings(Settings())


def character_model(original: str, edits: list[dict[str, Any]]) -> tuple[str, list[int | None]]:
    """Replay the steps on characters tagged with their original index (None: inserted)."""
    tagged: list[tuple[str, int | None]] = [(ch, i) for i, ch in enumerate(original)]
    for step in sorted({e["step"] for e in edits}):
        batch = sorted((e for e in edits if e["step"] == step), key=lambda e: (e["start"], e["end"]))
        out: list[tuple[str, int | None]] = []
        cursor = 0
        for edit in batch:
            out.extend(tagged[cursor : edit["start"]])
            out.extend((ch, None) for ch in edit["new"])
            cursor = edit["end"]
        out.extend(tagged[cursor:])
        tagged = out
    return "".join(ch for ch, _ in tagged), [origin for _, origin in tagged]


def check_alignment(original: str, record: dict[str, Any], clean: str) -> None:
    changes = align(record["edits"])
    model_clean, origins = character_model(original, record["edits"])
    assert model_clean == clean
    # The changes' original spans cover exactly the original characters that did not survive.
    survived = {origin for origin in origins if origin is not None}
    changed = set(range(len(original))) - survived
    covered = [i for change in changes for i in range(change.orig_start, change.orig_end)]
    assert len(covered) == len(set(covered)), "changes overlap on the original"
    assert set(covered) == changed
    # In order, non-overlapping on both sides; gaps identical and mapped character by character;
    # a change's clean side is only text the pipeline wrote.
    orig_cursor = clean_cursor = 0
    for change in changes:
        assert change.orig_start >= orig_cursor and change.clean_start >= clean_cursor
        assert change.orig_start - orig_cursor == change.clean_start - clean_cursor
        for offset in range(change.orig_start - orig_cursor):
            assert origins[clean_cursor + offset] == orig_cursor + offset
        assert all(origins[i] is None for i in range(change.clean_start, change.clean_end))
        assert change.edits == tuple(sorted(change.edits)) and change.edits
        orig_cursor, clean_cursor = change.orig_end, change.clean_end
    assert len(original) - orig_cursor == len(clean) - clean_cursor
    assert original[orig_cursor:] == clean[clean_cursor:]
    assert original_length(record) == len(original)
    removed, layout, length = removed_share(record)
    assert removed + layout == len(changed) and length == len(original)
    # Layout counts exactly the characters of changes made only of line-break edits.
    layout_only = [c for c in changes if all(is_layout(record["edits"][i]) for i in c.edits)]
    assert layout == sum(c.orig_end - c.orig_start for c in layout_only)
    doc = AuditedDocument(record, original, clean, changes)
    pieces = list(iter_pieces(doc))
    assert "".join(p[0] for p in pieces) == original and "".join(p[1] for p in pieces) == clean


@settings(max_examples=300, deadline=None)
@given(st.one_of(web_text, st.text(max_size=200)))
def test_alignment_of_a_real_pipeline_run_covers_exactly_the_changed_characters(text: str) -> None:
    document = PIPELINE.clean_text(text)
    check_alignment(text, build_record(document, "test", None), document.text)


@st.composite
def edit_chains(draw: st.DrawFn) -> tuple[str, Document]:
    """Random multi-step edit logs whose later steps often reach into earlier steps' text:
    the case where changes must merge."""
    original = draw(st.text(alphabet="abcde\n\r\u2028", max_size=40))
    document = Document.from_text(original)
    for _ in range(draw(st.integers(0, 6))):
        length = len(document.text)
        cuts = sorted(draw(st.lists(st.integers(0, length), max_size=8)))
        edits = []
        cursor = 0
        for start, end in zip(cuts[::2], cuts[1::2], strict=False):
            if start < cursor:
                continue
            old = document.text[start:end]
            new = draw(st.text(alphabet="XYZ\n\x85", max_size=4))
            if new != old:
                edits.append(Edit("", draw(st.sampled_from(["r1", "r2"])), start, end, old, new))
                cursor = end
        document.apply(draw(st.sampled_from(["s1", "s2"])), edits)
    return original, document


@settings(max_examples=500, deadline=None)
@given(edit_chains())
def test_alignment_of_random_edit_chains_matches_the_character_model(chain: tuple[str, Document]) -> None:
    original, document = chain
    check_alignment(original, build_record(document, "test", None), document.text)


def test_an_edit_inside_earlier_inserted_text_merges_both_labels() -> None:
    document = Document.from_text("ab  cd")
    document.apply("hygiene", [Edit("", "space-runs", 2, 4, "  ", " ")])
    document.apply("reflow", [Edit("", "join", 2, 3, " ", "")])
    record = build_record(document, "t", None)
    (change,) = align(record["edits"])
    assert (change.orig_start, change.orig_end, change.clean_start, change.clean_end) == (2, 4, 2, 2)
    assert change.edits == (0, 1)


def test_two_insertions_at_one_place_keep_their_order_and_labels() -> None:
    document = Document.from_text("ab")
    document.apply("s", [Edit("", "long", 1, 1, "", "XYZ"), Edit("", "short", 1, 1, "", "Q")])
    record = build_record(document, "t", None)
    assert document.text == "aXYZQb"
    first, second = align(record["edits"])
    assert (first.clean_start, first.clean_end, record["edits"][first.edits[0]]["rule"]) == (1, 4, "long")
    assert (second.clean_start, second.clean_end, record["edits"][second.edits[0]]["rule"]) == (4, 5, "short")


def test_filtered_view_makes_only_the_matching_changes() -> None:
    text = "\u3000\u3000第一段\r\n\r\n\r\n第二段  结束"
    document = PIPELINE.clean_text(text)
    record = build_record(document, "t", None)
    doc = AuditedDocument(record, text, document.text, align(record["edits"]))
    only_breaks = filtered(doc, rules=["paragraphs/paragraph-break"])
    # The CRLFs merged with the paragraph break that later took them: that change comes along whole.
    assert only_breaks.clean == "\u3000\u3000第一段\n\n第二段  结束"
    assert filtered(doc, rules=["space-runs"]).clean == "\u3000\u3000第一段\r\n\r\n\r\n第二段 结束"
    assert all(
        any(record["edits"][i]["rule"] == "paragraph-break" for i in change.edits) for change in only_breaks.changes
    )
    # The filtered text is the original with exactly those changes made.
    pieces = list(iter_pieces(only_breaks))
    assert "".join(p[0] for p in pieces) == text and "".join(p[1] for p in pieces) == only_breaks.clean
    assert filtered(doc, stages=["no-such-stage"]).clean == text
    assert filtered(doc).clean == document.text
