"""The edit log: applying steps and undoing them exactly."""

from __future__ import annotations

import pytest

from cleankit.core.document import Document, Edit, EditConflict, undo_steps


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
