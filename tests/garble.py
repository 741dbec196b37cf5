"""Make mojibake the way it happens: by decoding real bytes with the wrong codec.

Shared by the tests and ``benchmarks/bench_encoding.py``. Nothing here is typed by hand:
every garbled string comes from encoding a real sentence and decoding it wrongly.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
_SENTENCE_END = re.compile(r"(?<=[。!?;])")
_PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜ]+\)")


def real_sentences(min_chars: int = 8, max_chars: int = 80) -> list[str]:
    """Sentences of the seed pages (simplified and traditional), pinyin annotations removed."""
    found: list[str] = []
    for path in sorted(SAMPLES.iterdir()):
        text = _PINYIN.sub("", path.read_text(encoding="utf-8"))
        for line in text.splitlines():
            if "?" in line:
                continue  # the seed lines with byte-shift damage (and real questions)
            for sentence in _SENTENCE_END.split(line.strip()):
                sentence = sentence.strip()
                han = sum("\u4e00" <= c <= "\u9fff" for c in sentence)
                if min_chars <= len(sentence) <= max_chars and han >= 0.6 * len(sentence):
                    found.append(sentence)
    return list(dict.fromkeys(found))


def fold_fullwidth(text: str) -> str:
    """What the crawler of the seed pages did to full-width ASCII forms (NFKC on FF01-FF5E)."""
    return "".join(unicodedata.normalize("NFKC", c) if "\uff01" <= c <= "\uff5e" else c for c in text)


def utf8_as_gbk(text: str) -> str:
    return text.encode("utf-8").decode("gb18030", errors="replace")


def utf8_as_latin1(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


def utf8_as_cp1252(text: str) -> str:
    """As browsers and Windows do it: bytes cp1252 leaves undefined become C1 controls."""
    import ftfy.bad_codecs  # noqa: F401  (registers "sloppy-windows-1252")

    return text.encode("utf-8").decode("sloppy-windows-1252")


def double_utf8_as_latin1(text: str) -> str:
    return utf8_as_latin1(utf8_as_latin1(text))


def gbk_as_latin1(text: str) -> str:
    return text.encode("gbk").decode("latin-1")


def gbk_as_utf8_surrogateescape(text: str) -> str:
    return text.encode("gbk").decode("utf-8", errors="surrogateescape")


def byte_shift(text: str, start: int, length: int) -> str:
    """GBK bytes of ``text`` decoded one byte out of step for ``length`` characters from
    ``start``: the lead byte of the first and the trail byte of the last are lost as '?',
    the bytes between decode in the wrong frame (private-use results dropped, full-width
    forms folded), the rest decodes in step again."""
    raw = text.encode("gbk")
    offset = len(text[:start].encode("gbk"))
    end = offset + len(text[start : start + length].encode("gbk"))
    shifted = raw[offset + 1 : end - 1].decode("gb18030", errors="replace").replace("\ufffd", "?")
    shifted = "".join(c for c in shifted if not "\ue000" <= c <= "\uf8ff")
    return text[:start] + "?" + fold_fullwidth(shifted) + "?" + text[start + length :]
