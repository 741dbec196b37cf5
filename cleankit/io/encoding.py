"""Bytes to text: detect the encoding, decode losslessly, and rebuild the bytes on demand.

Decoding never loses information: byte runs the codec cannot decode become one U+FFFD
each in the text, and the raw bytes of each run are kept in :class:`EncodingInfo`, so
:func:`encode_back` rebuilds the input bytes exactly (checked against its sha256).

Detection order follows measured costs (strict decodes run at ~300 MB/s, charset-normalizer
at 10-18 MB/s, on this project's 2-core machines): a BOM, then UTF-16 without a BOM
recognised by its NUL pattern (before UTF-8, which accepts NUL bytes), then strict UTF-8
(most crawled pages, and every ASCII file), then the legacy encodings Chinese crawls
actually use, and UTF-16 without NULs (text that is all Chinese), ranked by how plausible
each reading is as Chinese; charset-normalizer only when nothing reads as Chinese.
"""

from __future__ import annotations

import codecs
import math
import re
import unicodedata

from cleankit.core.document import EncodingInfo
from cleankit.core.errors import DecodeError
from cleankit.text.cjk import is_han
from cleankit.text.plausibility import chinese_model

BOMS: list[tuple[bytes, str]] = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]

_ESCAPED_RUN = re.compile("[\udc80-\udcff]+")

# Magic numbers of common non-text files that crawls pick up next to the pages.
BINARY_SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or docx/xlsx)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an MS Office (OLE) document"),
    (b"\x7fELF", "an ELF executable"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"RIFF", "a RIFF media file"),
    (b"\x00\x00\x01\x00", "an icon file"),
]




def sniff_binary(raw: bytes) -> str | None:
    """Say what kind of binary file ``raw`` is, or None when it may be text."""
    for magic, kind in BINARY_SIGNATURES:
        if raw.startswith(magic):
            return kind
    if raw.startswith(tuple(bom for bom, _name in BOMS)):
        return None
    head = raw[:4096]
    if head.count(0) and not _looks_utf16(head) and not _utf16_text(head):
        return "binary data (NUL bytes outside a UTF-16 pattern)"
    return None


def _looks_utf16(head: bytes) -> str | None:
    """UTF-16 without BOM: NULs sit mostly on one parity for ASCII-heavy text."""
    if len(head) < 4:
        return None
    even = head[0::2].count(0)
    odd = head[1::2].count(0)
    half = len(head) // 2
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


# A UTF-16 reading is text when it holds no control, private-use or unassigned characters
# and at least this share of its non-space characters are Han or CJK punctuation.
UTF16_MIN_CJK_SHARE = 0.5
_CJK_PUNCTUATION_BLOCKS = ((0x3000, 0x303F), (0xFF00, 0xFFEF))


def _utf16_text(raw: bytes) -> dict[str, str]:
    """UTF-16 readings without a BOM that read as Chinese text (by endianness). Chinese in
    UTF-16 has few NUL bytes, on both parities (一 is 00 4E), so the NUL pattern misses it."""
    body = raw[: len(raw) - len(raw) % 2]
    readings: dict[str, str] = {}
    for name in ("utf-16-le", "utf-16-be"):
        text = _strict(body, name)
        if text and _reads_as_cjk_text(text[:2048]):
            readings[name] = text
    return readings


def _reads_as_cjk_text(text: str) -> bool:
    visible = cjk = 0
    for char in text:
        if char in "\t\n\r\f" or char == " ":
            continue
        code = ord(char)
        if unicodedata.category(char) in ("Cc", "Co", "Cn", "Cs") or code in (0xFFFE, 0xFFFF):
            return False
        visible += 1
        if is_han(char) or any(low <= code <= high for low, high in _CJK_PUNCTUATION_BLOCKS):
            cjk += 1
    return visible > 0 and cjk >= UTF16_MIN_CJK_SHARE * visible


