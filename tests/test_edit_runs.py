"""Edit runs (issue 12, the per-edit cost): a rule's many identical replacements kept as
columns give what one :class:`Edit` each gave.

Each property runs the run path and the definition it replaces on the same input: hygiene's
regex passes against ``regex_edits`` applied edit by edit, the paragraph breaks against the
loop over every run of line breaks, the restore check, the totals, the record and its JSON
line against the same document with every edit an object.
"""

from __future__ import annotations

import copy
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleankit.core.document import Document, Edit, EditRun, undo_log, undo_steps
from cleankit.core.errors import EditConflict
from cleankit.core.provenance import build_record, dumps_line, restore_log
from cleankit.core.stage import apply_regex, regex_edits
from cleankit.core.stats import edit_totals, log_totals
from cleankit.stages import hygiene
from cleankit.stages.hygiene import HygieneStage
from cleankit.stages.paragraphs import ParagraphStage

# What the mechanical rules branch on: every kind of line break, space-like and invisible
# character hygiene knows, controls, runs of spaces, and text between them.
WEB_PIECES = st.sampled_from(
    [
        "通知", "各区县人民政府：", "2024年", "abc", " ", "  ", "   ", "\t", "\u00a0", "\u3000", "\u2002",
        "\n", "\n\n", "\n\n\n", "\r\n", "\r", "\u2028", "\x0c", "\x85", "\x01", "\x7f", "\u200b", "\ufeff",
        "\u00ad", "e\u0301", "，", "。",
    ]
)  # fmt: skip
WEB_TEXT = st.lists(WEB_PIECES, max_size=60).map("".join)

HYGIENE_PASSES = [
    (hygiene.LINE_BREAKS, "line-endings", "\n", "CR/CRLF/other break to LF"),
    (hygiene.CONTROL_CHARS, "control-chars", "", "control characters"),
    (hygiene.INVISIBLES, "invisible-chars", "", "zero-width or soft hyphen"),
    (hygiene.SPACE_VARIANTS, "space-variants", " ", "space-like to U+0020"),
    (hygiene.EDGE_SPACES, "line-trim", "", "space at line edge"),
    (hygiene.SPACE_RUNS, "space-runs", " ", "run of spaces"),
]


def _edit_by_edit(text: str, passes: list[tuple[re.Pattern[str], str, str, str]]) -> Document:
    """The definition: each pass's ``regex_edits`` applied as one step of edit objects."""
    document = Document.from_text(text)
    for pattern, rule, replacement, reason in passes:
        document.apply("hygiene", regex_edits(document.text, pattern, rule, replacement, reason))
    return document


def _as_objects(document: Document) -> Document:
    """The same document with its log turned into one list of edit objects."""
    objects = copy.copy(document)
    objects.edits = [
        Edit(e.stage, e.rule, e.start, e.end, e.old, e.new, e.reason, e.ref, e.step) for e in document.edits
    ]
    return objects


@settings(max_examples=400, deadline=None)
@given(WEB_TEXT, st.lists(st.sampled_from(HYGIENE_PASSES), min_size=1, max_size=6))
def test_apply_regex_is_regex_edits_applied_edit_by_edit(
    text: str, passes: list[tuple[re.Pattern[str], str, str, str]]
) -> None:
    document = Document.from_text(text)
    for pattern, rule, replacement, reason in passes:
        apply_regex(document, "hygiene", pattern, rule, replacement, reason)
    expected = _edit_by_edit(text, passes)
    assert document.text == expected.text
    assert document.steps == expected.steps
    assert document.count_edits() == len(expected.edits)
    assert undo_log(document.text, document.log) == text
    assert document.edits == expected.edits


@settings(max_examples=300, deadline=None)
@given(WEB_TEXT)
def test_hygiene_with_runs_is_hygiene_edit_by_edit(text: str) -> None:
    document = HygieneStage().run(Document.from_text(text))
    # The stage's own gates: no line-endings pass without a break to change, no invisibles pass
    # without one; the NFC step edit by edit, as before.
    passes = [
        (pattern, *rest)
        for pattern, *rest in HYGIENE_PASSES
        if pattern is not hygiene.LINE_BREAKS or any(c in text for c in hygiene.LINE_BREAK_CHARS)
    ]
    expected = _edit_by_edit(text, passes)  # type: ignore[arg-type]
    if not unicodedata.is_normalized("NFC", expected.text):
        expected.apply("hygiene", HygieneStage._nfc_edits(expected.text))
    assert document.text == expected.text
    assert document.steps == expected.steps
    assert document.edits == expected.edits
    assert restore_log(document.text, document.log) == text


