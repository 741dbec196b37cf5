"""Decoding: the right codec, and bytes that always come back exactly."""

from __future__ import annotations

import codecs

import pytest

from cleankit.encoding import detect_and_decode, encode_back, sniff_binary

TEXT_S = "广西壮族自治区人民政府关于印发广西科技创新“十四五”规划的通知，请认真贯彻执行。"
TEXT_T = "廣佛極點建設再進一步。記者4月2日從佛山市科技局獲悉，佛山市科技局、廣州市科技局已於近日聯合制定出臺方案。"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (TEXT_S, "utf-8"),
        (TEXT_S, "gb18030"),
        (TEXT_S * 3, "gbk"),
        (TEXT_T * 3, "big5"),
        (TEXT_S, "utf-16-le"),
    ],
)
def test_round_trip_per_encoding(text: str, encoding: str) -> None:
    raw = text.encode(encoding)
    if encoding == "utf-16-le":
        raw = codecs.BOM_UTF16_LE + raw
    decoded, info = detect_and_decode(raw)
    assert decoded == text
    assert encode_back(decoded, info) == raw


def test_utf8_bom_is_kept_out_of_the_text_and_restored() -> None:
    raw = codecs.BOM_UTF8 + TEXT_S.encode()
    decoded, info = detect_and_decode(raw)
    assert decoded == TEXT_S and info.bom
    assert encode_back(decoded, info) == raw


def test_undecodable_bytes_become_one_replacement_each_and_come_back() -> None:
    raw = "第一段".encode() + b"\xff\xfe\x80" + "第二段".encode() + b"\xe5\x9b"
    decoded, info = detect_and_decode(raw, forced="utf-8")
    assert decoded == "第一段\ufffd第二段\ufffd"
    assert encode_back(decoded, info) == raw


def test_real_replacement_characters_in_the_text_are_left_alone() -> None:
    raw = "科技体制\ufffd改革".encode()
    decoded, info = detect_and_decode(raw)
    assert decoded == "科技体制\ufffd改革" and not info.undecodable
    assert encode_back(decoded, info) == raw


def test_odd_length_utf16_keeps_its_last_byte() -> None:
    raw = codecs.BOM_UTF16_LE + TEXT_S.encode("utf-16-le") + b"\x41"
    decoded, info = detect_and_decode(raw)
    assert decoded.endswith("\ufffd")
    assert encode_back(decoded, info) == raw


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
        (b"\x00\x01\x02\x03binary\x00\x00\xff", "NUL"),
    ],
)
def test_binary_files_are_recognised(raw: bytes, kind: str) -> None:
    assert kind in (sniff_binary(raw) or "")


def test_utf16_text_is_not_binary() -> None:
    assert sniff_binary(("notice 通知 " * 20).encode("utf-16-le")) is None
    assert sniff_binary(TEXT_S.encode("gb18030")) is None
