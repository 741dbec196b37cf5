"""The character model's ``logp`` memo: each entry small (a worker holds up to
LOGP_CACHE_SIZE of them: issue 12, peak memory independent of corpus size), and a pair's
memoized score always that pair's, however it was asked for (the figures are in
benchmarks/README.md)."""

from __future__ import annotations

import math
import tracemalloc
from pathlib import Path

import pytest

from cleankit.text.plausibility import ChineseModel, chinese_model

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _sample_text() -> str:
    return "".join(path.read_text(encoding="utf-8") for path in sorted(SAMPLES.glob("*.txt")))


def _fresh() -> ChineseModel:
    model = chinese_model()
    return ChineseModel(model.chars, model.bigrams)


def test_total_logp_is_the_sum_of_each_pairs_logp_cold_and_warm() -> None:
    text = _sample_text()[:3000]
    model = _fresh()
    expected = 0.0
    previous: str | None = "的"
    for char in text:
        expected += model._logp(previous, char)
        previous = char
    assert model.total_logp(text, "的") == expected  # cold: every pair computed
    assert model.total_logp(text, "的") == expected  # warm: every pair from the memo
    assert model.total_logp("", "的") == 0.0


def test_pairs_that_spell_the_same_text_keep_their_own_scores() -> None:
    model = _fresh()
    # "中国" is the memo's key of the pair (中, 国); a longer context stays a pair of its own.
    asked = [(None, "国"), ("中", "国"), ("中国", "人"), ("国", "人"), (None, "人"), ("中国人", "民")]
    first = [model.logp(previous, char) for previous, char in asked]
    assert first == [model._logp(previous, char) for previous, char in asked]
    assert [model.logp(previous, char) for previous, char in asked] == first
    assert len(model._logp_cache) == len(asked)
    assert first[1] != first[0] and first[2] != first[3] and all(math.isfinite(score) for score in first)


def test_a_memo_entry_costs_under_200_bytes() -> None:
    # Pairs as they come out of text: every character a string object of its own.
    text = _sample_text()
    model = _fresh()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        # logp term by term, as a search asks (total_logp keeps tables of its own, not the memo).
        previous = None
        for char in text:
            model.logp(previous, char)
            previous = char
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    entries = len(model._logp_cache)
    assert entries > 5000
    assert held / entries < 200, (held, entries)


def test_the_memos_are_emptied_at_their_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    from cleankit.stages.mojibake import byte_shift
    from cleankit.text import plausibility

    monkeypatch.setattr(plausibility, "LOGP_CACHE_SIZE", 64)
    model = _fresh()  # a model takes the bound when it is made
    text = _sample_text()[:2000]
    sizes = []
    previous = None
    for char in text:
        model.logp(previous, char)
        sizes.append(len(model._logp_cache))
        previous = char
    assert max(sizes) == 64 and sizes.count(1) > 1  # filled, emptied, filled again
    monkeypatch.setattr(byte_shift, "RANKED_KEPT", 4)
    ranked = byte_shift._ranked_guesses(model)
    for n in range(4):
        ranked[(text[n], n)] = [(text[n], -1.0)]
    assert byte_shift._ranked_guesses(model) is ranked and not ranked  # emptied once full

