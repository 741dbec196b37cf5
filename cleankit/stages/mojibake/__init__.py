"""Mojibake: text that was decoded with the wrong codec before it reached us.

Runs before hygiene (hygiene would delete the C1 characters a Latin-1 misreading leaves).
Each kind of damage is its own rule, applied as its own step, so each shows in provenance
with its before/after text and each can be switched off with ``[stage.mojibake]`` options:

* ``utf8-as-latin1``  UTF-8 read as Latin-1/cp1252, also twice (``å¹¿è¥¿`` -> 广西): ftfy,
  with the settings that leave Chinese punctuation alone, on the spans a cheap regex finds.
* ``gbk-as-latin1``   GBK read as Latin-1/cp1252 (``¹ãÎ÷`` -> 广西).
* ``utf8-as-gbk``     UTF-8 read as GBK/GB18030 (``鍒涙柊`` -> 创新).
* ``gbk-as-utf8``     GBK read as UTF-8 with ``surrogateescape`` (lone surrogates in the text).
* ``byte-shift``      GBK/GB18030 bytes decoded one byte out of step, usually next to a ``?``
  where a byte was lost (``?!斗桨浮沸?`` -> ``。《方案》…``): the run is re-encoded, realigned
  by a search that may assume lost bytes, and kept only when it reads as better Chinese.
* ``replacement-char`` a lone U+FFFD ending a paragraph (a multi-byte character cut at a
  chunk boundary) is removed; other U+FFFD runs are flagged.
* ``debris``          ``锟斤拷`` (U+FFFD bytes read as GBK) and ``烫烫烫``/``屯屯屯`` (uninitialised
  memory) are flagged.

Every repair must read as better Chinese under :mod:`cleankit.text.plausibility` by a margin;
text that already reads well is never touched. What cannot be recovered is flagged
(``document.flag``) and removed only when ``remove_unrecoverable`` is set.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import ftfy
import ftfy.bad_codecs

from cleankit.core.document import Document, Edit
from cleankit.core.stage import register_stage
from cleankit.stages.hygiene import CONTROL_CHARS, INVISIBLES
from cleankit.text.plausibility import ChineseModel, chinese_model

# ftfy with only its encoding repairs: its defaults fold full-width punctuation and curly
# quotes, which are correct in Chinese text (measured: ftfy's defaults change 88 % of clean
# Chinese government documents).
FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    remove_control_chars=False,
    fix_c1_controls=False,
    normalization=None,
    explain=False,
)

# Characters a Latin-1/cp1252 misreading of multi-byte text is made of.
_LATIN_MOJIBAKE_CHAR = (
    "[\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
# Control and zero-width characters hygiene deletes later may sit inside a run; they are
# dropped with the repair, so that cleaning clean output changes nothing.
_INVISIBLE = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u2060\ufeff]"
# Characters hygiene turns into a space or a line break, splitting a run in two.
HYGIENE_SEPARATORS = re.compile("[\xa0\x0b\x0c\x85]")
PIECE = re.compile("[^\xa0\x0b\x0c\x85]+")
INVISIBLE = re.compile(_INVISIBLE)
# Decomposed accents (U+0300-036F) count too: hygiene's NFC composes them later.
_LATIN_UNIT = f"(?:{_LATIN_MOJIBAKE_CHAR}[\u0300-\u036f]*|[A-Za-z][\u0300-\u036f]+)"
LATIN_MOJIBAKE_RUN = re.compile(f"{_LATIN_UNIT}(?:{_INVISIBLE}*{_LATIN_UNIT})+")
# GBK read as Latin-1: high characters, and the trail bytes that are ASCII (0x40-0x7E).
# The ASCII trail bytes other than letters: with [A-Za-z] in both alternatives of the
# repeat the engine could take a letter either way (regex_safety refuses that shape);
# _LATIN_UNIT | [\x40-\x7e] is exactly the three disjoint alternatives below.
_GBK_LATIN_UNIT = f"(?:{_LATIN_MOJIBAKE_CHAR}[\u0300-\u036f]*|[A-Za-z][\u0300-\u036f]*|[\x40\x5b-\x60\x7b-\x7e])"
GBK_LATIN_RUN = re.compile(f"{_LATIN_UNIT}(?:{_INVISIBLE}*{_GBK_LATIN_UNIT})+")
# No-break spaces are common in correct crawled text; a misreading has other high Latin-1.
LATIN_HINT = re.compile(
    "[\u0080-\u009f\u00a1-\u00ff\u0300-\u036f\u20ac\u201a\u0192\u201e\u2020\u2021\u02c6\u2030\u0160"
    "\u2039\u0152\u017d\u2122\u0161\u203a\u0153\u017e\u0178]"
)
TELLING_LATIN = re.compile(
    "[\u0080-\u009f\u00a1-\u00ff\u20ac\u201a\u0192\u201e\u2020\u2021\u02c6\u2030\u0160\u2039\u0152"
    "\u017d\u2122\u0161\u203a\u0153\u017e\u0178]"
)
# GBK read as UTF-8 with surrogateescape: undecodable bytes became lone surrogates, byte
# pairs that happened to be valid UTF-8 became other characters; ASCII below 0x40 is never
# part of a GBK double-byte character.
SURROGATE = re.compile("[\udc80-\udcff]")
NOT_GBK_PART = re.compile("[^\x00-\x3f\\s]+")
# UTF-8 read as GBK: non-ASCII characters, with '?'/U+FFFD where a byte had no GBK reading.
UTF8_AS_GBK_RUN = re.compile(r"(?:[^\x00-\x7f\s]|\?){2,}")
REPLACEMENT_RUN = re.compile("\ufffd+")
# One U+FFFD right after text and right before the end of its line (what hygiene deletes
# may sit between): the last character of a chunk, cut inside its bytes.
TRUNCATED_CHAR = re.compile(
    "(?<=[^\\s\ufffd])\ufffd"
    "(?=(?:[^\\S\n\r\x0b\x0c\x85\u2028\u2029]|[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u180e\u200b\u2060\ufeff])*"
    "(?:[\n\r\x0b\x0c\x85\u2028\u2029]|\\Z))"
)
DEBRIS = re.compile("(?:锟斤拷)+锟?|锟斤|烫{3,}|屯{3,}")
# A '?' or U+FFFD touching a CJK character: where a byte-shift run starts or ends.
SHIFT_ANCHOR = re.compile(
    r"(?<=[\u3000-\u9fff\uf900-\ufaff\uff00-\uffef])[?\ufffd]"
    r"|[?\ufffd](?=[!?\u3000-\u9fff\uf900-\ufaff\uff00-\uffef])"
)
# Characters a shifted run is made of: CJK, full-width forms folded to ASCII, stray trail bytes.
SHIFT_RUN_CHAR = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef?!A-Za-z\ufffd]")
# Where a shifted run may end: a lost byte ('?', U+FFFD) or a trail byte read as ASCII.
SHIFT_RUN_END = frozenset("?\ufffdABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
FULLWIDTH_FOLDABLE = "!,:;()?"

# A repair must improve the mean log-probability per character by at least this much,
# and reach this level (ordinary Chinese scores -4 to -8; debris -13 and below).
MIN_GAIN = 2.0
PLAUSIBLE_CHINESE = -13.5
# Byte-shift search: cost of assuming a lost byte, beam width, longest run looked at.
LOST_BYTE_COST = 4.0
BEAM = 16
SHIFT_WINDOW = 24
# A byte known to have been there, whose value was lost.
WILDCARD = -1
# Cost (nats) of assuming a lost UTF-8 continuation byte other than 0x80.
UNLIKELY_BYTE_COST = 3.0
# Characters a realigned run must decode from complete byte pairs to count as repaired.
MIN_DECODED = 3
# Candidates tried for a character of which only one byte survived.
WILDCARD_CANDIDATES = 40


@register_stage("mojibake", order=10)
@dataclass
class MojibakeStage:
    name: str = "mojibake"
    utf8_as_latin1: bool = True
    gbk_as_latin1: bool = True
    utf8_as_gbk: bool = True
    gbk_as_utf8: bool = True
    byte_shift: bool = True
    replacement_char: bool = True
    debris: bool = True
    # Remove what cannot be recovered (debris, U+FFFD runs, lost characters) instead of flagging it.
    remove_unrecoverable: bool = False

    def run(self, document: Document) -> Document:
        model = chinese_model()
        if self.gbk_as_utf8 and SURROGATE.search(document.text):
            document.apply(self.name, _surrogate_edits(document.text, model))
        # Cheap pre-filter (C speed): a misreading leaves at least two telling characters.
        if (self.utf8_as_latin1 or self.gbk_as_latin1) and len(LATIN_HINT.findall(document.text)) >= 2:
            document.apply(self.name, self._latin_edits(document.text, model, "utf8-as-latin1"))
            document.apply(self.name, self._latin_edits(document.text, model, "gbk-as-latin1"))
        if self.utf8_as_gbk:
            document.apply(self.name, _utf8_as_gbk_edits(document.text, model))
        if self.byte_shift and ("?" in document.text or "\ufffd" in document.text):
            edits, lost = _byte_shift_edits(document.text, model)
            document.apply(self.name, edits)
            for start, end in _positions_after(edits, lost):
                document.flag(self.name, "byte-shift", start, end, "character guessed from one surviving byte")
        if self.debris:
            self._debris(document)
        if self.replacement_char and "\ufffd" in document.text:
            self._replacement_chars(document)
        return document

    def _latin_edits(self, text: str, model: ChineseModel, rule: str) -> list[Edit]:
        if (rule == "utf8-as-latin1" and not self.utf8_as_latin1) or (
            rule == "gbk-as-latin1" and not self.gbk_as_latin1
        ):
            return []
        fix = _fix_utf8_as_latin1 if rule == "utf8-as-latin1" else _fix_gbk_as_latin1
        edits = []
        runs = LATIN_MOJIBAKE_RUN if rule == "utf8-as-latin1" else GBK_LATIN_RUN
        cursor = 0
        # A run starts with a telling character (a lead byte read as Latin-1): try only there.
        for hint in LATIN_HINT.finditer(text):
            start = hint.start()
            if "\u0300" <= text[start] <= "\u036f" and start > 0:
                start -= 1  # a decomposed accent: its run starts at the base letter
            if start < cursor:
                continue
            match = runs.match(text, start)
            if match is None:
                continue
            if rule == "utf8-as-latin1":
                # Whole runs only, starting with a UTF-8 lead byte (C2-F4): a stretch of GBK
                # read as Latin-1 holds valid UTF-8 by chance (æ¡£ is 档).
                cursor = match.end()
                if not "\xc2" <= text[start] <= "\xf4":
                    continue
            pieces = [(match.start(), match.group())]
            repaired = _repair_latin_piece(match.group(), fix, model)
            if repaired is None and HYGIENE_SEPARATORS.search(match.group()):
                # Hygiene turns these into a space or a break; the pieces between must repair
                # alike now and on a second run over the clean text.
                pieces = [(match.start() + m.start(), m.group()) for m in PIECE.finditer(match.group())]
            for start, old in pieces:
                new = repaired if old == match.group() else _repair_latin_piece(old, fix, model)
                if new is not None:
                    edits.append(Edit("", rule, start, start + len(old), old, new, f"{rule} mojibake re-decoded"))
                    # GBK: only a repaired run is passed over; a run that failed may hold a
                    # shorter one further on (after a byte hygiene deletes, say).
                    cursor = max(cursor, start + len(old))
        return edits

    def _debris(self, document: Document) -> None:
        text = document.text
        if "锟" not in text and "烫烫烫" not in text and "屯屯屯" not in text:
            return
        matches = list(DEBRIS.finditer(text))
        if self.remove_unrecoverable:
            document.apply(
                self.name,
                [Edit("", "debris", m.start(), m.end(), m.group(), "", "decoding debris removed") for m in matches],
            )
            return
        for match in matches:
            document.flag(self.name, "debris", match.start(), match.end(), "decoding debris (锟斤拷/烫烫烫)")

    def _replacement_chars(self, document: Document) -> None:
        text = document.text
        truncated = {m.start() for m in TRUNCATED_CHAR.finditer(text)}
        edits = []
        for match in REPLACEMENT_RUN.finditer(text):
            start, end = match.span()
            if start in truncated or self.remove_unrecoverable:
                reason = "character cut at a chunk boundary" if start in truncated else "undecodable bytes removed"
                edits.append(Edit("", "replacement-char", start, end, match.group(), "", reason))
            else:
                document.flag(self.name, "replacement-char", start, end, "undecodable bytes (U+FFFD)")
        document.apply(self.name, edits)


def _repair_latin_piece(old: str, fix, model: ChineseModel) -> str | None:
    """The repaired text of one Latin-1-looking run, or None when it is not mojibake."""
    visible = unicodedata.normalize("NFC", INVISIBLE.sub("", old))
    # What hygiene would leave (it deletes C1 controls and soft hyphens) must not repair
    # differently on a second run: that reading is tried too.
    for reading in dict.fromkeys([visible, INVISIBLES.sub("", CONTROL_CHARS.sub("", visible))]):
        if len(TELLING_LATIN.findall(reading)) < 2:
            continue
        new = fix(reading)
        # A strict UTF-8 decode (ftfy) is strong evidence by itself; a GBK reading of two
        # Latin-1 letters is not, so it must also read as Chinese outright.
        floor = PLAUSIBLE_CHINESE if fix is _fix_gbk_as_latin1 else -math.inf
        if new and new != reading and _reads_better(model, reading, new, floor=floor):
            return new
    return None


def _reads_better(
    model: ChineseModel, old: str, new: str, gain: float = MIN_GAIN, floor: float = PLAUSIBLE_CHINESE
) -> bool:
    """The repair reads better by ``gain`` per character, and reads as Chinese at all."""
    score = model.score(new)
    return score >= model.score(old) + gain and score > floor


def _fix_utf8_as_latin1(span: str) -> str | None:
    """ftfy first; for short runs its heuristics hold back, so a strict re-decode (the same
    operation, without the guessing) is tried after it, once more for double encoding."""
    fixed = ftfy.fix_text(span, FTFY_CONFIG)
    if fixed == span:
        for _ in range(2):
            try:
                fixed = fixed.encode("sloppy-windows-1252").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                break
    # A complete repair into CJK text only (a Cyrillic or Latin result is a coincidence).
    if fixed == span or any((not c.isascii() and c < "\u2000") or c == "\ufffd" for c in fixed):
        return None
    return fixed


def _fix_gbk_as_latin1(span: str) -> str | None:
    for codec in ("latin-1", "cp1252"):
        try:
            fixed = span.encode(codec).decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        # Every byte pair must have become CJK text: a Latin word never reads this way.
        return fixed if all(ord(c) >= 0x2000 for c in fixed) else None
    return None


def _surrogate_edits(text: str, model: ChineseModel) -> list[Edit]:
    """GBK bytes decoded as UTF-8 with surrogateescape: the bytes are still there."""
    edits = []
    for match in NOT_GBK_PART.finditer(text):
        old = match.group()
        if not SURROGATE.search(old):
            continue
        try:
            new = old.encode("utf-8", errors="surrogateescape").decode("gb18030")
        except UnicodeDecodeError:
            continue
        if new != old and _reads_better(model, old, new):
            edits.append(Edit("", "gbk-as-utf8", match.start(), match.end(), old, new, "GBK bytes read as UTF-8"))
    return edits


@lru_cache(maxsize=1)
def _utf8_lead_chars() -> frozenset[str]:
    """Characters whose GBK bytes are a UTF-8 lead byte of a CJK character or punctuation
    (E2-E9) and a continuation byte: where UTF-8 read as GBK starts. Rare in real text."""
    chars = set()
    for lead in range(0xE2, 0xEA):
        for trail in range(0x80, 0xC0):
            try:
                chars.add(bytes([lead, trail]).decode("gbk"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


def _utf8_as_gbk_edits(text: str, model: ChineseModel) -> list[Edit]:
    edits = []
    cursor = 0
    for lead in _utf8_lead_pattern().finditer(text):
        start = lead.start()
        if start < cursor:
            continue
        run = UTF8_AS_GBK_RUN.match(text, start)
        if run is None:
            continue
        found = _longest_utf8_reading(run.group(), 0, model)
        if found is None:
            continue
        end, new = found
        old = text[start : start + end]
        if _reads_better(model, old, new, floor=-math.inf):
            edits.append(Edit("", "utf8-as-gbk", start, start + end, old, new, "UTF-8 read as GBK"))
            cursor = start + end
    return edits


@lru_cache(maxsize=1)
def _utf8_lead_pattern() -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(c) for c in sorted(_utf8_lead_chars())) + "]")


def _longest_utf8_reading(chars: str, start: int, model: ChineseModel) -> tuple[int, str] | None:
    """The longest span from ``start`` whose GB18030 bytes read as UTF-8 (>= 2 characters).

    A U+FFFD or '?' in the span is a byte the GBK decoder could not place (UTF-8 bytes such
    as 0x80 are no GBK lead byte): it stands for one unknown byte, filled in with the value
    that reads best (a continuation byte has 64 candidates, a lead byte 6).
    """
    data: list[int] = []
    boundaries = {0: 0}  # byte offset -> characters of ``chars`` consumed
    for count, char in enumerate(chars[start : start + 400], start=1):
        if char in "\ufffd?":
            data.append(WILDCARD)
        else:
            try:
                data.extend(char.encode("gb18030"))
            except UnicodeEncodeError:
                break
        boundaries[len(data)] = count
    decoded: list[str] = []
    best: tuple[int, str] | None = None
    position = 0
    while position < len(data):
        step = _next_utf8_char(data, position, decoded[-1] if decoded else None, model)
        if step is None:
            break
        char, position = step
        decoded.append(char)
        if position in boundaries and len(decoded) >= 2:
            best = (start + boundaries[position], "".join(decoded))
    return best


def _next_utf8_char(
    data: list[int], position: int, previous: str | None, model: ChineseModel
) -> tuple[str, int] | None:
    """Decode one UTF-8 character (2 or 3 bytes); unknown bytes are filled in by the model.

    Inside a run an unknown continuation byte is almost always 0x80, the one continuation
    byte that is no GBK lead byte; other values stay possible at a cost (a byte before an
    ASCII character), and only one byte per character may be other than 0x80.
    """
    lead = data[position]
    if lead == WILDCARD:
        size, leads = 3, list(range(0xE4, 0xEA))
    elif 0xE0 <= lead <= 0xEF:
        size, leads = 3, [lead]
    elif 0xC2 <= lead <= 0xDF:
        size, leads = 2, [lead]
    else:
        return None
    tail = data[position + 1 : position + size]
    if len(tail) < size - 1 or any(b != WILDCARD and not 0x80 <= b <= 0xBF for b in tail):
        return None
    unknown = (lead == WILDCARD) + tail.count(WILDCARD)
    if unknown > 2 or (unknown == 2 and lead == WILDCARD):
        return None
    best: tuple[float, str] | None = None
    for first in leads:
        for rest in _continuations(tail, unknown, free_last=position + size == len(data)):
            try:
                char = bytes([first, *rest]).decode("utf-8")
            except UnicodeDecodeError:
                continue
            unlikely = sum(1 for b, t in zip(rest, tail, strict=True) if t == WILDCARD and b != 0x80)
            if position + size == len(data):
                unlikely = 0  # the last byte of a run: a lead whose ASCII trail GBK refused
            cost = UNLIKELY_BYTE_COST * unlikely
            score = model.logp(previous, char) - cost
            if best is None or score > best[0]:
                best = (score, char)
    return (best[1], position + size) if best else None


def _continuations(tail: list[int], unknown: int, free_last: bool) -> list[list[int]]:
    """Byte values for the continuation bytes of one character, unknown ones filled in."""
    options = [[b] if b != WILDCARD else list(range(0x80, 0xC0)) for b in tail]
    combos: list[list[int]] = [[]]
    for index, choices in enumerate(options):
        if len(choices) > 1 and unknown == 2 and index == 0:
            choices = [0x80]  # two unknown bytes: the first is the 0x80 that GBK could not read
        elif len(choices) > 1 and not free_last and index == len(options) - 1 and unknown == 1:
            choices = list(range(0x80, 0xC0))
        combos = [[*combo, value] for combo in combos for value in choices]
    return combos


# ---- byte-shift realignment -------------------------------------------------------------


@lru_cache(maxsize=1)
def _gbk_tables() -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """GBK characters by lead byte and by trail byte, most frequent first."""
    model = chinese_model()
    by_lead: dict[int, list[str]] = {}
    by_trail: dict[int, list[str]] = {}
    for lead in range(0x81, 0xFF):
        for trail in range(0x40, 0xFF):
            if trail == 0x7F:
                continue
            try:
                char = bytes([lead, trail]).decode("gbk")
            except UnicodeDecodeError:
                continue
            by_lead.setdefault(lead, []).append(char)
            by_trail.setdefault(trail, []).append(char)
    for table in (by_lead, by_trail):
        for key, chars in table.items():
            chars.sort(key=model.unigram, reverse=True)
            table[key] = chars[:WILDCARD_CANDIDATES]
    return by_lead, by_trail


def _char_alternatives(char: str) -> list[list[int]]:
    """Byte readings of one character of a shifted run."""
    if char in "?\ufffd":
        # A byte the decoder could not place, or a full-width question mark folded to ASCII.
        return [[WILDCARD], [0xA3, 0xBF]] if char == "?" else [[WILDCARD]]
    if char in FULLWIDTH_FOLDABLE:
        return [[ord(char)], list(chr(ord(char) + 0xFEE0).encode("gbk"))]
    try:
        # NFC first: compatibility ideographs (U+F900…) become what hygiene will make of them.
        return [list(unicodedata.normalize("NFC", char).encode("gb18030"))]
    except UnicodeEncodeError:
        return []


@dataclass(slots=True)
class _Path:
    score: float
    text: str
    pending: int | None  # a lead byte waiting for its trail (WILDCARD: a lost lead)
    lost: tuple[int, ...]  # indexes in ``text`` of characters guessed from one byte
    pairs: int = 0  # characters decoded from two surviving bytes: the evidence of a shift


# Guesses for a character of which one byte survived: the best few by left context; the
# beam keeps them apart so that the right context decides.
GUESS_BRANCHES = 3


def _realign_prefixes(chars: str, cuts: list[int], search: _Search) -> dict[int, list[_Path]]:
    """Best readings of ``chars[:cut]`` for every ``cut``, re-encoded as GBK and decoded in
    the other byte frame.

    The beam after k characters does not depend on where the run will be cut, so one pass
    over the longest prefix serves every cut (instead of one search per cut)."""
    results: dict[int, list[_Path]] = {}
    wanted = set(cuts)
    paths = [_Path(0.0, "", None, ())]
    for count, char in enumerate(chars[: max(cuts, default=0)], start=1):
        alternatives = _char_alternatives(char)
        if not alternatives:
            break  # no prefix reaching past here has a reading
        grown: list[_Path] = []
        for path in paths:
            for alternative in alternatives:
                grown.extend(search.feed(path, alternative))
        if not grown:
            break
        grown.sort(key=lambda p: p.score, reverse=True)
        paths = _dedupe(grown)[:BEAM]
        if count in wanted:
            results[count] = _finish(paths, search)
    return results


def _finish(paths: list[_Path], search: _Search) -> list[_Path]:
    """Close the readings at the end of a prefix (a pending lead byte lost its trail)."""
    finished = []
    for path in paths:
        if path.pending is None:
            finished.append(path)
        elif path.pending == WILDCARD:  # a lost byte with nothing after it
            finished.append(_Path(path.score - LOST_BYTE_COST, path.text, None, path.lost, path.pairs))
        else:
            finished.extend(search.lost_trail(path, path.pending))
    return sorted(finished, key=lambda p: p.score, reverse=True)[:BEAM]


def _dedupe(paths: list[_Path]) -> list[_Path]:
    seen = set()
    unique = []
    for path in paths:
        key = (path.text[-2:], path.pending)
        if key in seen:
            continue
        seen.add(key)
        unique.append(path)
    return unique


# Best guesses per (previous character, candidate list), each with its folded form and that
# form's log-probability: the same ones recur within a search and from one search to the
# next, and emitting them needs no rescoring. Kept per model (the entry holds the model, so
# a recycled id cannot pick up another model's rankings); the candidate lists are the
# permanent ones of _gbk_tables, so their ids are stable.
_RANKED: dict[int, tuple[ChineseModel, dict[tuple[str | None, int], list[tuple[str, float]]]]] = {}
RANKED_KEPT = 1 << 16


def _ranked_guesses(model: ChineseModel) -> dict[tuple[str | None, int], list[tuple[str, float]]]:
    entry = _RANKED.get(id(model))
    if entry is None or entry[0] is not model:
        entry = _RANKED[id(model)] = (model, {})
    if len(entry[1]) >= RANKED_KEPT:
        entry[1].clear()  # bounded memory over a long crawl
    return entry[1]


class _Search:
    """Transitions of the realignment search: each consumes one byte of the re-encoded run."""

    def __init__(self, before: str, model: ChineseModel) -> None:
        self.before = before
        self.model = model
        self.by_lead, self.by_trail = _gbk_tables()
        self._ranked = _ranked_guesses(model)

    def _previous(self, path: _Path) -> str | None:
        return path.text[-1] if path.text else (self.before or None)

    def emit(self, path: _Path, char: str, lost: bool = False, pair: bool = False) -> _Path:
        return self._emit_scored(path, char, self.model.logp(self._previous(path), char), lost, pair)

    def _emit_scored(self, path: _Path, char: str, logp: float, lost: bool = False, pair: bool = False) -> _Path:
        score = path.score + logp - (LOST_BYTE_COST if lost else 0.0)
        return _Path(
            score,
            path.text + char,
            None,
            (*path.lost, len(path.text)) if lost else path.lost,
            path.pairs + (1 if pair else 0),
        )

    def guesses(self, path: _Path, candidates: list[str]) -> list[_Path]:
        previous = self._previous(path)
        key = (previous, id(candidates))
        ranked = self._ranked.get(key)
        if ranked is None:
            best = sorted(candidates, key=lambda c: self.model.logp(previous, c), reverse=True)[:GUESS_BRANCHES]
            folded = [_fold_fullwidth(char) for char in best]
            ranked = [(char, self.model.logp(previous, char)) for char in folded]
            self._ranked[key] = ranked
        return [self._emit_scored(path, char, logp, lost=True) for char, logp in ranked]

    def start(self, path: _Path, byte: int) -> list[_Path]:
        """``byte`` arrives with nothing pending."""
        if byte == WILDCARD:
            return [_Path(path.score, path.text, WILDCARD, path.lost, path.pairs)]
        if byte < 0x80:
            options = [self.emit(path, chr(byte))]
            if byte in self.by_trail:  # an ASCII-range trail byte whose lead was lost
                options.extend(self.guesses(path, self.by_trail[byte]))
            return options
        options = [_Path(path.score, path.text, byte, path.lost, path.pairs)]
        if byte in self.by_trail:  # ... or it is a trail whose lead was lost
            options.extend(self.guesses(path, self.by_trail[byte]))
        return options

    def lost_trail(self, path: _Path, lead: int, then: int | None = None) -> list[_Path]:
        """The pending lead byte lost its trail; ``then`` (if any) starts afresh."""
        if lead not in self.by_lead:
            return []
        closed = self.guesses(path, self.by_lead[lead])
        if then is None:
            return closed
        return [option for p in closed for option in self.start(p, then)]

    def feed(self, path: _Path, data: list[int]) -> list[_Path]:
        """Every way of extending ``path`` by the bytes ``data``."""
        paths = [path]
        for byte in data:
            nxt: list[_Path] = []
            for p in paths:
                if p.pending is None:
                    nxt.extend(self.start(p, byte))
                elif p.pending == WILDCARD:
                    if byte != WILDCARD and byte in self.by_trail:
                        nxt.extend(self.guesses(p, self.by_trail[byte]))
                elif byte == WILDCARD:  # the trail of the pending lead is the lost byte
                    nxt.extend(self.guesses(p, self.by_lead.get(p.pending, [])))
                else:
                    if byte != WILDCARD:
                        try:
                            char = bytes([p.pending, byte]).decode("gbk")
                        except UnicodeDecodeError:
                            char = ""
                        if char:
                            nxt.append(self.emit(p, _fold_fullwidth(char), pair=True))
                    nxt.extend(self.lost_trail(p, p.pending, byte))
            paths = _dedupe(sorted(nxt, key=lambda p: p.score, reverse=True))[: BEAM * 2]
        return paths


def _fold_fullwidth(char: str) -> str:
    """Full-width ASCII forms back to ASCII: the runs come from text whose full-width
    punctuation was folded (that is how '?' and '!' got there); stay consistent with it."""
    return chr(ord(char) - 0xFEE0) if "\uff01" <= char <= "\uff5e" else char


def _byte_shift_edits(text: str, model: ChineseModel) -> tuple[list[Edit], list[tuple[Edit, int]]]:
    """Realign runs around '?' anchors; returns the edits and (edit, index) of guessed characters."""
    edits: list[Edit] = []
    lost: list[tuple[Edit, int]] = []
    cursor = 0
    for anchor in SHIFT_ANCHOR.finditer(text):
        if anchor.start() < cursor:
            continue
        start = anchor.start()
        end = start
        while end < len(text) and end - start < SHIFT_WINDOW and _shift_run_char(text, end):
            end += 1
        if end - start < 3:
            continue
        old = text[start:end]
        # Context characters (not whitespace: the layout stages change it, the verdict must not).
        before = text[start - 1] if start > 0 and not text[start - 1].isspace() else ""
        after = text[end] if end < len(text) and not text[end].isspace() else ""
        head_score = model.total_logp(old[:4], before or None) / 4
        if head_score > -7.0:
            continue  # reads like ordinary Chinese after a real question mark
        best = _best_realignment(old, before, after, model)
        if best is None:
            continue
        new, guessed, gain = best
        if gain < MIN_GAIN:
            continue
        # Keep the edit minimal: trim what the realignment left as it was.
        head = 0
        while head < min(len(old), len(new)) and old[head] == new[head]:
            head += 1
        tail = 0
        while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
            tail += 1
        edit = Edit(
            "",
            "byte-shift",
            start + head,
            end - tail,
            old[head : len(old) - tail],
            new[head : len(new) - tail],
            "GBK bytes decoded one byte out of step, realigned",
        )
        guessed_here = [index - head for index in guessed if head <= index < len(new) - tail]
        # Evidence of a shift: several characters decoded from two surviving bytes each.
        decoded = [c for i, c in enumerate(edit.new) if i not in guessed_here and _is_cjk(c)]
        if len(decoded) < max(MIN_DECODED, len(guessed_here)) or sum(map(_is_ideograph, edit.old)) < 2:
            continue  # a guess is not a repair
        edits.append(edit)
        lost.extend((edit, index) for index in guessed_here)
        cursor = end
    return edits, lost


def _is_ideograph(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff"


def _is_cjk(char: str) -> bool:
    return _is_ideograph(char) or "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef"


@lru_cache(maxsize=4096)
def _gbk_double_byte(char: str) -> bool:
    """GBK's symbol rows (kana, Greek, box drawing, ①…) show up in shifted runs too."""
    if char.isascii() or char.isspace():
        return False
    try:
        return len(char.encode("gbk")) == 2
    except UnicodeEncodeError:
        return False


