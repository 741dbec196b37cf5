"""The comparison view of a text: what two copies of one passage have in common.

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

import opencc

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
_converter: opencc.OpenCC | None = None


def _converter_instance() -> opencc.OpenCC:
    global _converter
    if _converter is None:
        _converter = opencc.OpenCC("t2s")
    return _converter


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
        with _lock:
            _prefetch_t2s(list(missing))
            for char in missing:
                _table[ord(char)] = _fold(char)
            _known.update(missing)
    return _table


_known: set[str] = set()


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


def fold_table(text: str) -> dict[int, str | None]:
    """The ``str.translate`` table, complete for every character of ``text``: fold many
    pieces of one text with ``piece.translate(table)`` after a single call."""
    return _ensure(text)


def canonical(text: str) -> str:
    """The comparison view of ``text`` (script, width, case and whitespace folded)."""
    return text.translate(_ensure(text))


def view_positions(text: str) -> list[int]:
    """For each character of ``canonical(text)``, its offset in ``text``."""
    table = _ensure(text)
    return [index for index, char in enumerate(text) if table[ord(char)] is not None]
