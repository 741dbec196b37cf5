"""Decoding: the right codec, and bytes that always come back exactly."""

from __future__ import annotations

import codecs
import json

import pytest

from cleankit.core.document import EncodingInfo
from cleankit.io.encoding import declared_encoding, detect_and_decode, encode_back, sniff_binary

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
    from conftest import run_cli

    (tmp_path / "a.txt").write_bytes("關於推進廣佛科技創新合作的工作方案".encode("big5"))
    (tmp_path / "b.txt").write_bytes("广西科技创新规划".encode("gbk"))
    result = run_cli("detect", "--json", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["encoding"] for r in rows] == ["big5hkscs", "gb18030"]
    assert all(r["runner_up"] and r["why"] and 0 < r["confidence"] <= 1 for r in rows)
    text = run_cli("detect", str(tmp_path / "b.txt")).stdout.decode()
    assert "gb18030" in text and "runner-up" in text
    missing = run_cli("detect", str(tmp_path / "none.txt"))
    assert missing.returncode == 1 and b"none.txt" in missing.stderr


def test_mixed_file_restores_byte_exact_through_the_cli(tmp_path) -> None:
    from conftest import run_cli

    raw = (
        "<p>正文 UTF-8 第一段</p>\r\n".encode()
        + "页脚:版权所有 广西壮族自治区科学技术厅 &nbsp;\r\n".encode("gbk")
        + "結尾 UTF-8\r\n".encode()
    )
    source = tmp_path / "in"
    source.mkdir()
    (source / "mixed.html").write_bytes(raw)
    out = tmp_path / "out"
    assert run_cli("clean", str(source), "-o", str(out), "-q").returncode == 0
    record = json.loads((out / "provenance.jsonl").read_text().splitlines()[0])
    assert record["encoding"]["name"] == "mixed" and record["encoding"]["segments"]
    # The footer line is boilerplate and leaves the clean text; its decoded form is in the original.
    original = run_cli("restore", str(out), "mixed.html").stdout.decode("utf-8")
    assert "页脚:版权所有 广西壮族自治区科学技术厅" in original and "結尾 UTF-8" in original
    restored = run_cli("restore", "--bytes", str(out), "mixed.html")
    assert restored.returncode == 0 and restored.stdout == raw
