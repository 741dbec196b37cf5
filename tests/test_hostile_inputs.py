"""Hostile inputs: what an attacker or a broken crawler hands cleankit. Nothing may raise
anything but a clear :class:`InputError` (which fails the one document), and whatever is
cleaned must restore exactly, to the text and to the bytes.

Fed to the decoder, to every stage on its own (the repairs, the rule packs through the
boilerplate stage, reflow, repeats) and to the whole pipeline: random bytes, encodings cut
off mid-character, control characters, bidi overrides, lone surrogates, NUL bytes, and very
long inputs (one huge line, a million one-character lines).

Bounded by default (well under a minute). The full run, with more examples, a 10 MB single
line and 1,000,000 one-character lines:

    CLEANKIT_FUZZ=full pytest tests/test_hostile_inputs.py
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleankit import InputError, Pipeline, Settings
from cleankit.core.document import Document
from cleankit.core.errors import DecodeError
from cleankit.core.provenance import build_record, restore_bytes_from_record, restore_from_record
from cleankit.core.stage import default_stage_names
from cleankit.io.encoding import _euc_tw_shaped, detect_and_decode, encode_back

FULL = os.environ.get("CLEANKIT_FUZZ") == "full"
EXAMPLES = 400 if FULL else 40
# One huge line and many tiny lines: the sizes issue 14 names in full, a fiftieth by default.
HUGE_LINE_CHARS = 10_000_000 if FULL else 200_000
TINY_LINES = 1_000_000 if FULL else 20_000
# A budget per document in these tests: a stage that hangs fails the test, named, instead of
# holding the suite (the five hangs issue 12 owns are not among these inputs).
BUDGET = 600.0 if FULL else 60.0

FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
CONTROLS = "".join(chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)])
HOSTILE_CHARS = st.one_of(
    st.sampled_from(list(BIDI + CONTROLS + "\ud800\udbff\udc00\udfff\ufeff\ufffd\u2028\u2029\u0085")),
    st.sampled_from(list("政府工作报告，。、“”《》（）【】：；！？ \u3000\u00a0abcXYZ019<>&;=\"'/")),
    st.characters(),
)
hostile_text = st.lists(HOSTILE_CHARS, max_size=300).map("".join)
CODECS = ["utf-8", "gb18030", "gbk", "big5", "utf-16", "utf-16-le", "utf-32", "shift_jis", "euc-kr", "latin-1"]


@st.composite
def truncated_encodings(draw: st.DrawFn) -> bytes:
    """Real text in some encoding, cut at any byte (mid-character), maybe spliced with junk."""
    text = draw(st.lists(st.sampled_from(list("广西壮族自治区人民政府關於印發通知，。abc 123\n")), max_size=200))
    raw = "".join(text).encode(draw(st.sampled_from(CODECS)), errors="ignore")
    cut = draw(st.integers(0, max(0, len(raw))))
    junk = draw(st.binary(max_size=8))
    return raw[:cut] + junk if draw(st.booleans()) else junk + raw[:cut]


hostile_bytes = st.one_of(
    st.binary(max_size=600),
    truncated_encodings(),
    hostile_text.map(lambda t: t.encode("utf-8", errors="surrogatepass")),
    st.binary(max_size=64).map(lambda b: b"\x00".join([b, b, b])),
)


def pipeline_of(stages: list[str]) -> Pipeline:
    return Pipeline.from_settings(Settings(stages=stages, document_seconds=BUDGET))


FULL_PIPELINE = pipeline_of(default_stage_names())
EACH_STAGE = {name: pipeline_of([name]) for name in default_stage_names()}


def clean_or_refuse(pipeline: Pipeline, raw: bytes) -> Document | None:
    """The cleaned document, or None when the input is refused with an InputError (empty,
    binary, over its budget): the one failure a hostile input may cause."""
    try:
        return pipeline.clean_bytes(raw)
    except InputError:
        return None


def assert_restores(document: Document, text: str) -> None:
    record = build_record(document, "fuzz", None)
    assert restore_from_record(document.text, record) == text


# --- the decoder --------------------------------------------------------------------------


@FUZZ
@given(hostile_bytes)
def test_decoder_takes_any_bytes_and_gives_them_back(raw: bytes) -> None:
    try:
        text, info = detect_and_decode(raw)
    except DecodeError as exc:
        # Refused with the codec named: a UTF-32 byte order mark before units that are no
        # code point (bytes under 0x80 cannot be carried through as escapes), or bytes of
        # EUC-TW's shape that no codec cleankit has reads as Chinese.
        assert str(exc).startswith("cannot decode as utf-32") or (
            _euc_tw_shaped(raw) and str(exc).startswith("looks like EUC-TW")
        )
        return
    assert isinstance(text, str)
    assert encode_back(text, info) == raw


# --- each stage, and the whole pipeline ---------------------------------------------------


@pytest.mark.parametrize("stage", default_stage_names())
@FUZZ
@given(text=hostile_text)
def test_each_stage_takes_any_text_and_restores_it(stage: str, text: str) -> None:
    document = EACH_STAGE[stage].clean_text(text)
    assert_restores(document, text)


@FUZZ
@given(hostile_bytes)
def test_the_pipeline_takes_any_bytes_and_restores_them(raw: bytes) -> None:
    document = clean_or_refuse(FULL_PIPELINE, raw)
    if document is None:
        return
    record = build_record(document, "fuzz", None)
    assert restore_bytes_from_record(document.text, record) == raw


FURNITURE = ["", " ", "\u3000", "首页 > 新闻", "来源：本网", "版权所有 © 2024", "\u202e"]


@FUZZ
@given(st.lists(st.sampled_from(FURNITURE), max_size=30))
def test_rule_packs_on_furniture_mixed_with_hostile_characters(lines: list[str]) -> None:
    # Every rule of every shipped pack meets lines that almost look like furniture.
    text = "\n".join(line + "\u202e\x00\ud800" * (i % 3) for i, line in enumerate(lines))
    document = EACH_STAGE["boilerplate"].clean_text(text)
    assert_restores(document, text)


# --- very long inputs ---------------------------------------------------------------------


LONG_INPUTS = {
    "one huge line of one letter": lambda: "a" * HUGE_LINE_CHARS,
    "one huge line of Chinese text": lambda: ("政府工作报告指出，" * (HUGE_LINE_CHARS // 9 + 1))[:HUGE_LINE_CHARS],
    "one huge line of NUL and bidi": lambda: ("\x00\u202e" * (HUGE_LINE_CHARS // 2 + 1))[:HUGE_LINE_CHARS],
    "many one-character lines": lambda: "字\n" * TINY_LINES,
    "many one-character lines, CRLF and controls": lambda: "\x01\r\n" * TINY_LINES,
}


@pytest.mark.parametrize("name", list(LONG_INPUTS))
@pytest.mark.parametrize("stage", ["mojibake", "hygiene", "boilerplate", "paragraphs", "reflow", "repeats"])
def test_long_inputs_through_the_stages_that_walk_lines(name: str, stage: str) -> None:
    text = LONG_INPUTS[name]()
    document = EACH_STAGE[stage].clean_text(text)
    assert_restores(document, text)


@pytest.mark.parametrize("name", list(LONG_INPUTS))
def test_long_inputs_through_the_whole_pipeline(name: str) -> None:
    raw = LONG_INPUTS[name]().encode("utf-8")
    document = clean_or_refuse(FULL_PIPELINE, raw)
    assert document is not None, "a long but plain text must be cleaned, not refused"
    record = build_record(document, "fuzz", None)
    assert restore_bytes_from_record(document.text, record) == raw
