"""Bytes to text: detect the encoding, decode losslessly, and rebuild the bytes on demand.

Decoding never loses information: byte runs the codec cannot decode become one U+FFFD
each in the text, and the raw bytes of each run are kept in :class:`EncodingInfo`, so
:func:`encode_back` rebuilds the input bytes exactly (checked against its sha256).

Detection order follows measured costs (see ``../shared/perf-notes.md``): a BOM, then
strict UTF-8 (most crawled pages, and every ASCII file), then UTF-16 without a BOM
recognised by its NUL pattern, then charset-normalizer restricted to the encodings
Chinese crawls actually use, which is both faster and more accurate than an open search.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from cleankit.document import EncodingInfo

# Candidates for charset-normalizer, in the order ties are broken: supersets first.
CJK_CANDIDATES = ["gb18030", "big5hkscs", "big5", "cp1252"]

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


class NotTextError(ValueError):
    """The input is not a text document (an image, an archive, ...)."""


class DecodeError(ValueError):
    """The bytes could not be decoded with the encoding that was asked for."""


def sniff_binary(raw: bytes) -> str | None:
    """Say what kind of binary file ``raw`` is, or None when it may be text."""
    for magic, kind in BINARY_SIGNATURES:
        if raw.startswith(magic):
            return kind
    if raw.startswith(tuple(bom for bom, _name in BOMS)):
        return None
    head = raw[:4096]
    if head.count(0) and not _looks_utf16(head):
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


def _valid(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


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
    if _valid(raw, "utf-8"):
        return EncodingInfo(name="utf-8", confidence=1.0, method="strict utf-8 decode")
    utf16 = _looks_utf16(raw[:4096])
    if utf16 and _valid(raw[: len(raw) - len(raw) % 2], utf16):
        return EncodingInfo(name=utf16, confidence=0.9, method="utf-16 NUL pattern")
    # Strict decodes are fast and exact on clean bytes; gbk before big5 (perf-notes), and
    # gb18030, the superset, is what we decode with when gbk bytes are valid.
    strict = [name for name in ("gbk", "big5") if _valid(raw, name)]
    if len(strict) == 1:
        name = "gb18030" if strict[0] == "gbk" else "big5"
        return EncodingInfo(name=name, confidence=0.9, method=f"strict {strict[0]} decode")
    if _valid(raw, "gb18030") and not strict:
        return EncodingInfo(name="gb18030", confidence=0.9, method="strict gb18030 decode")
    candidates = ["gb18030", "big5"] if strict else CJK_CANDIDATES
    results = from_bytes(raw, cp_isolation=candidates)
    best = results.best()
    if best is not None:
        runner_up = next((m.encoding for m in results if m.encoding != best.encoding), None)
        return EncodingInfo(
            name=codecs.lookup(best.encoding).name,
            confidence=max(0.0, 1.0 - best.chaos),
            method="charset-normalizer" + (" (gbk and big5 both valid)" if strict else ""),
            runner_up=runner_up,
        )
    # Nothing decodes cleanly: mostly-UTF-8 with damage is the common case in crawls.
    return EncodingInfo(name="utf-8", confidence=0.0, method="fallback (no encoding decodes cleanly)")


def decode(raw: bytes, info: EncodingInfo) -> str:
    """Decode ``raw`` as ``info`` says; record undecodable runs in ``info``."""
    body = raw[len(_bom_for(info)) :] if info.bom else raw
    tail = b""
    if info.name.startswith("utf-16") and len(body) % 2:
        body, tail = body[:-1], body[-1:]
    try:
        escaped = body.decode(info.name, errors="surrogateescape")
    except (UnicodeDecodeError, LookupError) as exc:
        raise DecodeError(f"cannot decode as {info.name}: {exc}") from exc
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
    if tail:
        undecodable.append((length + len(escaped) - cursor, tail))
        pieces.append("\ufffd")
    text = "".join(pieces)
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
    cursor = 0
    for offset, raw in info.undecodable:
        parts.append(text[cursor:offset].encode(info.name, errors="surrogateescape"))
        parts.append(raw)
        cursor = offset + 1
    parts.append(text[cursor:].encode(info.name, errors="surrogateescape"))
    return b"".join(parts)


def detect_and_decode(raw: bytes, forced: str | None = None) -> tuple[str, EncodingInfo]:
    info = detect(raw, forced)
    return decode(raw, info), info
