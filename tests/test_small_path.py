"""The numpy-free path of a small page (:mod:`cleankit.text.small`) gives what the numpy path
gives: each function on generated text, and the whole pipeline on every sample file (as it
is, in traditional characters, and with repeated paragraphs), provenance included."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT, SAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from cleankit import Pipeline, Settings
from cleankit.core.provenance import build_record, dumps
from cleankit.stages.paragraphs import paragraph_spans
from cleankit.stages.repeats import repeated_anchor_offsets
from cleankit.stages.script import script_mix
from cleankit.text import small
from cleankit.text.cjk import opencc_converter
from cleankit.text.fold import canonical_pieces, fold_width, view_positions

SAMPLE_FILES = sorted(SAMPLES.iterdir())
# Simplified, traditional, shared (准, 云, 台), full-width, dropped and folded characters, a
# lone surrogate, a supplementary-plane ideograph (counted as rare), Latin and line breaks.
ALPHABET = (
    "汉字国门后准云台發國門後臺灣衞說為裡，,。.  \n\tAbCｆＵＬＬ：「」【】"
    + "\ufffd\u200b\u00ad①㈠\u3000丨»\udc80\U00020000"
)
MIXED = st.text(alphabet=st.sampled_from(list(ALPHABET)), max_size=200) | st.text(max_size=80)


def both(function, *args):
    """``function(*args)`` on the numpy path and on the pure-Python one."""
    with small.forced(True):
        with_numpy = function(*args)
    with small.forced(False):
        without = function(*args)
    return with_numpy, without


@given(MIXED)
@settings(max_examples=300, deadline=None)
def test_fold_views_agree(text: str) -> None:
    spans = list(paragraph_spans(text))
    pieces, pure_pieces = both(canonical_pieces, text, spans)
    assert pieces == pure_pieces
    whole, pure_whole = both(canonical_pieces, text, [(0, len(text))])
    assert whole == pure_whole
    positions, pure_positions = both(view_positions, text)
    assert positions == pure_positions
    folded, pure_folded = both(fold_width, text)
    assert folded == pure_folded


@given(MIXED)
@settings(max_examples=300, deadline=None)
def test_script_mix_agrees(text: str) -> None:
    mix, pure_mix = both(script_mix, text)
    assert mix == pure_mix


# Paragraph views built from few pieces repeat windows across and within paragraphs.
PIECES = st.sampled_from(["关于", "印发", "通知", "國務院", "办公厅", "的", "。", "x", "第一条", "\U00020000"])
VIEWS = st.lists(st.lists(PIECES, max_size=12).map("".join), max_size=8)


@given(VIEWS, st.integers(min_value=2, max_value=9))
@settings(max_examples=300, deadline=None)
def test_repeated_anchor_offsets_agree(views: list[str], size: int) -> None:
    found, pure = both(repeated_anchor_offsets, views, size)
    assert [list(map(int, offsets)) for offsets in found] == [list(offsets) for offsets in pure]


def test_repeated_anchor_offsets_find_a_repeat_either_way() -> None:
    views = ["关于印发通知的决定", "另一段文字", "关于印发通知的决定之后"]
    found, pure = both(repeated_anchor_offsets, views, 4)
    assert [list(map(int, offsets)) for offsets in found] == [list(offsets) for offsets in pure]
    assert list(pure[0]) == list(range(6)) and list(pure[1]) == [] and list(pure[2]) == list(range(6))


def _pages() -> list[tuple[str, str]]:
    """Every sample as it is, in traditional characters (Taiwan's), and with its paragraphs
    twice (repeats) and a stray traditional character (a simplified page's strays)."""
    pages = []
    for sample in SAMPLE_FILES:
        text = sample.read_text(encoding="utf-8")
        paragraphs = [p for p in text.split("\n") if p.strip()]
        pages.append((sample.name, text))
        pages.append((sample.name + ":tw", opencc_converter("s2tw.json").convert(text)))
        pages.append((sample.name + ":repeated", "\n".join(paragraphs + paragraphs[: len(paragraphs) // 2]) + "\n發"))
    return pages


PAGES = _pages()


@pytest.mark.parametrize("name,text", PAGES, ids=[name for name, _ in PAGES])
def test_pipeline_agrees_on_samples(name: str, text: str) -> None:
    """The same clean text, provenance record (edits, steps, metadata) either way."""
    settings = Settings()
    records = []
    for numpy in (True, False):
        with small.forced(numpy):
            document = Pipeline.from_settings(settings).clean_bytes(text.encode("utf-8"), source=name)
        records.append((document.text, dumps(build_record(document, settings.output_fingerprint(), name))))
    assert records[0] == records[1]


def test_the_budget_hands_over_to_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "numpy", raising=False)
    monkeypatch.setattr(small, "_left", 10)
    assert small.use_numpy(6) is False
    assert small.use_numpy(6) is True  # 4 characters left
    assert small.use_numpy(4) is False
    assert small.use_numpy(1) is True
    monkeypatch.setattr(small, "_left", 10)
    monkeypatch.setitem(sys.modules, "numpy", object())
    assert small.use_numpy(1) is True  # loaded anyway: always used


def test_one_small_page_is_cleaned_without_numpy(tmp_path) -> None:
    """``cleankit clean -`` of a sample page imports neither numpy nor the crawl's pass; a page
    of all samples (67,000 characters) spends the budget part way, so numpy takes over inside
    the page; both give what the numpy path gives."""
    page = SAMPLE_FILES[0]
    code = (
        "import io, json, sys\n"
        "page, provenance = sys.argv[1:]\n"
        "sys.argv = ['cleankit', 'clean', '-', '--provenance', provenance]\n"
        "sys.stdin = io.TextIOWrapper(open(page, 'rb'))\n"
        "from cleankit.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert exit.code in (0, None), exit.code\n"
        "print(json.dumps(['numpy' in sys.modules, 'cleankit.neardup.crawl' in sys.modules]), file=sys.stderr)\n"
    )
    big = tmp_path / "big.txt"
    big.write_text("\n".join(sample.read_text(encoding="utf-8") for sample in SAMPLE_FILES), encoding="utf-8")
    for source, loaded in ((page, [False, False]), (big, [True, False])):
        provenance = tmp_path / (source.name + ".jsonl")
        run = subprocess.run(
            [sys.executable, "-c", code, str(source), str(provenance)], capture_output=True, text=True, cwd=ROOT
        )
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stderr.strip().splitlines()[-1]) == loaded
        record = json.loads(provenance.read_text(encoding="utf-8"))
        with small.forced(True):
            document = Pipeline.from_settings(Settings()).clean_bytes(source.read_bytes(), source="-")
        assert run.stdout == document.text
        assert record["edits"] == json.loads(dumps(build_record(document, "", "-")))["edits"]
