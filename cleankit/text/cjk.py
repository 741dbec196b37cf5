"""Character classes of Chinese text shared by the script, punctuation and reflow stages,
and the script variants cleankit converts to.

numpy and OpenCC are imported where they are used, so that reading these constants (the
command line does, for its help text) loads neither.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# Target scripts of the script stage and the OpenCC configuration of each (None: no conversion).
SCRIPT_TARGETS: dict[str, str | None] = {
    "simplified": "t2s.json",
    "traditional": "s2t.json",
    "tw": "s2tw.json",
    "hk": "s2hk.json",
    "keep": None,
}

# Han ideographs: CJK Unified Ideographs, Extension A, compatibility ideographs, and the
# supplementary-plane extensions (B onwards).
HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
HAN = f"[{HAN_RANGES}]"

# Full-width punctuation that only occurs in CJK text.
CJK_PUNCTUATION = "，。、；：？！“”‘’（）《》〈〉【】「」『』〔〕〖〗…—～·﹏"

# Sentence-final punctuation: a paragraph ending in one of these ends a sentence.
SENTENCE_FINAL = "。！？!?…；;."
# Full stops of Chinese text: one inside a paragraph means it holds a whole sentence.
FULL_STOPS = "。！？"
# Closing marks that may follow sentence-final punctuation (。” / ！）).
CLOSERS = "”’」』）)》〉】〕\"'"
# Punctuation inside a sentence: a paragraph ending in one of these is cut mid-sentence.
CLAUSE_PUNCTUATION = "，、,"
OPENERS = "“‘「『（(《〈【〔"


def is_han(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x3134F
    )


def is_chinese(char: str) -> bool:
    """A Han character or a punctuation mark that belongs to Chinese text."""
    return is_han(char) or char in CJK_PUNCTUATION


# The same blocks as HAN_RANGES, as code point ranges.
HAN_BLOCKS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F))


def code_points(text: str) -> np.ndarray:
    """The text's code points as an array (lone surrogates included)."""
    import numpy as np

    return np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)


def han_count(text: str) -> int:
    """Number of Han characters, vectorised: a Python loop over characters is 20x slower."""
    import numpy as np

    points = code_points(text)
    return int(sum(np.count_nonzero((points >= low) & (points <= high)) for low, high in HAN_BLOCKS))


class Converter:
    """An OpenCC converter that also takes text holding lone surrogates.

    OpenCC encodes its input as UTF-8, which has no form for a lone surrogate, and JSON Lines
    input (``"\\ud800"``) or bytes read with ``surrogateescape`` can carry one; the call then
    raises and the whole document would fail. Such text is converted around its surrogates,
    which stay where they were (a surrogate also ends any phrase OpenCC would match across it).

    >>> Converter("t2s").convert("電腦\\ud800軟體")
    '电脑\\ud800软体'
    """

    __slots__ = ("_opencc",)

    def __init__(self, config: str) -> None:
        import opencc

        self._opencc: opencc.OpenCC = opencc.OpenCC(config)

    def convert(self, text: str) -> str:
        try:
            return self._opencc.convert(text)
        except UnicodeEncodeError:  # only a lone surrogate cannot be encoded as UTF-8
            # The split's capturing group puts the surrogate runs at the odd indices.
            pieces = _SURROGATE_RUN.split(text)
            pieces[::2] = [self._opencc.convert(piece) for piece in pieces[::2]]
            return "".join(pieces)


_SURROGATE_RUN = re.compile("([\ud800-\udfff]+)")


@cache
def opencc_converter(config: str) -> Converter:
    """One OpenCC converter per configuration and process: loading its dictionaries is the
    cost, so every stage that converts (script, boilerplate matching, dedup's view) shares it."""
    return Converter(config)