def _paragraph_edits_by_definition(text: str) -> list[Edit]:
    """ParagraphStage before runs: every run of line breaks judged on its own."""
    edits = []
    for match in re.finditer(r"\n+", text):
        start, end = match.span()
        if start == 0:
            new, rule = "", "leading-blank-lines"
        elif end == len(text):
            new, rule = "\n", "trailing-blank-lines"
        else:
            new, rule = "\n\n", "paragraph-break"
        if match.group() != new:
            edits.append(Edit("paragraphs", rule, start, end, match.group(), new, "one blank line between paragraphs"))
    if text and not text.endswith("\n"):
        edits.append(Edit("paragraphs", "final-newline", len(text), len(text), "", "\n", "text ends with LF"))
    for edit in edits:
        edit.step = 0
    return edits


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["段落", "第二段", " ", "\n", "\n\n", "\n\n\n", "\n\n\n\n"]), max_size=30).map("".join))
def test_paragraph_breaks_as_a_run_are_the_breaks_one_by_one(text: str) -> None:
    document = ParagraphStage().run(Document.from_text(text))
    expected = _paragraph_edits_by_definition(text)
    reference = Document.from_text(text)
    reference.apply("paragraphs", [Edit("", e.rule, e.start, e.end, e.old, e.new, e.reason) for e in expected])
    assert document.text == reference.text
    assert document.steps == reference.steps
    assert document.count_edits() == len(expected)
    assert restore_log(document.text, document.log) == text
    assert document.edits == expected


def _cleaned(text: str) -> Document:
    """Hygiene (runs), an edit-by-edit step, paragraphs (runs and edits in one step)."""
    document = HygieneStage().run(Document.from_text(text))
    document.apply("punctuation", regex_edits(document.text, re.compile("[，。]"), "width", "|", "mark"))
    return ParagraphStage().run(document)


@settings(max_examples=300, deadline=None)
@given(WEB_TEXT)
def test_the_log_undoes_counts_and_records_as_the_edits_do(text: str) -> None:
    document = _cleaned(text)
    objects = _as_objects(document)
    assert undo_log(document.text, document.log) == undo_steps(objects.text, objects.edits) == text
    assert log_totals(document.log) == edit_totals(objects.edits)
    assert list(log_totals(document.log)) == list(edit_totals(objects.edits))
    assert document.count_edits({"paragraphs"}) == sum(1 for e in objects.edits if e.stage != "paragraphs")
    record = build_record(document, "settings", "out.txt")
    assert record == build_record(objects, "settings", "out.txt")
    assert dumps_line(record) == dumps_line(build_record(objects, "settings", "out.txt"))


def test_a_rule_with_several_reasons_states_each_on_its_edits() -> None:
    """A run's reason goes in stats when every edit of its rule gives it, else on each edit."""
    document = Document.from_text("a\u00a0b\u3000c d")
    apply_regex(document, "hygiene", hygiene.SPACE_VARIANTS, "space-variants", " ", "space-like to U+0020")
    document.apply("hygiene", [Edit("", "space-variants", 3, 4, " ", "", "other")])
    record = build_record(document, "s", None)
    assert "reason" not in record["stats"]["hygiene/space-variants"]
    assert [e.get("reason") for e in record["edits"]] == ["space-like to U+0020", "space-like to U+0020", "other"]
    assert record == build_record(_as_objects(document), "s", None)


