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
from itertools import pairwise

from cleankit.core.document import Edit
from cleankit.text.plausibility import ChineseModel

# A run of lost-byte markers, and what may stand next to it.
MARKER_RUN = re.compile("[?\ufffd]+")
# At most this many garbled characters are taken on each side of a marker run.
MAX_GARBLED_EDGE = 3
# Garbled text between two marker runs this close is removed with them when it reads as
# debris (mean log-probability per character below DEBRIS_SCORE).
MAX_GARBLED_GAP = 6
DEBRIS_SCORE = -9.5

REASON = "bytes lost in decoding and the characters made of their neighbours removed"


def _is_ideograph(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff"


def _is_private(char: str) -> bool:
    return "\ue000" <= char <= "\uf8ff"


def _is_cjk(char: str) -> bool:
    return _is_ideograph(char) or _is_private(char) or "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef"


def _lone_byte(text: str, index: int) -> bool:
    """An ASCII letter or symbol standing alone between CJK characters (or a marker and an
    ideograph): a trail byte whose lead was lost, after which the decoder is in step."""
    if not 0 < index < len(text) - 1:
        return False
    char = text[index]
    if not (char.isascii() and char.isprintable() and not char.isspace() and not char.isdigit()) or char == "?":
        return False
    before, after = text[index - 1], text[index + 1]
    return _is_cjk(after) and (before in "?\ufffd" or _is_cjk(before))


def _garbled(char: str) -> bool:
    """``char``, next to a marker, is debris: a private-use character (a GB18030 decoder's
    reading of a pair out of step). Ideographs next to a marker are left: by their
    neighbours alone they cannot be told from text (tried on the benchmark: removing those
    that read badly with their other neighbour removed real characters and no more damage)."""
    return _is_private(char)


def _strong(text: str, start: int, end: int) -> bool:
    """Whether the marker run ``text[start:end]`` is evidence of lost bytes at all."""
    run = text[start:end]
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    if not (_is_cjk(before or " ") or _is_cjk(after or " ")):
        return False  # not inside Chinese text: left to the replacement-char rule
    if "\ufffd" in run:
        # At the end of a line it is a character cut at a chunk boundary (replacement-char).
        return bool(after) and not after.isspace()
    if (before and _is_private(before)) or (after and _is_private(after)):
        return True
    if _lone_byte(text, end):
        return True
    return len(run) >= 2 and _is_ideograph(before or " ") and _is_ideograph(after or " ")


def lost_bytes_edits(text: str, model: ChineseModel) -> list[Edit]:
    """Removals of lost-byte markers and the garbled characters around them.

    >>> from cleankit.text.plausibility import chinese_model
    >>> text = "一体化\ufffd平\ufffd兴业、强县、富\ufffd\ufffd，不断"
    >>> [(edit.old, edit.new) for edit in lost_bytes_edits(text, chinese_model())]
    [('\ufffd平\ufffd', ''), ('\ufffd\ufffd', '')]
    """
    runs = [(m.start(), m.end(), _strong(text, m.start(), m.end())) for m in MARKER_RUN.finditer(text)]
    # Two weak markers close together with debris between them are strong together.
    if not any(strong for _, _, strong in runs) and not any(_paired(text, model, a, b) for a, b in pairwise(runs)):
        return []
    spans: list[list[int]] = []
    for index, (start, end, strong) in enumerate(runs):
        if not strong and not (
            (index > 0 and _paired(text, model, runs[index - 1], runs[index]))
            or (index + 1 < len(runs) and _paired(text, model, runs[index], runs[index + 1]))
        ):
            continue
        # Garbled characters after the run: private-use characters, or up to a few
        # characters ending in a lone trail byte (the decoder fell back in step there).
        right = end
        while right - end < MAX_GARBLED_EDGE and right < len(text) and _garbled(text[right]):
            right += 1
        for ahead in range(right, min(len(text), right + MAX_GARBLED_EDGE + 1)):
            if _lone_byte(text, ahead):
                right = ahead + 1
                break
            if not _is_cjk(text[ahead]) or text[ahead] in "\u3001\u3002\uff0c\uff1b":
                break
        left = start
        while start - left < MAX_GARBLED_EDGE and left > 0 and _garbled(text[left - 1]):
            left -= 1
        if spans and left - spans[-1][1] <= MAX_GARBLED_GAP:
            gap = text[spans[-1][1] : left]
            # Between two U+FFFD runs, one or two characters are what the decoder made of
            # the bytes between two bytes it could not read.
            between_replacements = "\ufffd" in text[spans[-1][0] : spans[-1][1]] and "\ufffd" in text[start:end]
            if (
                not gap
                or (between_replacements and len(gap) <= 2 and all(map(_is_cjk, gap)))
                or _reads_as_debris(model, gap, text[spans[-1][0] - 1] if spans[-1][0] > 0 else None)
            ):
                spans[-1][1] = right
                continue
        if spans and left < spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], right)
            continue
        spans.append([left, right])
    return [Edit("", "lost-bytes", start, end, text[start:end], "", REASON) for start, end in spans]


def _paired(text: str, model: ChineseModel, first: tuple[int, int, bool], second: tuple[int, int, bool]) -> bool:
    """Two marker runs close together with debris between them (``?卣虼逖?``)."""
    gap = text[first[1] : second[0]]
    if not 0 < len(gap) <= MAX_GARBLED_GAP:
        return False
    before = text[first[0] - 1] if first[0] > 0 else None
    return _reads_as_debris(model, gap, before)


def _reads_as_debris(model: ChineseModel, gap: str, before: str | None) -> bool:
    if any(_is_private(c) for c in gap):
        return True
    if not all(_is_cjk(c) for c in gap):
        return False
    return model.total_logp(gap, before if before and _is_cjk(before) else None) / len(gap) < DEBRIS_SCORE