def _valid(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


# Labels pages declare, mapped to the codec cleankit decodes them with: the superset, as
# browsers do (WHATWG: gb2312/gbk are decoded as gb18030, big5 as Big5-HKSCS).
LABEL_TO_CODEC = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "hz",
    "gb18030": "gb18030",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "utf-8": "utf-8",
    "utf8": "utf-8",
}
_DECLARED = re.compile(
    rb"""<\?xml[^>]{0,200}?encoding\s*=\s*(?:["']\s*)?([A-Za-z0-9._-]{2,30})"""
    rb"""|<meta[^>]{0,300}?charset\s*=\s*(?:["']\s*)?([A-Za-z0-9._-]{2,30})""",
    re.IGNORECASE,
)

# Legacy encodings a Chinese crawl meets, supersets first (ties go to the earlier one).
# EUC-KR and Shift-JIS are here as the impostors they are: GB2312 bytes are often valid
# EUC-KR, and detectors answer them for short Chinese files; the plausibility score, not
# validity, decides.
LEGACY_CANDIDATES = ["gb18030", "big5hkscs", "euc-kr", "shift_jis"]
# Below this plausibility (mean log-probability per character) a text does not read as
# Chinese at all; charset-normalizer's open search then gets the last word.
NOT_CHINESE_SCORE = -12.5
# Valid UTF-8 shorter than this is checked against a GBK/Big5 reading.
SHORT_BYTES = 200
# Characters of a decoded sample that the plausibility score looks at.
SAMPLE_CHARS = 1500
# ASCII is left out of the plausibility sample (one regex pass, not a test per character).
ASCII_RUN = re.compile("[\x00-\x7f]+")


def declared_encoding(raw: bytes) -> str | None:
    """The codec named by an XML declaration or HTML ``<meta charset>`` in the first 4 kB."""
    match = _DECLARED.search(raw[:4096])
    if not match:
        return None
    label = (match.group(1) or match.group(2)).decode("ascii").lower()
    if label in LABEL_TO_CODEC:
        return LABEL_TO_CODEC[label]
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _plausibility(text: str) -> float:
    """How well a decoded sample reads as Chinese (see :mod:`cleankit.text.plausibility`)."""
    sample = ASCII_RUN.sub("", text[: SAMPLE_CHARS * 4])[:SAMPLE_CHARS]
    if not sample:
        return 0.0
    return chinese_model().score(sample)


def _confidence(best: float, runner_up: float | None) -> float:
    """Map the score gap to the runner-up into (0.5, 1): a gap of 1 nat/char is ~0.88."""
    if runner_up is None:
        return 0.95
    return 1.0 / (1.0 + math.exp(-2.0 * (best - runner_up)))


