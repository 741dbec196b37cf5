"""GBK/GB18030 or Big5 bytes decoded one byte out of step: the ``byte-shift`` rule.

When a byte is lost, a GBK decoder pairs each trail byte with the next lead byte until it
falls back in step, and the run usually starts and ends with a ``?`` where a byte could not
be placed (``?ⅰ斗桨浮返?`` is ``发《方案》的`` decoded one byte out of step). Such a run is
re-encoded and decoded one byte over by a beam search that may assume lost bytes (a
character of which only one byte survived is guessed from its neighbours, and flagged), in
each frame of :mod:`~cleankit.stages.mojibake.frames` (GBK; Big5, which traditional pages
use: the frame whose reading gains most wins). A realignment is kept only when it reads as better Chinese by
:data:`~cleankit.stages.mojibake.common.MIN_GAIN` per character and enough of it decodes from
complete byte pairs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from operator import itemgetter

from cleankit.core.document import Edit
from cleankit.speedups import compiled as _compiled
from cleankit.stages.mojibake.common import MIN_GAIN, WILDCARD
from cleankit.stages.mojibake.context_choice import WINDOW, rechoose, slots_seen
from cleankit.stages.mojibake.frames import FRAMES, GBK, Frame
from cleankit.stages.mojibake.resync import ASCII_TRAIL, fell_back_in_step
from cleankit.stages.mojibake.script_fit import script_around
from cleankit.text.lazy_pattern import lazy_compile
from cleankit.text.plausibility import ChineseModel, WordModel, fine_model

# A '?' or U+FFFD touching a CJK character: where a byte-shift run starts or ends. The
# Private Use Area (U+E000-U+F8FF) counts: a GB18030 decoder reads the shifted pairs that land
# in its user-defined areas (lead bytes AA-AF, F8-FE; A1-A7 with trail bytes 40-A0) as
# private-use characters, and they re-encode to the same two bytes.
SHIFT_ANCHOR = lazy_compile(
    r"(?<=[\u3000-\u9fff\ue000-\ufaff\uff00-\uffef])[?\ufffd]"
    r"|[?\ufffd](?=[!?\u3000-\u9fff\ue000-\ufaff\uff00-\uffef])"
)
# Characters a shifted run is made of: CJK, full-width forms folded to ASCII, stray trail bytes.
SHIFT_RUN_CHAR = lazy_compile(r"[\u3000-\u303f\u3400-\u9fff\ue000-\ufaff\uff00-\uffef?!@-~\ufffd]")
# Where a shifted run may end: a lost byte ('?', U+FFFD) or a trail byte read as ASCII.
SHIFT_RUN_END = frozenset("?\ufffd") | ASCII_TRAIL

# Cost of assuming a lost byte, beam width, longest run looked at.
LOST_BYTE_COST = 4.0
BEAM = 16
SHIFT_WINDOW = 24
# Characters a realigned run must decode from complete byte pairs to count as repaired.
MIN_DECODED = 3


def byte_shift_edits(
    text: str, model: ChineseModel, words: Callable[[], WordModel] | None = None
) -> tuple[list[Edit], list[tuple[Edit, int]]]:
    """GBK text decoded one byte out of step, realigned run by run around '?' anchors.

    Returns the edits and, for each character guessed from one surviving byte, its edit and
    its index in ``edit.new`` (the stage flags those). ``words``: the word model's loader; with
    it, each guessed character is chosen again by the reading of its sentence
    (:mod:`~cleankit.stages.mojibake.context_choice`). Below, the text was 关于印发《实施方案》的通知:
    the characters between the lost bytes come back, the two guessed from one byte do not.

    >>> from cleankit.text.plausibility import chinese_model
    >>> edits, guessed = byte_shift_edits("关于印?ⅰ妒凳┓桨浮返?通知", chinese_model())
    >>> [(edit.old, edit.new) for edit in edits], [edit.new[index] for edit, index in guessed]
    ([('?ⅰ妒凳┓桨浮返?', '、《实施方案》第')], ['、', '第'])
    """
    edits: list[Edit] = []
    lost: list[tuple[Edit, int]] = []
    size = len(text)
    position = 0
    while (anchor := SHIFT_ANCHOR.search(text, position)) is not None:
        start = anchor.start()
        position = start + 1
        limit = min(size, start + SHIFT_WINDOW)
        # A repair replaces at least two ideographs (see _repair), so a run is only looked at
        # when its window holds two; and no anchor before the window that reaches the next
        # two can, so the search for anchors resumes there. A page a wrong codec left as
        # thousands of '?' costs a few searches, not one scan (or one realignment) per '?'.
        first = _IDEOGRAPH.search(text, start)
        second = _IDEOGRAPH.search(text, first.end()) if first is not None else None
        if second is None:
            break
        if second.start() >= limit:
            position = max(position, second.start() - SHIFT_WINDOW + 1)
            continue
        end = _run_end(text, start, limit)
        if end - start < 3:
            continue
        old = text[start:end]
        # Context characters (not whitespace: the layout stages change it, the verdict must not).
        before = text[start - 1] if start > 0 and not text[start - 1].isspace() else ""
        after = text[end] if end < size and not text[end].isspace() else ""
        found = _best_repair(old, before, after, model)
        if found is None:
            continue
        head, tail, new, guessed_here, _gain, choices = found
        if words is not None and guessed_here:
            left = text[max(0, start + head - WINDOW - 1) : start + head]
            right = text[end - tail : end - tail + WINDOW]
            # Chosen with the finer bigrams (fine_model): the search decided the run is a
            # shift; which character a guess is, is what the finer counts are for.
            script = script_around(text, start, end)
            seen = slots_seen(text, start + head, end - tail, new, guessed_here)
            new = _in_context(left, new, right, guessed_here, choices, fine_model(), words(), script, seen)
        edit = Edit(
            "",
            "byte-shift",
            start + head,
            end - tail,
            old[head : len(old) - tail],
            new,
            "GBK bytes decoded one byte out of step, realigned",
        )
        edits.append(edit)
        lost.extend((edit, index) for index in guessed_here)
        position = end
    return edits, lost


# Characters kept at the head and tail, the new text, the indexes in it of characters guessed
# from one byte, the gain per character, and the candidates of each guess.
_Repair = tuple[int, int, str, tuple[int, ...], float, tuple[tuple[str, ...], ...]]


# Memoized like the search: a page that repeats a damaged run asks again.
@lru_cache(maxsize=4096)
def _in_context(
    left: str,
    new: str,
    right: str,
    guessed: tuple[int, ...],
    choices: tuple[tuple[str, ...], ...],
    model: ChineseModel,
    words: WordModel,
    script: str | None = None,
    seen: tuple[tuple[str, str], ...] = (),
) -> str:
    """``new`` (between ``left`` and ``right``, in text of ``script``) with its guessed
    characters chosen again by the reading of their sentence (``seen``: what the page writes
    next to each one's neighbours, :func:`~cleankit.stages.mojibake.context_choice.slots_seen`)."""
    slots = [(len(left) + index, candidates) for index, candidates in zip(guessed, choices, strict=True)]
    chosen = rechoose(left + new + right, slots, model, words, script, seen)
    return "".join(map(_fold_fullwidth, chosen[len(left) : len(left) + len(new)]))


# Memoized like the search under it: a page a wrong codec left as thousands of '?' asks the
# same question at every one of them.
@lru_cache(maxsize=4096)
def _best_repair(old: str, before: str, after: str, model: ChineseModel) -> _Repair | None:
    """The repair of one run in the frame (GBK, Big5) where it reads best (None: none)."""
    # A repair must replace at least two ideographs (checked last in _repair, on the part
    # replaced): a run without two has none, and its search can be skipped.
    if sum(map(_is_ideograph, old)) < 2:
        return None
    head_score = model.total_logp(old[:4], before or None) / 4
    if head_score > -7.0:
        return None  # reads like ordinary Chinese after a real question mark
    if _reads_in_step(old, model):
        return None
    best: _Repair | None = None
    for frame in FRAMES:
        if not frame.may_have_decoded(old):
            continue
        found = _repair(old, before, after, model, frame)
        if found is not None and (best is None or found[4] > best[4]):
            best = found
    return best


# What they must score (mean log-probability per character) to read as text in step: the
# first characters of a shift read as debris (-12 to -18; -12.5 at the most for the 13 runs
# repaired on the benchmark crawl), ordinary text -4 to -8.
IN_STEP_HEAD = -8.0


def _reads_in_step(run: str, model: ChineseModel) -> bool:
    """The run's first characters after its leading marks read as ordinary Chinese: the marks
    stand for characters a codec could not write (a company's rare character, ``不?钢金属有限公司``),
    not for a byte lost before a shift. (The head gate above scores the marks too, and a
    mark scores as debris.)

    >>> from cleankit.text.plausibility import chinese_model
    >>> [_reads_in_step(run, chinese_model()) for run in ("?钢金属有限公司", "?ⅰ斗桨浮返?", "?的?")]
    [True, False, False]
    """
    after_marks = run.lstrip("?\ufffd")
    if len(after_marks) == len(run):
        return False
    # Ideographs only: an ASCII letter there is a trail byte read alone (a shift that fell
    # back in step); fewer than three are too few to say.
    characters = after_marks[:4]
    if len(characters) < 3 or not all(map(_is_ideograph, characters[:3])):
        return False
    if not _is_ideograph(characters[-1]):
        characters = characters[:3]
    return model.total_logp(characters) / len(characters) > IN_STEP_HEAD


def _repair(old: str, before: str, after: str, model: ChineseModel, frame: Frame) -> _Repair | None:
    """The repair of one run in ``frame``: characters kept at its head and tail, the new
    text between, the indexes in it of characters guessed from one byte, and the gain per
    character (None: no repair)."""
    best = _best_realignment(old, before, after, model, frame)
    if best is None:
        return None
    new, guessed, gain, choices = best
    if gain < MIN_GAIN:
        return None
    # Keep the edit minimal: trim what the realignment left as it was.
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    replaced, replacement = old[head : len(old) - tail], new[head : len(new) - tail]
    kept = [i for i, index in enumerate(guessed) if head <= index < len(new) - tail]
    guessed_here = tuple(guessed[i] - head for i in kept)
    choices_here = tuple(choices[i] for i in kept)
    # Evidence of a shift: several characters decoded from two surviving bytes each.
    decoded = [c for i, c in enumerate(replacement) if i not in guessed_here and _is_cjk(c)]
    needed = max(MIN_DECODED, len(guessed_here))
    ideographs = 2
    if _bracketed_debris(replaced, model):
        # A short run between two lost-byte marks that reads as debris is a shift for certain:
        # its two edge characters are guesses, and one character decoded from a complete
        # pair is evidence enough (otherwise the run could only be removed).
        needed = max(1, len(guessed_here) - 1)
    elif fell_back_in_step(replaced):
        # The run ends where its decoder fell back in step (a trail byte read as ASCII):
        # one character decoded from a complete pair per guessed one is evidence enough.
        # The two cannot be ideographs too: a run that short is one ideograph between them.
        needed = max(1, len(guessed_here))
        ideographs = 1
    if len(decoded) < needed or sum(map(_is_ideograph, replaced)) < ideographs:
        return None  # a guess is not a repair
    return head, tail, replacement, guessed_here, gain, choices_here


# What a run between two marks must score (mean log-probability per character) to count
# as debris: ordinary text -4 to -8, GBK read out of step -12 to -18.
BRACKETED_DEBRIS = -10.0


def _bracketed_debris(replaced: str, model: ChineseModel) -> bool:
    """``replaced`` starts and ends with a lost-byte mark and what is between reads as debris."""
    if len(replaced) < 3 or replaced[0] not in "?\ufffd" or replaced[-1] not in "?\ufffd":
        return False
    inner = replaced[1:-1]
    if any(c in "?\ufffd" or c.isspace() or c.isascii() for c in inner):
        return False
    return model.total_logp(inner) / len(inner) < BRACKETED_DEBRIS


def positions_after(edits: list[Edit], lost: list[tuple[Edit, int]]) -> list[tuple[int, int]]:
    """Where each guessed character sits in the text after the step of ``edits``."""
    shift_of: dict[int, int] = {}
    delta = 0
    for edit in sorted(edits, key=lambda e: e.start):
        shift_of[id(edit)] = edit.start + delta
        delta += len(edit.new) - len(edit.old)
    return [(shift_of[id(edit)] + index, shift_of[id(edit)] + index + 1) for edit, index in lost]


def edges_after(edits: list[Edit]) -> list[int]:
    """Where each edit's new text starts and ends in the text after the step of ``edits``."""
    edges: list[int] = []
    delta = 0
    for edit in sorted(edits, key=lambda e: e.start):
        start = edit.start + delta
        edges.extend((start, start + len(edit.new)))
        delta += len(edit.new) - len(edit.old)
    return edges


_IDEOGRAPH = lazy_compile("[\u3400-\u9fff]")
# What a shifted run is mostly made of, with no condition attached: a run of these is
# skipped in one step; the characters that need a closer look (an ASCII letter, a GBK symbol
# outside these blocks) are judged one at a time.
_PLAIN_RUN = lazy_compile(r"[\u3000-\u303f\u3400-\u9fff\ue000-\ufaff\uff00-\uffef?!\ufffd]+")


def _run_end(text: str, start: int, limit: int) -> int:
    """Where the shifted run from ``start`` ends (at most at ``limit``)."""
    end = start
    while end < limit:
        plain = _PLAIN_RUN.match(text, end, limit)
        if plain is not None:
            end = plain.end()
        elif _shift_run_char(text, end):
            end += 1
        else:
            break
    return end


def _shift_run_char(text: str, index: int) -> bool:
    """Whether ``text[index]`` can belong to a shifted run: an ASCII letter only alone
    (a trail byte read as ASCII), never inside a word such as a pinyin annotation."""
    char = text[index]
    if not SHIFT_RUN_CHAR.match(text, index) and not any(frame.double_byte(char) for frame in FRAMES):
        return False
    if char.isascii() and char.isalpha():
        neighbours = text[index - 1 : index] + text[index + 1 : index + 2]
        return not any(c.isascii() and c.isalpha() for c in neighbours)
    if char.isascii() and char not in "?!":
        # Another trail byte read as ASCII (@, [, _, ~ ...): only between two characters
        # that are not ASCII (一 is A4 40 in Big5: 第一項 read out of step ends in '@').
        neighbours = text[index - 1 : index] + text[index + 1 : index + 2]
        return len(neighbours) == 2 and not any(c.isascii() for c in neighbours)
    return True


def _is_ideograph(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff"


def _is_cjk(char: str) -> bool:
    return _is_ideograph(char) or "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef"


def _best_realignment(
    old: str, before: str, after: str, model: ChineseModel, frame: Frame
) -> tuple[str, tuple[int, ...], float, tuple[tuple[str, ...], ...]] | None:
    """Try every end of the shifted run within the window (after a lost byte or a stray
    ASCII trail byte); the reading with the best gain per character of the realigned part
    wins. The part after the cut is in step again and is left as it is, so it must not
    dilute the verdict."""
    best: tuple[str, tuple[int, ...], float, int] | None = None
    cuts = [cut for cut in range(3, len(old) + 1) if old[cut - 1] in SHIFT_RUN_END or cut == len(old)]
    readings = _realign_prefixes(old, cuts, _Search(before, model, frame))
    for cut in cuts:
        context = old[cut] if cut < len(old) else after
        # U+FFFD scores as debris, but it is only a marker of bytes already lost: a reading
        # earns nothing by dropping it, or in-step text after it would be "realigned" for
        # the marker's sake (兴业 -> 有了业 after a U+FFFD).
        old_part = model.total_logp(old[:cut].replace("\ufffd", "") + context, before or None)
        for _score, text, _pending, lost in readings.get(cut, []):
            guessed_cost = LOST_BYTE_COST * len(lost)
            new_part = model.total_logp(text + context, before or None) - guessed_cost
            gain = (new_part - old_part) / (cut + 1)
            if best is None or gain > best[2]:
                best = (text, lost, gain, cut)
    if best is None:
        return None
    text, lost, gain, cut = best
    context = old[cut] if cut < len(old) else after
    refined = _refine_guesses(text, lost, before, context, model, frame)
    if refined != text:
        previous = before or None
        change = model.total_logp(refined + context, previous) - model.total_logp(text + context, previous)
        gain += change / (cut + 1)
    folded = "".join(map(_fold_fullwidth, refined))
    choices = tuple(frame.all_candidates(entry & 0xFF, bool(entry & _LEAD_BIT)) for entry in lost)
    return folded + old[cut:], tuple(_guess_index(entry) for entry in lost), gain, choices


def _refine_guesses(
    text: str, lost: tuple[int, ...], before: str, after: str, model: ChineseModel, frame: Frame
) -> str:
    """Choose each character guessed from one surviving byte again, among every
    character of the frame with that byte, by both its neighbours (the search ranked the guesses by the
    left one only, among the most frequent candidates): 大民 -> 大美 before 青海."""
    if not lost:
        return text
    chars = list(text)
    logp = model.logp
    for _ in range(2):  # twice: a guess next to another guess sees the other's new value
        for entry in lost:
            index = _guess_index(entry)
            previous = chars[index - 1] if index > 0 else (before or None)
            following = chars[index + 1] if index + 1 < len(chars) else (after or None)
            best_char, best_score = chars[index], -math.inf
            for candidate in frame.all_candidates(entry & 0xFF, bool(entry & _LEAD_BIT)):
                score = logp(previous, candidate)
                if following is not None:
                    score += logp(candidate, following)
                if score > best_score:
                    best_char, best_score = candidate, score
            chars[index] = best_char
    return "".join(chars)


# A reading of the run so far: (score, text, pending, lost). ``pending`` is a lead byte
# waiting for its trail (WILDCARD: a lost lead), ``lost`` the guess entries (index in ``text``
# and surviving byte, see :func:`_guess_entry`) of
# characters guessed from one byte. Tuples, not objects: a search builds tens of thousands,
# and a tuple is built in C.
_Path = tuple[float, str, "int | None", tuple[int, ...]]
_by_score = itemgetter(0)
_START: _Path = (0.0, "", None, ())
# Candidates of a byte that leads no GBK character (0x80, 0xFF): none. One permanent list, so
# that its id is a stable key of the guess memo.
_NO_CANDIDATES: list[str] = []


def _realign_prefixes(chars: str, cuts: list[int], search: _Search) -> dict[int, list[_Path]]:
    """Best readings of ``chars[:cut]`` for every ``cut``, re-encoded in the search's frame
    and decoded one byte over.

    The beam after k characters does not depend on where the run will be cut, so one pass
    over the longest prefix serves every cut (instead of one search per cut)."""
    results: dict[int, list[_Path]] = {}
    wanted = set(cuts)
    paths = [_START]
    alternatives_of = search.frame.alternatives
    for count, char in enumerate(chars[: max(cuts, default=0)], start=1):
        alternatives = alternatives_of(char)
        if not alternatives:
            break  # no prefix reaching past here has a reading
        grown = search.grow(paths, alternatives)
        if not grown:
            break
        paths = grown
        if count in wanted:
            results[count] = _finish(paths, search)
    return results


def _finish(paths: list[_Path], search: _Search) -> list[_Path]:
    """Close the readings at the end of a prefix (a pending lead byte lost its trail)."""
    finished: list[_Path] = []
    for path in paths:
        score, text, pending, lost = path
        if pending is None:
            finished.append(path)
        elif pending == WILDCARD:  # a lost byte with nothing after it
            finished.append((score - LOST_BYTE_COST, text, None, lost))
        else:
            finished.extend(search.lost_trail(path, pending))
    return sorted(finished, key=_by_score, reverse=True)[:BEAM]


def _dedupe(paths: list[_Path], keep: int) -> list[_Path]:
    """The first ``keep`` paths (in the given order) that differ in their last two
    characters or their pending byte."""
    seen = set()
    unique = []
    for path in paths:
        key = (path[1][-2:], path[2])
        if key in seen:
            continue
        seen.add(key)
        unique.append(path)
        if len(unique) == keep:
            break
    return unique


# Guesses for a character of which one byte survived: the best few by left context; the
# beam keeps them apart so that the right context decides.
GUESS_BRANCHES = 3


# Best guesses per (previous character, candidate list), each with its folded form and that
# form's log-probability: the same ones recur within a search and from one search to the
# next, and emitting them needs no rescoring. Kept per model (the entry holds the model, so
# a recycled id cannot pick up another model's rankings); the candidate lists are the
# permanent ones of Frame.tables, so their ids are stable.
_RANKED: dict[int, tuple[ChineseModel, dict[tuple[str | None, int], list[tuple[str, float]]]]] = {}
# Rankings kept before the memo is emptied: ~800 bytes each, so a worker holds ~6 MB of them on
# any crawl (51 MB at 65,536, which a long crawl reached). Sized by counting the rankings made
# by one process cleaning 1,500 pages of the benchmark crawl: 10,963 unbounded (296,898
# lookups), 12,996 at 8,192, 16,043 at 4,096; the runs' CPU within noise (benchmarks/README.md).
RANKED_KEPT = 1 << 13


def _ranked_guesses(model: ChineseModel) -> dict[tuple[str | None, int], list[tuple[str, float]]]:
    entry = _RANKED.get(id(model))
    if entry is None or entry[0] is not model:
        entry = _RANKED[id(model)] = (model, {})
    if len(entry[1]) >= RANKED_KEPT:
        entry[1].clear()  # bounded memory over a long crawl
    return entry[1]


# Per candidate list of Frame.tables (permanent, so their ids are stable) and model: each
# candidate's log-probability after a character it was never seen after, and its position.
_UNSEEN_KEYS: dict[tuple[int, int], tuple[ChineseModel, list[str], list[float]]] = {}
_POSITIONS: dict[int, tuple[list[str], dict[str, list[int]]]] = {}


def _unseen_keys(model: ChineseModel, candidates: list[str]) -> list[float]:
    entry = _UNSEEN_KEYS.get((id(model), id(candidates)))
    if entry is None or entry[0] is not model or entry[1] is not candidates:
        entry = (model, candidates, [model.unseen_pair_logp(char) for char in candidates])
        _UNSEEN_KEYS[(id(model), id(candidates))] = entry
    return entry[2]


def _positions(candidates: list[str]) -> dict[str, list[int]]:
    entry = _POSITIONS.get(id(candidates))
    if entry is None or entry[0] is not candidates:
        where: dict[str, list[int]] = {}
        for index, char in enumerate(candidates):
            where.setdefault(char, []).append(index)
        entry = (candidates, where)
        _POSITIONS[id(candidates)] = entry
    return entry[1]


class _Search:
    """Transitions of the realignment search: each consumes one byte of the re-encoded run."""

    def __init__(self, before: str, model: ChineseModel, frame: Frame = GBK) -> None:
        self.before = before or None
        self.logp = model.logp
        self.model = model
        self.frame = frame
        self.by_lead, self.by_trail = frame.tables()
        self._ranked = _ranked_guesses(model)
        # What the compiled feed reads (cleankit/_speedups.c, read_search): the memos it
        # looks in and the methods that fill them, which it calls where these methods would
        # miss. Only for the classes whose memos it knows.
        self._context: tuple[object, ...] | None = None
        if _compiled is not None and type(model) is ChineseModel and type(frame) is Frame:
            self._context = (
                self.before, self.by_lead, self.by_trail, _NO_CANDIDATES, frame._pairs, frame.pair_char,
                model._logp_cache, model.logp, self._ranked, self._ranking, LOST_BYTE_COST,
            )  # fmt: skip

    def _rank(self, previous: str | None, candidates: list[str]) -> list[str]:
        """The :data:`GUESS_BRANCHES` most likely candidates after ``previous`` (ties in the
        candidates' order). Only the candidates ever seen after ``previous`` are scored: any
        other one scores its unseen-pair log-probability, which is fixed per candidate."""
        if previous is None:
            keys = [self.logp(None, char) for char in candidates]
        else:
            keys = _unseen_keys(self.model, candidates)
            followers = self.model.followers(previous)
            if followers:
                keys = list(keys)
                if len(followers) < len(candidates):
                    where = _positions(candidates)
                    for char in followers:
                        for index in where.get(char, ()):
                            keys[index] = self.logp(previous, char)
                else:
                    for index, char in enumerate(candidates):
                        if char in followers:
                            keys[index] = self.logp(previous, char)
        order = sorted(range(len(candidates)), key=keys.__getitem__, reverse=True)[:GUESS_BRANCHES]
        return [candidates[index] for index in order]

    def emit(self, path: _Path, char: str) -> _Path:
        score, text, _pending, lost = path
        return (score + self.logp(text[-1] if text else self.before, char), text + char, None, lost)

    def _ranking(self, previous: str | None, candidates: list[str]) -> list[tuple[str, float]]:
        """The ranked guesses after ``previous`` with their log-probabilities, memoized."""
        ranked = [(char, self.logp(previous, char)) for char in self._rank(previous, candidates)]
        self._ranked[(previous, id(candidates))] = ranked
        return ranked

    def guesses(self, path: _Path, candidates: list[str], byte: int, is_lead: bool) -> list[_Path]:
        """Guesses for a character of which only ``byte`` (its lead or trail) survived."""
        score, text, _pending, lost = path
        previous = text[-1] if text else self.before
        ranked = self._ranked.get((previous, id(candidates)))
        if ranked is None:
            ranked = self._ranking(previous, candidates)
        guessed = (*lost, _guess_entry(len(text), byte, is_lead))
        return [(score + logp - LOST_BYTE_COST, text + char, None, guessed) for char, logp in ranked]

    def start(self, path: _Path, byte: int) -> list[_Path]:
        """``byte`` arrives with nothing pending."""
        if byte == WILDCARD:
            return [(path[0], path[1], WILDCARD, path[3])]
        trail = self.by_trail.get(byte)
        if byte < 0x80:
            options = [self.emit(path, chr(byte))]
            if trail is not None:  # an ASCII-range trail byte whose lead was lost
                options.extend(self.guesses(path, trail, byte, False))
            return options
        options = [(path[0], path[1], byte, path[3])]
        if trail is not None:  # ... or it is a trail whose lead was lost
            options.extend(self.guesses(path, trail, byte, False))
        return options

    def lost_trail(self, path: _Path, lead: int, then: int | None = None) -> list[_Path]:
        """The pending lead byte lost its trail; ``then`` (if any) starts afresh."""
        if lead not in self.by_lead:
            return []
        closed = self.guesses(path, self.by_lead[lead], lead, True)
        if then is None:
            return closed
        return [option for p in closed for option in self.start(p, then)]

    def grow(self, paths: list[_Path], alternatives: list[list[int]]) -> list[_Path]:
        """The beam after one more character: every path fed every byte reading of it, the
        best :data:`BEAM` distinct ones ([] when none grew)."""
        if self._context is not None and _compiled is not None:
            return _compiled.grow(self._context, paths, alternatives, BEAM * 2, BEAM)
        return self._grow_python(paths, alternatives)

    def _grow_python(self, paths: list[_Path], alternatives: list[list[int]]) -> list[_Path]:
        """:meth:`grow` in Python (the reference for ``cleankit._speedups.grow``)."""
        grown: list[_Path] = []
        for path in paths:
            for alternative in alternatives:
                grown.extend(self.feed(path, alternative))
        grown.sort(key=_by_score, reverse=True)
        return _dedupe(grown, BEAM)

    def feed(self, path: _Path, data: list[int]) -> list[_Path]:
        """Every way of extending ``path`` by the bytes ``data`` (the reference for
        ``cleankit._speedups.feed``, which :meth:`grow` runs when compiled)."""
        paths = [path]
        by_trail, by_lead = self.by_trail, self.by_lead
        pair_char = self.frame.pair_char
        for byte in data:
            nxt: list[_Path] = []
            for p in paths:
                pending = p[2]
                if pending is None:
                    nxt.extend(self.start(p, byte))
                elif pending == WILDCARD:
                    if byte != WILDCARD and byte in by_trail:
                        nxt.extend(self.guesses(p, by_trail[byte], byte, False))
                elif byte == WILDCARD:  # the trail of the pending lead is the lost byte
                    nxt.extend(self.guesses(p, by_lead.get(pending, _NO_CANDIDATES), pending, True))
                else:
                    char = pair_char(pending, byte)
                    if char:
                        nxt.append(self.emit(p, char))
                    nxt.extend(self.lost_trail(p, pending, byte))
            nxt.sort(key=_by_score, reverse=True)
            paths = _dedupe(nxt, BEAM * 2)
        return paths


def _fold_fullwidth(char: str) -> str:
    """Full-width ASCII forms back to ASCII: the runs come from text whose full-width
    punctuation was folded (that is how '?' and '!' got there); stay consistent with it."""
    return chr(ord(char) - 0xFEE0) if "\uff01" <= char <= "\uff5e" else char


# A guessed character is kept in a reading as one int: its index in the reading, the byte
# that survived, and whether that byte is the lead (so the guess can be chosen again).
_GUESS_SHIFT = 9
_LEAD_BIT = 0x100


def _guess_entry(index: int, byte: int, is_lead: bool) -> int:
    return (index << _GUESS_SHIFT) | (_LEAD_BIT if is_lead else 0) | byte


def _guess_index(entry: int) -> int:
    return entry >> _GUESS_SHIFT
