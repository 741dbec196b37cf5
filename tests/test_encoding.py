"""Decoding: the right codec, and bytes that always come back exactly."""

from __future__ import annotations

import codecs
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleankit.core.document import EncodingInfo
from cleankit.core.errors import DecodeError
from cleankit.io.encoding import (
    _EUC_TW_HAN_OR_NOT,
    _euc_tw_shaped,
    declared_encoding,
    detect_and_decode,
    encode_back,
    sniff_binary,
)

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


# ---- issue 4: plausibility, declarations, HKSCS, mixed files, detect --------------------

SENTENCES_S = [
    "广西壮族自治区人民政府关于印发规划的通知",
    "加快推进科技体制改革着力增强自主创新能力",
    "实施创新驱动发展战略",
    "高新技术企业",
]
SENTENCES_T = ["廣佛極點建設再進一步", "記者從佛山市科技局獲悉", "關於推進廣佛科技創新合作的工作方案", "發展新質生產力"]


@pytest.mark.parametrize("text", SENTENCES_S)
def test_short_gbk_is_not_taken_for_big5_or_korean(text: str) -> None:
    raw = text.encode("gbk")
    decoded, info = detect_and_decode(raw)
    assert decoded == text and info.name == "gb18030"


@pytest.mark.parametrize("text", SENTENCES_T)
def test_short_big5_is_not_taken_for_gbk(text: str) -> None:
    raw = text.encode("big5")
    decoded, info = detect_and_decode(raw)
    assert decoded == text and info.name == "big5hkscs"
    assert info.runner_up is not None and "plausibility" in info.method


def test_big5_hkscs_characters() -> None:
    text = "香港特區政府發佈嘅通告:綫上服務"
    raw = text.encode("big5hkscs")
    decoded, info = detect_and_decode(raw)
    assert decoded == text and info.name == "big5hkscs"
    assert encode_back(decoded, info) == raw


def test_consistent_meta_charset_is_honoured_and_inconsistent_one_is_not() -> None:
    body = '<html><head><meta charset="{}"></head><body>{}</body></html>'
    raw = body.format("big5", "廣佛科技合作").encode("big5")
    _text, info = detect_and_decode(raw)
    assert info.name == "big5hkscs" and "declared" in info.method
    # Declared Big5, but the bytes are GBK: the bytes win.
    raw = body.format("big5", "广西科技创新发展规划").encode("gbk")
    decoded, info = detect_and_decode(raw)
    assert info.name == "gb18030" and "广西科技创新发展规划" in decoded
    xml = '<?xml version="1.0" encoding="GB2312"?><doc>通知</doc>'.encode("gb2312")
    assert detect_and_decode(xml)[1].name == "gb18030"


def test_declared_encoding_parser() -> None:
    assert declared_encoding(b'<meta http-equiv="Content-Type" content="text/html; charset=gb2312">') == "gb18030"
    assert declared_encoding(b"<META CHARSET=UTF-8>") == "utf-8"
    assert declared_encoding(b"no declaration here") is None


def test_mixed_file_is_decoded_line_by_line_and_restores_exactly() -> None:
    raw = (
        "第一行 正文是 UTF-8\n".encode()
        + "页脚 版权所有 广西壮族自治区科学技术厅\n".encode("gbk")
        + "第三行 又是 UTF-8\n".encode()
        + b"\xff\xfe broken\n"
    )
    decoded, info = detect_and_decode(raw)
    assert info.name == "mixed"
    assert [e for _b, _t, e in info.segments] == ["utf-8", "gb18030", "utf-8"]
    assert "页脚 版权所有 广西壮族自治区科学技术厅" in decoded and "第三行" in decoded
    assert any("line 2" in note for note in info.notes)
    assert encode_back(decoded, info) == raw
    again = EncodingInfo.from_json(info.to_json())
    assert encode_back(decoded, again) == raw


def test_forced_encoding_is_used() -> None:
    raw = "廣佛科技".encode("big5")
    decoded, info = detect_and_decode(raw, forced="gbk")
    assert info.name == "gbk" and info.method == "forced by settings"
    assert encode_back(decoded, info) == raw


