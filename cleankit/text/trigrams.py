"""Character trigrams over the bigram model: which character fits between two others.

The character model of :mod:`cleankit.text.plausibility` knows pairs, interpolated with the
unigram, so between two frequent characters its bigrams barely differ (``最根本在于`` read one
byte out of step comes back ``在在``: both pairs are frequent). Three characters in a row know
more: ``本在于`` was counted (3 of the 8 times 本在 was), ``本在在`` never was. The counts
(``data/hanzi_trigrams.tsv.xz``, built by ``tools/build_trigrams.py``) come from the work
reports and from news and general prose (the SIGHAN 2005 bakeoff's gold texts, a People's
Daily corpus), all in simplified characters; text is scored through OpenCC ``t2s`` by the
callers, as for the word model.

Used only to choose among the readings of a guessed character, never to decide whether text is
damaged: loaded when a page has a guess to make, and kept in the start-up cache
(:mod:`cleankit.io.cache`).
"""

from __future__ import annotations

import math
from functools import lru_cache

from cleankit.text.plausibility import ChineseModel, fine_model, is_ideograph, shipped_counts

# Weight of the trigram estimate against the bigram model's probability, where the pair before
# the character was counted.
TRIGRAM_WEIGHT = 0.5
TRIGRAM_KIND = "hanzi-trigrams"


def counted(char: str) -> bool:
    """Is ``char`` one the table counts trigrams of (an ideograph)? A trigram with any other
    character (an ASCII comma, a digit) was never counted, so its absence is no evidence
    against the character. Punctuation is left to the bigrams: three characters know which
    word goes on, not where a sentence or an enumeration ends (、 and 。 after 产业 are both
    frequent)."""
    return is_ideograph(char)


class TrigramModel:
    """Trigram counts (``abc``) and the counts of the pairs they start with (``ab`` followed by
    any character), interpolated with a bigram :class:`ChineseModel`."""

    def __init__(self, counts: dict[str, int], bigram: ChineseModel) -> None:
        self.counts = counts
        self.bigram = bigram

    def logp(self, first: str | None, previous: str | None, char: str) -> float:
        """log P(char | first, previous): the trigram's share where ``first previous`` was
        counted (and ``char`` is a character the table counts), the bigram model's
        probability otherwise."""
        lower = self.bigram.logp(previous, char)
        if first is None or previous is None or not (counted(first) and counted(previous) and counted(char)):
            return lower
        pair = self.counts.get(first + previous)
        if pair is None:
            return lower
        seen = self.counts.get(first + previous + char, 0)
        return math.log(TRIGRAM_WEIGHT * seen / pair + (1 - TRIGRAM_WEIGHT) * math.exp(lower))

    def total_logp(self, text: str, before: str = "") -> float:
        """log-probability of ``text`` after the characters ``before`` (their own
        probabilities not counted; the last two condition the first of ``text``)."""
        joined = before[-2:] + text
        offset = len(joined) - len(text)
        score = 0.0
        for index in range(offset, len(joined)):
            first = joined[index - 2] if index >= 2 else None
            previous = joined[index - 1] if index >= 1 else None
            score += self.logp(first, previous, joined[index])
        return score


@lru_cache(maxsize=1)
def trigram_counts() -> dict[str, int]:
    """The shipped table: trigram counts and the counts of the pairs they start with."""
    return shipped_counts("data/hanzi_trigrams.tsv.xz", TRIGRAM_KIND)


def trigram_model(bigram: ChineseModel | None = None) -> TrigramModel:
    """The shipped trigrams over ``bigram`` (by default the finer bigrams,
    :func:`~cleankit.text.plausibility.fine_model`)."""
    return TrigramModel(trigram_counts(), bigram if bigram is not None else fine_model())
