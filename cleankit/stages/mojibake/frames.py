"""The byte frames the realignment search reads a shifted run in: GBK and Big5.

A run decoded one byte out of step is re-encoded with the codec that decoded it and read
again one byte over. For simplified text that codec is GBK (GB18030's two-byte part); for
traditional text it may as well be Big5 (``�鬼鴢h。`` is ``為原則。`` read by a Big5 decoder one
byte out of step; ``?_實`` is ``確實`` read by a GBK decoder). A frame gives the search what
depends on the codec: how a character of the run re-encodes, which characters a pair of
bytes makes, and which characters have a given lead or trail byte (the guesses for a
character of which one byte survived).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from cleankit.stages.mojibake.common import WILDCARD
from cleankit.text.plausibility import chinese_model

# Candidates tried for a character of which only one byte survived (the search's first
# guesses; the refinement looks at all of them).
WILDCARD_CANDIDATES = 40
FULLWIDTH_FOLDABLE = "!,:;()?"


class Frame:
    """One codec's byte frame. Frames are module singletons (compared and hashed by identity,
    so they can key the search's memos)."""

    def __init__(self, name: str, codec: str, encode_as: str, question_mark: bytes, screen: bool = False) -> None:
        self.name = name
        self.codec = codec
        # How a run's characters re-encode: GB18030 for the GBK frame (its private-use
        # characters re-encode to the two bytes a GB18030 decoder read them from).
        self.encode_as = encode_as
        self.question_mark = list(question_mark)  # the full-width ？ a '?' may have been folded from
        # Search a run only when it holds a U+FFFD and each of its characters is one this
        # codec decodes to: Big5 decoders (Python's, browsers') mark a byte they cannot place
        # with U+FFFD and write nothing but Big5 characters. A run next to a real question
        # mark is then not searched twice (a page full of them would pay for it).
        self.screen = screen
        self._pairs: dict[int, str] = {}
        self._tables: tuple[dict[int, list[str]], dict[int, list[str]]] | None = None
        self._all: dict[int, tuple[str, ...]] = {}

    def __repr__(self) -> str:
        return f"Frame({self.name})"

    def pair_char(self, lead: int, trail: int) -> str:
        """The character two bytes decode to ("" if none). Full-width forms stay full width
        (the model knows ， not ,); the search folds them in its result."""
        key = (lead << 8) | trail
        char = self._pairs.get(key)
        if char is None:
            try:
                char = bytes([lead, trail]).decode(self.codec)
            except UnicodeDecodeError:
                char = ""
            if len(char) != 1 or char.isascii():
                char = ""
            self._pairs[key] = char
        return char

    def alternatives(self, char: str) -> list[list[int]]:
        """Byte readings of one character of a shifted run ([] if it has none here)."""
        if char in "?\ufffd":
            # A byte the decoder could not place, or a full-width question mark folded to ASCII.
            return [[WILDCARD], self.question_mark] if char == "?" else [[WILDCARD]]
        if char in FULLWIDTH_FOLDABLE:
            return [[ord(char)], list(chr(ord(char) + 0xFEE0).encode(self.codec))]
        try:
            # NFC first: compatibility ideographs (U+F900…) become what hygiene will make of them.
            return [list(unicodedata.normalize("NFC", char).encode(self.encode_as))]
        except UnicodeEncodeError:
            return []

    def tables(self) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
        """The frame's characters by lead byte and by trail byte, most frequent first (the
        first :data:`WILDCARD_CANDIDATES` of each)."""
        if self._tables is None:
            model = chinese_model()
            by_lead: dict[int, list[str]] = {}
            by_trail: dict[int, list[str]] = {}
            for lead in range(0x81, 0xFF):
                for trail in range(0x40, 0xFF):
                    char = self.pair_char(lead, trail)
                    if char:
                        by_lead.setdefault(lead, []).append(char)
                        by_trail.setdefault(trail, []).append(char)
            for table in (by_lead, by_trail):
                for key, chars in table.items():
                    chars.sort(key=model.unigram, reverse=True)
                    table[key] = chars[:WILDCARD_CANDIDATES]
            self._tables = (by_lead, by_trail)
        return self._tables

    def all_candidates(self, byte: int, is_lead: bool) -> tuple[str, ...]:
        """Every character of the frame whose lead (or trail) is ``byte``."""
        key = byte | (0x100 if is_lead else 0)
        found = self._all.get(key)
        if found is None:
            others = range(0x40, 0xFF) if is_lead else range(0x81, 0xFF)
            chars = (self.pair_char(byte, other) if is_lead else self.pair_char(other, byte) for other in others)
            found = self._all[key] = tuple(char for char in chars if char)
        return found

    def may_have_decoded(self, run: str) -> bool:
        """Whether this codec's decoder can have written ``run`` (marks and ASCII aside)."""
        if not self.screen:
            return True
        if "\ufffd" not in run:
            return False
        return all(char in "?\ufffd" or char.isascii() or self.double_byte(char) for char in run)

    @lru_cache(maxsize=4096)  # noqa: B019 - frames are module singletons, never freed
    def double_byte(self, char: str) -> bool:
        """Whether ``char`` is one of the frame's two-byte characters (symbol rows too)."""
        if char.isascii() or char.isspace():
            return False
        try:
            return len(char.encode(self.codec)) == 2
        except UnicodeEncodeError:
            return False


GBK = Frame("gbk", "gbk", "gb18030", "？".encode("gbk"))
BIG5 = Frame("big5", "big5", "big5", "？".encode("big5"), screen=True)
# The frames a run is read in, in order: on a tie the first wins.
FRAMES = (GBK, BIG5)