def test_detect_command(tmp_path) -> None:
    from conftest import run_cli_here

    (tmp_path / "a.txt").write_bytes("關於推進廣佛科技創新合作的工作方案".encode("big5"))
    (tmp_path / "b.txt").write_bytes("广西科技创新规划".encode("gbk"))
    result = run_cli_here("detect", "--json", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["encoding"] for r in rows] == ["big5hkscs", "gb18030"]
    assert all(r["runner_up"] and r["why"] and 0 < r["confidence"] <= 1 for r in rows)
    text = run_cli_here("detect", str(tmp_path / "b.txt")).stdout.decode()
    assert "gb18030" in text and "runner-up" in text
    missing = run_cli_here("detect", str(tmp_path / "none.txt"))
    assert missing.returncode == 1 and b"none.txt" in missing.stderr


def test_mixed_file_restores_byte_exact_through_the_cli(tmp_path) -> None:
    from conftest import run_cli_here

    raw = (
        "<p>正文 UTF-8 第一段</p>\r\n".encode()
        + "页脚:版权所有 广西壮族自治区科学技术厅 &nbsp;\r\n".encode("gbk")
        + "結尾 UTF-8\r\n".encode()
    )
    source = tmp_path / "in"
    source.mkdir()
    (source / "mixed.html").write_bytes(raw)
    out = tmp_path / "out"
    assert run_cli_here("clean", str(source), "-o", str(out), "-q").returncode == 0
    record = json.loads((out / "provenance.jsonl").read_text().splitlines()[0])
    assert record["encoding"]["name"] == "mixed" and record["encoding"]["segments"]
    # The footer line is boilerplate and leaves the clean text; its decoded form is in the original.
    original = run_cli_here("restore", str(out), "mixed.html").stdout.decode("utf-8")
    assert "页脚:版权所有 广西壮族自治区科学技术厅" in original and "結尾 UTF-8" in original
    restored = run_cli_here("restore", "--bytes", str(out), "mixed.html")
    assert restored.returncode == 0 and restored.stdout == raw


# ---- issue 13 §6: detection slips found on a public test corpus --------------------------

CSV_ASCII = "id,date,region,indicator,value\n" + "".join(
    f"{i},2026-02-{i % 28 + 1:02d},region {i % 7},GDP growth,{3 + i % 5}.{i % 10}\n" for i in range(40)
)
# 一 (U+4E00) and 最 (U+6700) put a NUL on the other parity than the digits' and newline's.
PARAGRAPH_S = (
    "一年来，全省上下牢记嘱托、感恩奋进，生产总值增长5.6%，最低工资标准年均增幅3.94%，主要指标增速居全国前列。\n"
)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_of_ascii_text_is_not_read_as_utf8(encoding: str) -> None:
    raw = CSV_ASCII.encode(encoding)
    assert raw.decode("utf-8")  # valid UTF-8 too, a NUL after or before every character
    decoded, info = detect_and_decode(raw)
    assert info.name == encoding and decoded == CSV_ASCII
    assert encode_back(decoded, info) == raw


@pytest.mark.parametrize(
    ("text", "encoding"),
    [(PARAGRAPH_S, "utf-16-le"), (PARAGRAPH_S, "utf-16-be"), (TEXT_T, "utf-16-le"), (TEXT_S, "utf-16-be")],
)
def test_utf16_without_bom_holding_only_chinese_is_detected(text: str, encoding: str) -> None:
    raw = text.encode(encoding)
    assert sniff_binary(raw) is None
    decoded, info = detect_and_decode(raw)
    assert info.name == encoding and decoded == text
    assert "plausibility" in info.method and info.runner_up != encoding
    assert encode_back(decoded, info) == raw


def test_binary_with_nuls_is_still_binary() -> None:
    # Bytes that decode as UTF-16 into controls and unassigned code points are not text.
    raw = bytes(range(256)) * 4
    assert "binary" in (sniff_binary(raw) or "")


@pytest.mark.parametrize(
    "text",
    ["ciao à è ì", "ciao à è ì ò ù\nCafé crème, déjà vu, naïve façade.\n", "Società per azioni, città di Genova."],
)
def test_utf8_latin_accented_text_is_not_overruled_by_a_chinese_reading(text: str) -> None:
    raw = text.encode("utf-8")
    assert raw.decode("gb18030")  # a GB18030 reading exists: 脿 猫 矛 …
    decoded, info = detect_and_decode(raw)
    assert info.name == "utf-8" and decoded == text


@pytest.mark.parametrize("text", ["通知", "实施", "农业", "AI农业"])
def test_short_gbk_that_is_valid_utf8_by_chance_is_still_gbk(text: str) -> None:
    raw = text.encode("gbk")
    assert raw.decode("utf-8")  # as UTF-8: two marks, two IPA letters, ũҵ, AIũҵ
    decoded, info = detect_and_decode(raw)
    assert info.name == "gb18030" and decoded == text


