"""The edit log: applying steps and undoing them exactly."""

from __future__ import annotations

import pytest

from cleankit.core.document import Document, Edit, EditConflict, undo_steps
from cleankit.core.provenance import build_record, restore_from_record
from cleankit.core.stats import edit_totals


def test_apply_then_undo_rebuilds_each_step() -> None:
    doc = Document.from_text("广西 科技厅\r\n  创新")
    doc.apply("a", [Edit("", "crlf", 6, 8, "\r\n", "\n"), Edit("", "space", 2, 3, " ", "")])
    assert doc.text == "广西科技厅\n  创新"
    doc.apply("b", [Edit("", "indent", 6, 8, "  ", "")])
    assert doc.text == "广西科技厅\n创新"
    assert [e.step for e in doc.edits] == [0, 0, 1]
    assert undo_steps(doc.text, doc.edits) == "广西 科技厅\r\n  创新"


def test_insertions_and_removals_at_the_edges() -> None:
    doc = Document.from_text("通知")
    doc.apply("s", [Edit("", "prefix", 0, 0, "", "《"), Edit("", "suffix", 2, 2, "", "》\n")])
    assert doc.text == "《通知》\n"
    assert undo_steps(doc.text, doc.edits) == "通知"


def test_overlapping_edits_are_refused() -> None:
    doc = Document.from_text("abcdef")
    with pytest.raises(EditConflict):
        doc.apply("s", [Edit("", "x", 0, 3, "abc", ""), Edit("", "y", 2, 4, "cd", "")])


def test_edit_whose_old_text_is_wrong_is_refused() -> None:
    doc = Document.from_text("abcdef")
    with pytest.raises(EditConflict):
        doc.apply("s", [Edit("", "x", 0, 3, "xyz", "")])


def test_undo_detects_a_clean_text_that_was_changed() -> None:
    doc = Document.from_text("a  b")
    doc.apply("s", [Edit("", "x", 1, 3, "  ", " ")])
    with pytest.raises(EditConflict):
        undo_steps("a_b", doc.edits)


def test_edit_json_round_trip() -> None:
    edit = Edit("dedup", "repeat", 3, 9, "重复的段落", "", "seen before", ref="para:1", step=4)
    assert Edit.from_json(edit.to_json()) == edit


def test_record_totals_and_edits_are_those_of_edit_totals_and_to_json() -> None:
    """build_record states a reason shared by every edit of a rule once, in its totals, and
    keeps the others on their edits; counts are edit_totals'."""
    doc = Document.from_text("甲  乙\u3000丙  丁")
    runs = [Edit("", "space-runs", start, start + 2, "  ", " ", "run of spaces") for start in (1, 6)]
    doc.apply("hygiene", runs)
    doc.apply(
        "punctuation",
        [Edit("", "width", 3, 4, "\u3000", " ", "ideographic space"), Edit("", "width", 6, 6, "", "，", "", ref="x")],
    )
    doc.apply("punctuation", [Edit("", "width", 0, 1, "甲", "乙", "other reason")])
    record = build_record(doc, "fingerprint", None)
    expected = edit_totals(doc.edits)
    expected["hygiene/space-runs"]["reason"] = "run of spaces"
    assert record["stats"] == expected and list(record["stats"]) == ["hygiene/space-runs", "punctuation/width"]
    assert list(record["stats"]["hygiene/space-runs"]) == ["edits", "chars_removed", "chars_added", "reason"]
    edits = [edit.to_json() for edit in doc.edits]
    for item in edits[:2]:
        del item["reason"]
    assert record["edits"] == edits
    assert [list(item) for item in record["edits"]] == [list(item) for item in edits]
    assert restore_from_record(doc.text, record) == "甲  乙\u3000丙  丁"
