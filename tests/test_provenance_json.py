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
from cleankit.core.document import Edit
from cleankit.core.provenance import (
    build_record,
    dumps,
    dumps_line,
    dumps_line_with_edits,
    dumps_lines,
    parse_line,
    split_edits,
)


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


def _notice_record(raw: bytes) -> dict[str, Any]:
    pipeline = Pipeline.from_settings(Settings())
    return dict(build_record(pipeline.clean_bytes(raw, source="site03/00127.txt"), "f", "site03/00127.txt"))


_NOTICE = (
    "首页 | 政务公开 | 通知公告\r\n\r\n　　关于做好2024年防汛工作的通知\r\n\r\n各区县人民政府：\r\n"
    "  请认真贯彻落实。。为切实做好今年防汛工作，现将有关事项通知如下：\r\n\r\n"
    "  一、提高思想认识。各地要把防汛工作摆在突出位置。\r\n主办：某某市人民政府办公室\r\n"
).encode("gbk")


def _as_duplicate(record: dict[str, Any], new_edits: list[dict[str, Any]]) -> dict[str, Any]:
    """What the end of a run makes of a duplicate's record (neardup's _as_duplicate), edits aside."""
    record = dict(record)
    record.update(status="duplicate", duplicate_of="site11/00811.txt", duplicate_of_id="b277004070bea1e2")
    record.update(similarity=0.9731, output=None, output_bytes=0, steps=[*record["steps"], "neardup"])
    record["edits"] = [*record["edits"], *new_edits]
    return record


@pytest.mark.parametrize("flags", [False, True])
def test_a_line_put_back_together_with_its_edits_is_the_whole_records_line(flags: bool) -> None:
    record = _notice_record(_NOTICE)
    if flags:  # a key after the edits, as a page with damaged runs has
        record["flags"] = [{"stage": "mojibake", "rule": "lost-bytes", "start": 3, "end": 5, "guess": True}]
    assert record["edits"]
    line = dumps_line(record)
    split = split_edits(line)
    assert split is not None
    skeleton, earlier = split
    parsed = json.loads(skeleton)
    assert parsed == {**record, "edits": []}
    removal = Edit("neardup", "duplicate-document", 0, 12, "关于做好防汛工作的通知", "", "near-duplicate", "doc:x")
    for new_edits in ([removal.to_json()], []):  # dropped text, or kept (keep_duplicates)
        whole = _as_duplicate(record, new_edits)
        assert dumps_line_with_edits(_as_duplicate(parsed, new_edits), earlier) == dumps_line(whole)


def test_a_record_without_edits_is_put_back_together_too() -> None:
    record = {"source": "a.txt", "status": "ok", "output": "a.txt", "edits": [], "output_bytes": 3}
    skeleton, earlier = split_edits(dumps_line(record)) or (b"", b"x")
    assert earlier == b""
    assert dumps_line_with_edits(json.loads(skeleton), earlier) == dumps_line(record)


@pytest.mark.parametrize(
    "old",
    [
        "旧\ud800字",  # a lone surrogate: the line was written by json, every non-ASCII escaped
        "第1e-5条",  # text where json and orjson would not be told apart by the line's own checks
        "值:null",
        "0.00001",
    ],
)
def test_lines_whose_edits_the_checks_cannot_vouch_for_take_the_usual_path(old: str) -> None:
    record = _notice_record(_NOTICE)
    record["edits"] = [*record["edits"], Edit("hygiene", "line-trim", 0, 1, old, "").to_json()]
    split = split_edits(dumps_line(record))
    if split is None:  # refused at once
        return
    skeleton, earlier = split
    assert dumps_line_with_edits(_as_duplicate(json.loads(skeleton), []), earlier) is None


def test_an_edit_holds_no_list_or_object() -> None:
    # split_edits finds the end of a line's edits as the first ``],"`` after them: true while
    # an edit's values are numbers and strings.
    edit = Edit("neardup", "seen-paragraph", 3, 9, "旧段落", "", "paragraph already seen", "doc:a.txt")
    edit.step = 4
    assert all(isinstance(value, (int, str)) for value in edit.to_json().values())
