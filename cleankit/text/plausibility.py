"""How plausible a string is as Chinese text: a character + bigram language model.

Used wherever cleankit must choose between readings of the same bytes: GBK or Big5 (or an
EUC-KR / Shift-JIS impostor) when several decode strictly, and whether a mojibake repair
made the text read better. The counts come from real text, not a hand list: the State
Council government work reports 1954-2025 (Wikisource), counted as written and through
OpenCC ``s2tw``/``s2hk`` so traditional pages score as well as simplified ones; the data
file ``data/hanzi_freq.tsv`` is rebuilt by ``tools/build_char_freq.py``.

The score is the mean log-probability per character under an interpolated bigram model
(unseen characters get a floor that depends on their Unicode block, so a rare but real
CJK character still beats private-use or control debris). Only differences of scores
between readings of the same bytes are meaningful.
"""

from __future__ import annotations

import importlib.util
import math
import unicodedata
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TypeGuard

from cleankit.speedups import compiled as _compiled

# Interpolation weight of the bigram estimate.
BIGRAM_WEIGHT = 0.6
# Entries of the (previous, char) log-probability memo before it is emptied: full within a
# few hundred pages, so a worker holds the same ~9 MB of it on any crawl. Sized by counting
# the computations (misses) of one process cleaning 1,500 pages of the benchmark crawl:
# 164,017 unbounded (never emptied at 1 << 18), 168,873 at 1 << 17, 195,407 at 1 << 16 —
# 31,000 more computations of a microsecond each, against 71 MB for a full memo of 1 << 18
# tuple keys (benchmarks/README.md).
LOGP_CACHE_SIZE = 1 << 16
# The fine model's memo (it scores only the readings of guessed characters): replaying one
# worker's 446,106 lookups on 10,000 pages of the 20,000-page bench crawl, 125,760 distinct pairs,
# 3,618 of them in the first 1,000 pages; emptied at 1 << 16 it misses 145,841 times, at 1 << 12
# 205,902 (60,000 more computations of ~1 us, ~0.1 % of the worker's CPU), and holds ~0.5 MB
# instead of reaching ~8.5 MB only on a long crawl (benchmarks/README.md, branch mem10).
FINE_LOGP_CACHE_SIZE = 1 << 12
# Per-character memos (a character's probability, its score after a character never seen before
# it): one entry a distinct character, ~24,000 on 10,000 pages of the bench crawl and never more
# than a crawl's repertoire; emptied here so that a crawl of every code point cannot fill them.
CHAR_MEMO_SIZE = 1 << 16


def _block_floor(char: str) -> float:
    """Log-probability multiplier (relative to one count) for a character never seen."""
    code = ord(char)
    if 0x4E00 <= code <= 0x9FFF:
        return 0.3  # a real but rare CJK ideograph
    if 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x3FFFF:
        return 0.02  # extension blocks: real, but rare in government text
    if char.isascii() and char.isprintable():
        return 5.0  # English and numbers mixed in are normal
    if 0xE000 <= code <= 0xF8FF or code >= 0xF0000 or code == 0xFFFD:
        return 0.0005  # private use, replacement character: decoding debris
    category = unicodedata.category(char)
    if category.startswith("C"):
        return 0.0005
    if 0xAC00 <= code <= 0xD7AF or 0x3040 <= code <= 0x30FF:
        return 0.01  # Hangul, kana: what a Korean/Japanese misreading produces
    return 0.05


def _memo_key(previous: str | None, char: str) -> str | tuple[str | None, str]:
    """The ``logp`` memo's key: two single characters as one two-character string (half the
    memory of a tuple of two strings, and the memo holds up to LOGP_CACHE_SIZE of them in each
    worker), one character alone after nothing; anything longer as the tuple, so no two
    different pairs share a key."""
    if len(char) == 1:
        if previous is None:
            return char
        if len(previous) == 1:
            return previous + char
    return (previous, char)