def detect(raw: bytes, forced: str | None = None) -> EncodingInfo:
    """Choose an encoding for ``raw``. The text itself comes from :func:`decode`."""
    if forced:
        try:
            name = codecs.lookup(forced).name
        except LookupError as exc:
            raise DecodeError(f"unknown encoding {forced!r}") from exc
        return EncodingInfo(name=name, confidence=1.0, method="forced by settings")
    for bom, name in BOMS:
        if raw.startswith(bom):
            return EncodingInfo(name=name, confidence=1.0, method="byte order mark", bom=True)
    # UTF-16 of mostly-ASCII text (a CSV export) is also valid UTF-8, with a NUL after every
    # character: the NUL pattern is looked at first.
    utf16 = _looks_utf16(raw[:4096])
    if utf16 and _valid(raw[: len(raw) - len(raw) % 2], utf16):
        return EncodingInfo(name=utf16, confidence=0.9, method="utf-16 NUL pattern")
    declared = declared_encoding(raw)
    utf8 = _strict(raw, "utf-8")
    if utf8 is not None:
        method = "strict utf-8 decode"
        if not raw.isascii() and (declared not in (None, "utf-8") or len(raw) < SHORT_BYTES):
            if declared in (None, "utf-8") and _alphabetic_text(utf8):
                # Letters of an alphabet among ASCII words (ciao à è ì, Café): a GBK/Big5
                # reading of the same bytes is a few odd characters, not evidence enough.
                return EncodingInfo(name="utf-8", confidence=1.0, method=method + " (accented letters among words)")
            # Short GBK/Big5 text can be valid UTF-8 by chance (CD A8 D6 AA is "通知" in GBK
            # and two Latin/Hebrew marks in UTF-8); a declaration or a far better reading wins.
            legacy = _legacy_reading_of_utf8(raw, utf8, declared)
            if legacy is not None:
                return legacy
            if declared and declared != "utf-8":
                method += f" (declared {declared} does not fit the bytes)"
        return EncodingInfo(name="utf-8", confidence=1.0, method=method)
    valid = {name: text for name in LEGACY_CANDIDATES if (text := _strict(raw, name)) is not None}
    # UTF-16 holding only Chinese has no NUL pattern; its readings compete on plausibility.
    valid.update(_utf16_text(raw))
    if "big5hkscs" in valid:
        # 249 Big5 codes (C6A1-C8FE: kana, circled numbers, Cyrillic …) read differently in
        # Big5-HKSCS.
        # Over a long page the few differing characters do not move the mean score: the
        # reading whose differing characters are more plausible takes the place.
        big5 = _strict(raw, "big5")
        if big5 is not None and big5 != valid["big5hkscs"] and _differing_chars_score(big5, valid["big5hkscs"]) > 0:
            valid["big5"] = big5
            del valid["big5hkscs"]
    if declared and declared not in valid and declared not in ("utf-8", *LEGACY_CANDIDATES):
        text = _strict(raw, declared)
        if text is not None:
            valid[declared] = text
    if valid:
        return _choose_plausible(raw, valid, declared)
    return _detect_damaged(raw, declared)


def _legacy_reading_of_utf8(raw: bytes, utf8: str, declared: str | None) -> EncodingInfo | None:
    utf8_score = _plausibility(utf8)
    candidates = [declared] if declared and declared != "utf-8" else []
    if utf8_score < NOT_CHINESE_SCORE:
        candidates += [name for name in ("gb18030", "big5hkscs") if name not in candidates]
    for name in candidates:
        text = _strict(raw, name)
        if text is None:
            continue
        score = _plausibility(text)
        margin = 0.5 if name == declared else 3.0
        if score > utf8_score - (margin if name == declared else -margin):
            why = f"valid utf-8, but {name} reads as Chinese ({score:.2f} vs {utf8_score:.2f})"
            if name == declared:
                why = f"declared {declared} is consistent with the bytes; {why}"
            return EncodingInfo(name=name, confidence=0.8, method=why, runner_up="utf-8")
    return None


# Alphabets whose accented letters UTF-8 writes with two or three bytes: Latin (with Latin
# extended additional), Greek, Cyrillic.
_ALPHABETS = (((0x00C0, 0x024F), (0x1E00, 0x1EFF)), ((0x0370, 0x03FF),), ((0x0400, 0x052F),))


def _alphabetic_text(text: str) -> bool:
    """Whether text is alphabetic writing with accented letters: every non-ASCII character a
    letter of one alphabet, and more ASCII letters than such letters. GBK or Big5 bytes that
    happen to be valid UTF-8 read as marks and letters of several scripts (农业 as ``ũҵ``,
    通知 as two combining marks), with few ASCII letters if any."""
    scripts = set()
    accented = 0
    for char in text:
        if char.isascii():
            continue
        code = ord(char)
        script = next((i for i, blocks in enumerate(_ALPHABETS) if any(a <= code <= b for a, b in blocks)), None)
        if script is None or not unicodedata.category(char).startswith("L"):
            return False
        scripts.add(script)
        accented += 1
    ascii_letters = sum(1 for char in text if char.isascii() and char.isalpha())
    return len(scripts) == 1 and accented <= ascii_letters


