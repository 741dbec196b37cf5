"""The on-disk cache of start-up work (cleankit.io.cache): rule packs read and checked, and
the characters OpenCC converts alone. What comes out of the cache must be what the work
itself gives, and the cache must never be needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleankit.core.errors import RuleError
from cleankit.io import cache
from cleankit.stages.boilerplate.packs import Rule, load_rules
from cleankit.stages.script import _changed_alone, _probe
from cleankit.text.fold import match_view


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    return tmp_path / "home-cache" / "cleankit"


def described(rule: Rule) -> tuple[object, ...]:
    """Everything a rule is, its patterns as (pattern, flags), and its verdict on its examples."""
    patterns = [rule.compiled, rule.compiled_lines, *rule.compiled_fields.values()]
    examples = [example.text for example in rule.positives] + rule.negatives
    return (
        {k: v for k, v in vars(rule).items() if not k.startswith("compiled")},
        [(p.pattern, p.flags) if p is not None else None for p in patterns],
        [bool(rule.match(match_view(text))) for text in examples],
        [rule.extract(match_view(text), text) for text in examples],
    )


def test_packs_from_the_cache_are_the_packs(cache_home: Path) -> None:
    fresh = load_rules().rules
    entries = sorted(cache_home.glob("rules-*.json"))
    assert len(entries) == len(list((Path(__file__).parent.parent / "rules").glob("*.yaml")))
    cached = load_rules().rules
    assert [described(rule) for rule in cached] == [described(rule) for rule in fresh]


def test_a_damaged_or_foreign_entry_is_ignored(cache_home: Path) -> None:
    fresh = [described(rule) for rule in load_rules().rules]
    entries = sorted(cache_home.glob("rules-*.json"))
    entries[0].write_bytes(b"\x00 not json")
    entries[1].write_text('[{"id": "only-an-id"}]', encoding="utf-8")
    entries[2].write_text("{}", encoding="utf-8")
    assert [described(rule) for rule in load_rules().rules] == fresh


def test_the_cache_is_never_needed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("the cache folder cannot be made under a file", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert [rule.id for rule in load_rules().rules] == [rule.id for rule in load_rules().rules]
    assert not (blocked / "cleankit").exists()


PACK = """family: site-x
rules:
  - id: site-x-slogan
    description: the slogan line
    pattern: '{pattern}'
    zone: tail
    examples:
      match: ['{good}']
      no_match: ['科技让生活更美好。我们要继续努力']
"""


def test_a_refused_pack_is_refused_every_time_and_an_edit_is_read(cache_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "packs"
    folder.mkdir()
    pack = folder / "site.yaml"
    pack.write_text(PACK.format(pattern="^科技让生活更美好$", good="科技让生活更美好"), encoding="utf-8")
    assert load_rules([folder], defaults=False).rules[0].pattern == "^科技让生活更美好$"
    pack.write_text(PACK.format(pattern="^(技+)+$", good="技"), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(RuleError, match="refused"):
            load_rules([folder], defaults=False)
    pack.write_text(PACK.format(pattern="^服务让生活更美好$", good="服务让生活更美好"), encoding="utf-8")
    assert load_rules([folder], defaults=False).rules[0].pattern == "^服务让生活更美好$"
    assert len(list(cache_home.glob("rules-*.json"))) == 2  # the two packs that passed their checks


@pytest.mark.parametrize("config", ["t2s.json", "s2t.json"])
def test_characters_opencc_converts_alone_come_from_the_cache_unchanged(cache_home: Path, config: str) -> None:
    assert _changed_alone(config) == _probe(config)
    assert len(list(cache_home.glob("opencc-changed-*.json"))) == 1
    assert _changed_alone(config) == _probe(config)


def test_keys_depend_on_every_part() -> None:
    assert cache.key_of("a", "bc") != cache.key_of("ab", "c")
    assert cache.key_of("a") == cache.key_of("a")
    assert cache.code_fingerprint("cleankit.io.cache") is not None
    assert cache.code_fingerprint("cleankit.no_such_module") is None


def model_tables(model: object) -> tuple[object, ...]:
    """A model's counts, in their order (the order a search over followers meets them)."""
    return (list(model.chars.items()), list(model.bigrams.items()), model.total)  # type: ignore[attr-defined]


def test_the_language_model_from_the_cache_is_the_table(cache_home: Path) -> None:
    from importlib import resources

    from cleankit.text.plausibility import ChineseModel, chinese_model

    table = resources.files("cleankit.text").joinpath("data/hanzi_freq.tsv").read_text(encoding="utf-8")
    parsed = model_tables(ChineseModel.from_tsv(table))
    chinese_model.cache_clear()
    try:
        assert model_tables(chinese_model()) == parsed  # parsed, and kept
        entries = sorted(cache_home.glob("hanzi-model-*.json"))
        assert len(entries) == 1
        chinese_model.cache_clear()
        assert model_tables(chinese_model()) == parsed  # from the entry
        for damage in (b"\x00 not json", b'[{"\\u7684": "many"}, {}]', b"[{}]"):
            entries[0].write_bytes(damage)
            chinese_model.cache_clear()
            assert model_tables(chinese_model()) == parsed, damage
    finally:
        chinese_model.cache_clear()


def test_an_entry_orjson_refuses_is_read_by_json(cache_home: Path) -> None:
    big = [2**70, {"a": 1}]
    cache.store("probe", "k", big)
    assert cache.load("probe", "k") == big
