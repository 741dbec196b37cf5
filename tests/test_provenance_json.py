"""Provenance lines through orjson: byte for byte what ``json.dumps`` writes, and read back as
``json.loads`` reads them (``dumps_line``, ``parse_line``)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleankit import Pipeline, Settings
from cleankit.core.provenance import build_record, dumps, dumps_line, dumps_lines, parse_line


def _expected(record: dict[str, Any]) -> bytes:
    return (dumps(record) + "\n").encode("utf-8")


# JSON-like values with what orjson and json write differently: floats of every size, NaN and
# infinities, None, control characters, lone surrogates, integers beyond 64 bits.
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=12)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _values, max_size=6))
def test_dumps_line_writes_what_json_writes(record: dict[str, Any]) -> None:
    assert dumps_line(record) == _expected(record)


@pytest.mark.parametrize(
    "value",
    [1e-05, 1.5e-07, 6.5e-05, 5e-324, 0.0001, 1e16, 1.7976931348623157e308, -0.0, math.nan, -math.inf, 2**64],
)
def test_dumps_line_numbers_where_orjson_differs(value: Any) -> None:
    for record in ({"a": value}, {"a": None, "b": [value]}, {"a": {"x": value}, "s": "x:null"}):
        assert dumps_line(record) == _expected(record)


def test_dumps_line_refused_types_fall_back_to_json() -> None:
    class Name(str):
        pass

    assert dumps_line({"k": "\ud800"}) == b'{"k":"\\ud800"}\n'  # escaped, as dumps writes it
    assert dumps_line({1: 2}) == b'{"1":2}\n'
    assert dumps_line({"k": Name("v")}) == b'{"k":"v"}\n'
    with pytest.raises(TypeError):  # json refuses what it always refused
        dumps_line({"k": object()})


def test_records_of_a_pipeline_are_written_as_json_writes_them() -> None:
    settings_ = Settings()
    pipeline = Pipeline.from_settings(settings_)
    raw = "　　关于做好2024年防汛工作的通知\r\n\r\n各区县人民政府：\r\n  请认真贯彻落实。。\r\n".encode("gbk")
    record = dict(build_record(pipeline.clean_bytes(raw, source="a.txt"), "f", "a.txt"))
    assert dumps_lines([record, record]) == _expected(record) * 2


def _record_line() -> bytes:
    pipeline = Pipeline.from_settings(Settings())
    record = build_record(pipeline.clean_bytes("通知\n各单位：请遵照执行。\n".encode(), source="a.txt"), "f", "a.txt")
    return dumps_line(record)


@pytest.mark.parametrize(
    "extra",
    ["[1,2]", "NaN", "1e400", '"\\ud800"', "12345678901234567890123", " -9223372036854775809", "1.5e-07", "-0.0"],
)
def test_parse_line_reads_what_json_reads(extra: str) -> None:
    line = _record_line()[:-2] + f',"x":{extra}}}\n'.encode()
    record, problem = parse_line(line)
    assert problem == ""
    assert repr(record) == repr(json.loads(line))  # the same values and types (an int stays an int)


@pytest.mark.parametrize("encode", [lambda t: b"\xef\xbb\xbf" + t.encode(), lambda t: t.encode("utf-16-le")])
def test_parse_line_other_encodings_as_json(encode: Any) -> None:
    line = encode(_record_line().decode())
    assert parse_line(line) == (json.loads(line), "")


@pytest.mark.parametrize("line", [b'{"a":"x\ty"}\n', b"not json\n", b"\n"])
def test_parse_line_not_json_says_what_json_says(line: bytes) -> None:
    try:
        json.loads(line)
    except json.JSONDecodeError as exc:
        assert parse_line(line) == (None, f"not JSON ({exc})")