class ChineseModel:
    """Character unigram and bigram counts, and scores built from them."""

    def __init__(self, chars: dict[str, int], bigrams: dict[str, int], memo_size: int | None = None) -> None:
        """``memo_size``: entries of the ``logp`` memo before it is emptied (default
        :data:`LOGP_CACHE_SIZE`)."""
        self.chars = chars
        self.bigrams = bigrams
        self.memo_size = LOGP_CACHE_SIZE if memo_size is None else memo_size
        self.total = float(sum(chars.values()))
        self._unigram_cache: dict[str, float] = {}
        self._logp_cache: dict[str | tuple[str | None, str], float] = {}
        # total_logp's tables: the log-probability of each pair of the bigram table met so far,
        # and of each character after one it was never seen after.
        self._pair_logp: dict[str, float] = {}
        self._unseen_logp: dict[str, float] = {}
        self._followers: dict[str, dict[str, int]] | None = None
        self._bigram_total: float | None = None

    @classmethod
    def from_tsv(cls, text: str) -> ChineseModel:
        chars: dict[str, int] = {}
        bigrams: dict[str, int] = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            item, _, count = line.rpartition("\t")
            (chars if len(item) == 1 else bigrams)[item] = int(count)
        return cls(chars, bigrams)

    def unigram(self, char: str) -> float:
        """Probability of one character."""
        cached = self._unigram_cache.get(char)
        if cached is None:
            count = self.chars.get(char)
            cached = (count if count is not None else _block_floor(char)) / self.total
            if len(self._unigram_cache) >= CHAR_MEMO_SIZE:
                self._unigram_cache.clear()
            self._unigram_cache[char] = cached
        return cached

    def logp(self, previous: str | None, char: str) -> float:
        """log P(char | previous), interpolated with the unigram."""
        # Memoized: the mojibake searches score the same few thousand pairs again and again.
        key = _memo_key(previous, char)
        cached = self._logp_cache.get(key)
        if cached is None:
            if len(self._logp_cache) >= self.memo_size:
                self._logp_cache.clear()  # bounded memory over a long crawl
            cached = self._logp_cache[key] = self._logp(previous, char)
        return cached

    def _logp(self, previous: str | None, char: str) -> float:
        unigram = self.unigram(char)
        if previous is None:
            return math.log(unigram)
        pair = self.bigrams.get(previous + char)
        if pair is None:
            return self.unseen_pair_logp(char)
        base = self.chars.get(previous, 1)
        return math.log(BIGRAM_WEIGHT * pair / base + (1 - BIGRAM_WEIGHT) * unigram)

    def unseen_pair_logp(self, char: str) -> float:
        """log P(char | previous) for any ``previous`` never seen before ``char``: the
        unigram's share alone."""
        return math.log((1 - BIGRAM_WEIGHT) * self.unigram(char))

    def followers(self, previous: str) -> dict[str, int]:
        """The characters seen after ``previous``, with their bigram counts (a search that
        ranks many candidates after one character scores only these; every other candidate
        has :meth:`unseen_pair_logp`)."""
        if self._followers is None:
            table: dict[str, dict[str, int]] = {}
            for pair, count in self.bigrams.items():
                if len(pair) == 2:
                    table.setdefault(pair[0], {})[pair[1]] = count
            self._followers = table
        return self._followers.get(previous, {})

    def association(self, pair: str) -> float | None:
        """How much more often than chance the two characters of ``pair`` were seen together
        (pointwise mutual information, natural log); None when the pair was never counted."""
        count = self.bigrams.get(pair)
        if count is None:
            return None
        if self._bigram_total is None:
            self._bigram_total = float(sum(self.bigrams.values()))
        first, second = self.chars.get(pair[0], 1), self.chars.get(pair[1], 1)
        return math.log((count / self._bigram_total) / ((first / self.total) * (second / self.total)))

    def total_logp(self, text: str, previous: str | None = None) -> float:
        """The sum of :meth:`logp` over ``text`` (after ``previous``), each term the same float.

        Not through the bounded memo: a detection sample (a whole page read as GBK and as
        Big5) holds thousands of pairs, most never seen, and each missed the memo and was
        computed again. A pair of the bigram table is kept in ``_pair_logp`` (at most the
        table's size), any other pair scores its character's unseen-pair log-probability,
        kept per character in ``_unseen_logp``."""
        if not text:
            return 0.0
        score = self.logp(previous, text[0])
        if _compiled is not None:
            total: float = _compiled.total_logp(
                text, score, self._pair_logp, self._unseen_logp, self.bigrams, self._logp, self.unseen_pair_logp
            )
        else:
            total = self._total_logp_after(text, score)
        # Either loop fills the unseen-pair memo without looking at its bound: emptied after the
        # text instead (one text's characters at most over it).
        if len(self._unseen_logp) > CHAR_MEMO_SIZE:
            self._unseen_logp.clear()
        return total

    def _total_logp_after(self, text: str, score: float) -> float:
        """:meth:`total_logp`'s loop in Python: ``score`` (the first character's term) plus
        the terms of ``text[1:]`` (the reference for ``cleankit._speedups.total_logp``)."""
        pairs = self._pair_logp
        unseen = self._unseen_logp
        bigrams = self.bigrams
        previous = text[0]
        for char in text[1:]:
            key = previous + char
            logp = pairs.get(key)
            if logp is None:
                if key in bigrams:
                    logp = pairs[key] = self._logp(previous, char)
                else:
                    logp = unseen.get(char)
                    if logp is None:
                        logp = unseen[char] = self.unseen_pair_logp(char)
            score += logp
            previous = char
        return score

    def score(self, text: str) -> float:
        """Mean log-probability per character (higher reads better); -inf for empty text."""
        if not text:
            return -math.inf
        return self.total_logp(text) / len(text)


