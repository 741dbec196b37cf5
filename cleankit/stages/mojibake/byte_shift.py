"""GBK/GB18030 bytes decoded one byte out of step: the ``byte-shift`` rule.

When a byte is lost, a GBK decoder pairs each trail byte with the next lead byte until it
falls back in step, and the run usually starts and ends with a ``?`` where a byte could not
be placed (``?ⅰ斗桨浮返?`` is ``发《方案》的`` decoded one byte out of step). Such a run is
re-encoded as GBK and decoded in the other byte frame by a beam search that may assume lost
bytes (a character of which only one byte survived is guessed from its neighbours, and
flagged). A realignment is kept only when it reads as better Chinese by
:data:`~cleankit.stages.mojibake.common.MIN_GAIN` per character and enough of it decodes from
complete byte pairs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from cleankit.core.document import Edit
from cleankit.stages.mojibake.common import MIN_GAIN, WILDCARD
from cleankit.text.plausibility import ChineseModel, chinese_model

# A '?' or U+FFFD touching a CJK character: where a byte-shift run starts or ends.
SHIFT_ANCHOR = re.compile(
    r"(?<=[\u3000-\u9fff\uf900-\ufaff\uff00-\uffef])[?\ufffd]"
    r"|[?\ufffd](?=[!?\u3000-\u9fff\uf900-\ufaff\uff00-\uffef])"
)
# Characters a shifted run is made of: CJK, full-width forms folded to ASCII, stray trail bytes.
SHIFT_RUN_CHAR = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef?!A-Za-z\ufffd]")
# Where a shifted run may end: a lost byte ('?', U+FFFD) or a trail byte read as ASCII.
SHIFT_RUN_END = frozenset("?\ufffdABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
FULLWIDTH_FOLDABLE = "!,:;()?"

# Cost of assuming a lost byte, beam width, longest run looked at.
LOST_BYTE_COST = 4.0
BEAM = 16
SHIFT_WINDOW = 24
# Characters a realigned run must decode from complete byte pairs to count as repaired.
MIN_DECODED = 3
# Candidates tried for a character of which only one byte survived.
WILDCARD_CANDIDATES = 40


def byte_shift_edits(text: str, model: ChineseModel) -> tuple[list[Edit], list[tuple[Edit, int]]]:
    """GBK text decoded one byte out of step, realigned run by run around '?' anchors.

    Returns the edits and, for each character guessed from one surviving byte, its edit and
    its index in ``edit.new`` (the stage flags those). Below, the text was 关于印发《实施方案》的通知:
    the characters between the lost bytes come back, the two guessed from one byte do not.

    >>> from cleankit.text.plausibility import chinese_model
    >>> edits, guessed = byte_shift_edits("关于印?ⅰ妒凳┓桨浮返?通知", chinese_model())
    >>> [(edit.old, edit.new) for edit in edits], [edit.new[index] for edit, index in guessed]
    ([('?ⅰ妒凳┓桨浮返?', '、《实施方案》第')], ['、', '第'])
    """
    edits: list[Edit] = []
    lost: list[tuple[Edit, int]] = []
    cursor = 0
    for anchor in SHIFT_ANCHOR.finditer(text):
        if anchor.start() < cursor:
            continue
        start = anchor.start()
        end = start
        while end < len(text) and end - start < SHIFT_WINDOW and _shift_run_char(text, end):
            end += 1
        if end - start < 3:
            continue
        old = text[start:end]
        # Context characters (not whitespace: the layout stages change it, the verdict must not).
        before = text[start - 1] if start > 0 and not text[start - 1].isspace() else ""
        after = text[end] if end < len(text) and not text[end].isspace() else ""
        head_score = model.total_logp(old[:4], before or None) / 4
        if head_score > -7.0:
            continue  # reads like ordinary Chinese after a real question mark
        best = _best_realignment(old, before, after, model)
        if best is None:
            continue
        new, guessed, gain = best
        if gain < MIN_GAIN:
            continue
        # Keep the edit minimal: trim what the realignment left as it was.
        head = 0
        while head < min(len(old), len(new)) and old[head] == new[head]:
            head += 1
        tail = 0
        while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
            tail += 1
        edit = Edit(
            "",
            "byte-shift",
            start + head,
            end - tail,
            old[head : len(old) - tail],
            new[head : len(new) - tail],
            "GBK bytes decoded one byte out of step, realigned",
        )
        guessed_here = [index - head for index in guessed if head <= index < len(new) - tail]
        # Evidence of a shift: several characters decoded from two surviving bytes each.
        decoded = [c for i, c in enumerate(edit.new) if i not in guessed_here and _is_cjk(c)]
        if len(decoded) < max(MIN_DECODED, len(guessed_here)) or sum(map(_is_ideograph, edit.old)) < 2:
            continue  # a guess is not a repair
        edits.append(edit)
        lost.extend((edit, index) for index in guessed_here)
        cursor = end
    return edits, lost


def positions_after(edits: list[Edit], lost: list[tuple[Edit, int]]) -> list[tuple[int, int]]:
    """Where each guessed character sits in the text after the step of ``edits``."""
    shift_of: dict[int, int] = {}
    delta = 0
    for edit in sorted(edits, key=lambda e: e.start):
        shift_of[id(edit)] = edit.start + delta
        delta += len(edit.new) - len(edit.old)
    return [(shift_of[id(edit)] + index, shift_of[id(edit)] + index + 1) for edit, index in lost]


def _shift_run_char(text: str, index: int) -> bool:
    """Whether ``text[index]`` can belong to a shifted run: an ASCII letter only alone
    (a trail byte read as ASCII), never inside a word such as a pinyin annotation."""
    char = text[index]
    if not SHIFT_RUN_CHAR.match(text, index) and not _gbk_double_byte(char):
        return False
    if char.isascii() and char.isalpha():
        neighbours = text[index - 1 : index] + text[index + 1 : index + 2]
        return not any(c.isascii() and c.isalpha() for c in neighbours)
    return True


@lru_cache(maxsize=4096)
def _gbk_double_byte(char: str) -> bool:
    """GBK's symbol rows (kana, Greek, box drawing, ①…) show up in shifted runs too."""
    if char.isascii() or char.isspace():
        return False
    try:
        return len(char.encode("gbk")) == 2
    except UnicodeEncodeError:
        return False