# 廣佛極點建設再進一步。記者4月2日從佛山市科技局獲悉，… in EUC-TW (CNS 11643 plane 1), made with
# glibc's iconv -f UTF-8 -t EUC-TW (Python has no codec for it).
EUC_TW = bytes.fromhex(
    "ecddc8f3e4cbf6b5d0faddc3c7c2e2d0c4a1cae3a1a4d8b4cfaf34c5cc32c5cadab7c8f3c4d4c6cbd2efcac0c9fdf4bd"
    "dabea1a2c8f3c4d4c6cbd2efcac0c9fda1a3ecddc7fcc6cbd2efcac0c9fdc4d8cdf5cfd4c5caf4fac7d9ccb1ccf9c5f8"
    "ead7c5c9d5f9a1a4"
)


def test_euc_tw_is_refused_with_a_clear_message_not_written_as_garbage() -> None:
    with pytest.raises(DecodeError, match=r"EUC-TW \(CNS 11643\).*iconv -f EUC-TW -t UTF-8"):
        detect_and_decode(EUC_TW)


def test_bytes_of_another_shape_after_euc_tw_pairs_are_not_called_euc_tw() -> None:
    # Found by the hostile-input fuzzing: a stray byte after two EUC-TW-shaped ones was
    # allowed as "a character cut at the end", so four random bytes were refused as EUC-TW.
    raw = b"\xc4\xa1\x01\x80"
    text, info = detect_and_decode(raw)
    assert encode_back(text, info) == raw


def test_a_byte_left_at_the_end_of_a_short_file_is_no_euc_tw_character_cut_by_the_read() -> None:
    # Found by the hostile-input fuzzing (unseeded): one EUC-TW-shaped pair and a lead byte
    # were refused as EUC-TW; only a read that stopped before the file's end cuts a character.
    raw = b"\xc4\xa1\xa1"
    text, info = detect_and_decode(raw)
    assert encode_back(text, info) == raw
    # A file longer than the read may end its read with a cut character, and is still refused.
    cut = EUC_TW * (16384 // len(EUC_TW) + 2)
    assert not _euc_tw_shaped(cut[:16383] + b"\x01") and _euc_tw_shaped(cut[:16385])


def test_euc_tw_file_fails_alone_and_the_run_goes_on(tmp_path) -> None:
    from conftest import run_cli_here

    source = tmp_path / "in"
    source.mkdir()
    (source / "euctw.txt").write_bytes(EUC_TW)
    (source / "gbk.txt").write_bytes("广西科技创新规划的通知。".encode("gbk"))
    out = tmp_path / "out"
    result = run_cli_here("clean", str(source), "-o", str(out), "-q")
    assert result.returncode == 1
    assert b"euctw.txt" in result.stderr and b"EUC-TW" in result.stderr
    assert (out / "gbk.txt").exists() and not (out / "euctw.txt").exists()


def test_korean_euc_kr_is_not_taken_for_euc_tw() -> None:
    # Same two-byte shape as EUC-TW (A1-FE pairs), but Hangul leads (B0-C8), not CNS Han rows.
    text = "대한민국 헌법 제1조 대한민국은 민주공화국이다. "
    text += "대한민국의 주권은 국민에게 있고, 모든 권력은 국민으로부터 나온다."
    decoded, _info = detect_and_decode(text.encode("euc-kr"))
    assert decoded == text


# The Han share of EUC-TW-shaped bytes as first counted: each character found, one by one.
REFERENCE_EUC_TW_CHARACTER = re.compile(rb"\x8e[\xa1-\xb0][\xa1-\xfe][\xa1-\xfe]|[\xa1-\xfe][\xa1-\xfe]")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([b"\x8e", b"\xa1", b"\xb0", b"\xb1", b"\xc3", b"\xc4", b"\xfe", b"a", b"\xff"])))
def test_euc_tw_han_characters_are_counted_as_one_by_one(pieces: list[bytes]) -> None:
    head = b"".join(pieces)
    characters = REFERENCE_EUC_TW_CHARACTER.findall(head)
    han = sum(1 for character in characters if character[0] == 0x8E or character[0] >= 0xC4)
    found = _EUC_TW_HAN_OR_NOT.findall(head)
    assert (len(found), len(found) - found.count(b"")) == (len(characters), han)
