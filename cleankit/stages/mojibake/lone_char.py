"""A character of which at most one byte survived, between two in-step neighbours: ``one-byte-char``.

A GBK or Big5 decoder that lost a character's first byte and fell back in step at once
leaves that character as a lost-byte mark and, at most, one byte:

* ``?_`` or ``\ufffdA``: the mark, then the character's trail byte read as ASCII (``並?_實``
  is ``並確實``, 確 being B4 5F in GBK; ``\ufffdA`` is ``，``, A1 41 in Big5);
* ``\ufffd\ufffd``: Python's GBK and Big5 decoders cannot pair the trail byte with the next
  lead byte, write U+FFFD for it and read the next character in step (``自治区\ufffd\ufffd民经济``
  is ``自治区国民经济``: 国 is B9 FA, and FA C3 is no GBK character). What is known of the
  character is that its trail byte cannot be followed by the next character's lead byte.

The lost-bytes rule would remove such a span. Here the character is chosen instead among
the characters that fit what survived (in each frame, GBK and Big5), by the language model
over both neighbours, and only when the best reading beats the next one by a clear margin;
each choice is logged and flagged as a guess. The span must sit between two CJK characters
(its neighbours are in step, so they are the evidence).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from cleankit.core.document import Edit
from cleankit.stages.mojibake.context_choice import WINDOW, page_neighbours, reading_scores
from cleankit.stages.mojibake.frames import FRAMES, Frame
from cleankit.stages.mojibake.script_fit import fitting, script_around
from cleankit.text.plausibility import ChineseModel, WordModel, fine_model

# What follows a mark: a trail byte read as ASCII, or (after U+FFFD) a second U+FFFD.
_TRAIL = frozenset(chr(byte) for byte in range(0x40, 0x7F))
_QUESTION_TRAIL = re.compile(r"\?[@-~]")
_REPLACEMENT_TRAIL = re.compile("\ufffd[@-~\ufffd]")
# How much the chosen character must beat the next best (log-probability of the two
# bigrams it makes): a trail byte narrows the candidates to a few hundred; nothing but the
# next lead byte narrows them far less.
MARGIN_TRAIL = 2.0
MARGIN_WHOLE = 2.5
REASON = "character guessed from its neighbours: at most one of its bytes survived decoding"


def lone_char_edits(text: str, model: ChineseModel, words: Callable[[], WordModel] | None = None) -> list[Edit]:
    """Edits choosing the lost characters of ``text``. ``words``: the word model's loader;
    with it, where the two neighbours leave the choice open, the best candidates are scored
    again by the reading of their sentence (:mod:`~cleankit.stages.mojibake.context_choice`)
    and the margin is taken on that score.

    >>> from cleankit.text.plausibility import chinese_model
    >>> [(e.old, e.new) for e in lone_char_edits("应当提高效率\ufffdA确保安全", chinese_model())]
    [('\ufffdA', '，')]
    """
    edits: list[Edit] = []
    for start in _marks(text):
        end = start + 2
        span = text[start:end]
        if len(span) < 2 or not (span[1] in _TRAIL or span == "\ufffd\ufffd"):
            continue
        if start == 0 or end == len(text) or not (_is_cjk(text[start - 1]) and _is_cjk(text[end])):
            continue
        script = script_around(text, start, end)
        choice = _choose(text[start - 1], span, text[end], model, script)
        if choice is None and words is not None:
            # Only where the neighbours leave it open: the word list has no punctuation, so
            # where they choose a clear ， the words around would only argue for an ideograph.
            left, right = text[max(0, start - WINDOW) : start], text[end : end + WINDOW]
            previous = text[start - WINDOW - 1] if start > WINDOW else None
            seen = page_neighbours(text, start, end, text[start - 1], text[end])
            choice = _choose_in_sentence(left, span, right, previous, model, words(), script, seen)
        if choice is not None:
            edits.append(Edit("", "one-byte-char", start, end, span, choice, REASON))
    return edits


def _marks(text: str) -> list[int]:
    """Where a mark is followed by a trail byte read as ASCII or (U+FFFD) a second U+FFFD,
    in order. Two patterns that start with a literal: the regex engine skips to each
    occurrence of it (a pattern starting with a class is tried at every position)."""
    found = [match.start() for match in _QUESTION_TRAIL.finditer(text)] if "?" in text else []
    if "\ufffd" in text:
        found.extend(match.start() for match in _REPLACEMENT_TRAIL.finditer(text))
        found.sort()
    return found


def _is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef"


@lru_cache(maxsize=4096)
def _choose(before: str, span: str, after: str, model: ChineseModel, script: str | None = None) -> str | None:
    """The character ``span`` stands for between ``before`` and ``after`` in text of
    ``script`` (None: no clear one)."""
    scored = _ranked(before, span, after, model, script)
    if len(scored) < 2:
        return None
    return _clear_best(scored, span)


def _clear_best(scored: list[tuple[float, str]], span: str) -> str | None:
    """The best of ``scored`` (best first, at least two) if it beats the next by the margin
    for what survived of ``span`` (None: no clear one)."""
    margin = MARGIN_WHOLE if span[1] in "?\ufffd" else MARGIN_TRAIL
    if scored[0][0] - scored[1][0] < margin:
        return None
    return scored[0][1]


def _ranked(before: str, span: str, after: str, model: ChineseModel, script: str | None) -> list[tuple[float, str]]:
    """The candidates for ``span`` between ``before`` and ``after``, best first, with the
    log-probability of the two bigrams each makes; none only the other script than
    ``script`` uses (:mod:`~cleankit.stages.mojibake.script_fit`)."""
    whole = span[1] in "?\ufffd"
    candidates: set[str] = set()
    for frame in FRAMES:
        candidates.update(_whole_candidates(frame, after) if whole else frame.all_candidates(ord(span[1]), False))
    logp = model.logp
    fit = fitting(candidates, script)
    return sorted(((logp(before, char) + logp(char, after), char) for char in fit), reverse=True)


@lru_cache(maxsize=4096)
def _choose_in_sentence(
    left: str,
    span: str,
    right: str,
    previous: str | None,
    model: ChineseModel,
    words: WordModel,
    script: str | None = None,
    seen: tuple[str, str] = ("", ""),
) -> str | None:
    """The character ``span`` stands for between ``left`` and ``right`` (in text of
    ``script``), chosen among the character model's best by the reading of the sentence
    and what the page writes next to its neighbours (``seen``, see
    :func:`~cleankit.stages.mojibake.context_choice.page_neighbours`); None: no clear one."""
    ranked = _ranked(left[-1], span, right[0], model, script)
    if len(ranked) < 2:
        return None
    candidates = [char for _score, char in ranked]
    # By the bigrams: the margin of _clear_best was chosen on their spread of scores.
    follows, precedes = seen
    scored = reading_scores(
        left, candidates, right, previous, fine_model(), words, by_trigrams=False, follows=follows, precedes=precedes
    )
    scored.sort(reverse=True)
    return _clear_best(scored, span)


@lru_cache(maxsize=1024)
def _whole_candidates(frame: Frame, after: str) -> tuple[str, ...]:
    """Characters of ``frame`` whose trail byte the frame's decoder cannot pair with the
    lead byte of ``after`` (so that it wrote U+FFFD for it and read ``after`` in step)."""
    try:
        encoded = after.encode(frame.codec)
    except UnicodeEncodeError:
        return ()
    if len(encoded) != 2:
        return ()
    lead = encoded[0]
    found = []
    for first in range(0x81, 0xFF):
        for trail in range(0x81, 0xFF):
            char = frame.pair_char(first, trail)
            if char and not frame.pair_char(trail, lead):
                found.append(char)
    return tuple(found)
