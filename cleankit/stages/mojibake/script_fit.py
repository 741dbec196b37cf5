"""A guessed character must fit the script of the text around it: ``script-fit``.

GBK holds the traditional characters as well as the simplified ones (積, 聽, 醫, 學), and a
GB18030 or GBK decoder one byte out of step makes either, so a character guessed from one
surviving byte of a simplified page may be one only traditional writing uses: ``施地积`` read
as ``施地積``, ``凝聚力`` as ``凝聽力``, ``医保人`` losing to ``医保萬``. The reverse holds in
traditional text (``」之`` is not ``补助`` there). Here the script of the text around a guess
is read from the characters OpenCC would change (``t2s`` changes some: traditional; ``s2t``
changes some and ``t2s`` none: simplified; both or neither: not known), and where it is
known, the candidates only the other script uses are no reading. Where it is not known,
nothing is screened.

Only the other script's forms are screened, not every character OpenCC would convert: a
character is foreign to simplified text when ``t2s`` changes it and GB2312 (the simplified
character set) lacks it (積, 聽; not 乾 or 著, which simplified writing keeps in names and
words), and foreign to traditional text when ``s2t`` changes it and Big5 (the traditional
character set) lacks it (发, 们; not 台, 里 or 干, which traditional writing uses as well).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from cleankit.text.cjk import opencc_converter

SIMPLIFIED = "simplified"
TRADITIONAL = "traditional"
# Characters of context on each side of a guess its script is read from (a sentence or two:
# a window of a few characters often holds none that the two scripts write differently).
CONTEXT = 40


def context_script(text: str) -> str | None:
    """The script ``text`` is written in, as far as its characters tell (None: not known).

    >>> context_script("推进城乡融合发展"), context_script("推進城鄉融合發展"), context_script("中央")
    ('simplified', 'traditional', None)
    """
    to_simplified = opencc_converter("t2s").convert(text) != text
    to_traditional = opencc_converter("s2t").convert(text) != text
    if to_simplified == to_traditional:
        return None
    return TRADITIONAL if to_simplified else SIMPLIFIED


def script_around(text: str, start: int, end: int) -> str | None:
    """The script of the text around ``text[start:end]`` (:data:`CONTEXT` characters each side)."""
    return context_script(text[max(0, start - CONTEXT) : start] + text[end : end + CONTEXT])


# Per script: the OpenCC configuration that changes the other script's forms, and the
# character set of the script.
_FOREIGN_TEST = {SIMPLIFIED: ("t2s", "gb2312"), TRADITIONAL: ("s2t", "big5")}


@lru_cache(maxsize=4096)
def _foreign(script: str, candidates: tuple[str, ...]) -> frozenset[str]:
    """The characters of ``candidates`` only the other script than ``script`` uses."""
    config, charset = _FOREIGN_TEST[script]
    convert = opencc_converter(config).convert
    return frozenset(char for char in candidates if convert(char) != char and not _encodes(char, charset))


def _encodes(char: str, charset: str) -> bool:
    try:
        char.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def fitting(candidates: Iterable[str], script: str | None) -> tuple[str, ...]:
    """``candidates`` without the characters only the other script uses (all of them when
    ``script`` is None).

    >>> fitting("积積发發台", "simplified"), fitting("积積发發台", "traditional")
    (('积', '发', '台'), ('積', '發', '台'))
    """
    kept = tuple(candidates)
    if script is None:
        return kept
    foreign = _foreign(script, kept)
    return tuple(char for char in kept if char not in foreign) if foreign else kept


def fits(char: str, script: str | None) -> bool:
    """Whether ``char`` may stand in text of ``script``."""
    return bool(fitting((char,), script))