def _shift_run_char(text: str, index: int) -> bool:
    """Whether ``text[index]`` can belong to a shifted run: an ASCII letter only alone
    (a trail byte read as ASCII), never inside a word such as a pinyin annotation."""
    char = text[index]
    if not SHIFT_RUN_CHAR.match(text, index) and not _gbk_double_byte(char):
        return False
    if char.isascii() and char.isalpha():
        neighbours = text[index - 1 : index] + text[index + 1 : index + 2]
        return not any(c.isascii() and c.isalpha() for c in neighbours)
    return True


# Memoized: the verdict depends on the run and its two context characters only, and a crawl
# repeats the same text after a real question mark on page after page (each search costs
# tens of milliseconds and most find nothing).
@lru_cache(maxsize=4096)
def _best_realignment(
    old: str, before: str, after: str, model: ChineseModel
) -> tuple[str, tuple[int, ...], float] | None:
    """Try every end of the shifted run within the window (after a lost byte or a stray
    ASCII trail byte); the reading with the best gain per character of the realigned part
    wins. The part after the cut is in step again and is left as it is, so it must not
    dilute the verdict."""
    best: tuple[str, tuple[int, ...], float] | None = None
    cuts = [cut for cut in range(3, len(old) + 1) if old[cut - 1] in SHIFT_RUN_END or cut == len(old)]
    readings = _realign_prefixes(old, cuts, _Search(before, model))
    for cut in cuts:
        context = old[cut] if cut < len(old) else after
        old_part = model.total_logp(old[:cut] + context, before or None)
        for path in readings.get(cut, []):
            guessed_cost = LOST_BYTE_COST * len(path.lost)
            new_part = model.total_logp(path.text + context, before or None) - guessed_cost
            gain = (new_part - old_part) / (cut + 1)
            if best is None or gain > best[2]:
                best = (path.text + old[cut:], path.lost, gain)
    return best


def _positions_after(edits: list[Edit], lost: list[tuple[Edit, int]]) -> list[tuple[int, int]]:
    """Where each guessed character sits in the text after the step of ``edits``."""
    shift_of: dict[int, int] = {}
    delta = 0
    for edit in sorted(edits, key=lambda e: e.start):
        shift_of[id(edit)] = edit.start + delta
        delta += len(edit.new) - len(edit.old)
    return [(shift_of[id(edit)] + index, shift_of[id(edit)] + index + 1) for edit, index in lost]