def _differing_chars_score(first: str, second: str) -> float:
    """log P(first's characters) - log P(second's) where the two readings differ."""
    model = chinese_model()
    if len(first) != len(second):
        return _plausibility(first) - _plausibility(second)
    return sum(
        math.log(model.unigram(a)) - math.log(model.unigram(b)) for a, b in zip(first, second, strict=True) if a != b
    )


def _strict(raw: bytes, name: str) -> str | None:
    try:
        return raw.decode(name)
    except (UnicodeDecodeError, LookupError):
        return None


def _choose_plausible(raw: bytes, valid: dict[str, str], declared: str | None) -> EncodingInfo:
    """Several encodings decode the bytes: take the reading that is the most plausible Chinese."""
    if list(valid) == ["gb18030"] and not _euc_tw_shaped(raw):
        # The common case, decided by validity alone: GBK/GB18030 bytes that are not Big5.
        # (EUC-TW is valid GB18030 too, as garbage: bytes of its shape are scored.)
        return EncodingInfo(name="gb18030", confidence=0.95, method="strict gb18030 decode (only valid candidate)")
    scores = {name: _plausibility(text) for name, text in valid.items()}
    ranked = sorted(scores, key=lambda n: (-scores[n], LEGACY_CANDIDATES.index(n) if n in LEGACY_CANDIDATES else 9))
    best = ranked[0]
    runner_up = ranked[1] if len(ranked) > 1 else None
    why = "plausibility as Chinese: " + ", ".join(f"{n} {scores[n]:.2f}" for n in ranked)
    if declared in scores and declared != best and scores[declared] >= scores[best] - 0.5:
        runner_up, best = best, declared
        why = f"declared {declared} is consistent with the bytes; " + why
    elif declared == best:
        why = f"declared {declared} agrees; " + why
    if scores[best] < NOT_CHINESE_SCORE:
        if _euc_tw_shaped(raw):
            raise DecodeError(
                "looks like EUC-TW (CNS 11643), which cleankit has no codec for: no reading of it is "
                f"Chinese text ({why}); convert it to UTF-8 first (iconv -f EUC-TW -t UTF-8), "
                "or force the encoding if it is another one"
            )
        # Imported here: this open search is the last resort, and most runs never reach it.
        from charset_normalizer import from_bytes

        guess = from_bytes(raw).best()
        if guess is not None and codecs.lookup(guess.encoding).name not in scores:
            return EncodingInfo(
                name=codecs.lookup(guess.encoding).name,
                confidence=max(0.0, 1.0 - guess.chaos),
                method=f"charset-normalizer (text does not read as Chinese: {why})",
                runner_up=best,
            )
    confidence = _confidence(scores[best], scores[runner_up] if runner_up else None)
    return EncodingInfo(name=best, confidence=confidence, method=why, runner_up=runner_up)


# EUC-TW: plane 1 of CNS 11643 as two bytes A1-FE (its Han characters from C4A1), the other
# planes as 8E A1-B0 and two such bytes. GB2312 and EUC-KR share the two-byte shape, so it
# counts only when no reading is Chinese and most lead bytes are in CNS's Han rows (EUC-KR
# Hangul leads are B0-C8, GB2312's common Han B0-D7).
_EUC_TW = re.compile(rb"(?:[\x00-\x7f]|[\xa1-\xfe][\xa1-\xfe]|\x8e[\xa1-\xb0][\xa1-\xfe][\xa1-\xfe])*")
# Its characters (8E and three bytes, or two bytes A1-FE), the Han ones (lead byte 8E or
# C4-FE) captured: ``findall`` gives b"" for each other one, so the Han share is counted
# without a Python step per character.
_EUC_TW_HAN_OR_NOT = re.compile(
    rb"(\x8e[\xa1-\xb0][\xa1-\xfe][\xa1-\xfe]|[\xc4-\xfe][\xa1-\xfe])|[\xa1-\xc3][\xa1-\xfe]"
)
# What may follow the shaped part: the start of a character cut at the end of the 16 kB read.
_EUC_TW_CUT = re.compile(rb"(?:\x8e(?:[\xa1-\xb0][\xa1-\xfe]?)?|[\xa1-\xfe])?")
EUC_TW_HAN_LEAD_SHARE = 0.8
EUC_TW_READ = 16384