@lru_cache(maxsize=1)
def chinese_model() -> ChineseModel:
    """The shipped model (loaded once per process).

    Parsing the 31,000 lines of the table is ~40 ms of CPU, paid by every process that
    cleans a page (one page through ``cleankit clean -`` included); the parsed counts are
    kept in the start-up cache (:mod:`cleankit.io.cache`) under a hash of the table's bytes
    and of this module's source, and read back in about a quarter of that. A missing or
    damaged entry is parsed afresh, so the model is always the table's.
    """
    from cleankit.io import cache

    raw = resources.files("cleankit.text").joinpath("data/hanzi_freq.tsv").read_bytes()
    code = cache.code_fingerprint(__name__)
    key = cache.key_of(MODEL_KIND, code, raw) if code is not None else None

    def parse() -> list[dict[str, int]]:
        model = ChineseModel.from_tsv(raw.decode("utf-8"))
        return [model.chars, model.bigrams]

    chars, bigrams = parse() if key is None else cache.cached(MODEL_KIND, key, parse, _counts_table)
    return ChineseModel(chars, bigrams)


MODEL_KIND = "hanzi-model"
FINE_MODEL_KIND = "hanzi-fine-model"


@lru_cache(maxsize=1)
def fine_model() -> ChineseModel:
    """The shipped model with the finer bigrams: those seen 2 to 14 times in the same source
    (``data/hanzi_bigrams_fine.tsv.xz``, 101,000 bigrams, built by the same tool), which the
    main table leaves out. Used only to choose among the readings of a guessed character
    (``牛鼻子``: none of its bigrams reaches the main table), never to decide whether text is
    damaged; so it is loaded only when a page has a guess to make, and kept in the start-up
    cache (:mod:`cleankit.io.cache`) like the main model."""
    base = chinese_model()
    finer = shipped_counts("data/hanzi_bigrams_fine.tsv.xz", FINE_MODEL_KIND)
    fine = ChineseModel(base.chars, {**finer, **base.bigrams}, memo_size=FINE_LOGP_CACHE_SIZE)
    # The same characters and total, so the same per-character scores: one memo of them, not two
    # (the fine model's own reached ~10,000 characters, ~1.2 MB, in a long crawl's worker).
    fine._unigram_cache = base._unigram_cache
    fine._unseen_logp = base._unseen_logp
    return fine


def shipped_counts(path: str, kind: str) -> dict[str, int]:
    """A shipped xz table of ``item<TAB>count`` lines (``path`` under ``cleankit/text``), kept
    in the start-up cache (:mod:`cleankit.io.cache`) under ``kind``: the finer bigrams, the
    trigrams (:mod:`cleankit.text.trigrams`)."""
    import lzma

    from cleankit.io import cache

    raw = resources.files("cleankit.text").joinpath(path).read_bytes()
    code = cache.code_fingerprint(__name__)
    key = cache.key_of(kind, code, raw) if code is not None else None

    def parse() -> dict[str, int]:
        counts: dict[str, int] = {}
        for line in lzma.decompress(raw).decode("utf-8").splitlines():
            item, _, count = line.rpartition("\t")
            if item:
                counts[item] = int(count)
        return counts

    counts: dict[str, int] = parse() if key is None else cache.cached(kind, key, parse, _word_counts)
    return counts


