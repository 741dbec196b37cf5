"""The compiled inner loops (cleankit._speedups) give what their Python references give, on
random and real inputs; they are built and used; they leak nothing and survive odd input."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleankit import speedups
from cleankit.neardup import signature as signature_module
from cleankit.neardup.signature import SignatureParams, signature
from cleankit.stages import repeats
from cleankit.stages.mojibake import byte_shift
from cleankit.stages.mojibake.frames import BIG5, GBK, Frame
from cleankit.stages.repeats import RepeatsStage, Segment
from cleankit.text.plausibility import ChineseModel, chinese_model

ROOT = Path(__file__).resolve().parent.parent
compiled = speedups.compiled
needs_compiled = pytest.mark.skipif(compiled is None, reason="no extension built, or CLEANKIT_PURE_PYTHON set")

# Real lines of the kind the crawl holds (government notices), and the characters of them.
LINES = [
    "国务院办公厅关于进一步加强政府网站信息内容建设的意见",
    "各省、自治区、直辖市人民政府，国务院各部委、各直属机构：",
    "为贯彻落实党中央、国务院决策部署，现就有关事项通知如下。",
    "二〇二四年六月十二日，市人民政府召开常务会议，研究部署安全生产工作。",
    "本网站由市人民政府办公室主办，市大数据中心承办。联系电话：0571-87051234",
]
CHARS = sorted(set("".join(LINES)))
HAN_TEXT = st.text(alphabet=st.sampled_from(CHARS), max_size=60)
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(CHARS),
        st.characters(min_codepoint=0, max_codepoint=0x7F),
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),  # lone surrogates
        st.characters(min_codepoint=0x10000, max_codepoint=0x2FFFF),
    ),
    max_size=60,
)


def test_the_extension_is_built_and_used() -> None:
    """A checkout installed with ``pip install -e .`` on a machine with a C compiler has the
    extension, and the modules run it: a silently missing build fails here (under CI=true),
    not only in speed."""
    if os.environ.get(speedups.PURE_PYTHON_VARIABLE, "") not in ("", "0"):
        assert compiled is None
        return
    if compiled is None and os.environ.get("CI") != "true":  # like chromium: CI fails, a laptop skips
        pytest.skip("cleankit._speedups is not built (no C compiler at pip install)")
    assert compiled is not None, "cleankit._speedups is not built: pip install -e . (needs a C compiler)"
    assert compiled.__file__ is not None and compiled.__file__.endswith((".so", ".pyd"))
    from cleankit.stages import repeats
    from cleankit.text import plausibility

    for module in (plausibility, repeats, byte_shift, signature_module):
        assert module._compiled is compiled, module.__name__
    assert byte_shift._Search("", chinese_model(), GBK)._context is not None


PROBE = """
import sys
from cleankit import speedups
from cleankit import Pipeline, Settings
page = sys.stdin.read()
print(speedups.compiled is None)
print(Pipeline.from_settings(Settings()).clean_text(page).text)
"""


def _run_probe(environment: dict[str, str], page: str, prelude: str = "") -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", prelude + PROBE],
        input=page,
        capture_output=True,
        text=True,
        env={**os.environ, **environment},
        cwd=ROOT,
        check=True,
    )
    return done.stdout.split("\n", 1)


# A page with a byte-shifted run (GBK text read one byte off), a repeated paragraph, and
# traditional text: the three compiled stages each have work on it.
SHIFTED = (b"\xa1" + "关于做好安全生产工作的通知".encode("gbk")).decode("gbk", errors="replace")
PAGE = "\n\n".join([LINES[0], f"为贯彻落实{SHIFTED}决策部署", LINES[2], LINES[3], LINES[2], LINES[4]]) + "\n"


@needs_compiled
def test_pure_python_switch_and_a_failed_import_give_the_same_page() -> None:
    """CLEANKIT_PURE_PYTHON=1 runs the Python loops, so does a failing import of the
    extension (no crash); both clean the page to the same text as the extension."""
    fast_none, fast_text = _run_probe({speedups.PURE_PYTHON_VARIABLE: "0"}, PAGE)
    pure_none, pure_text = _run_probe({speedups.PURE_PYTHON_VARIABLE: "1"}, PAGE)
    blocked = (
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'cleankit._speedups':\n"
        "            raise ImportError('blocked by the test')\n"
        "sys.meta_path.insert(0, _Block())\n"
    )
    broken_none, broken_text = _run_probe({speedups.PURE_PYTHON_VARIABLE: ""}, PAGE, blocked)
    assert (fast_none, pure_none, broken_none) == ("False", "True", "True")
    assert fast_text == pure_text == broken_text
    assert SHIFTED not in fast_text  # the byte-shift search did repair the run


# -- total_logp --------------------------------------------------------------------------


def _small_model() -> ChineseModel:
    chars = {char: 10 + index for index, char in enumerate(CHARS)}
    bigrams = {line[i : i + 2]: 3 + i for line in LINES for i in range(len(line) - 1)}
    return ChineseModel(chars, bigrams)


def _both_total_logp(model: ChineseModel, text: str, previous: str | None) -> tuple[float, float]:
    assert compiled is not None
    if not text:
        return 0.0, 0.0
    score = model.logp(previous, text[0])
    fast = compiled.total_logp(
        text, score, model._pair_logp, model._unseen_logp, model.bigrams, model._logp, model.unseen_pair_logp
    )
    return model._total_logp_after(text, score), fast


@needs_compiled
@settings(max_examples=300)
@given(text=ANY_TEXT, previous=st.one_of(st.none(), st.sampled_from(CHARS)), shipped=st.booleans())
def test_total_logp_is_the_same_float(text: str, previous: str | None, shipped: bool) -> None:
    model = chinese_model() if shipped else _small_model()
    python, fast = _both_total_logp(model, text, previous)
    assert python == fast or (python != python and fast != fast)  # the same double (NaN never here)


@needs_compiled
def test_total_logp_on_real_lines_with_fresh_memos() -> None:
    # A fresh model per side: the memos start empty, so each side computes every term itself.
    for line in LINES:
        first, second = _small_model(), _small_model()
        score = first.logp(None, line[0])
        assert second.logp(None, line[0]) == score
        assert compiled is not None
        fast = compiled.total_logp(
            line, score, second._pair_logp, second._unseen_logp, second.bigrams, second._logp, second.unseen_pair_logp
        )
        assert first._total_logp_after(line, score) == fast
        assert first._pair_logp == second._pair_logp and first._unseen_logp == second._unseen_logp


# -- anchor extension (repeats) ------------------------------------------------------------


def _indexed(stage: RepeatsStage, kept: list[str]) -> tuple[dict[str, list[tuple[int, int]]], dict[int, str]]:
    anchors: dict[str, list[tuple[int, int]]] = {}
    kept_views = dict(enumerate(kept))
    for index, view in kept_views.items():
        stage._index(view, index, anchors, range(len(view)))
    return anchors, kept_views


def _as_tuples(segments: list[Segment]) -> list[tuple[int, int, int, int, int]]:
    return [(s.start, s.end, s.kept, s.kept_start, s.kept_end) for s in segments]


@needs_compiled
@settings(max_examples=300)
@given(
    kept=st.lists(st.text(alphabet="政府网站工作通知", min_size=0, max_size=40), min_size=1, max_size=5),
    view=st.text(alphabet="政府网站工作通知", max_size=60),
    step=st.integers(min_value=1, max_value=3),
)
def test_anchor_matches_are_the_python_ones(kept: list[str], view: str, step: int) -> None:
    assert compiled is not None
    stage = RepeatsStage()
    anchors, kept_views = _indexed(stage, kept)
    offsets = list(range(0, len(view), step))
    fast = compiled.anchor_matches(view, anchors, kept_views, iter(offsets), stage.anchor_chars)
    assert fast == _as_tuples(stage._anchor_matches(view, anchors, kept_views, offsets))


@needs_compiled
def test_anchor_matches_on_a_real_repeat_and_the_segments_it_makes() -> None:
    stage = RepeatsStage()
    anchors, kept_views = _indexed(stage, [LINES[2], LINES[3]])
    view = "会议指出，" + LINES[2] + "要抓好落实。"
    segments = stage._segments(view, anchors, kept_views, range(len(view)))
    assert _as_tuples(segments) == [(5, 5 + len(LINES[2]), 0, 0, len(LINES[2]))]
    assert _as_tuples(stage._merge(stage._anchor_matches(view, anchors, kept_views, range(len(view))))) == (
        _as_tuples(segments)
    )


# -- the byte-shift search ---------------------------------------------------------------------


def _searches(before: str, frame: Frame) -> tuple[byte_shift._Search, byte_shift._Search]:
    fast = byte_shift._Search(before, chinese_model(), frame)
    python = byte_shift._Search(before, chinese_model(), frame)
    python._context = None
    assert fast._context is not None
    return fast, python


def _shifted(text: str, frame: Frame, lead: bytes) -> str:
    """``text`` encoded in the frame and read one byte out of step (a lost or extra byte)."""
    return (lead + text.encode(frame.codec, errors="replace")).decode(frame.codec, errors="replace")


@needs_compiled
@settings(max_examples=120, deadline=None)
@given(
    text=HAN_TEXT,
    lead=st.sampled_from([b"\xa1", b"\xb0", b"a", b""]),
    drop=st.integers(min_value=0, max_value=3),
    big5=st.booleans(),
    before=st.sampled_from(["", "，", "的"]),
)
def test_realignment_beam_is_the_python_one(text: str, lead: bytes, drop: int, big5: bool, before: str) -> None:
    frame = BIG5 if big5 else GBK
    run = _shifted(text, frame, lead)[drop:]
    cuts = list(range(1, len(run) + 1))
    fast, python = _searches(before, frame)
    assert byte_shift._realign_prefixes(run, cuts, fast) == byte_shift._realign_prefixes(run, cuts, python)


@needs_compiled
@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(CHARS), max_size=4),
    pending=st.one_of(st.none(), st.just(byte_shift.WILDCARD), st.integers(min_value=0x81, max_value=0xFE)),
    data=st.lists(st.one_of(st.just(byte_shift.WILDCARD), st.integers(min_value=0, max_value=0xFF)), max_size=4),
    lost=st.lists(st.integers(min_value=0, max_value=1 << 12), max_size=2),
)
def test_feed_is_the_python_one(text: str, pending: int | None, data: list[int], lost: list[int]) -> None:
    assert compiled is not None
    fast, python = _searches("", GBK)
    path = (-3.5, text, pending, tuple(lost))
    keep = byte_shift.BEAM * 2
    assert compiled.feed(fast._context, path, data, keep) == python.feed(path, data)


@needs_compiled
def test_the_beam_keeps_ties_in_order_like_list_sort() -> None:
    """Equal scores (the same character guessed through two byte readings) stay in the order
    they were made, as list.sort(reverse=True) leaves them."""
    fast, python = _searches("", GBK)
    paths = [(0.0, "", None, ()), (0.0, "政", None, ()), (0.0, "", byte_shift.WILDCARD, ())]
    alternatives = [[byte_shift.WILDCARD], [0xA1, 0xA1], [byte_shift.WILDCARD, 0x40]]
    assert compiled is not None
    got = compiled.grow(fast._context, paths, alternatives, byte_shift.BEAM * 2, byte_shift.BEAM)
    assert got == python.grow(paths, alternatives)
    assert len(got) == byte_shift.BEAM


# -- MinHash ------------------------------------------------------------------------------------


@needs_compiled
@settings(max_examples=100, deadline=None)
@given(
    hashes=st.lists(st.integers(min_value=0, max_value=0xFFFFFFFF), max_size=1200),
    permutations=st.sampled_from([1, 16, 128]),
)
def test_min_hashes_are_numpy_ones(hashes: list[int], permutations: int) -> None:
    assert compiled is not None
    a, b = signature_module._permutations(permutations)
    values = np.array(hashes, dtype=np.uint32)
    python = np.full(permutations, 0xFFFFFFFF, dtype=np.uint32)
    fast = python.copy()
    signature_module._min_hashes_python(values, a, b, python)
    compiled.min_hashes(values, a, b, fast)
    assert fast.tolist() == python.tolist()


@needs_compiled
def test_signature_of_a_real_page_is_the_numpy_one() -> None:
    view = "".join(LINES) * 20
    params = SignatureParams()
    a, b = signature_module._permutations(params.permutations)
    hashes = signature_module._fmix32(signature_module.shingle_hashes(view, params.shingle_chars))
    python = np.full(params.permutations, 0xFFFFFFFF, dtype=np.uint32)
    signature_module._min_hashes_python(hashes, a, b, python)
    assert signature(view, params).tolist() == python.tolist()


@needs_compiled
def test_min_hashes_refuses_wrong_buffers() -> None:
    assert compiled is not None
    a, b = signature_module._permutations(4)
    result = np.zeros(4, dtype=np.uint32)
    with pytest.raises(TypeError):
        compiled.min_hashes(np.zeros(3, dtype=np.uint64), a, b, result)
    with pytest.raises(ValueError):
        compiled.min_hashes(np.zeros(3, dtype=np.uint32), a, b, np.zeros(5, dtype=np.uint32))
    with pytest.raises((TypeError, ValueError, BufferError)):
        compiled.min_hashes(
            np.zeros(3, dtype=np.uint32), a, b, np.zeros(4, dtype=np.uint32)[::-1].copy().data.toreadonly()
        )


# -- odd input, errors and leaks ----------------------------------------------------------------


@needs_compiled
def test_empty_huge_and_surrogate_input() -> None:
    assert compiled is not None
    model = chinese_model()
    huge = ("\ud800政" + LINES[2]) * 20_000  # 620,000 characters, lone surrogates among them
    python, fast = _both_total_logp(model, huge, None)
    assert python == fast
    stage = RepeatsStage()
    anchors, kept_views = _indexed(stage, [huge[:5000], "\udfff" * 30])
    assert compiled.anchor_matches("", anchors, kept_views, iter(()), stage.anchor_chars) == []
    offsets = range(0, 200_000, 7)
    assert compiled.anchor_matches(huge[:200_000], anchors, kept_views, iter(offsets), stage.anchor_chars) == (
        _as_tuples(stage._anchor_matches(huge[:200_000], anchors, kept_views, offsets))
    )
    fast_search, python_search = _searches("\ud800", GBK)
    assert compiled.feed(fast_search._context, (0.0, "\udc00", None, ()), [], 32) == [(0.0, "\udc00", None, ())]
    assert compiled.feed(fast_search._context, (0.0, "\udc00", None, ()), [0xB0, 0xA1], 32) == python_search.feed(
        (0.0, "\udc00", None, ()), [0xB0, 0xA1]
    )
    result = np.full(8, 7, dtype=np.uint32)
    a, b = signature_module._permutations(8)
    compiled.min_hashes(np.zeros(0, dtype=np.uint32), a, b, result)
    assert result.tolist() == [7] * 8


@needs_compiled
def test_bad_arguments_raise_instead_of_crashing() -> None:
    assert compiled is not None
    search, _ = _searches("", GBK)
    with pytest.raises(TypeError):
        compiled.total_logp("政府", 0.0, {}, {}, [], len, len)
    with pytest.raises(TypeError):
        compiled.anchor_matches("政府网站", {"政府网站": [("0", 0)]}, {0: "政府网站"}, iter([0]), 4)
    with pytest.raises(KeyError):
        compiled.anchor_matches("政府网站", {"政府网站": [(3, 0)]}, {0: "政府网站"}, iter([0]), 4)
    with pytest.raises(TypeError):
        compiled.feed(search._context, (0.0, "政", None, []), [0xB0], 32)
    with pytest.raises(TypeError):
        compiled.feed(search._context[:-1], (0.0, "政", None, ()), [0xB0], 32)
    with pytest.raises(ValueError):
        compiled.grow(search._context, [(float("nan"), "政", None, ())], [[0x41]], 32, 16)


# -- repeated_offsets ------------------------------------------------------------------------


def _pure_offsets(views: list[str], size: int) -> list[list[int]]:
    return [list(offsets) for offsets in repeats._repeated_offsets_pure(views, "\n".join(views), size)]


@needs_compiled
@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.text(alphabet=st.sampled_from("政府网站ab\U00020000\ud800"), max_size=40), max_size=8),
    st.integers(1, 10),
)
def test_repeated_offsets_are_the_python_ones(views: list[str], size: int) -> None:
    assert compiled is not None
    joined = "\n".join(views)
    assert compiled.repeated_offsets(joined, [len(view) for view in views], size) == _pure_offsets(views, size)


def test_repeated_offsets_of_a_real_page_and_the_stage_path() -> None:
    """A page whose second paragraph repeats the first's sentence: the anchors of both copies
    repeat, and repeated_anchor_offsets hands back the same offsets by either path."""
    views = [LINES[2] + LINES[3], LINES[4], LINES[3]]
    expected = _pure_offsets(views, 8)
    assert [list(offsets) for offsets in repeats.repeated_anchor_offsets(views, 8)] == expected
    assert expected[2] == list(range(len(LINES[3]) - 7))  # every anchor of the copy repeats
    if compiled is not None:
        assert compiled.repeated_offsets("\n".join(views), [len(view) for view in views], 8) == expected


def test_a_page_of_more_windows_than_a_slice_takes_the_numpy_path() -> None:
    view = "政府" * (repeats.OFFSETS_PER_SLICE // 2 + 8)
    found = repeats.repeated_anchor_offsets([view], 8)
    assert isinstance(found[0], np.ndarray)  # 4 bytes an offset, not a list's 36
    assert len(found[0]) == len(view) - 7


@needs_compiled
def test_repeated_offsets_refuses_wrong_arguments() -> None:
    assert compiled is not None
    with pytest.raises(ValueError, match="lengths"):
        compiled.repeated_offsets("政府网站\n政府网站", [4, 9], 2)
    with pytest.raises(ValueError, match="size"):
        compiled.repeated_offsets("政府网站", [4], 0)
    with pytest.raises(TypeError):
        compiled.repeated_offsets("政府网站", (4,), 2)  # type: ignore[arg-type]
    assert compiled.repeated_offsets("", [0], 8) == [[]]


def _memory_growth(call: Callable[[], Any], rounds: int) -> int:
    """Bytes still allocated after ``rounds`` more calls, once the memos are warm."""
    for _ in range(50):
        call()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(rounds):
            call()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def _raising(call: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        with contextlib.suppress(TypeError, ValueError, KeyError):
            call()

    return run


@needs_compiled
def test_no_references_or_memory_leak() -> None:
    """Every object handed in keeps its reference count, and a thousand calls (results and
    errors alike) leave no memory behind: a leaked tuple or str per call would show."""
    assert compiled is not None
    model = chinese_model()
    text = "".join(LINES)
    stage = RepeatsStage()
    anchors, kept_views = _indexed(stage, [LINES[2], LINES[3]])
    view = "会议指出，" + LINES[2] + LINES[3]
    search, _ = _searches("，", GBK)
    path = (0.0, "政", None, (5,))
    paths = [path, (0.0, "", byte_shift.WILDCARD, ())]
    alternatives = [[0xB0, 0xA1], [byte_shift.WILDCARD]]
    a, b = signature_module._permutations(128)
    hashes = np.arange(3000, dtype=np.uint32)
    result = np.full(128, 0xFFFFFFFF, dtype=np.uint32)
    score = model.logp(None, text[0])
    calls: list[Callable[[], Any]] = [
        lambda: compiled.total_logp(
            text, score, model._pair_logp, model._unseen_logp, model.bigrams, model._logp, model.unseen_pair_logp
        ),
        lambda: compiled.anchor_matches(view, anchors, kept_views, iter(range(len(view))), stage.anchor_chars),
        lambda: compiled.feed(search._context, path, [0xB0, byte_shift.WILDCARD, 0x41], 32),
        lambda: compiled.grow(search._context, paths, alternatives, 32, 16),
        lambda: compiled.min_hashes(hashes, a, b, result),
        lambda: compiled.repeated_offsets(repeating, lengths, stage.anchor_chars),
        _raising(lambda: compiled.repeated_offsets(repeating, [len(repeating) + 1], stage.anchor_chars)),
        _raising(lambda: compiled.anchor_matches(view, {view[:4]: [(9, 0)]}, kept_views, iter([0]), 4)),
        _raising(lambda: compiled.grow(search._context, [(float("nan"), "政", None, ())], [[0x41]], 32, 16)),
        _raising(lambda: compiled.min_hashes(hashes, a, b, np.zeros(3, dtype=np.uint32))),
    ]
    repeating = "\n".join([LINES[2], LINES[3], LINES[2]])
    lengths = [len(LINES[2]), len(LINES[3]), len(LINES[2])]
    watched = [text, view, anchors, kept_views, path, paths, alternatives, hashes, result, search._context, *paths]
    watched += [repeating, lengths]
    counts = [sys.getrefcount(item) for item in watched]
    for call in calls:
        assert _memory_growth(call, 1000) < 4096
    assert [sys.getrefcount(item) for item in watched] == counts
