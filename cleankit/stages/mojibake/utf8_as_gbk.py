"""UTF-8 read as GBK/GB18030: the ``utf8-as-gbk`` rule (``鍒涙柊`` -> 创新).

Three UTF-8 bytes of a Chinese character read as one and a half GBK characters, so the
damage starts with a character whose GBK bytes are a UTF-8 lead byte and a continuation
byte. From there the run is re-encoded as GB18030 and decoded as UTF-8, as far as it reads;
bytes the GBK decoder could not place (shown as '?' or U+FFFD) are filled in with the value
that reads best.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import lru_cache

from cleankit.core.document import Edit
from cleankit.stages.mojibake.common import WILDCARD, reads_better
from cleankit.stages.mojibake.context_choice import WINDOW, rechoose, slots_seen
from cleankit.stages.mojibake.script_fit import script_around
from cleankit.text.plausibility import ChineseModel, WordModel, fine_model

# Non-ASCII characters, with '?'/U+FFFD where a byte had no GBK reading.
UTF8_AS_GBK_RUN = re.compile(r"(?:[^\x00-\x7f\s]|\?){2,}")
# Cost (nats) of assuming a lost UTF-8 continuation byte other than 0x80.
UNLIKELY_BYTE_COST = 3.0


def utf8_as_gbk_edits(text: str, model: ChineseModel) -> list[Edit]:
    """UTF-8 bytes decoded as GBK, decoded again as UTF-8 from each likely start.

    >>> from cleankit.text.plausibility import chinese_model
    >>> [edit.new for edit in utf8_as_gbk_edits("关于鍒涙柊的通知", chinese_model())]
    ['创新']
    """
    return utf8_as_gbk_repairs(text, model)[0]


def utf8_as_gbk_repairs(
    text: str, model: ChineseModel, words: Callable[[], WordModel] | None = None
) -> tuple[list[Edit], list[tuple[Edit, int]]]:
    """The repairs of :func:`utf8_as_gbk_edits`, and (edit, index in its new text) of each
    character decoded with a byte that was filled in (a guess, flagged by the stage).
    ``words``: the word model's loader; with it, each such character is chosen again among
    those its known bytes allow, by the reading of its sentence
    (:mod:`~cleankit.stages.mojibake.context_choice`)."""
    edits = []
    guessed: list[tuple[Edit, int]] = []
    cursor = 0
    for lead in _utf8_lead_pattern().finditer(text):
        start = lead.start()
        if start < cursor:
            continue
        run = UTF8_AS_GBK_RUN.match(text, start)
        if run is None:
            continue
        found = _longest_utf8_reading(run.group(), 0, model)
        if found is None:
            continue
        end, new, filled, choices = found
        old = text[start : start + end]
        if reads_better(model, old, new, floor=-math.inf):
            slots = [(index, options) for index, options in zip(filled, choices, strict=True) if len(options) > 1]
            if words is not None and slots:
                left = text[max(0, start - WINDOW - 1) : start]
                right = text[start + end : start + end + WINDOW]
                moved = [(len(left) + index, options) for index, options in slots]
                script = script_around(text, start, start + end)
                seen = slots_seen(text, start, start + end, new, [index for index, _options in slots])
                chosen = rechoose(left + new + right, moved, fine_model(), words(), script, seen)
                new = chosen[len(left) : len(left) + len(new)]
            edit = Edit("", "utf8-as-gbk", start, start + end, old, new, "UTF-8 read as GBK")
            edits.append(edit)
            guessed.extend((edit, index) for index in filled)
            cursor = start + end
    return edits, guessed


def may_hold_utf8_as_gbk(text: str) -> bool:
    """Whether ``text`` has a character where such damage starts (one regex search)."""
    return _utf8_lead_pattern().search(text) is not None


@lru_cache(maxsize=1)
def _utf8_lead_chars() -> frozenset[str]:
    """Characters whose GBK bytes are a UTF-8 lead byte of a CJK character or punctuation
    (E2-E9) and a continuation byte, and the two that start the full-width forms
    (，（）：；！？ are EF BC xx, EF BD xx in UTF-8: 锛, 锝): where UTF-8 read as GBK starts.
    Rare in real text (not the rest of row EF: 飯, 飲 and 飾 are in it)."""
    chars = set()
    for lead in range(0xE2, 0xEA):
        for trail in range(0x80, 0xC0):
            try:
                chars.add(bytes([lead, trail]).decode("gbk"))
            except UnicodeDecodeError:
                continue
    chars.update(bytes([0xEF, trail]).decode("gbk") for trail in (0xBC, 0xBD))
    return frozenset(chars)


@lru_cache(maxsize=1)
def _utf8_lead_pattern() -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(c) for c in sorted(_utf8_lead_chars())) + "]")


def _longest_utf8_reading(
    chars: str, start: int, model: ChineseModel
) -> tuple[int, str, list[int], list[tuple[str, ...]]] | None:
    """The longest span from ``start`` whose GB18030 bytes read as UTF-8 (>= 2 characters).

    A U+FFFD or '?' in the span is a byte the GBK decoder could not place (UTF-8 bytes such
    as 0x80 are no GBK lead byte): it stands for one unknown byte, filled in with the value
    that reads best (a continuation byte has 64 candidates, a lead byte 6); the indexes of
    the characters decoded with such a byte (guesses) come third, and fourth, for each, the
    characters that fill its unknown bytes at the same cost.
    """
    data: list[int] = []
    boundaries = {0: 0}  # byte offset -> characters of ``chars`` consumed
    for count, char in enumerate(chars[start : start + 400], start=1):
        if char in "\ufffd?":
            data.append(WILDCARD)
        else:
            try:
                data.extend(char.encode("gb18030"))
            except UnicodeEncodeError:
                break
        boundaries[len(data)] = count
    decoded: list[str] = []
    filled: list[int] = []
    choices: list[tuple[str, ...]] = []
    best: tuple[int, str, list[int], list[tuple[str, ...]]] | None = None
    position = 0
    while position < len(data):
        step = _next_utf8_char(data, position, decoded[-1] if decoded else None, model)
        if step is None:
            break
        char, end, options = step
        if WILDCARD in data[position:end]:
            filled.append(len(decoded))
            choices.append(options)
        decoded.append(char)
        position = end
        # A reading does not end in a character of two UTF-8 bytes (U+0080-U+07FF: Latin,
        # Greek, Cyrillic letters): the Chinese text after a run is in step, and its GBK
        # pairs often read as such a character (协, D0 AD in GBK, is Э in UTF-8).
        if position in boundaries and len(decoded) >= 2 and not "\u0080" <= char <= "\u07ff":
            best = (start + boundaries[position], "".join(decoded), list(filled), list(choices))
    return best


def _next_utf8_char(
    data: list[int], position: int, previous: str | None, model: ChineseModel
) -> tuple[str, int, tuple[str, ...]] | None:
    """Decode one UTF-8 character (2 or 3 bytes); unknown bytes are filled in by the model.
    Third: every character that fills them at the same cost as the chosen one.

    Inside a run an unknown continuation byte is almost always 0x80, the one continuation
    byte that is no GBK lead byte; other values stay possible at a cost (a byte before an
    ASCII character), and only one byte per character may be other than 0x80.
    """
    lead = data[position]
    if lead == WILDCARD:
        size, leads = 3, list(range(0xE4, 0xEA))
    elif 0xE0 <= lead <= 0xEF:
        size, leads = 3, [lead]
    elif 0xC2 <= lead <= 0xDF:
        size, leads = 2, [lead]
    else:
        return None
    tail = data[position + 1 : position + size]
    if len(tail) < size - 1 or any(b != WILDCARD and not 0x80 <= b <= 0xBF for b in tail):
        return None
    unknown = (lead == WILDCARD) + tail.count(WILDCARD)
    if unknown > 2 or (unknown == 2 and lead == WILDCARD):
        return None
    best: tuple[float, str, float] | None = None
    by_cost: dict[float, list[str]] = {}
    for first in leads:
        for rest in _continuations(tail, unknown, free_last=position + size == len(data)):
            try:
                char = bytes([first, *rest]).decode("utf-8")
            except UnicodeDecodeError:
                continue
            unlikely = sum(1 for b, t in zip(rest, tail, strict=True) if t == WILDCARD and b != 0x80)
            if position + size == len(data):
                unlikely = 0  # the last byte of a run: a lead whose ASCII trail GBK refused
            cost = UNLIKELY_BYTE_COST * unlikely
            by_cost.setdefault(cost, []).append(char)
            score = model.logp(previous, char) - cost
            if best is None or score > best[0]:
                best = (score, char, cost)
    return (best[1], position + size, tuple(by_cost[best[2]])) if best else None


def _continuations(tail: list[int], unknown: int, free_last: bool) -> list[list[int]]:
    """Byte values for the continuation bytes of one character, unknown ones filled in."""
    options = [[b] if b != WILDCARD else list(range(0x80, 0xC0)) for b in tail]
    combos: list[list[int]] = [[]]
    for index, choices in enumerate(options):
        if len(choices) > 1 and unknown == 2 and index == 0:
            choices = [0x80]  # two unknown bytes: the first is the 0x80 that GBK could not read
        elif len(choices) > 1 and not free_last and index == len(options) - 1 and unknown == 1:
            choices = list(range(0x80, 0xC0))
        combos = [[*combo, value] for combo in combos for value in choices]
    return combos
