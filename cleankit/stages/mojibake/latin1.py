"""Multi-byte Chinese read as Latin-1/cp1252: the ``utf8-as-latin1`` and ``gbk-as-latin1`` rules.

Both kinds of damage turn each byte into one Latin-1 (or cp1252) character, so both are
found the same way: a cheap regex finds runs of the characters such a misreading is made
of, starting at a telling character, and each run is re-encoded and decoded with the right
codec. UTF-8 is re-decoded by ftfy (with the settings that leave Chinese punctuation alone),
GBK by a strict GB18030 decode. A run is kept only when it reads as better Chinese
(:func:`cleankit.stages.mojibake.common.reads_better`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from cleankit.core.document import Edit
from cleankit.stages.hygiene import CONTROL_CHARS, INVISIBLES
from cleankit.stages.mojibake.common import PLAUSIBLE_CHINESE, reads_better
from cleankit.text.plausibility import ChineseModel

if TYPE_CHECKING:
    import ftfy


@cache
def ftfy_config() -> ftfy.TextFixerConfig:
    """ftfy with only its encoding repairs: its defaults fold full-width punctuation and curly
    quotes, which are correct in Chinese text (measured: ftfy's defaults change 88 % of clean
    Chinese government documents). ftfy (and its sloppy codecs) load here, on the first run
    that looks like a misreading: importing them costs more than cleaning a small page."""
    import ftfy
    import ftfy.bad_codecs  # registers the sloppy-windows-1252 codec

    return ftfy.TextFixerConfig(
        unescape_html=False,
        remove_terminal_escapes=False,
        fix_latin_ligatures=False,
        fix_character_width=False,
        uncurl_quotes=False,
        fix_line_breaks=False,
        remove_control_chars=False,
        fix_c1_controls=False,
        normalization=None,
        explain=False,
    )

# Characters a Latin-1/cp1252 misreading of multi-byte text is made of.
_LATIN_MOJIBAKE_CHAR = (
    "[\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
# Control and zero-width characters hygiene deletes later may sit inside a run; they are
# dropped with the repair, so that cleaning clean output changes nothing.
_INVISIBLE = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u2060\ufeff]"
# Characters hygiene turns into a space or a line break, splitting a run in two.
HYGIENE_SEPARATORS = re.compile("[\xa0\x0b\x0c\x85]")
PIECE = re.compile("[^\xa0\x0b\x0c\x85]+")
INVISIBLE = re.compile(_INVISIBLE)
# Decomposed accents (U+0300-036F) count too: hygiene's NFC composes them later.
_LATIN_UNIT = f"(?:{_LATIN_MOJIBAKE_CHAR}[\u0300-\u036f]*|[A-Za-z][\u0300-\u036f]+)"
LATIN_MOJIBAKE_RUN = re.compile(f"{_LATIN_UNIT}(?:{_INVISIBLE}*{_LATIN_UNIT})+")
# GBK read as Latin-1: high characters, and the trail bytes that are ASCII (0x40-0x7E).
# The ASCII trail bytes other than letters: with [A-Za-z] in both alternatives of the
# repeat the engine could take a letter either way (regex_safety refuses that shape);
# _LATIN_UNIT | [\x40-\x7e] is exactly the three disjoint alternatives below.
_GBK_LATIN_UNIT = f"(?:{_LATIN_MOJIBAKE_CHAR}[\u0300-\u036f]*|[A-Za-z][\u0300-\u036f]*|[\x40\x5b-\x60\x7b-\x7e])"
GBK_LATIN_RUN = re.compile(f"{_LATIN_UNIT}(?:{_INVISIBLE}*{_GBK_LATIN_UNIT})+")
# No-break spaces are common in correct crawled text; a misreading has other high Latin-1.
LATIN_HINT = re.compile(
    "[\u0080-\u009f\u00a1-\u00ff\u0300-\u036f\u20ac\u201a\u0192\u201e\u2020\u2021\u02c6\u2030\u0160"
    "\u2039\u0152\u017d\u2122\u0161\u203a\u0153\u017e\u0178]"
)
TELLING_LATIN = re.compile(
    "[\u0080-\u009f\u00a1-\u00ff\u20ac\u201a\u0192\u201e\u2020\u2021\u02c6\u2030\u0160\u2039\u0152"
    "\u017d\u2122\u0161\u203a\u0153\u017e\u0178]"
)


def may_hold_latin1_mojibake(text: str) -> bool:
    """Cheap pre-filter (C speed): a misreading leaves at least two telling characters.

    >>> may_hold_latin1_mojibake("广西壮族自治区"), may_hold_latin1_mojibake("å¹¿è¥¿")
    (False, True)
    """
    return len(LATIN_HINT.findall(text)) >= 2


def utf8_as_latin1_edits(text: str, model: ChineseModel) -> list[Edit]:
    """UTF-8 read as Latin-1/cp1252, also twice (``å¹¿è¥¿`` -> 广西), re-decoded run by run."""
    return _latin_edits(text, model, "utf8-as-latin1")


def gbk_as_latin1_edits(text: str, model: ChineseModel) -> list[Edit]:
    """GBK read as Latin-1/cp1252 (``¹ãÎ÷`` -> 广西), re-decoded run by run."""
    return _latin_edits(text, model, "gbk-as-latin1")


def _latin_edits(text: str, model: ChineseModel, rule: str) -> list[Edit]:
    """One rule's edits: each run that starts at a telling character, repaired whole or in
    the pieces hygiene would split it into."""
    fix = _fix_utf8_as_latin1 if rule == "utf8-as-latin1" else _fix_gbk_as_latin1
    edits = []
    runs = LATIN_MOJIBAKE_RUN if rule == "utf8-as-latin1" else GBK_LATIN_RUN
    cursor = 0
    # A run starts with a telling character (a lead byte read as Latin-1): try only there.
    for hint in LATIN_HINT.finditer(text):
        start = hint.start()
        if "\u0300" <= text[start] <= "\u036f" and start > 0:
            start -= 1  # a decomposed accent: its run starts at the base letter
        if start < cursor:
            continue
        match = runs.match(text, start)
        if match is None:
            continue
        if rule == "utf8-as-latin1":
            # Whole runs only, starting with a UTF-8 lead byte (C2-F4): a stretch of GBK
            # read as Latin-1 holds valid UTF-8 by chance (æ¡£ is 档).
            cursor = match.end()
            if not "\xc2" <= text[start] <= "\xf4":
                continue
        pieces = [(match.start(), match.group())]
        repaired = _repair_latin_piece(match.group(), fix, model)
        if repaired is None and HYGIENE_SEPARATORS.search(match.group()):
            # Hygiene turns these into a space or a break; the pieces between must repair
            # alike now and on a second run over the clean text.
            pieces = [(match.start() + m.start(), m.group()) for m in PIECE.finditer(match.group())]
        for start, old in pieces:
            new = repaired if old == match.group() else _repair_latin_piece(old, fix, model)
            if new is not None:
                edits.append(Edit("", rule, start, start + len(old), old, new, f"{rule} mojibake re-decoded"))
                # GBK: only a repaired run is passed over; a run that failed may hold a
                # shorter one further on (after a byte hygiene deletes, say).
                cursor = max(cursor, start + len(old))
    return edits


def _repair_latin_piece(old: str, fix: Callable[[str], str | None], model: ChineseModel) -> str | None:
    """The repaired text of one Latin-1-looking run, or None when it is not mojibake."""
    visible = unicodedata.normalize("NFC", INVISIBLE.sub("", old))
    # What hygiene would leave (it deletes C1 controls and soft hyphens) must not repair
    # differently on a second run: that reading is tried too.
    for reading in dict.fromkeys([visible, INVISIBLES.sub("", CONTROL_CHARS.sub("", visible))]):
        if len(TELLING_LATIN.findall(reading)) < 2:
            continue
        new = fix(reading)
        # A strict UTF-8 decode (ftfy) is strong evidence by itself; a GBK reading of two
        # Latin-1 letters is not, so it must also read as Chinese outright.
        floor = PLAUSIBLE_CHINESE if fix is _fix_gbk_as_latin1 else -math.inf
        if new and new != reading and reads_better(model, reading, new, floor=floor):
            return new
    return None


def _fix_utf8_as_latin1(span: str) -> str | None:
    """UTF-8 bytes read as Latin-1/cp1252, once or twice, decoded again; None unless the
    whole run becomes CJK text.

    ftfy first; for short runs its heuristics hold back, so a strict re-decode (the same
    operation, without the guessing) is tried after it, once more for double encoding.

    >>> _fix_utf8_as_latin1("å¹¿è¥¿")
    '广西'
    >>> _fix_utf8_as_latin1("Ã¥Â¹Â¿Ã¨Â¥Â¿")
    '广西'
    >>> _fix_utf8_as_latin1("café") is None
    True
    """
    config = ftfy_config()
    import ftfy

    fixed = ftfy.fix_text(span, config)
    if fixed == span:
        for _ in range(2):
            try:
                fixed = fixed.encode("sloppy-windows-1252").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                break
    # A complete repair into CJK text only (a Cyrillic or Latin result is a coincidence).
    if fixed == span or any((not c.isascii() and c < "\u2000") or c == "\ufffd" for c in fixed):
        return None
    return fixed


def _fix_gbk_as_latin1(span: str) -> str | None:
    """GBK bytes read as Latin-1 (or cp1252) decoded again; None unless every byte pair
    becomes CJK text.

    >>> _fix_gbk_as_latin1("¹ãÎ÷")
    '广西'
    >>> _fix_gbk_as_latin1("Straße") is None
    True
    """
    for codec in ("latin-1", "cp1252"):
        try:
            fixed = span.encode(codec).decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        # Every byte pair must have become CJK text: a Latin word never reads this way.
        return fixed if all(ord(c) >= 0x2000 for c in fixed) else None
    return None
