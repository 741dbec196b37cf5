"""Character trigrams for choosing a guessed character (cleankit.text.trigrams)."""

from __future__ import annotations

import math

import pytest

import cleankit.stages.mojibake.byte_shift as byte_shift
import cleankit.text.trigrams as trigrams
from cleankit.core.document import Document
from cleankit.stages.mojibake import MojibakeStage
from cleankit.text.plausibility import fine_model
from cleankit.text.trigrams import TrigramModel, counted, trigram_counts, trigram_model


def test_the_table_holds_ideograph_trigrams_seen_three_times_and_the_pairs_they_start_with() -> None:
    counts = trigram_counts()
    triples = {item: count for item, count in counts.items() if len(item) == 3}
    pairs = {item: count for item, count in counts.items() if len(item) == 2}
    assert len(triples) > 80_000 and min(triples.values()) >= 3
    assert all(counted(char) for item in counts for char in item)
    following: dict[str, int] = {}
    for item, count in triples.items():
        following[item[:2]] = following.get(item[:2], 0) + count
    # A pair's count is of everything that followed it, kept or not.
    assert set(following) == set(pairs)
    assert all(pairs[pair] >= total for pair, total in following.items())


def test_the_two_characters_before_decide_where_the_pair_before_does_not() -> None:
    """Between two frequent characters the bigrams barely differ (在在 against 在于); after
    本在, 于 is what was seen."""
    bigrams = fine_model()
    model = trigram_model(bigrams)
    by_pair = bigrams.logp("在", "于") - bigrams.logp("在", "在")
    by_triple = model.logp("本", "在", "于") - model.logp("本", "在", "在")
    assert by_triple > by_pair + 1.0


def test_a_pair_never_counted_leaves_the_bigram_model_alone() -> None:
    """Nor does a trigram the table cannot hold count against a character: 本在, never
    followed by an ASCII comma in the table, which counts ideographs only."""
    bigrams = fine_model()
    model = TrigramModel({"本在于": 3, "本在": 8}, bigrams)
    assert model.logp("于", "在", "本") == bigrams.logp("在", "本")
    assert model.logp(None, "在", "于") == bigrams.logp("在", "于")
    assert model.logp("本", "在", ",") == bigrams.logp("在", ",")
    expected = math.log(0.5 * 3 / 8 + 0.5 * math.exp(bigrams.logp("在", "于")))
    assert model.logp("本", "在", "于") == pytest.approx(expected)
    assert model.total_logp("于以", "根本在") == pytest.approx(
        model.logp("本", "在", "于") + model.logp("在", "于", "以")
    )


def test_a_guessed_first_character_is_chosen_by_the_characters_around_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """最根本在于以 written in GBK and read one byte out of step (the first byte of 于 lost):
    于 is guessed from its trail byte among a hundred characters. The bigrams and the words
    chose 冠 (冠以 is a word); the trigram 本在于 chooses 于."""
    damaged = "成绩来之不易，最根本在\ufffd谝韵敖\ufffd平同志为核心的党中央领航掌舵。"
    byte_shift._in_context.cache_clear()
    document = MojibakeStage().run(Document.from_text(damaged))
    assert document.text == "成绩来之不易，最根本在于以习近平同志为核心的党中央领航掌舵。"
    assert any(flag.get("guess") for flag in document.flags)
    monkeypatch.setattr(trigrams, "trigram_counts", dict)
    byte_shift._in_context.cache_clear()
    try:
        assert "最根本在于以" not in MojibakeStage().run(Document.from_text(damaged)).text
    finally:
        byte_shift._in_context.cache_clear()
