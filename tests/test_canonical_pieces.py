"""canonical_pieces (vectorized) folds exactly as canonical() on each piece."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cleankit.stages.paragraphs import paragraph_spans
from cleankit.text.fold import canonical, canonical_pieces, fold_width, view_positions

ALPHABET = "漢字汉字國国，,。.  \n\tAbC「」【】\ufffd\u200b\u00ad①㈠ｆＵＬＬ臺台灣湾\udc80\U00020000"
MIXED = st.text(alphabet=st.sampled_from(list(ALPHABET)), max_size=120)


@given(MIXED)
@settings(max_examples=300, deadline=None)
def test_pieces_equal_per_piece_canonical(text: str) -> None:
    spans = list(paragraph_spans(text))
    assert canonical_pieces(text, spans) == [canonical(text[start:end]) for start, end in spans]


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_any_text_whole_span(text: str) -> None:
    assert canonical_pieces(text, [(0, len(text))]) == [canonical(text)]


def test_characters_never_seen_before_are_folded() -> None:
    text = "\u9fa5\u9fa4 \u4e36"  # rare ideographs: not in the table until now
    assert canonical_pieces(text, [(0, 2), (3, 4), (2, 2)]) == [canonical("\u9fa5\u9fa4"), canonical("\u4e36"), ""]


@given(st.one_of(MIXED, st.text(max_size=60)))
@settings(max_examples=300, deadline=None)
def test_view_positions_are_the_characters_kept(text: str) -> None:
    positions = view_positions(text)
    assert positions == sorted(set(positions))
    assert "".join(canonical(text[i]) for i in positions) == canonical(text)
    dropped = set(range(len(text))) - set(positions)
    assert all(canonical(text[i]) == "" for i in dropped)


def _width_folded(char: str) -> str:
    """fold_width of one character, as its docstring says."""
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0)
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return {"\u3000": " ", "\u2502": "|", "丨": "|", "»": ">", "›": ">"}.get(char, char)


WIDTH_ALPHABET = "\uff00\uff01\uff5e\uff5f\u3000\u2502丨»›\ud800\udfffＡｚ：漢a\n\U0010ffff"


@given(st.text(alphabet=st.sampled_from(list(WIDTH_ALPHABET))) | st.text())
@settings(max_examples=300, deadline=None)
def test_fold_width_folds_each_character_alone(text: str) -> None:
    assert fold_width(text) == "".join(map(_width_folded, text))
