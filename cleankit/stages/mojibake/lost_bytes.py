"""Bytes that were lost and characters no reading fits: the ``lost-bytes`` rule.

What the repairs leave of a damaged run is a marker where bytes were lost (U+FFFD, or a
``?`` a decoder wrote for a byte it could not place) and, next to it, the few characters a
decoder made of the bytes around the loss: a lone trail byte read as an ASCII letter
(``?_實執行``), a private-use character (a GB18030 decoder's user-defined area), or the
one or two characters between two U+FFFD (``�平�兴业``: GBK's decoder fell back in step
after one garbled pair), or a short span between two markers that reads as debris. None of them carries text, and a
reader takes them for text; they are removed, each removal logged with what it removed (so
the original comes back exactly) and flagged (a character was lost there).

Only spans whose evidence is strong are removed:

* a run of U+FFFD next to a CJK character (it never stands for text); with the garbled
  characters next to it;
* a run of ``?`` that touches a private-use character or a lone ASCII byte before an
  ideograph, or two or more ``?`` between ideographs (a question mark is full width in
  Chinese text, and never doubled inside a sentence); with the garbled characters next to it.

A single ``?`` between readable ideographs is a half-width question mark, left alone.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from itertools import pairwise

from cleankit.core.document import Edit
from cleankit.stages.hygiene import kept_view
from cleankit.text.lazy_pattern import lazy_compile
from cleankit.text.plausibility import ChineseModel

# A run of lost-byte markers.
MARKER_RUN = re.compile("[?\ufffd]+")
# Private-use characters taken on each side of a marker run, at most.
MAX_GARBLED_EDGE = 3
# Garbled text between two marker runs this close (or before a lone trail byte this close
# after one) is removed with them when it reads as debris: mean log-probability per
# character below DEBRIS_SCORE (ordinary text, simplified or traditional, scores -4 to -8;
# GBK or Big5 read out of step -12 to -18).
MAX_GARBLED_GAP = 20
DEBRIS_SCORE = -10.0

_CJK = "[\u3000-\u9fff\ue000-\ufaff\uff00-\uffef]"
# How far a marker's context is looked for past punctuation and spaces (see _context).
MAX_CONTEXT_SKIP = 4
# A marker near a CJK or private-use character (within MAX_CONTEXT_SKIP characters of the
# line): every removal needs one, so a page without one costs this one scan.
_MARKER_BY_CJK = lazy_compile(
    f"{_CJK}[^\\n]{{0,{MAX_CONTEXT_SKIP}}}[?\ufffd]|[?\ufffd][^\\n]{{0,{MAX_CONTEXT_SKIP}}}{_CJK}"
)

REASON = "bytes lost in decoding and the characters made of their neighbours removed"


def _is_ideograph(char: str) -> bool:
    # The compatibility ideographs (豈 U+F900) too: hygiene's NFC makes most of them unified
    # ones, which a second cleaning would see.
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def _is_private(char: str) -> bool:
    return "\ue000" <= char <= "\uf8ff"


def _is_cjk(char: str) -> bool:
    return _is_ideograph(char) or _is_private(char) or "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef"


def _wide(char: str) -> bool:
    """A character a double-byte decoder can make: not ASCII, not a space."""
    return not char.isascii() and not char.isspace()


def _lone_byte(text: str, index: int) -> bool:
    """An ASCII letter or symbol standing alone between double-byte characters or markers,
    with an ideograph on one side: a trail byte whose lead was lost (the decoder is in step
    after it)."""
    if not 0 < index < len(text) - 1:
        return False
    char = text[index]
    if not (char.isascii() and char.isprintable() and not char.isspace() and not char.isdigit()) or char == "?":
        return False
    before, after = text[index - 1], text[index + 1]
    if not ((_wide(before) or before == "?") and (_wide(after) or after == "?")):
        return False
    return _is_ideograph(before) or _is_ideograph(after)


def _context(text: str, index: int, step: int) -> str:
    """The first character from ``index`` on (``step`` -1: backwards) that is neither
    punctuation nor a space nor a marker within the line, at most :data:`MAX_CONTEXT_SKIP`
    characters away; "" if none.

    A marker's context looks past marks because the punctuation stage, after this one, widens
    half-width marks inside Chinese text (``,`` → ``，``) and removes spaces beside them: were
    the marks themselves context, a second cleaning would remove what the first kept. It
    looks past other markers because removing one makes its neighbours touch.

    >>> _context("㐀,\ufffd0", 1, -1), _context("0，\ufffd0", 1, -1), _context("㐀 ， \ufffd", 3, -1)
    ('㐀', '0', '㐀')
    """
    for _ in range(MAX_CONTEXT_SKIP + 1):
        if not 0 <= index < len(text):
            return ""
        char = text[index]
        if char == "\n":
            return ""
        if not (char.isspace() or char == "\ufffd" or unicodedata.category(char).startswith("P")):
            return char
        index += step
    return ""


def _strong(text: str, start: int, end: int, repaired: frozenset[int]) -> bool:
    """Whether the marker run ``text[start:end]`` is evidence of lost bytes by itself."""
    run = text[start:end]
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    if not (_is_cjk(_context(text, start - 1, -1) or " ") or _is_cjk(_context(text, end, 1) or " ")):
        return False  # not inside Chinese text: left to the replacement-char rule
    if start in repaired or end in repaired:
        return True  # what a realignment left of its run's lost bytes
    if "\ufffd" in run:
        # At the end of a line it is a character cut at a chunk boundary (replacement-char).
        return bool(after) and not after.isspace()
    if (before and _is_private(before)) or (after and _is_private(after)) or _lone_byte(text, end):
        return True
    return len(run) >= 2 and _is_ideograph(before or " ") and _is_ideograph(after or " ")


def lost_bytes_edits(text: str, model: ChineseModel, repaired: frozenset[int] = frozenset()) -> list[Edit]:
    """Removals of lost-byte markers and the garbled characters around them; ``repaired``:
    the edges of spans a repair rewrote just before (a marker touching one is strong).

    >>> from cleankit.text.plausibility import chinese_model
    >>> text = "一体化\\ufffd平\\ufffd兴业、强县、富\\ufffd\\ufffd，不断"
    >>> [(edit.old, edit.new) for edit in lost_bytes_edits(text, chinese_model())]
    [('\\ufffd平\\ufffd', ''), ('\\ufffd\\ufffd', '')]
    """
    if "\ufffd" not in text and "?" not in text:
        return []
    # Judged on the text as it reads once hygiene has deleted its characters (kept_view).
    kept = kept_view(text)
    if _MARKER_BY_CJK.search(text if kept is None else kept[0]) is None:
        return []  # one scan: a page a wrong codec left as '?' throughout has no Chinese left
    if kept is None:
        spans = _spans(text, model, repaired)
    else:
        view, positions = kept
        moved = frozenset(bisect_left(positions, edge) for edge in repaired)
        spans = [[positions[start], positions[end - 1] + 1] for start, end in _spans(view, model, moved)]
    return [Edit("", "lost-bytes", start, end, text[start:end], "", REASON) for start, end in spans]


def _spans(text: str, model: ChineseModel, repaired: frozenset[int]) -> list[list[int]]:
    """The spans :func:`lost_bytes_edits` removes from ``text``."""
    runs = [(m.start(), m.end()) for m in MARKER_RUN.finditer(text)]
    strong = [_strong(text, start, end, repaired) for start, end in runs]
    # Two weak markers close together with debris between them are strong together.
    for index, (first, second) in enumerate(pairwise(runs)):
        if not (strong[index] and strong[index + 1]) and _garbled_gap(text, model, first[1], second[0]):
            strong[index] = strong[index + 1] = True
    spans: list[list[int]] = []
    for (start, end), is_strong in zip(runs, strong, strict=True):
        if not is_strong:
            continue
        right = _garbled_after(text, model, end)
        left = start
        while start - left < MAX_GARBLED_EDGE and left > 0 and _is_private(text[left - 1]):
            left -= 1
        if spans and left <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], right)
        elif spans and left - spans[-1][1] <= MAX_GARBLED_GAP and _garbled_gap(text, model, spans[-1][1], left):
            spans[-1][1] = right
        else:
            spans.append([left, right])
    return spans


def _garbled_after(text: str, model: ChineseModel, end: int) -> int:
    """Where the garbled characters right after a marker run end: private-use characters,
    or characters that read as debris up to a lone trail byte (Big5 and GBK decoders fall
    back in step after a trail byte that reads as ASCII)."""
    right = end
    while right - end < MAX_GARBLED_EDGE and right < len(text) and _is_private(text[right]):
        right += 1
    for ahead in range(right, min(len(text) - 1, right + MAX_GARBLED_GAP + 1)):
        char = text[ahead]
        if _lone_byte(text, ahead) and (ahead == right or _garbled_gap(text, model, right, ahead)):
            return ahead + 1
        if not _wide(char) or char in "\ufffd?":
            break
    return right


def _garbled_gap(text: str, model: ChineseModel, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` (between two markers, or a marker and a lone trail byte) is
    debris: one or two double-byte characters between two U+FFFD runs, or a short span that
    reads as debris (lone trail bytes in it count as such)."""
    gap = text[start:end]
    if not 0 < len(gap) <= MAX_GARBLED_GAP or gap.isascii():
        return False
    if any(c.isspace() for c in gap):
        return False
    if any(map(_is_private, gap)):
        return True
    wide = "".join(c for i, c in enumerate(gap, start) if _wide(c) or not _lone_byte(text, i))
    if not wide or not all(map(_wide, wide)):
        return False
    around = (text[start - 1] if start > 0 else "") + (text[end] if end < len(text) else "")
    if len(gap) <= 2 and around == "\ufffd\ufffd":
        return True  # what the decoder made of the bytes between two it could not read
    return model.total_logp(wide) / len(wide) < DEBRIS_SCORE