def _counts_table(stored: object) -> TypeGuard[list[dict[str, int]]]:
    """Is ``stored`` a cache entry of the model: two tables of counts, as :meth:`ChineseModel.from_tsv` makes?"""
    return (
        isinstance(stored, list)
        and len(stored) == 2
        and all(isinstance(table, dict) and all(type(count) is int for count in table.values()) for table in stored)
    )


# Longest word the word model looks up (jieba's dictionary has a few of up to 16 characters;
# longer ones change no choice between readings that differ in one character).
LONGEST_WORD = 8
WORD_MODEL_KIND = "word-model"


class WordModel:
    """Word frequencies, and the log-probability of a string under its most probable
    segmentation into words (a unigram word model, as jieba segments with it).

    Scores differences of readings in their sentence: ``牛鼻子`` is a word, ``牛是子`` is not,
    though both of their bigrams may have been counted. An ideograph that is no word counts
    once; a character that is no ideograph (punctuation, digits, which the word list lacks) is
    a token of its own with the log-probability ``symbols`` gives it (the character model's:
    ``，`` must not lose to every one-character word), else the floor.
    """

    def __init__(self, freq: dict[str, int], symbols: dict[str, float] | None = None) -> None:
        self.freq = freq
        self.log_total = math.log(float(sum(freq.values())) or 1.0)
        self.longest = min(LONGEST_WORD, max(map(len, freq), default=1))
        self.symbols = symbols or {}

    @classmethod
    def from_jieba_dict(cls, text: str) -> WordModel:
        """Parse jieba's ``dict.txt`` (``word count tag`` per line)."""
        freq: dict[str, int] = {}
        for line in text.splitlines():
            word, _, rest = line.partition(" ")
            count = rest.partition(" ")[0]
            if word and count.isdigit() and int(count) > 0:
                freq[word] = int(count)
        return cls(freq)

    def logp(self, text: str) -> float:
        """log-probability of ``text`` under its best segmentation (0.0 for empty text)."""
        freq = self.freq
        log_total = self.log_total
        longest = self.longest
        size = len(text)
        best = [0.0] + [-math.inf] * size
        for end in range(1, size + 1):
            top = -math.inf
            for start in range(max(0, end - longest), end):
                word = text[start:end]
                count = freq.get(word)
                if count is not None:
                    score = best[start] + math.log(count) - log_total
                elif end - start > 1:
                    continue
                else:
                    score = best[start] + self.symbols.get(word, -log_total)
                if score > top:
                    top = score
            best[end] = top
        return best[size]


@lru_cache(maxsize=1)
def word_model() -> WordModel:
    """The word model: jieba's dictionary (about 349,000 words with their counts in a large
    general corpus; simplified forms only, so traditional text is converted before it is
    scored). Loaded only when a repair has guessed characters to choose among: parsing the
    5 MB file costs about half a second of CPU, read back from the start-up cache
    (:mod:`cleankit.io.cache`) in about a fifth of that."""
    from cleankit.io import cache

    raw = _jieba_dictionary()
    code = cache.code_fingerprint(__name__)
    key = cache.key_of(WORD_MODEL_KIND, code, raw) if code is not None else None

    def parse() -> dict[str, int]:
        return WordModel.from_jieba_dict(raw.decode("utf-8")).freq

    freq = parse() if key is None else cache.cached(WORD_MODEL_KIND, key, parse, _word_counts)
    chars = chinese_model()
    symbols = {
        char: math.log(chars.unigram(char)) for char in chars.chars if char not in freq and not is_ideograph(char)
    }
    return WordModel(freq, symbols)


def is_ideograph(char: str) -> bool:
    """A CJK ideograph (the unified blocks with extension A, the compatibility block, the
    supplementary planes)."""
    code = ord(char)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or code >= 0x20000


def _jieba_dictionary() -> bytes:
    """The bytes of jieba's ``dict.txt``, found without importing jieba (whose import sets up
    its segmenter's logging and state, none of which is used here)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("jieba is not installed; it ships the word list of the word model")
    return (Path(spec.origin).parent / "dict.txt").read_bytes()


def _word_counts(stored: object) -> TypeGuard[dict[str, int]]:
    """Is ``stored`` a cache entry of the word model: words and their counts?"""
    return isinstance(stored, dict) and all(type(count) is int for count in stored.values())