def test_a_crawled_page_keeps_its_record() -> None:
    page = (
        "\ufeff关于做好2024年防汛工作的通知  \r\n\r\n各区县人民政府：\u3000\r\n"
        "  现将有关事项通知如下。\t\r\n\r\n\r\n\r\n附件：1.xls\r\n"
    )
    document = ParagraphStage().run(HygieneStage().run(Document.from_text(page)))
    clean = "关于做好2024年防汛工作的通知\n\n各区县人民政府：\n\n现将有关事项通知如下。\n\n附件：1.xls\n"
    assert document.text == clean
    record = build_record(document, "s", "page.txt")
    assert [(e["rule"], e["old"]) for e in record["edits"] if e["rule"] == "line-trim"] == [
        ("line-trim", "  "),
        ("line-trim", " "),
        ("line-trim", "  "),
        ("line-trim", " "),
    ]
    assert record["stats"]["hygiene/line-endings"]["edits"] == 8
    assert record["stats"]["paragraphs/paragraph-break"] == {
        "edits": 2,
        "chars_removed": 5,
        "chars_added": 4,
        "reason": "one blank line between paragraphs",
    }
    assert restore_log(document.text, document.log) == page
    assert record == build_record(_as_objects(document), "s", "page.txt")


def test_from_split_leaves_out_what_is_not_an_edit() -> None:
    """A match that is already the replacement, or empty, is no edit: no run is made, and
    apply_regex applies the edits one by one instead."""
    assert EditRun.from_split("r", " ", "", ["a", " ", "b"]) is None
    assert EditRun.from_split("r", "x", "", ["a", "", "b"]) is None
    made = EditRun.from_split("r", "", "", ["a", "  ", "b", "\t", ""])
    assert made is not None
    run, text = made
    assert (run.starts, run.ends, run.olds, text) == ([1, 4], [3, 5], ["  ", "\t"], "ab")
    document = Document.from_text("a b  c")
    assert apply_regex(document, "hygiene", re.compile(" +"), "spaces", " ", "") == 1
    assert document.text == "a b c" and document.edits[0].old == "  "


def test_a_pattern_with_groups_is_applied_edit_by_edit() -> None:
    document = Document.from_text("a1b22c")
    assert apply_regex(document, "s", re.compile(r"(\d)+"), "digits", "#", "") == 2
    assert document.text == "a#b#c"
    assert all(type(entry) is list for entry in document.log)


def test_a_run_that_overlaps_the_edits_before_it_is_refused() -> None:
    document = Document.from_text("ab  cd")
    run = EditRun("", "spaces", -1, "", "", [2], [4], ["  "])
    with pytest.raises(EditConflict):
        document.apply_parts("s", [[Edit("", "x", 1, 3, "b ", "")], run])
    assert document.text == "ab  cd" and document.steps == []
    assert document.apply_parts("s", [[Edit("", "x", 0, 1, "a", "A")], run]) == 2
    assert document.text == "Abcd"
    assert undo_log(document.text, document.log) == "ab  cd"


def test_parts_are_checked_when_the_stage_gives_the_text_too() -> None:
    """The paragraphs stage hands over the text it built: its edits are still checked."""
    document = Document.from_text("\n\n通知\n正文")
    run = EditRun("", "paragraph-break", -1, "\n\n", "", [4], [5], ["\n"])
    with pytest.raises(EditConflict):
        document.apply_parts("paragraphs", [[Edit("", "leading-blank-lines", 0, 2, "\n", "")], run], "通知\n\n正文")
    with pytest.raises(EditConflict):
        document.apply_parts("paragraphs", [run, [Edit("", "final-newline", 4, 4, "", "\n")]], "通知\n\n正文\n")
    assert document.steps == []
    parts = [[Edit("", "leading-blank-lines", 0, 2, "\n\n", "")], run, [Edit("", "final-newline", 7, 7, "", "\n")]]
    assert document.apply_parts("paragraphs", parts, "通知\n\n正文\n") == 3
    assert undo_log(document.text, document.log) == "\n\n通知\n正文"


def test_undo_refuses_a_run_whose_text_was_changed() -> None:
    document = Document.from_text("a\u00a0b\u00a0c")
    apply_regex(document, "hygiene", hygiene.SPACE_VARIANTS, "space-variants", " ", "")
    with pytest.raises(EditConflict):
        undo_log("a_b c", document.log)


def test_edits_turn_the_runs_into_objects_once() -> None:
    document = HygieneStage().run(Document.from_text("通知 \r\n正文\u00a0 \r\n"))
    edits = document.edits
    assert document.edits is edits
    assert [e.rule for e in edits] == ["line-endings", "line-endings", "space-variants", "line-trim", "line-trim"]
    assert all(e.stage == "hygiene" for e in edits)
    assert [e.step for e in edits] == [0, 0, 1, 2, 2]
