"""The ``mojibake`` stage: each repair applied as its own step, then the marker rules.

The repairs live in their own modules (:mod:`~cleankit.stages.mojibake.gbk_as_utf8`,
:mod:`~cleankit.stages.mojibake.latin1`, :mod:`~cleankit.stages.mojibake.utf8_as_gbk`,
:mod:`~cleankit.stages.mojibake.byte_shift`); what cannot be repaired is handled here:
``replacement-char`` (U+FFFD) and ``debris`` (``锟斤拷``, ``烫烫烫``).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from cleankit.core.document import Document, Edit
from cleankit.core.stage import register_stage
from cleankit.stages.hygiene import CONTROL_CHARS, INVISIBLE_CHARS, LINE_BREAK_CHARS, kept_view
from cleankit.stages.mojibake.byte_shift import byte_shift_edits, edges_after, positions_after
from cleankit.stages.mojibake.gbk_as_utf8 import SURROGATE, gbk_as_utf8_edits
from cleankit.stages.mojibake.latin1 import (
    ftfy_config,
    gbk_as_latin1_edits,
    may_hold_latin1_mojibake,
    utf8_as_latin1_edits,
)
from cleankit.stages.mojibake.lone_char import lone_char_edits
from cleankit.stages.mojibake.lost_bytes import lost_bytes_edits
from cleankit.stages.mojibake.short_run import REASON as SHORT_RUN_REASON
from cleankit.stages.mojibake.short_run import short_run_reading
from cleankit.stages.mojibake.utf8_as_gbk import may_hold_utf8_as_gbk, utf8_as_gbk_repairs
from cleankit.text.cjk import opencc_converter
from cleankit.text.plausibility import chinese_model, fine_model, word_model
from cleankit.text.trigrams import trigram_counts

REPLACEMENT_RUN = re.compile("\ufffd+")
# One U+FFFD right after text and right before the end of its line (what hygiene deletes
# may sit between, on either side: the side before is read on hygiene's kept_view, see
# _cut_characters): the last character of a chunk, cut inside its bytes. The look-ahead's
# two classes must not overlap, so hygiene's controls that are also whitespace (\x1c-\x1f)
# are left to the first: a run of them before a non-space made the search try every way of
# splitting the run between the two (time doubled per character: 40 s for 28).
_DELETED_NOT_SPACE = "".join(
    character for character in map(chr, range(0xA0)) if CONTROL_CHARS.match(character) and not character.isspace()
)
TRUNCATED_CHAR = re.compile(
    "\ufffd"
    f"(?=(?:[^\\S\n{LINE_BREAK_CHARS}]|[{_DELETED_NOT_SPACE}{INVISIBLE_CHARS}])*"
    f"(?:[\n{LINE_BREAK_CHARS}]|\\Z))"
)


def _cut_characters(text: str) -> set[int]:
    r"""Where TRUNCATED_CHAR's U+FFFD stand right after text: a character neither a space nor
    U+FFFD once hygiene has deleted its characters (``0\x1f\ufffd`` reads ``0\ufffd``).

    >>> sorted(_cut_characters("0\x1f\ufffd\n \x1f\ufffd\n\ufffd"))
    [2]
    """
    found = [match.start() for match in TRUNCATED_CHAR.finditer(text)]
    if not found:
        return set()
    kept = kept_view(text)
    view, positions = kept if kept is not None else (text, None)
    cut = set()
    for at in found:
        before = (at if positions is None else bisect_left(positions, at)) - 1
        if before >= 0 and not view[before].isspace() and view[before] != "\ufffd":
            cut.add(at)
    return cut


DEBRIS = re.compile("(?:锟斤拷)+锟?|锟斤|烫{3,}|屯{3,}")


@register_stage("mojibake", order=10)
@dataclass
class MojibakeStage:
    name: str = "mojibake"
    utf8_as_latin1: bool = True
    gbk_as_latin1: bool = True
    utf8_as_gbk: bool = True
    gbk_as_utf8: bool = True
    byte_shift: bool = True
    # A character of which at most one byte survived, between in-step neighbours (``?_``,
    # ``\ufffdA``, ``\ufffd\ufffd``): chosen by the language model when one reading is clearly best.
    one_byte_char: bool = True
    # Choose each character guessed from one surviving byte again by the reading of its
    # sentence (a word model over a window around it), not by its two neighbours alone.
    context_choice: bool = True
    replacement_char: bool = True
    debris: bool = True
    # Remove lost-byte markers whose evidence is strong (U+FFFD inside a line, ``??`` between
    # ideographs, a ``?`` next to a private-use character or a lone trail byte) with the
    # garbled characters around them; each removal is logged and flagged.
    lost_bytes: bool = True
    # A short run the lost-bytes rule would remove (``\ufffd平\ufffd``) read as a whole instead,
    # all its guessed characters chosen together in their sentence, when one reading is
    # clearly best; each guessed character is flagged.
    short_run: bool = True
    # Remove what cannot be recovered (debris, U+FFFD runs, lost characters) instead of flagging it.
    remove_unrecoverable: bool = False

    def warm(self) -> None:
        """Load the tables a repair loads when a page first needs them (:class:`~cleankit.core.stage.Warms`)."""
        ftfy_config()
        word_model()
        fine_model()
        trigram_counts()
        # script-fit reads the script around a guess with both converters.
        opencc_converter("t2s")
        opencc_converter("s2t")

    def run(self, document: Document) -> Document:
        # The language model is loaded by the first repair that has a candidate to judge:
        # most pages have none, and a page in a pipe need not pay for the table.
        if self.gbk_as_utf8 and SURROGATE.search(document.text):
            document.apply(self.name, gbk_as_utf8_edits(document.text, chinese_model()))
        if (self.utf8_as_latin1 or self.gbk_as_latin1) and may_hold_latin1_mojibake(document.text):
            if self.utf8_as_latin1:
                document.apply(self.name, utf8_as_latin1_edits(document.text, chinese_model()))
            if self.gbk_as_latin1:
                document.apply(self.name, gbk_as_latin1_edits(document.text, chinese_model()))
        if self.utf8_as_gbk and may_hold_utf8_as_gbk(document.text):
            edits, filled = utf8_as_gbk_repairs(
                document.text, chinese_model(), word_model if self.context_choice else None
            )
            document.apply(self.name, edits)
            for start, end in positions_after(edits, filled):
                reason = "character guessed: a byte GBK could not read was filled in"
                document.flag(self.name, "utf8-as-gbk", start, end, reason, guess=True)
        repaired: frozenset[int] = frozenset()
        if self.byte_shift and ("?" in document.text or "\ufffd" in document.text):
            edits, lost = byte_shift_edits(
                document.text, chinese_model(), word_model if self.context_choice else None
            )
            document.apply(self.name, edits)
            for start, end in positions_after(edits, lost):
                reason = "character guessed from one surviving byte"
                document.flag(self.name, "byte-shift", start, end, reason, guess=True)
            repaired = frozenset(edges_after(edits))
        if self.one_byte_char and ("?" in document.text or "\ufffd" in document.text):
            repaired = self._one_byte_chars(document, repaired)
        if self.lost_bytes and ("?" in document.text or "\ufffd" in document.text):
            self._lost_bytes(document, repaired)
        if self.debris:
            self._debris(document)
        if self.replacement_char and "\ufffd" in document.text:
            self._replacement_chars(document)
        return document

    def _one_byte_chars(self, document: Document, repaired: frozenset[int]) -> frozenset[int]:
        """Characters of which at most one byte survived: chosen, logged and flagged as
        guesses. Returns ``repaired`` (positions in the text) moved past the edits."""
        edits = lone_char_edits(document.text, chinese_model(), word_model if self.context_choice else None)
        if not edits:
            return repaired
        document.apply(self.name, edits)
        moved = frozenset(at + sum(len(e.new) - len(e.old) for e in edits if e.end <= at) for at in repaired)
        delta = 0
        for edit in sorted(edits, key=lambda e: e.start):
            at = edit.start + delta
            delta += len(edit.new) - len(edit.old)
            reason = "character guessed: at most one of its bytes survived"
            document.flag(self.name, "one-byte-char", at, at + len(edit.new), reason, guess=True)
        return moved

    def _lost_bytes(self, document: Document, repaired: frozenset[int]) -> None:
        """Lost-byte markers and the garbled characters next to them: removed, and the
        place of each removal flagged (a character was lost there). ``repaired``: the edges
        of the byte-shift repairs just made (a marker touching one is what the realignment
        left of its run's lost bytes)."""
        edits = lost_bytes_edits(document.text, chinese_model(), repaired)
        if not edits:
            return
        if self.short_run and self.context_choice:
            edits = self._short_runs(document, edits, repaired)
            if not edits:
                return
        document.apply(self.name, edits)
        delta = 0
        for edit in sorted(edits, key=lambda e: e.start):
            at = edit.start + delta
            delta -= len(edit.old)
            reason = "characters lost in decoding removed here"
            document.flag(self.name, "lost-bytes", at, at, reason, {"removed": edit.old})

    def _short_runs(self, document: Document, removals: list[Edit], repaired: frozenset[int]) -> list[Edit]:
        """Spans the lost-bytes rule would remove, read as a whole where one reading is
        clearly best (applied, and each guessed character flagged). Returns the removals
        left, on the text after the readings."""
        text = document.text
        readings: list[tuple[Edit, tuple[int, ...]]] = []
        for removal in removals:
            if removal.start in repaired or removal.end in repaired:
                continue  # what a realignment left of its run: its bytes belong to the repair
            found = short_run_reading(text, removal.start, removal.end, fine_model(), word_model())
            if found is not None:
                new, guessed = found
                edit = Edit("", "short-run", removal.start, removal.end, removal.old, new, SHORT_RUN_REASON)
                readings.append((edit, guessed))
        if not readings:
            return removals
        edits = [edit for edit, _guessed in readings]
        document.apply(self.name, edits)
        lost = [(edit, index) for edit, guessed in readings for index in guessed]
        for start, end in positions_after(edits, lost):
            reason = "character guessed: a short run between lost-byte marks read as a whole"
            document.flag(self.name, "short-run", start, end, reason, guess=True)
        moved = frozenset(at + sum(len(e.new) - len(e.old) for e in edits if e.end <= at) for at in repaired)
        return lost_bytes_edits(document.text, chinese_model(), moved)

    def _debris(self, document: Document) -> None:
        """``锟斤拷`` (U+FFFD's UTF-8 bytes read as GBK) and ``烫烫烫``/``屯屯屯`` (uninitialised
        memory read as GBK): nothing to recover, flagged (removed with ``remove_unrecoverable``)."""
        text = document.text
        if "锟" not in text and "烫烫烫" not in text and "屯屯屯" not in text:
            return
        matches = list(DEBRIS.finditer(text))
        if self.remove_unrecoverable:
            document.apply(
                self.name,
                [Edit("", "debris", m.start(), m.end(), m.group(), "", "decoding debris removed") for m in matches],
            )
            return
        for match in matches:
            document.flag(self.name, "debris", match.start(), match.end(), "decoding debris (锟斤拷/烫烫烫)")

    def _replacement_chars(self, document: Document) -> None:
        """A lone U+FFFD ending a line is a multi-byte character cut at a chunk boundary and is
        removed; other U+FFFD runs are flagged (removed with ``remove_unrecoverable``)."""
        text = document.text
        truncated = _cut_characters(text)
        edits = []
        for match in REPLACEMENT_RUN.finditer(text):
            start, end = match.span()
            if start in truncated or self.remove_unrecoverable:
                reason = "character cut at a chunk boundary" if start in truncated else "undecodable bytes removed"
                edits.append(Edit("", "replacement-char", start, end, match.group(), "", reason))
            else:
                document.flag(self.name, "replacement-char", start, end, "undecodable bytes (U+FFFD)")
        document.apply(self.name, edits)