def _euc_tw_shaped(raw: bytes) -> bool:
    """Whether the bytes (their first 16 kB: this runs on every file only GB18030 decodes) have
    the shape of EUC-TW text."""
    head = raw[:EUC_TW_READ]
    shaped = _EUC_TW.match(head)
    if shaped is None:
        return False
    # Only a read that stopped before the file's end can have cut a character.
    if shaped.end() < len(head) and (len(raw) <= EUC_TW_READ or _EUC_TW_CUT.fullmatch(head, shaped.end()) is None):
        return False
    characters = _EUC_TW_HAN_OR_NOT.findall(head)
    han = len(characters) - characters.count(b"")
    return bool(characters) and han >= EUC_TW_HAN_LEAD_SHARE * len(characters)


def _detect_damaged(raw: bytes, declared: str | None) -> EncodingInfo:
    """No encoding decodes every byte: a mixed file, or damaged bytes in one encoding.

    Lines are decoded one by one (UTF-8 where it is valid, else the legacy encoding that
    reads best); a file whose lines all take one encoding is that encoding with some
    undecodable runs, otherwise it is recorded as ``mixed`` with every switch.
    """
    lines = raw.splitlines(keepends=True)
    legacy = _legacy_for_lines(lines, declared)
    segments: list[tuple[int, int, str]] = []
    switches: list[str] = []
    text_offset = 0
    byte_offset = 0
    for number, line in enumerate(lines, start=1):
        name = _line_encoding(line, legacy)
        if not segments or segments[-1][2] != name:
            segments.append((byte_offset, text_offset, name))
            switches.append(f"line {number} (byte {byte_offset}): {name}")
        text_offset += len(_decode_keeping_runs(line, name)[0])
        byte_offset += len(line)
    names = {name for _b, _t, name in segments}
    if len(names) == 1:
        name = names.pop()
        return EncodingInfo(name=name, confidence=0.5, method=f"best effort: no encoding decodes every byte ({name})")
    info = EncodingInfo(
        name="mixed",
        confidence=0.5,
        method=f"mixed encodings decoded line by line ({', '.join(sorted(names))})",
        runner_up=legacy,
        segments=segments,
    )
    info.notes.append(
        f"{len(segments)} segment(s): " + "; ".join(switches[:50]) + ("; ..." if len(switches) > 50 else "")
    )
    return info


def _legacy_for_lines(lines: list[bytes], declared: str | None) -> str:
    """The legacy encoding that reads best over the lines that are not UTF-8."""
    foreign = b"".join(line for line in lines if not _valid(line, "utf-8"))[:20000]
    best, best_score = "gb18030", -math.inf
    for name in ["gb18030", "big5hkscs"]:
        text = foreign.decode(name, errors="replace")
        damage = text.count("\ufffd") / max(1, len(text))
        score = _plausibility(text) - 20 * damage + (0.5 if name == declared else 0.0)
        if score > best_score:
            best, best_score = name, score
    return best


def _line_encoding(line: bytes, legacy: str) -> str:
    if _valid(line, "utf-8"):
        return "utf-8"
    if _valid(line, legacy):
        return legacy
    # Damaged line: the encoding that leaves the fewest undecodable bytes.
    return min(("utf-8", legacy), key=lambda n: _undecodable_count(line, n))


def _undecodable_count(raw: bytes, name: str) -> int:
    escaped = raw.decode(name, errors="surrogateescape")
    return sum(len(run) for run in _ESCAPED_RUN.findall(escaped))


