"""The two views cleankit compares text on, never writes out.

- The *canonical view* (:func:`canonical`): what two copies of one passage have in common,
  for finding repeats and near-duplicates.
- The *match view* (:func:`match_view`): what boilerplate rules see, one code point for one.

The canonical view
------------------

Copies of a passage on the web differ in ways that do not change what it says: script
(traditional vs simplified), character width (，vs ,), whitespace, and a character
truncated at a cut (U+FFFD). Deduplication compares texts on a *canonical view* that
folds these away. The view is never written out; it exists to find repeats.

Every character folds to at most one character (a fold that would expand, such as
NFKC's ㈠ -> (一), keeps the character as it is), so the view's positions map back to
the original text by dropping the removed characters only (:func:`view_positions`).
The fold table is built lazily per distinct character and cached, and a whole text is
folded with one ``str.translate`` call.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING

from cleankit.text.cjk import Converter, code_points, opencc_converter
from cleankit.text.small import use_numpy

if TYPE_CHECKING:
    import numpy as np

# Quotes and brackets whose variants NFKC does not fold but copies swap freely.
_EXTRA_FOLDS = {
    "“": '"',
    "”": '"',
    "„": '"',
    "「": '"',
    "」": '"',
    "『": '"',
    "』": '"',
    "‘": "'",
    "’": "'",
    "〔": "[",
    "〕": "]",
    "【": "[",
    "】": "]",
}
_DROPPED = {"\ufffd", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}

_table: dict[int, str | None] = {}
_lock = threading.Lock()


def _converter_instance() -> Converter:
    return opencc_converter("t2s")


def _t2s(char: str) -> str:
    cached = _t2s_cache.get(char)
    return cached if cached is not None else _converter_instance().convert(char)


def _fold(char: str) -> str | None:
    """The canonical form of one character: None (dropped) or exactly one character."""
    if char in _DROPPED or char.isspace():
        return None
    if "\ud800" <= char <= "\udfff":
        return char  # a lone surrogate (JSON Lines input may hold one): OpenCC cannot encode it
    folded = _EXTRA_FOLDS.get(char)
    if folded is not None:
        return folded
    folded = unicodedata.normalize("NFKC", char)
    if len(folded) != 1:
        folded = char
    if folded.isascii():
        return folded.lower()
    simplified = _t2s(folded)
    return simplified if len(simplified) == 1 else folded


def _ensure(text: str) -> dict[int, str | None]:
    missing = set(text) - _known
    if missing:
        _add(missing)
    return _table


def _add(missing: set[str]) -> None:
    with _lock:
        _prefetch_t2s(list(missing))
        for char in missing:
            folded = _fold(char)
            _table[ord(char)] = folded
            if _fold_codes is not None:
                _fold_codes[ord(char)] = _DROPPED_CODE if folded is None else ord(folded)
        _known.update(missing)


_known: set[str] = set()

# The fold table again as one array over all code points, for :func:`canonical_pieces`:
# the code point of a character's fold, _DROPPED_CODE, or _UNKNOWN_CODE (not folded yet).
# Made when numpy is first used (:mod:`cleankit.text.small`), from the folds known by then.
_UNKNOWN_CODE, _DROPPED_CODE = -2, -1
_fold_codes: np.ndarray | None = None


def _codes() -> np.ndarray:
    global _fold_codes
    if _fold_codes is None:
        import numpy as np

        with _lock:
            if _fold_codes is None:
                codes = np.full(0x110000, _UNKNOWN_CODE, dtype=np.int32)
                for code, folded in _table.items():
                    codes[code] = _DROPPED_CODE if folded is None else ord(folded)
                _fold_codes = codes
    return _fold_codes


_t2s_cache: dict[str, str] = {}


def _prefetch_t2s(chars: list[str]) -> None:
    """Convert many single characters in one OpenCC call (a call costs far more than a
    character); newlines keep OpenCC from reading neighbours as one phrase."""
    wanted = [c for c in chars if c not in _t2s_cache and c != "\n" and not "\ud800" <= c <= "\udfff"]
    if len(wanted) < 8:
        return
    converted = _converter_instance().convert("\n".join(wanted)).split("\n")
    if len(converted) == len(wanted):
        _t2s_cache.update(zip(wanted, converted, strict=True))


def canonical(text: str) -> str:
    """The comparison view of ``text`` (script, width, case and whitespace folded)."""
    return text.translate(_ensure(text))


def canonical_pieces(text: str, spans: Iterable[tuple[int, int]]) -> list[str]:
    """``canonical(text[start:end])`` for each span, folded in one vectorized pass over the
    whole text: a ``str.translate`` per paragraph looks every character up in a dict, and a
    ``set(text)`` per call finds the characters not folded yet. A small text without numpy
    (:mod:`cleankit.text.small`) is folded a piece at a time with ``str.translate``."""
    if not use_numpy(len(text)):
        table = _ensure(text)
        return [text[start:end].translate(table) for start, end in spans]
    import numpy as np

    fold_codes = _codes()
    points = code_points(text)
    codes = fold_codes[points]
    unknown = codes == _UNKNOWN_CODE
    if unknown.any():
        _add(set(map(chr, points[unknown].tolist())))
        codes = fold_codes[points]
    kept = codes >= 0
    folded = codes[kept].astype(np.uint32).tobytes().decode("utf-32-le", errors="surrogatepass")
    spans = list(spans)
    if not spans:
        return []
    if spans == [(0, len(text))]:  # the whole text (near-duplicate signatures and views)
        return [folded]
    # Offset in ``folded`` of each span's start and end (only those leave numpy).
    at = np.concatenate(([0], np.cumsum(kept)))
    bounds = at[np.array(spans, dtype=np.int64).ravel()].tolist()
    return [folded[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]


def view_positions(text: str) -> list[int]:
    """For each character of ``canonical(text)``, its offset in ``text`` (every character
    folds to one character or is dropped, so these are the offsets of those not dropped)."""
    table = _ensure(text)
    if not use_numpy(len(text)):
        return [offset for offset, char in enumerate(text) if table[ord(char)] is not None]
    import numpy as np

    points = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
    return np.flatnonzero(_codes()[points] != _DROPPED_CODE).tolist()


# --- the match view ----------------------------------------------------------------------
# Lines as boilerplate rules see them: width folded and traditional converted, but nothing
# dropped and no line break moved, so a rule's verdict is about one original line.

# Besides the full-width block U+FF01..U+FF5E (→ ASCII), these fold too:
_MATCH_FOLDS = {
    0x3000: 0x20,  # ideographic space
    0x2502: ord("|"),  # box-drawing bar, used as a separator
    0x4E28: ord("|"),  # 丨, used as a separator in menus and breadcrumbs
    0x00BB: ord(">"),  # »
    0x203A: ord(">"),  # ›
}


def fold_width(text: str) -> str:
    """Full-width forms to ASCII (ＡＢ：→AB:) and a few separators to their ASCII look-alikes,
    lone surrogates to U+FFFD, one code point for one. Vectorized: ``str.translate`` with a mapping runs at ~10 MB/s on
    Chinese text, this at several hundred."""
    if not text:
        return text
    if not use_numpy(len(text)):
        return text.translate(_width_map())
    import numpy as np

    codes = _width_table()[np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)]
    return codes.tobytes().decode("utf-32-le", errors="surrogatepass")


@cache
def _width_table() -> np.ndarray:
    """What :func:`fold_width` makes of every code point, as one array (4.4 MB, once per
    process): a text is folded with one lookup per character instead of a pass per fold."""
    import numpy as np

    table = np.arange(0x110000, dtype=np.uint32)
    for source, target in _width_map().items():
        table[source] = target
    return table


@cache
def _width_map() -> dict[int, int]:
    """The code points :func:`fold_width` changes, and what it makes of each."""
    folds = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
    # Lone surrogates (JSON Lines input can carry them) cannot go through OpenCC: U+FFFD in the view.
    folds.update(dict.fromkeys(range(0xD800, 0xE000), 0xFFFD))
    folds.update(_MATCH_FOLDS)
    return folds


def match_view(text: str) -> str:
    """What rules see: width-folded (ＡＢ：→AB:), traditional to simplified (for matching only)."""
    return _converter_instance().convert(fold_width(text))


def match_views(lines: Sequence[str]) -> list[str]:
    """:func:`match_view` of many lines with one OpenCC call (a call per line costs ~20 % more)."""
    if not lines:
        return []
    joined = match_view("\n".join(lines))
    views = joined.split("\n")
    if len(views) != len(lines):  # OpenCC never changes line breaks, but never trust, check
        views = [match_view(line) for line in lines]
    return views
