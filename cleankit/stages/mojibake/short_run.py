"""A short run between lost-byte marks read as a whole: the ``short-run`` rule.

A decoder that fell one byte out of step at the start of a run of two or three characters,
and back in step at its end, leaves a mark, at most a character or two made of the wrong
byte pairs, and a second mark (or a trail byte read as ASCII): ``\ufffd平\ufffd兴业`` is
``推进兴业`` (推 CD C6, 进 BD F8: the first byte is lost, C6 BD reads as 平, and Python's GBK
decoder cannot pair F8 with 兴's lead byte, writes U+FFFD for it and is in step again).
Nothing in such a run decodes from a complete pair of its own, so the realignment search
does not count it as a repair, and the lost-bytes rule removes it.

Its bytes still say much: the first character ends with the first byte after the mark,
the characters between are complete pairs, and the last one starts with the last byte
before the closing mark (after U+FFFD, its trail byte is one the decoder could not pair with
the next lead byte). Here every reading those bytes allow is scored **as a whole**, all its
guessed characters together, in its sentence (the character model over the window, plus
what the words of :class:`~cleankit.text.plausibility.WordModel` spanning the guesses add
over the guessed characters alone, as :mod:`~cleankit.stages.mojibake.context_choice`
does for one guess), in each frame (GBK, Big5). The best reading replaces the span only when
it beats every other reading by :data:`MARGIN` nats; each guessed character is flagged as a
guess. Otherwise the span is removed as before. Only spans the lost-bytes rule would remove
are read, so text it would keep is never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from operator import itemgetter

from cleankit.stages.mojibake.common import WILDCARD
from cleankit.stages.mojibake.context_choice import PAGE_WEIGHT, WINDOW, WORD_WEIGHT, page_neighbours, simplified
from cleankit.stages.mojibake.frames import FRAMES, Frame
from cleankit.stages.mojibake.script_fit import fitting, script_around
from cleankit.text.plausibility import ChineseModel, WordModel
from cleankit.text.trigrams import trigram_model

# Whole readings (the character model's best) scored with the words, and the partial
# readings the character model keeps while it builds them.
SHORTLIST = 60
BEAM = 400
# How much the best whole reading must beat the next (nats, character and word model).
# 5 with the words weighed 1.5; with 2.5 (context_choice.WORD_WEIGHT) the scores spread
# more, and 4 reads more right than wrong (TUNE seeds 13/1/2 and FRESH-TUNE, exact of
# 4 x 420: 4 nats 1219, 5 1212, 6 1207; benchmarks/README.md, §5 damage5).
MARGIN = 4.0
# Characters guessed from one byte in one reading, at most; and the longest span read.
MAX_GUESSES = 2
MAX_SPAN = 8

REASON = "short run between lost-byte marks read as a whole (its guessed characters chosen together)"

_MARKS = "?\ufffd"


def _is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef"


# A reading's slots: a fixed character (str) or the candidates of a guessed one (tuple).
_Slot = str | tuple[str, ...]


def _slots(span: str, after: str, frame: Frame) -> list[_Slot] | None:
    """The characters ``span`` stands for in ``frame``, as fixed characters and candidate
    lists (None: its bytes do not fit the frame). ``span`` starts with a mark (the lost lead
    byte) and ends with one (a trail byte lost or skipped) or with a trail byte read as ASCII."""
    if span[0] not in _MARKS or not (span[-1] in _MARKS or "\x40" <= span[-1] <= "\x7e"):
        return None
    data: list[int] = []
    for char in span:
        if char in _MARKS:
            data.append(WILDCARD)
        elif char.isascii():
            data.append(ord(char))
        else:
            alternatives = frame.alternatives(char)
            if len(alternatives) != 1 or len(alternatives[0]) != 2:
                return None
            data.extend(alternatives[0])
    if len(data) % 2 or data.count(WILDCARD) > MAX_GUESSES:
        return None
    # After a closing U+FFFD the decoder read the next character in step: the lost trail byte
    # cannot pair with that character's lead byte (or the decoder would have paired them).
    next_lead = None
    if span[-1] == "\ufffd" and after and frame.double_byte(after):
        next_lead = after.encode(frame.codec)[0]
    slots: list[_Slot] = []
    for index in range(0, len(data), 2):
        lead, trail = data[index], data[index + 1]
        if lead == WILDCARD and trail == WILDCARD:
            return None
        if lead == WILDCARD:
            candidates = frame.all_candidates(trail, False)
        elif trail == WILDCARD:
            candidates = frame.all_candidates(lead, True)
            if next_lead is not None and index + 2 == len(data):
                candidates = tuple(c for c in candidates if not _pairs_with(frame, c, next_lead))
        else:
            char = frame.pair_char(lead, trail)
            if not char:
                return None
            slots.append(char)
            continue
        if not candidates:
            return None
        slots.append(candidates)
    if not any(isinstance(slot, tuple) for slot in slots):
        return None
    return slots


def _pairs_with(frame: Frame, char: str, lead: int) -> bool:
    """Whether ``char``'s trail byte and ``lead`` make a character of ``frame``."""
    return bool(frame.pair_char(char.encode(frame.codec)[1], lead))


