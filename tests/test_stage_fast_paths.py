"""Fast paths of the stages (issue 12, per-document CPU) give what the slow paths give.

Each test runs a fast path and the plain definition it replaces on the same input, and asks
for the same answer: a gate in front of a search, a scan shared by several questions, a
memo. Inputs come from alphabets made of what the paths branch on (punctuation, quotes,
colons, headings, long and short text).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cleankit.stages import reflow
from cleankit.stages.reflow import _HELD, JOIN_SCORE, _Left, ends_sentence, join_score, typical_length

# -- reflow --------------------------------------------------------------------------

REFLOW_PIECES = st.sampled_from(
    [
        "科技创新",
        "发展",
        "，",
        "。",
        "、",
        "：",
        ":",
        "“",
        "”",
        "（",
        "）",
        "「",
        "」",
        "《",
        "》",
        "第一章 ",
        "一、",
        "专栏3",
        "通",
        "过调查研究",
        "abc",
        "2020年",
        "？",
        "！",
        "；",
        ".",
        " ",
        "——",
        "新华社北京12月10日电",
    ]
)
PARAGRAPH = st.lists(REFLOW_PIECES, max_size=40).map("".join)
# Long paragraphs too: the character test switches from one scan to a search per character.
LONG_PARAGRAPH = st.tuples(PARAGRAPH, st.integers(1, 12)).map(lambda pair: pair[0] * pair[1])
PARAGRAPHS = st.lists(st.one_of(PARAGRAPH, LONG_PARAGRAPH), max_size=14)


def _joins_scoring_every_pair(paragraphs: list[str]) -> list[int]:
    """broken_paragraph_joins as it was before its gate: join_score asked of every pair."""
    groups = [[i] for i in range(len(paragraphs))]
    for _ in range(reflow.MAX_PASSES):
        texts = ["".join(paragraphs[i] for i in group) for group in groups]
        endings = [ends_sentence(text) for text in texts]
        typical = typical_length(texts, endings)
        merged: list[list[int]] = []
        left: _Left | None = None
        changed = False
        for group, text, text_ends in zip(groups, texts, endings, strict=True):
            if merged and left is not None and left.length:
                score = join_score(left, text, typical, merged[-1][0] == 0, text_ends)
                if score is not None and score >= JOIN_SCORE:
                    merged[-1].extend(group)
                    left.join(text, text_ends)
                    changed = True
                    continue
            merged.append(group)
            left = _Left(text, text_ends)
        groups = merged
        if not changed:
            break
    return [group[k] for group in groups for k in range(len(group) - 1)]


@settings(max_examples=400, deadline=None)
@given(PARAGRAPHS)
def test_reflow_joins_are_those_of_scoring_every_pair(paragraphs: list[str]) -> None:
    assert reflow.broken_paragraph_joins(paragraphs) == _joins_scoring_every_pair(paragraphs)


@settings(max_examples=400, deadline=None)
@given(st.one_of(PARAGRAPH, LONG_PARAGRAPH), st.sampled_from([*_HELD, reflow.PUNCTUATION]), st.integers(0, 400))
def test_has_any_is_a_search_per_character(text: str, chars: str, end: int) -> None:
    end = min(end, len(text))
    assert reflow._has_any(text, chars) == any(c in text for c in chars)
    assert reflow._has_any(text, chars, end) == any(c in text[:end] for c in chars)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PARAGRAPH, LONG_PARAGRAPH).filter(bool), min_size=1, max_size=5), st.integers(0, 300))
def test_left_ends_read_the_joined_text(pieces: list[str], size: int) -> None:
    left = _Left(pieces[0], ends_sentence(pieces[0]))
    for piece in pieces[1:]:
        left.join(piece, ends_sentence(piece))
    whole = "".join(pieces)
    assert left.tail(size) == (whole[-size:] if size else "")
    probe = whole[-size:] if size else "x"
    assert left.endswith(probe) == whole.endswith(probe)
    assert left.endswith("。" + probe) == whole.endswith("。" + probe)
    for which in range(len(_HELD)):
        assert left.holds(which, but_last_char=True) == any(c in whole[:-1] for c in _HELD[which])
        assert left.holds(which, but_last_char=False) == any(c in whole for c in _HELD[which])