def _is_ideograph(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff"


def _is_cjk(char: str) -> bool:
    return _is_ideograph(char) or "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef"


# Memoized: the verdict depends on the run and its two context characters only, and a crawl
# repeats the same text after a real question mark on page after page (each search costs
# tens of milliseconds and most find nothing).
@lru_cache(maxsize=4096)
def _best_realignment(
    old: str, before: str, after: str, model: ChineseModel
) -> tuple[str, tuple[int, ...], float] | None:
    """Try every end of the shifted run within the window (after a lost byte or a stray
    ASCII trail byte); the reading with the best gain per character of the realigned part
    wins. The part after the cut is in step again and is left as it is, so it must not
    dilute the verdict."""
    best: tuple[str, tuple[int, ...], float] | None = None
    cuts = [cut for cut in range(3, len(old) + 1) if old[cut - 1] in SHIFT_RUN_END or cut == len(old)]
    readings = _realign_prefixes(old, cuts, _Search(before, model))
    for cut in cuts:
        context = old[cut] if cut < len(old) else after
        old_part = model.total_logp(old[:cut] + context, before or None)
        for path in readings.get(cut, []):
            guessed_cost = LOST_BYTE_COST * len(path.lost)
            new_part = model.total_logp(path.text + context, before or None) - guessed_cost
            gain = (new_part - old_part) / (cut + 1)
            if best is None or gain > best[2]:
                best = (path.text + old[cut:], path.lost, gain)
    return best


def _realign_prefixes(chars: str, cuts: list[int], search: _Search) -> dict[int, list[_Path]]:
    """Best readings of ``chars[:cut]`` for every ``cut``, re-encoded as GBK and decoded in
    the other byte frame.

    The beam after k characters does not depend on where the run will be cut, so one pass
    over the longest prefix serves every cut (instead of one search per cut)."""
    results: dict[int, list[_Path]] = {}
    wanted = set(cuts)
    paths = [_Path(0.0, "", None, ())]
    for count, char in enumerate(chars[: max(cuts, default=0)], start=1):
        alternatives = _char_alternatives(char)
        if not alternatives:
            break  # no prefix reaching past here has a reading
        grown: list[_Path] = []
        for path in paths:
            for alternative in alternatives:
                grown.extend(search.feed(path, alternative))
        if not grown:
            break
        grown.sort(key=lambda p: p.score, reverse=True)
        paths = _dedupe(grown)[:BEAM]
        if count in wanted:
            results[count] = _finish(paths, search)
    return results


def _finish(paths: list[_Path], search: _Search) -> list[_Path]:
    """Close the readings at the end of a prefix (a pending lead byte lost its trail)."""
    finished = []
    for path in paths:
        if path.pending is None:
            finished.append(path)
        elif path.pending == WILDCARD:  # a lost byte with nothing after it
            finished.append(_Path(path.score - LOST_BYTE_COST, path.text, None, path.lost, path.pairs))
        else:
            finished.extend(search.lost_trail(path, path.pending))
    return sorted(finished, key=lambda p: p.score, reverse=True)[:BEAM]


def _dedupe(paths: list[_Path]) -> list[_Path]:
    seen = set()
    unique = []
    for path in paths:
        key = (path.text[-2:], path.pending)
        if key in seen:
            continue
        seen.add(key)
        unique.append(path)
    return unique


@dataclass(slots=True)
class _Path:
    score: float
    text: str
    pending: int | None  # a lead byte waiting for its trail (WILDCARD: a lost lead)
    lost: tuple[int, ...]  # indexes in ``text`` of characters guessed from one byte
    pairs: int = 0  # characters decoded from two surviving bytes: the evidence of a shift


# Guesses for a character of which one byte survived: the best few by left context; the
# beam keeps them apart so that the right context decides.
GUESS_BRANCHES = 3


def _char_alternatives(char: str) -> list[list[int]]:
    """Byte readings of one character of a shifted run."""
    if char in "?\ufffd":
        # A byte the decoder could not place, or a full-width question mark folded to ASCII.
        return [[WILDCARD], [0xA3, 0xBF]] if char == "?" else [[WILDCARD]]
    if char in FULLWIDTH_FOLDABLE:
        return [[ord(char)], list(chr(ord(char) + 0xFEE0).encode("gbk"))]
    try:
        # NFC first: compatibility ideographs (U+F900…) become what hygiene will make of them.
        return [list(unicodedata.normalize("NFC", char).encode("gb18030"))]
    except UnicodeEncodeError:
        return []


@lru_cache(maxsize=1)
def _gbk_tables() -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """GBK characters by lead byte and by trail byte, most frequent first."""
    model = chinese_model()
    by_lead: dict[int, list[str]] = {}
    by_trail: dict[int, list[str]] = {}
    for lead in range(0x81, 0xFF):
        for trail in range(0x40, 0xFF):
            if trail == 0x7F:
                continue
            try:
                char = bytes([lead, trail]).decode("gbk")
            except UnicodeDecodeError:
                continue
            by_lead.setdefault(lead, []).append(char)
            by_trail.setdefault(trail, []).append(char)
    for table in (by_lead, by_trail):
        for key, chars in table.items():
            chars.sort(key=model.unigram, reverse=True)
            table[key] = chars[:WILDCARD_CANDIDATES]
    return by_lead, by_trail


# Best guesses per (previous character, candidate list), each with its folded form and that
# form's log-probability: the same ones recur within a search and from one search to the
# next, and emitting them needs no rescoring. Kept per model (the entry holds the model, so
# a recycled id cannot pick up another model's rankings); the candidate lists are the
# permanent ones of _gbk_tables, so their ids are stable.
_RANKED: dict[int, tuple[ChineseModel, dict[tuple[str | None, int], list[tuple[str, float]]]]] = {}
RANKED_KEPT = 1 << 16


def _ranked_guesses(model: ChineseModel) -> dict[tuple[str | None, int], list[tuple[str, float]]]:
    entry = _RANKED.get(id(model))
    if entry is None or entry[0] is not model:
        entry = _RANKED[id(model)] = (model, {})
    if len(entry[1]) >= RANKED_KEPT:
        entry[1].clear()  # bounded memory over a long crawl
    return entry[1]


class _Search:
    """Transitions of the realignment search: each consumes one byte of the re-encoded run."""

    def __init__(self, before: str, model: ChineseModel) -> None:
        self.before = before
        self.model = model
        self.by_lead, self.by_trail = _gbk_tables()
        self._ranked = _ranked_guesses(model)

    def _previous(self, path: _Path) -> str | None:
        return path.text[-1] if path.text else (self.before or None)

    def emit(self, path: _Path, char: str, lost: bool = False, pair: bool = False) -> _Path:
        return self._emit_scored(path, char, self.model.logp(self._previous(path), char), lost, pair)

    def _emit_scored(self, path: _Path, char: str, logp: float, lost: bool = False, pair: bool = False) -> _Path:
        score = path.score + logp - (LOST_BYTE_COST if lost else 0.0)
        return _Path(
            score,
            path.text + char,
            None,
            (*path.lost, len(path.text)) if lost else path.lost,
            path.pairs + (1 if pair else 0),
        )

    def guesses(self, path: _Path, candidates: list[str]) -> list[_Path]:
        previous = self._previous(path)
        key = (previous, id(candidates))
        ranked = self._ranked.get(key)
        if ranked is None:
            best = sorted(candidates, key=lambda c: self.model.logp(previous, c), reverse=True)[:GUESS_BRANCHES]
            folded = [_fold_fullwidth(char) for char in best]
            ranked = [(char, self.model.logp(previous, char)) for char in folded]
            self._ranked[key] = ranked
        return [self._emit_scored(path, char, logp, lost=True) for char, logp in ranked]

    def start(self, path: _Path, byte: int) -> list[_Path]:
        """``byte`` arrives with nothing pending."""
        if byte == WILDCARD:
            return [_Path(path.score, path.text, WILDCARD, path.lost, path.pairs)]
        if byte < 0x80:
            options = [self.emit(path, chr(byte))]
            if byte in self.by_trail:  # an ASCII-range trail byte whose lead was lost
                options.extend(self.guesses(path, self.by_trail[byte]))
            return options
        options = [_Path(path.score, path.text, byte, path.lost, path.pairs)]
        if byte in self.by_trail:  # ... or it is a trail whose lead was lost
            options.extend(self.guesses(path, self.by_trail[byte]))
        return options

    def lost_trail(self, path: _Path, lead: int, then: int | None = None) -> list[_Path]:
        """The pending lead byte lost its trail; ``then`` (if any) starts afresh."""
        if lead not in self.by_lead:
            return []
        closed = self.guesses(path, self.by_lead[lead])
        if then is None:
            return closed
        return [option for p in closed for option in self.start(p, then)]

    def feed(self, path: _Path, data: list[int]) -> list[_Path]:
        """Every way of extending ``path`` by the bytes ``data``."""
        paths = [path]
        for byte in data:
            nxt: list[_Path] = []
            for p in paths:
                if p.pending is None:
                    nxt.extend(self.start(p, byte))
                elif p.pending == WILDCARD:
                    if byte != WILDCARD and byte in self.by_trail:
                        nxt.extend(self.guesses(p, self.by_trail[byte]))
                elif byte == WILDCARD:  # the trail of the pending lead is the lost byte
                    nxt.extend(self.guesses(p, self.by_lead.get(p.pending, [])))
                else:
                    if byte != WILDCARD:
                        try:
                            char = bytes([p.pending, byte]).decode("gbk")
                        except UnicodeDecodeError:
                            char = ""
                        if char:
                            nxt.append(self.emit(p, _fold_fullwidth(char), pair=True))
                    nxt.extend(self.lost_trail(p, p.pending, byte))
            paths = _dedupe(sorted(nxt, key=lambda p: p.score, reverse=True))[: BEAM * 2]
        return paths


def _fold_fullwidth(char: str) -> str:
    """Full-width ASCII forms back to ASCII: the runs come from text whose full-width
    punctuation was folded (that is how '?' and '!' got there); stay consistent with it."""
    return chr(ord(char) - 0xFEE0) if "\uff01" <= char <= "\uff5e" else char
