"""Stray traditional characters on a simplified page: names to keep, or leftovers to convert.

A simplified page with one or two "traditional" characters in thousands usually holds them
on purpose: proper nouns written with a character that is also valid in simplified writing
(乾县, a county; 昇腾, a product; 濛溪河, a river; 於梨华, a person). OpenCC's ``t2s`` knows
a few such names as phrases (乾隆) and converts the rest (干县, 升腾, 蒙溪河). A leftover of an
incomplete conversion looks different: its simplified form makes a common word with the
characters next to it (發展 → 发展, 這是 → 这是).

So each stray character ``t2s`` would change is converted only when that evidence is there:
the character it becomes forms, with a neighbour (as ``t2s`` converts that too), a pair that
the Chinese model (:mod:`cleankit.text.plausibility`, counted from government reports) sees
far more often than chance. Pairs that only meet across a word boundary (的干, 和干) fall
below that; a name's pairs (干县, 蒙溪) were never seen. Every decision is returned with
its reason, for provenance.
"""

from __future__ import annotations

from dataclasses import dataclass

from cleankit.text.cjk import is_han
from cleankit.text.plausibility import chinese_model

# How much more often than chance a pair must be seen to be a word (pointwise mutual
# information, natural log): words such as 这是 (3.5), 为了 (3.1), 发展 (4.9) reach it; pairs
# meeting across a word boundary, 的干 (1.1), 和干 (1.1), 在于 (1.4), do not.
WORD_ASSOCIATION = 2.0


@dataclass(frozen=True)
class StrayDecision:
    offset: int
    char: str
    converted: str
    convert: bool
    reason: str

    def to_json(self, text: str) -> dict[str, object]:
        return {
            "char": self.char,
            "as": self.converted,
            "context": text[max(0, self.offset - 4) : self.offset + 5],
            "converted": self.convert,
            "reason": self.reason,
        }


def judge_strays(text: str, converted: str, positions: list[int]) -> list[StrayDecision]:
    """For each offset in ``positions`` (characters ``converted``, the same text through
    ``t2s``, changes), whether to take the conversion."""
    model = chinese_model()
    decisions = []
    for offset in positions:
        new = converted[offset]
        word = None
        for start in (offset - 1, offset):
            if start < 0 or start + 2 > len(converted):
                continue
            pair = converted[start : start + 2]
            if all(is_han(char) for char in pair):
                association = model.association(pair)
                if association is not None and association >= WORD_ASSOCIATION:
                    word = pair
                    break
        if word is not None:
            reason = f"a leftover of traditional script on a simplified page: {word} is a word"
        else:
            reason = f"kept on a simplified page: {new} makes no word with its neighbours (a name)"
        decisions.append(StrayDecision(offset, text[offset], new, word is not None, reason))
    return decisions
