"""Pinyin glosses glued after Han characters: ``新質(zhì)生產(chǎn)力`` → ``新質生產力``.

Some sites print the reading of a character in parentheses right after it. A gloss is
removed only when all of these hold:

* it follows a Han character directly and sits in half- or full-width parentheses;
* it is written in lower-case pinyin letters (tone marks, tone digits 1–5, ü/v), with
  spaces, apostrophes or hyphens between syllables — ``(AI)``, ``(CATTC)``, ``(2)``,
  ``(%)``, ``(趙越)`` are never candidates;
* it is a reading of the characters right before it: split into syllables, it spells
  one of the readings ``pypinyin`` (with heteronyms) knows for each of the last 1–6
  characters. ``款(a)`` stays, because 款 is read kuǎn. The comparison ignores tones,
  because sites get tone marks wrong more often than syllables.

``pypinyin`` is used because its character dictionary covers traditional and simplified
forms with all readings: a syllable inventory alone would accept ``(a)``, ``(e)`` or
``(ma)`` after any character.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from cleankit.text.cjk import is_han

# The longest run of characters one gloss may cover.
MAX_GLOSSED_CHARS = 6

_PINYIN_LETTERS = "a-zāáǎàēéěèêếềīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ\u0300-\u036f"
# No look-behind for the Han character: a pattern that starts with a bracket lets the
# regex engine skip ahead quickly; the character before is checked in Python.
GLOSS_CANDIDATE = re.compile(rf"[(（]([{_PINYIN_LETTERS}][{_PINYIN_LETTERS}1-5' ·-]{{0,60}})[)）]")
# A gloss whose opening bracket was lost with the bytes around it (a damaged run repaired up
# to the bracket: 《方案》強qiáng)調): pinyin glued to a Han character and closed by a bracket.
# The look-behind keeps Latin prose from starting a candidate at each of its letters.
OPEN_LOST_CANDIDATE = re.compile(rf"(?<=[\u3400-\u9fff])([{_PINYIN_LETTERS}][{_PINYIN_LETTERS}1-5' ·-]{{0,60}})[)）]")
_SEPARATORS = re.compile(r"[' ·-]+")


def _toneless(gloss: str) -> str:
    """Lower-case pinyin without tone marks or digits, ü written v (pypinyin's NORMAL style)."""
    decomposed = unicodedata.normalize("NFD", gloss)
    letters: list[str] = []
    for char in decomposed:
        if char == "\u0308":  # diaeresis: ü → v
            if letters and letters[-1] == "u":
                letters[-1] = "v"
            continue
        if unicodedata.combining(char) or char.isdigit():
            continue
        letters.append(char)
    return "".join(letters)


@lru_cache(maxsize=8192)
def readings(char: str) -> frozenset[str]:
    """Toneless readings of one character (empty when pypinyin does not know it)."""
    # Imported here: pypinyin's dictionaries take half a second to load, and most
    # documents never have a gloss candidate.
    from pypinyin import Style, pinyin

    found = pinyin(char, style=Style.NORMAL, heteronym=True, errors=lambda _: [""])  # type: ignore[arg-type,return-value]  # pypinyin accepts a list
    return frozenset(r for r in found[0] if r and r.isascii() and r.isalpha()) if found else frozenset()


def _spells(chars: str, syllables: list[str] | None, letters: str) -> bool:
    """Whether ``letters`` (or ``syllables``, when separated) spell a reading of ``chars``."""
    if syllables is not None:
        return len(syllables) == len(chars) and all(s in readings(c) for s, c in zip(syllables, chars, strict=True))

    def match(index: int, rest: str) -> bool:
        if index == len(chars):
            return not rest
        return any(rest.startswith(r) and match(index + 1, rest[len(r) :]) for r in readings(chars[index]))

    return match(0, letters)


def glossed_chars(text: str, paren_start: int, gloss: str) -> int:
    """How many characters before ``paren_start`` the gloss is a reading of (0: not a gloss)."""
    toneless = _toneless(gloss)
    parts = [p for p in _SEPARATORS.split(toneless) if p]
    if not parts or not all(p.isascii() and p.isalpha() for p in parts):
        return 0
    separated = parts if len(parts) > 1 else None
    letters = "".join(parts)
    start = paren_start
    while start > 0 and paren_start - start < MAX_GLOSSED_CHARS and is_han(text[start - 1]):
        start -= 1
    for count in range(1, paren_start - start + 1):
        if separated is not None and count != len(separated):
            continue
        if _spells(text[paren_start - count : paren_start], separated, letters):
            return count
    return 0


def find_glosses(text: str) -> list[tuple[int, int, str]]:
    """(start, end, gloss) of every pinyin gloss in ``text``, parentheses included, in order.

    Without its opening bracket, a gloss must also carry a tone (a mark or a digit): bare
    letters glued to a character and closed by a bracket are more often something else.

    >>> [text for text in ("強qiáng)調", "案fang)", "重zhong)要") if find_glosses(text)]
    ['強qiáng)調']
    """
    found: list[tuple[int, int, str]] = []
    for match in GLOSS_CANDIDATE.finditer(text):
        start, gloss = match.start(), match.group(1)
        if start > 0 and is_han(text[start - 1]) and glossed_chars(text, start, gloss):
            found.append((start, match.end(), gloss))
    for match in OPEN_LOST_CANDIDATE.finditer(text):
        start, gloss = match.start(), match.group(1)
        if _toned(gloss) and glossed_chars(text, start, gloss):
            found.append((start, match.end(), gloss))
    return sorted(found)


def _toned(gloss: str) -> bool:
    return any(not char.isascii() or char.isdigit() for char in gloss)