def _shortlist(slots: Sequence[_Slot], before: str | None, after: str | None, model: ChineseModel) -> list[str]:
    """The :data:`SHORTLIST` readings of ``slots`` the character model ranks best between
    ``before`` and ``after`` (every bigram of the reading, the guessed characters together:
    ranked one by one by a known neighbour, 差异化's 异 was not among the best after 差)."""
    logp = model.logp
    beam: list[tuple[float, str]] = [(0.0, "")]
    previous_of = before
    for slot in slots:
        options = (slot,) if isinstance(slot, str) else slot
        grown = [
            (score + logp(text[-1] if text else previous_of, char), text + char)
            for score, text in beam
            for char in options
        ]
        grown.sort(key=itemgetter(0), reverse=True)
        beam = grown[:BEAM]
    if after is not None:
        beam = sorted(((score + logp(text[-1], after), text) for score, text in beam), key=itemgetter(0), reverse=True)
    return [text for _score, text in beam[:SHORTLIST]]


@lru_cache(maxsize=4096)
def read_span(
    left: str,
    span: str,
    right: str,
    previous: str | None,
    model: ChineseModel,
    words: WordModel,
    script: str | None = None,
    seen: tuple[str, str] = ("", ""),
) -> tuple[str, tuple[int, ...]] | None:
    """The reading of ``span`` between ``left`` and ``right`` (``previous``: the character
    before ``left``; ``script``: that of the text around, see
    :mod:`~cleankit.stages.mojibake.script_fit`) and the indexes of its guessed characters,
    or None when no reading beats the others by :data:`MARGIN`. ``seen``: the characters
    the page writes after ``left``'s last and before ``right``'s first
    (:func:`~cleankit.stages.mojibake.context_choice.page_neighbours`); a guessed first or
    last character found there gains as one guess does.

    >>> from cleankit.text.plausibility import chinese_model, word_model
    >>> read_span("我们要持续", "\ufffd呕\ufffd", "营商环境", None, chinese_model(), word_model())
    ('优化', (0, 1))
    """
    before = left[-1] if left else previous
    after = right[0] if right else None
    simple_left, simple_right = simplified(left), simplified(right)
    # The characters the readings' trigrams see around them: two before, two after.
    before_pair = simplified((previous or "") + left)[-2:]
    trigrams = trigram_model(model)
    follows, precedes = seen
    scored: dict[str, tuple[float, tuple[int, ...]]] = {}
    for frame in FRAMES:
        if not frame.may_have_decoded(span):
            continue
        slots = _slots(span, after or "", frame)
        if slots is None:
            continue
        # A character only the other script uses is no reading (」之 is not 补助 in
        # traditional text, 施地积 not 施地積 in simplified text).
        slots = [slot if isinstance(slot, str) else fitting(slot, script) for slot in slots]
        if not all(slots):
            continue
        guessed = tuple(i for i, slot in enumerate(slots) if isinstance(slot, tuple))
        for reading in _shortlist(slots, before, after, model):
            if reading in scored:
                continue
            simple = simplified(reading)
            score = trigrams.total_logp(simple + simple_right[:2], before_pair)
            own = sum(words.logp(simple[i]) for i in guessed)
            score += WORD_WEIGHT * (words.logp(simple_left + simple + simple_right) - own)
            score += PAGE_WEIGHT * (
                (0 in guessed and reading[0] in follows) + (len(reading) - 1 in guessed and reading[-1] in precedes)
            )
            scored[reading] = (score, guessed)
    if not scored:
        return None
    ranked = sorted(scored.items(), key=lambda item: item[1][0], reverse=True)
    if len(ranked) > 1 and ranked[0][1][0] - ranked[1][1][0] < MARGIN:
        return None
    reading, (_score, guessed) = ranked[0]
    return reading, guessed


def short_run_reading(
    text: str, start: int, end: int, model: ChineseModel, words: WordModel
) -> tuple[str, tuple[int, ...]] | None:
    """The reading of ``text[start:end]`` (a span the lost-bytes rule would remove) between
    two in-step CJK neighbours, or None."""
    span = text[start:end]
    if not 2 <= len(span) <= MAX_SPAN or start == 0 or end >= len(text):
        return None
    if not (_is_cjk(text[start - 1]) and _is_cjk(text[end])):
        return None
    left = text[max(0, start - WINDOW) : start]
    right = text[end : end + WINDOW]
    previous = text[start - WINDOW - 1] if start > WINDOW else None
    seen = page_neighbours(text, start, end, text[start - 1], text[end])
    return read_span(left, span, right, previous, model, words, script_around(text, start, end), seen)