def _decode_keeping_runs(body: bytes, name: str) -> tuple[str, list[tuple[int, bytes]]]:
    """Decode; every undecodable byte run becomes one U+FFFD, its bytes returned with its offset."""
    escaped = body.decode(name, errors="surrogateescape")
    pieces: list[str] = []
    undecodable: list[tuple[int, bytes]] = []
    cursor = 0
    length = 0
    for match in _ESCAPED_RUN.finditer(escaped):
        chunk = escaped[cursor : match.start()]
        pieces.append(chunk)
        length += len(chunk)
        undecodable.append((length, match.group().encode("utf-8", errors="surrogateescape")))
        pieces.append("\ufffd")
        length += 1
        cursor = match.end()
    pieces.append(escaped[cursor:])
    return "".join(pieces), undecodable


def decode(raw: bytes, info: EncodingInfo) -> str:
    """Decode ``raw`` as ``info`` says; record undecodable runs in ``info``."""
    body = raw[len(_bom_for(info)) :] if info.bom else raw
    tail = b""
    # A UTF-16/32 file cut mid-unit: the bytes of the last, partial unit are undecodable (the
    # codec refuses truncated data even with an error handler).
    unit = 4 if info.name.startswith("utf-32") else 2 if info.name.startswith("utf-16") else 1
    if len(body) % unit:
        body, tail = body[: len(body) - len(body) % unit], body[len(body) - len(body) % unit :]
    segments = info.segments or [(0, 0, info.name)]
    pieces: list[str] = []
    undecodable: list[tuple[int, bytes]] = []
    length = 0
    text_starts: list[int] = []
    for index, (byte_start, _text_start, name) in enumerate(segments):
        text_starts.append(length)
        byte_end = segments[index + 1][0] if index + 1 < len(segments) else len(body)
        try:
            chunk, runs = _decode_keeping_runs(body[byte_start:byte_end], name)
        except (UnicodeDecodeError, LookupError) as exc:
            raise DecodeError(f"cannot decode as {name}: {exc}") from exc
        undecodable.extend((length + offset, run) for offset, run in runs)
        pieces.append(chunk)
        length += len(chunk)
    if tail:
        undecodable.append((length, tail))
        pieces.append("\ufffd")
    text = "".join(pieces)
    if info.segments:
        info.segments = [(b, t, e) for (b, _old, e), t in zip(info.segments, text_starts, strict=True)]
    info.undecodable = undecodable
    if undecodable:
        info.notes.append(f"{len(undecodable)} undecodable byte run(s) kept as U+FFFD")
    if encode_back(text, info) != raw:
        # Some codecs map two byte sequences to one character; keep the bytes themselves.
        info.raw_fallback = raw
        info.notes.append(f"{info.name} does not round-trip these bytes; raw bytes kept for restore")
    return text


def _bom_for(info: EncodingInfo) -> bytes:
    return next(bom for bom, name in BOMS if name == info.name)


def encode_back(text: str, info: EncodingInfo) -> bytes:
    """Rebuild the raw bytes from the decoded text and the decoding record."""
    if info.raw_fallback is not None:
        return info.raw_fallback
    parts: list[bytes] = [_bom_for(info)] if info.bom else []
    segments = info.segments or [(0, 0, info.name)]
    runs = iter(info.undecodable)
    run = next(runs, None)
    for index, (_byte_start, text_start, name) in enumerate(segments):
        text_end = segments[index + 1][1] if index + 1 < len(segments) else len(text)
        cursor = text_start
        while run is not None and run[0] < text_end:
            offset, raw = run
            parts.append(text[cursor:offset].encode(name, errors="surrogateescape"))
            parts.append(raw)
            cursor = offset + 1
            run = next(runs, None)
        parts.append(text[cursor:text_end].encode(name, errors="surrogateescape"))
    while run is not None:  # a trailing odd UTF-16 byte sits at the very end of the text
        parts.append(run[1])
        run = next(runs, None)
    return b"".join(parts)


def detect_and_decode(raw: bytes, forced: str | None = None) -> tuple[str, EncodingInfo]:
    info = detect(raw, forced)
    return decode(raw, info), info
