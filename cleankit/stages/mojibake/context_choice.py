"""Choose a guessed character by its sentence: the word model over a window around it.

A character of which one byte survived is first guessed by the character model from its two
neighbours, which prefers the frequent pair: ``中共`` becomes ``中国``, and ``牛鼻子``, whose
bigrams were never counted, becomes ``牛是子``. Here each guessed character is chosen again
among every character that fits its surviving byte, by the log-probability of the reading
of a window of text around it (:data:`WINDOW` characters on each side) under the word model
of :mod:`cleankit.text.plausibility` (less the candidate's own, so that only words that span
it count) plus the character model: words that span the guess decide (``牛鼻子`` is a word),
and where no word does, the character model does as before.
Traditional text is scored through OpenCC ``t2s`` (the word list is simplified).

The choice stays a guess, flagged as before; it only changes which character is guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import itemgetter

from cleankit.stages.mojibake.script_fit import fits, fitting
from cleankit.text.cjk import opencc_converter
from cleankit.text.plausibility import ChineseModel, WordModel
from cleankit.text.trigrams import trigram_model

# Characters of context on each side of a guess that the reading is scored over.
WINDOW = 4
# Weight of the word model against the character model (both log-probabilities). The
# character model's bigrams are interpolated with the unigram (0.6 / 0.4), so between two
# frequent characters they barely differ (在在 scores above 在于); the words decide more.
# Chosen on TUNE seeds 13/1/2 and FRESH-TUNE (exact of 4 x 420 damaged runs, with
# script-fit): 1.5: 1194, 2.5: 1204, 3.5: 1205 (benchmarks/README.md, §5 damage5).
WORD_WEIGHT = 2.5
# Candidates (the character model's best by both neighbours) scored by the words and the
# trigrams. 80, was 40: the bigrams rank low some characters the trigrams know (TUNE seeds
# 13/1/2 and FRESH-TUNE, exact of 4 x 420 with the trigrams: 40: 1228, 80: 1231).
SHORTLIST = 80
# How much better the reading with another character must be than with the first guess for
# that character to replace it. Zero: the first guess was made by its two neighbours alone
# (the bigrams), the reading of the sentence knows more; the best reading is taken (TUNE
# seeds 13/1/2 and FRESH-TUNE, with the weight above: 2.0 nats 1204, 0 1212 of 4 x 420).
MARGIN = 0.0
# A page repeats its own words (``稳就业、稳企业``, ``印鑑 … 印鑑``) that no general count knows
# (and tells 鑑 from 鑒, one character to t2s and so to the counts): a candidate gains
# PAGE_WEIGHT nats for each of its two pairs (with the character before it, with the one
# after) that the page writes elsewhere, within PAGE_REACH characters of the damaged span on
# either side (a bounded scan, whatever the page's length). Chosen on TUNE seeds 13/1/2 and
# FRESH-TUNE (exact of 4 x 420; 0: 1231; byte-shift, utf8-as-gbk and one-byte-char only:
# 1.5: 1241, 3: 1250, 5: 1254, 8: 1261, 12: 1266; with short-run too: 8: 1265, 12: 1272,
# 16: 1271, 24: 1270): what the page writes next to the neighbours nearly always decides
# (benchmarks/README.md, §5 damage7).
PAGE_WEIGHT = 12.0
PAGE_REACH = 2000


def rechoose(
    text: str,
    slots: Sequence[tuple[int, Sequence[str]]],
    model: ChineseModel,
    words: WordModel,
    script: str | None = None,
    seen: Sequence[tuple[str, str]] = (),
) -> str:
    """``text`` with each guessed character (``slots``: its index and its candidates) chosen
    again by the reading of its window (converted to simplified for the word model, whose
    words are simplified; simplified text passes through unchanged). ``script``: that of the
    text around (:mod:`~cleankit.stages.mojibake.script_fit`); a guess only the other script
    uses is replaced by the best candidate that fits, whatever the margin. ``seen``: for each
    slot, what the page writes after its left neighbour and before its right one
    (:func:`page_neighbours`).

    >>> from cleankit.text.plausibility import chinese_model, word_model
    >>> rechoose("把牛是子来抓", [(2, "是鼻")], chinese_model(), word_model())
    '把牛鼻子来抓'
    """
    if not slots:
        return text
    chars = list(text)
    seen = seen or [("", "")] * len(slots)
    for _ in range(2):  # twice: a guess next to another guess sees the other's new value
        for (index, candidates), (follows, precedes) in zip(slots, seen, strict=True):
            low, high = max(0, index - WINDOW), min(len(chars), index + WINDOW + 1)
            left, right = "".join(chars[low:index]), "".join(chars[index + 1 : high])
            previous = chars[low - 1] if low > 0 else None
            current = chars[index]
            fitting_candidates = fitting(candidates, script)
            if not fits(current, script):
                if fitting_candidates:
                    scored = reading_scores(
                        left, fitting_candidates, right, previous, model, words, follows=follows, precedes=precedes
                    )
                    chars[index] = max(scored)[1]
                continue
            scored = reading_scores(
                left, (current, *fitting_candidates), right, previous, model, words, follows=follows, precedes=precedes
            )
            best_score, best_char = max(scored)
            current_score = next(score for score, char in scored if char == current)
            if best_score - current_score >= MARGIN:
                chars[index] = best_char
    return "".join(chars)


def reading_scores(
    left: str,
    candidates: Iterable[str],
    right: str,
    previous: str | None,
    model: ChineseModel,
    words: WordModel,
    by_trigrams: bool = True,
    follows: str = "",
    precedes: str = "",
) -> list[tuple[float, str]]:
    """Scores of the best candidates between ``left`` and ``right`` (``previous``: the
    character before ``left``): the character model's log-probability of the window plus what
    the words around the candidate add over the candidate alone (a frequent character that
    joins no word gains nothing over a rare one; the character model decides between those).

    Only the :data:`SHORTLIST` candidates that the character model ranks best by both
    neighbours are scored by the words (and the first one given, the guess in place); the
    character model's score is taken on what differs between the windows: the three trigrams
    the candidate makes (:mod:`cleankit.text.trigrams`, over ``model``'s bigrams), or with
    ``by_trigrams`` false the two bigrams. ``follows``/``precedes``: the characters the page
    writes after the candidate's left neighbour and before its right one; each pair of the
    candidate's found there adds :data:`PAGE_WEIGHT`."""
    logp = model.logp
    before = left[-1] if left else previous
    after = right[0] if right else None
    ranked: list[tuple[float, str]] = []
    first = None
    for candidate in dict.fromkeys(candidates):
        first = candidate if first is None else first
        score = logp(before, candidate) + (logp(candidate, after) if after is not None else 0.0)
        ranked.append((score, candidate))
    ranked.sort(key=itemgetter(0), reverse=True)
    shortlist = ranked[:SHORTLIST]
    if first is not None and all(char != first for _score, char in shortlist):
        shortlist.extend(pair for pair in ranked if pair[1] == first)
    # What the page writes next to the neighbours is scored whatever the bigrams rank it.
    shortlist.extend(pair for pair in ranked[SHORTLIST:] if pair[1] in follows or pair[1] in precedes)
    simple_left, simple_right = simplified(left), simplified(right)
    # The characters the candidate's three trigrams see: two before it, two after.
    before_pair = simplified((previous or "") + left)[-2:]
    after_pair = simple_right[:2]
    trigrams = trigram_model(model)
    word_logp = words.logp
    scored = []
    for score, candidate in shortlist:
        simple = simplified(candidate)
        if by_trigrams:
            score = trigrams.total_logp(simple + after_pair, before_pair)
        gain = word_logp(simple_left + simple + simple_right) - word_logp(simple)
        page = PAGE_WEIGHT * ((candidate in follows) + (candidate in precedes))
        scored.append((score + WORD_WEIGHT * gain + page, candidate))
    return scored


def page_neighbours(text: str, start: int, end: int, before: str | None, after: str | None) -> tuple[str, str]:
    """The characters ``text`` writes after ``before`` and before ``after`` outside the
    damaged span ``text[start:end]`` (within :data:`PAGE_REACH` characters of it; pairs
    reaching into the span are not counted): what the page itself says may stand between
    them. Each is a string of distinct characters; empty for a neighbour that is None.

    >>> page_neighbours("稳就业、稳企业、稳\ufffd\ufffd", 9, 11, "稳", None)
    ('企就', '')
    """
    pieces = (text[max(0, start - PAGE_REACH) : start], text[end : end + PAGE_REACH])
    follows: set[str] = set()
    precedes: set[str] = set()
    for piece in pieces:
        if before:
            at = piece.find(before)
            while 0 <= at < len(piece) - 1:
                follows.add(piece[at + 1])
                at = piece.find(before, at + 1)
        if after:
            at = piece.find(after, 1)
            while at > 0:
                precedes.add(piece[at - 1])
                at = piece.find(after, at + 1)
    return "".join(sorted(follows)), "".join(sorted(precedes))


def slots_seen(text: str, start: int, end: int, new: str, guessed: Sequence[int]) -> tuple[tuple[str, str], ...]:
    """:func:`page_neighbours` of each guessed character of ``new`` (indexes ``guessed``),
    the reading of ``text[start:end]``: of its neighbours in ``new`` or in ``text``, none
    for a neighbour that is a guess itself (its own reading is not evidence)."""
    found = []
    for index in guessed:
        before = new[index - 1] if index > 0 else text[start - 1] if start > 0 else None
        after = new[index + 1] if index + 1 < len(new) else text[end] if end < len(text) else None
        found.append(
            page_neighbours(
                text,
                start,
                end,
                None if index - 1 in guessed else before,
                None if index + 1 in guessed else after,
            )
        )
    return tuple(found)


# Each character's or context's simplified form (OpenCC t2s), kept: the same few thousand
# candidates come back in every search. Emptied at SIMPLIFIED_KEPT: replaying one worker's 29,358
# lookups on 10,000 pages of the 20,000-page bench crawl, 6,489 distinct (953 in the first 1,000
# pages), so 1 << 16 let the memo grow with the crawl (~190 B an entry); emptied at 1 << 12 it
# makes 1,505 more conversions in 10,000 pages (benchmarks/README.md, branch mem10).
_SIMPLIFIED: dict[str, str] = {}
SIMPLIFIED_KEPT = 1 << 12


def simplified(text: str) -> str:
    """``text`` in simplified characters (OpenCC ``t2s``), kept for the next search."""
    found = _SIMPLIFIED.get(text)
    if found is None:
        if len(_SIMPLIFIED) >= SIMPLIFIED_KEPT:
            _SIMPLIFIED.clear()  # bounded memory over a long crawl
        found = _SIMPLIFIED[text] = opencc_converter("t2s").convert(text)
    return found
