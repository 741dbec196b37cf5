"""Repeats inside one document: the ``repeats`` stage (after ``paragraphs``, before ``reflow``:
scraper windows often separate the halves of a paragraph a page break cut, and reflow joins
them once the windows are gone; called ``dedup`` before 0.2, a name still accepted in settings).

Scrapers emit overlapping windows (a paragraph followed by its own suffixes), and pages
carry passages grafted from elsewhere on the page. This stage keeps one copy of each: the
first copy of a repeated paragraph, and the original of a grafted passage (wherever it
is), comparing paragraphs on the canonical view (:mod:`cleankit.text.fold`) so copies
that differ in script, width, whitespace or a truncated character still match.

How a repeat is found (seed and extend): every ``anchor_chars``-gram of the paragraphs
kept so far is indexed; a later paragraph is scanned for anchors, each hit is extended
character by character in both directions, and hits on the same kept paragraph that lie
on nearly the same diagonal (gaps of at most ``max_gap`` characters: a few edited
characters) are merged into one aligned segment, verified with rapidfuzz's Levenshtein
similarity (>= ``similarity``). Then, for a paragraph at least ``min_chars`` long:

- ``repeat``: one segment covers it (up to ``1 - similarity`` of it unmatched, and an
  unmatched edge longer than an anchor only if it reads as edited text): the paragraph
  reappears whole, or is a suffix or fragment of another paragraph. The whole paragraph
  goes, with its separator. A paragraph shorter than ``passage_chars`` counts only when
  it is an earlier paragraph's suffix (what an overlapping scraper window leaves) or all
  of it: a short line that occurs in the middle or at the start of a longer one (a
  signature, or a title quoted in the heading) is legitimate.
- ``passage``: a segment of at least ``passage_chars`` characters inside a paragraph
  that also holds other text. One copy is the original, the other a graft, and the
  evidence in the text decides which (:func:`judge_graft`): a graft dropped inside a
  sentence cuts that sentence, the original sits between whole sentences; failing that,
  the original shares more of its paragraph's wording. The graft goes, exactly: the
  original's extent (the aligned stretch, its edges moved in to the original's sentence
  boundaries when they lie within a few characters), carried over to the host, so the
  host's text on both sides stays as it was. The reason in provenance gives the
  evidence. When the graft is in a paragraph read earlier (the graft comes first), the
  paragraph holding the original is read before it and the document is read again.

Each removal's ``ref`` names the kept copy: ``para:N`` (the N-th paragraph, from 1, of
the text this step produces) and, for a passage, ``para:N:A-B`` (code-point offsets of
the kept passage inside that paragraph).

Short lines (table cells, list numbers, short headers) are below ``min_chars`` and
never touched. Repeats within a single paragraph are not looked for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, TypeAlias

from rapidfuzz.distance import Levenshtein

from cleankit.core.budget import check_deadline
from cleankit.core.document import Document, Edit
from cleankit.core.stage import register_stage
from cleankit.speedups import compiled as _compiled
from cleankit.stages.paragraphs import paragraph_removal, paragraph_spans
from cleankit.text.cjk import is_han
from cleankit.text.fold import canonical, canonical_pieces, view_positions
from cleankit.text.lazy_pattern import lazy_compile
from cleankit.text.plausibility import word_model
from cleankit.text.small import use_numpy

if TYPE_CHECKING:
    import numpy as np

SENTENCE_ENDS = frozenset("。！？!?；;…")
# Where a passage may start or end without cutting a sentence: a colon introduces what follows.
PASSAGE_EDGES = SENTENCE_ENDS | frozenset("：:")
# Kept places remembered per anchor: enough to find the right copy among a few repeats
# of a common phrase, bounded so a page of one phrase repeated stays linear.
MAX_ANCHOR_PLACES = 8
CLOSERS = frozenset("”’」』）)】〕\"'")
# A paragraph's repeated anchor offsets: an int32 array, a list (a small page without numpy,
# :mod:`cleankit.text.small`), or every offset (a range).
Offsets: TypeAlias = "np.ndarray | list[int] | range"
# Anchor text -> the (paragraph, offset) places it was indexed at.
_Anchors: TypeAlias = dict[str, list[tuple[int, int]]]
EMPTY_OFFSETS = range(0)
OFFSETS_PER_SLICE = 65536
# Paragraphs compared between two looks at the document's time budget.
DEADLINE_EVERY_PARAGRAPHS = 256


@dataclass(slots=True)
class Segment:
    """An aligned stretch: ``view[start:end]`` of the paragraph being checked matches
    ``kept[kept_start:kept_end]`` of kept paragraph ``kept``."""

    start: int
    end: int
    kept: int
    kept_start: int
    kept_end: int


@dataclass
class _Paragraph:
    start: int
    end: int
    view: str
    removed: bool = False
    # The paragraph's text once long passages are cut from it (None: all of it).
    kept_text: str | None = None


@dataclass(slots=True)
class _Removal:
    """Text to remove: ``[start, end)`` of paragraph ``index`` (offsets in its text), and the
    kept copy it repeats: paragraph ``kept``, ``kept_span`` inside that paragraph's kept text."""

    index: int
    start: int
    end: int
    rule: str
    kept: int
    kept_span: tuple[int, int] | None = None
    reason: str = ""


@dataclass(slots=True)
class _Reorder:
    """Read paragraph ``original`` before paragraph ``host``: the passage they share was
    grafted into ``host``, which was read first and kept whole."""

    host: int
    original: int


@dataclass(slots=True)
class _Verdict:
    foreign_here: bool
    here: tuple[int, int]  # what to remove from the paragraph being read (text offsets)
    there: tuple[int, int]  # the passage in the kept paragraph (offsets in its kept text)
    reason: str


@dataclass(slots=True)
class _Copy:
    """One copy of a long shared passage: the paragraph's text and canonical view, and the
    aligned stretch ``view[start:end]``."""

    text: str
    view: str
    start: int
    end: int
    # Computed once per copy (a judgement asks for them several times).
    _positions: list[int] | None = None
    _own: tuple[int, int] | None = None

    def positions(self) -> list[int]:
        """For each character of the view, its offset in the text."""
        if self._positions is None:
            self._positions = view_positions(self.text)
        return self._positions

    def own(self) -> tuple[int, int]:
        """The passage in this copy's text, were this copy the original: the aligned stretch,
        its edges moved in to this paragraph's sentence boundaries when one lies within
        :data:`EDGE_SLACK` characters (the alignment runs on past a graft's edge for as long
        as the characters on both sides happen to agree: the 。 before it, a common word after)."""
        if self._own is None:
            positions = self.positions()
            start, end = positions[self.start], positions[self.end - 1] + 1
            self._own = _snap(self.text, start, end)
        return self._own

    def removal(self, original: _Copy) -> tuple[int, int]:
        """What to remove from this copy were it the graft: the original's passage, carried
        over along the alignment (its trimmed edges trimmed here too)."""
        own_start, own_end = original.own()
        positions = original.positions()
        kept_start = positions[original.start]
        kept_end = positions[original.end - 1] + 1
        trim_start = len(canonical(original.text[kept_start:own_start])) if own_start > kept_start else 0
        trim_end = len(canonical(original.text[own_end:kept_end])) if own_end < kept_end else 0
        start, end = self.start + trim_start, self.end - trim_end
        if end <= start:
            return 0, 0
        here = self.positions()
        return here[start], here[end - 1] + 1


class _Memo:
    """What one document's readings share: a paragraph read again after a reorder meets the
    same copies of the same passage, judged once."""

    def __init__(self) -> None:
        self.copies: dict[tuple[int, int, int, int], _Copy] = {}
        self.verdicts: dict[tuple[int, int], tuple[_Copy, _Copy, _Copy, str]] = {}

    def copy(self, index: int, text: str, view: str, start: int, end: int) -> _Copy:
        """The copy of paragraph ``index`` (its text as this reading has it) at ``view[start:end]``."""
        key = (index, len(text), start, end)
        found = self.copies.get(key)
        if found is None or found.text != text:
            found = self.copies[key] = _Copy(text, view, start, end)
        return found


@register_stage("repeats", order=75, aliases=("dedup",))
@dataclass
class RepeatsStage:
    name: str = "repeats"
    # Paragraphs (canonical characters) shorter than this are never deduplicated.
    min_chars: int = 10
    # A repeat inside a longer paragraph is removed from at least this many characters.
    passage_chars: int = 100
    # Levenshtein similarity (0-1) a near-identical copy must reach, on the canonical view.
    similarity: float = 0.9
    # Length of the exact anchors that seed a match.
    anchor_chars: int = 8
    # Largest run of differing characters bridged inside one near-identical copy.
    max_gap: int = 8

    def __post_init__(self) -> None:
        if self.min_chars < 1 or self.passage_chars < self.min_chars:
            raise TypeError("need 1 <= min_chars <= passage_chars")
        if not 0.0 < self.similarity <= 1.0:
            raise TypeError("similarity must be in (0, 1]")
        if self.anchor_chars < 2:
            raise TypeError("anchor_chars must be at least 2")
        self.anchor_chars = min(self.anchor_chars, self.min_chars)

    def run(self, document: Document) -> Document:
        edits, reordered = self._find(document.text, may_reorder=True)
        document.apply(self.name, edits)
        # Read out of document order, a short repeated line can be judged against another copy
        # than a reading in document order would take; readings in document order settle
        # what is left (one more step, rarely two), so cleaning the output finds nothing.
        # So can a passage cut from a paragraph: what is left of it can share another passage
        # with a paragraph it did not before.
        unsettled = reordered or any(edit.rule == "passage" for edit in edits)
        for _ in range(MAX_SETTLING_READINGS if unsettled else 0):
            edits, _ = self._find(document.text, may_reorder=False)
            if not document.apply(self.name, edits):
                break
        return document

    def find_edits(self, text: str) -> list[Edit]:
        """The edits of the first step (see :meth:`run`)."""
        return self._find(text, may_reorder=True)[0]

    def _find(self, text: str, may_reorder: bool) -> tuple[list[Edit], bool]:
        """The edits, and whether paragraphs were read out of document order."""
        spans = list(paragraph_spans(text))
        views = canonical_pieces(text, spans)
        repeated = repeated_anchor_offsets(views, self.anchor_chars)
        # Paragraphs are read in document order, each kept copy indexed before later ones
        # are compared with it; a graft found in a kept paragraph moves the paragraph holding
        # the original ahead of it and the document is read again in that order.
        order = list(range(len(spans)))
        memo = _Memo()
        for attempt in range(MAX_REORDERS + 1):
            reorder = may_reorder and attempt < MAX_REORDERS
            found = self._read(text, spans, views, list(repeated), order, reorder, memo)
            if isinstance(found, _Reorder):
                order.remove(found.original)
                order.insert(order.index(found.host), found.original)
                continue
            paragraphs, removals = found
            return self._edits(text, paragraphs, removals), attempt > 0
        raise AssertionError("unreachable: the last reading never reorders")

    def _read(
        self,
        text: str,
        spans: list[tuple[int, int]],
        views: list[str],
        repeated: list[Offsets],
        order: list[int],
        may_reorder: bool,
        memo: _Memo,
    ) -> tuple[list[_Paragraph], list[_Removal]] | _Reorder:
        """One reading of the paragraphs in ``order``: what to remove, or the reorder a
        graft in an already kept paragraph asks for."""
        paragraphs = [_Paragraph(s, e, view) for (s, e), view in zip(spans, views, strict=True)]
        anchors: dict[str, list[tuple[int, int]]] = {}
        removals: list[_Removal] = []
        kept_views: dict[int, str] = {}
        for position, index in enumerate(order):
            if position % DEADLINE_EVERY_PARAGRAPHS == 0:
                check_deadline()
            paragraph = paragraphs[index]
            view = paragraph.view
            if len(view) >= self.min_chars and anchors and len(repeated[index]):
                segments = self._segments(view, anchors, kept_views, repeated[index])
                whole = self._whole_repeat(view, segments, kept_views)
                passages: list[tuple[int, int, _Removal]] = []
                if whole is None:
                    para_text = text[paragraph.start : paragraph.end]
                    for segment in segments:
                        kept = paragraphs[segment.kept]
                        kept_text = kept.kept_text if kept.kept_text is not None else text[kept.start : kept.end]
                        verdict = self._graft(index, para_text, view, segment, kept_text, kept_views, memo)
                        if verdict is None:
                            continue
                        if not verdict.foreign_here and may_reorder:
                            return _Reorder(host=segment.kept, original=index)
                        start, end = verdict.here
                        removal = _Removal(index, start, end, "passage", segment.kept, verdict.there, verdict.reason)
                        passages.append((start, end, removal))
                    if passages:
                        # What is left once the passages go is checked like any paragraph,
                        # so a second run finds nothing more to remove.
                        paragraph.kept_text = _without(para_text, [(a, b) for a, b, _ in passages])
                        view = canonical(paragraph.kept_text)
                        repeated[index] = range(len(view))
                        if not view:  # the passages were all of it: no empty paragraph is left
                            whole = Segment(0, 0, passages[-1][2].kept, 0, 0)
                        elif len(view) >= self.min_chars:
                            segments = self._segments(view, anchors, kept_views, repeated[index])
                            whole = self._whole_repeat(view, segments, kept_views)
                removals.extend(removal for _, _, removal in passages)
                if whole is not None:
                    # With passages cut first, the whole paragraph still goes, but as pieces:
                    # each passage names its own kept copy (above), the rest names the
                    # paragraph it repeats, so every ref holds what its edit removed.
                    paragraph.removed = True
                    removals.append(_Removal(index, 0, paragraph.end - paragraph.start, "repeat", whole.kept))
                    continue
            kept_views[index] = view
            if len(repeated[index]):
                self._index(view, index, anchors, repeated[index])
        return paragraphs, removals

    # -- finding -------------------------------------------------------------------

    def _index(self, view: str, index: int, anchors: dict[str, list[tuple[int, int]]], repeated: Offsets) -> None:
        """Index the anchors of a kept paragraph at every ``stride``-th offset: a later
        copy is scanned at every offset, so any match of at least ``min_chars`` still
        contains an indexed anchor (stride = min_chars - anchor_chars + 1). Anchors that
        occur once in the whole document can match nothing and are left out."""
        size = self.anchor_chars
        stride = self.min_chars - size + 1
        last = len(view) - size
        # Walk the (few, ascending) repeated offsets rather than every stride offset of
        # the paragraph; ``last`` is the suffix anchor: short windows repeat a paragraph's end.
        if not isinstance(repeated, (range, list)):  # an array
            repeated = repeated[(repeated <= last) & ((repeated % stride == 0) | (repeated == last))]
        for offset in _ints(repeated):
            if offset > last or (offset % stride and offset != last):
                continue
            places = anchors.setdefault(view[offset : offset + size], [])
            if len(places) < MAX_ANCHOR_PLACES:
                places.append((index, offset))

    def _segments(self, view: str, anchors: _Anchors, kept_views: dict[int, str], offsets: Offsets) -> list[Segment]:
        """Aligned stretches of ``view`` found from the anchors at ``offsets`` (ascending:
        the offsets whose anchor occurs elsewhere in the document)."""
        if _compiled is not None:
            matches = _compiled.anchor_matches(view, anchors, kept_views, _ints(offsets), self.anchor_chars)
            return self._merge([Segment(*match) for match in matches])
        return self._merge(self._anchor_matches(view, anchors, kept_views, offsets))

    def _anchor_matches(
        self, view: str, anchors: _Anchors, kept_views: dict[int, str], offsets: Offsets
    ) -> list[Segment]:
        """:meth:`_segments`' matches before they are merged, in Python (the reference for
        ``cleankit._speedups.anchor_matches``): the longest extension of each indexed anchor."""
        size = self.anchor_chars
        found: list[Segment] = []
        view_size = len(view)
        limit = view_size - size
        floor = 0
        for offset in _ints(offsets):
            if offset < floor or offset > limit:
                continue
            places = anchors.get(view[offset : offset + size])
            if places is None:
                continue
            best: Segment | None = None
            best_rank = (0, False)
            for kept, kept_offset in places:
                other = kept_views[kept]
                other_size = len(other)
                start, kept_start = offset, kept_offset
                while start > floor and kept_start > 0 and view[start - 1] == other[kept_start - 1]:
                    start -= 1
                    kept_start -= 1
                end, kept_end = offset + size, kept_offset + size
                while end < view_size and kept_end < other_size and view[end] == other[kept_end]:
                    end += 1
                    kept_end += 1
                # Of equally long matches, one reaching the end of its kept paragraph is taken:
                # a line that repeats a whole short paragraph (or its suffix) is a repeat,
                # the same line inside a longer paragraph need not be.
                rank = (end - start, kept_end == other_size)
                if best is None or rank > best_rank:
                    best, best_rank = Segment(start, end, kept, kept_start, kept_end), rank
            assert best is not None
            found.append(best)
            floor = best.end
        return found

    def _merge(self, segments: list[Segment]) -> list[Segment]:
        """Join exact runs on the same kept paragraph separated by a few edited characters."""
        merged: list[Segment] = []
        for segment in segments:
            if merged:
                last = merged[-1]
                gap = segment.start - last.end
                kept_gap = segment.kept_start - last.kept_end
                if segment.kept == last.kept and gap <= self.max_gap and 0 <= kept_gap <= self.max_gap:
                    last.end, last.kept_end = segment.end, segment.kept_end
                    continue
            merged.append(Segment(segment.start, segment.end, segment.kept, segment.kept_start, segment.kept_end))
        return merged

    def _similar(self, first: str, second: str) -> bool:
        score = Levenshtein.normalized_similarity(first, second, score_cutoff=self.similarity)
        return score >= self.similarity

    def _parallel(self, view: str, other: str) -> bool:
        """Whether two paragraphs are parallel clauses: near-identical, but differing by words."""
        return self._similar(view, other) and different_words(view, other)

    def _whole_repeat(self, view: str, segments: list[Segment], kept_views: dict[int, str]) -> Segment | None:
        """The segment that makes the whole paragraph a copy of (part of) a kept one."""
        allowed = len(view) * (1.0 - self.similarity)
        for segment in segments:
            # An edited character within an anchor's length of either end leaves that end
            # unmatched by anchors; the similarity check below covers the edges too.
            if segment.end - segment.start < len(view) - allowed - 2 * self.anchor_chars:
                continue
            # Align the unmatched edges too, so they count against the similarity.
            other = kept_views[segment.kept]
            lo = max(0, segment.kept_start - segment.start)
            hi = min(len(other), segment.kept_end + (len(view) - segment.end))
            # A short line inside a longer one (a signature or a title quoted in the
            # heading) is legitimate; a scraper's overlapping window repeats a suffix.
            if len(view) < self.passage_chars and hi < len(other):
                continue
            # An unmatched edge longer than an anchor must be edited text, not text of its
            # own: a paragraph that is mostly a passage of another still has its own opening.
            edges = (
                (view[: segment.start], other[lo : segment.kept_start]),
                (view[segment.end :], other[segment.kept_end : hi]),
            )
            if any(len(mine) > self.anchor_chars and not _edited(mine, theirs) for mine, theirs in edges):
                continue
            # The edges are aligned by length, so paragraphs that differ by a word at an edge
            # (主旨：修正… / 主旨：预告修正…) are told apart whole.
            aligned = other[lo:hi]
            if self._similar(view, aligned) and not different_words(view, aligned) and not self._parallel(view, other):
                return segment
        return _cut_paragraph_repeated(view, segments, kept_views)

    def _graft(
        self,
        index: int,
        para_text: str,
        view: str,
        segment: Segment,
        kept_text: str,
        kept_views: dict[int, str],
        memo: _Memo,
    ) -> _Verdict | None:
        """For a long passage this paragraph shares with a kept one: which copy is the graft,
        and the spans of both copies (None: too short or not similar enough to be one)."""
        if segment.end - segment.start < self.passage_chars:
            return None
        other = kept_views[segment.kept]
        mine, theirs = view[segment.start : segment.end], other[segment.kept_start : segment.kept_end]
        if sum(map(str.isalnum, mine)) < self.min_chars:
            return None  # leader dots, rules or a table's borders: layout that two lines share, no passage
        if not self._similar(mine, theirs) or different_words(mine, theirs):
            return None
        # Two parallel clauses share long passages; neither is a graft in the other.
        if self._parallel(view, other):
            return None
        here = memo.copy(index, para_text, view, segment.start, segment.end)
        there = memo.copy(segment.kept, kept_text, other, segment.kept_start, segment.kept_end)
        # The evidence is weighed the same whichever copy is read first; a tie goes against
        # the copy later in the document.
        earlier, later = (here, there) if index < segment.kept else (there, here)
        key = (id(earlier), id(later))
        known = memo.verdicts.get(key)
        if known is None or known[0] is not earlier or known[1] is not later:
            foreign, reason = judge_graft(earlier, later, self.min_chars)
            memo.verdicts[key] = (earlier, later, foreign, reason)
        else:
            foreign, reason = known[2], known[3]
        removed = here.removal(there)
        if len(canonical(para_text[removed[0] : removed[1]])) < self.passage_chars:
            return None
        return _Verdict(foreign is here, removed, there.own(), reason)

    # -- edits ---------------------------------------------------------------------

    def _edits(self, text: str, paragraphs: list[_Paragraph], removals: list[_Removal]) -> list[Edit]:
        number: dict[int, int] = {}
        last_kept = -1
        for index, paragraph in enumerate(paragraphs):
            if not paragraph.removed:
                number[index] = len(number) + 1
                last_kept = index
        spans = [(paragraph.start, paragraph.end) for paragraph in paragraphs]
        edits: list[Edit] = []
        # Passages cut from a paragraph that then went whole (listed before it: see the sort).
        cut_first: dict[int, list[Edit]] = {}
        for removal in sorted(removals, key=lambda r: (r.index, r.rule == "repeat", r.start)):
            paragraph = paragraphs[removal.index]
            ref = f"para:{number[removal.kept]}"
            if removal.rule == "passage":
                assert removal.kept_span is not None
                ref += f":{removal.kept_span[0]}-{removal.kept_span[1]}"
                start, end = paragraph.start + removal.start, paragraph.start + removal.end
                passage = Edit("", removal.rule, start, end, text[start:end], "", removal.reason, ref)
                if paragraph.removed:
                    cut_first.setdefault(removal.index, []).append(passage)
                else:
                    edits.append(passage)
                continue
            start, end = paragraph_removal(text, spans, removal.index, removal.index < last_kept)
            passages = cut_first.pop(removal.index, None)
            if passages:
                edits.extend(_remainder_edits(text, start, end, passages, ref))
            else:
                reason = "paragraph repeats another paragraph (whole, suffix or fragment)"
                edits.append(Edit("", removal.rule, start, end, text[start:end], "", reason, ref))
        return edits


def _cut_paragraph_repeated(view: str, segments: list[Segment], kept_views: dict[int, str]) -> Segment | None:
    """The first segment, when the segments spell the whole paragraph as consecutive kept
    paragraphs joined, each whole: a paragraph a page break cut into two, repeated uncut (its
    halves are joined by reflow, after this stage). Exact copies only: an edited character at
    a cut leaves the two copies apart. (From the middle of the first half, the copy could as
    well be a paragraph of its own that quotes the same sentence: it stays.)

    >>> halves = {0: "第一条本办法所称住宅", 2: "为申请人持有之住宅。"}  # 1: a window, removed
    >>> chain = [Segment(0, 10, 0, 0, 10), Segment(10, 20, 2, 0, 10)]
    >>> _cut_paragraph_repeated("第一条本办法所称住宅为申请人持有之住宅。", chain, halves) is chain[0]
    True
    >>> _cut_paragraph_repeated("第一条本办法所称住宅为申请人持有之住宅。", chain, {**halves, 1: "另一段"})
    >>> _cut_paragraph_repeated("第一条本办法所称住宅为申请人持有之住宅", [chain[0], Segment(10, 19, 2, 0, 9)], halves)
    """
    if len(segments) < 2 or segments[0].start != 0 or segments[0].kept_start != 0 or segments[-1].end != len(view):
        return None
    for first, second in pairwise(segments):
        if second.start != first.end or first.kept_end != len(kept_views[first.kept]) or second.kept_start != 0:
            return None
        if second.kept <= first.kept or any(first.kept < kept < second.kept for kept in kept_views):
            return None  # not the next kept paragraph: two paragraphs apart, not the halves of one
    return segments[0] if segments[-1].kept_end == len(kept_views[segments[-1].kept]) else None


def repeated_anchor_offsets(views: list[str], size: int) -> list[Offsets]:
    """Per paragraph, the offsets (ascending, int32) whose ``size``-character anchor occurs
    more than once in the whole document (numpy: one hash per position, one sort). Only those
    can start a match, so a page without repeats costs no per-character Python work.

    Memory: a page of one character repeated has every offset repeated; this holds at most
    about 24 bytes per character at once (32-bit code points, 64-bit hashes, the sort's order
    and the sorted hashes), each array dropped as soon as it is used, and hands back 4 bytes
    per offset instead of a Python list (36 bytes per offset) when there are more than
    OFFSETS_PER_SLICE of them; fewer (a real page: a few hundred) come back as lists.

    A page of at most OFFSETS_PER_SLICE windows takes the compiled
    ``cleankit._speedups.repeated_offsets`` when it is built (the hashes counted in a table,
    no sort); without it, a small page without numpy (:mod:`cleankit.text.small`) takes
    :func:`_repeated_offsets_pure`. Both give the same offsets (the same hashes, twins among
    the same windows) as lists."""
    joined = "\n".join(views)  # canonical views hold no whitespace: "\n" separates them
    if _compiled is not None and len(joined) - size < OFFSETS_PER_SLICE:
        # A hash table in C: no sort, and no numpy call's fixed cost (a real page has a few
        # thousand windows). At most OFFSETS_PER_SLICE offsets, so lists, as below.
        return _compiled.repeated_offsets(joined, [len(view) for view in views], size)
    if not use_numpy(len(joined)):
        return _repeated_offsets_pure(views, joined, size)
    import numpy as np

    from cleankit.text.rolling_hash import window_hashes

    encoded = joined.encode("utf-32-le", errors="surrogatepass")
    del joined
    points = np.frombuffer(encoded, dtype=np.uint32)
    count = len(points) - size + 1
    result: list[Offsets] = [EMPTY_OFFSETS for _ in views]
    if count <= 1:
        return result
    hashes = window_hashes(points, size, np.uint64)
    separators = np.cumsum(points == 10, dtype=np.int32)
    # A window is valid when no separator lies inside it: the count of separators up to its
    # last character equals the count up to the character before its first.
    valid = separators[size - 1 : size - 1 + count] == np.concatenate(([0], separators[: count - 1]))
    del separators, points, encoded
    # A hash occurs more than once where it equals a neighbour in sorted order (one sort,
    # no inverse index as np.unique would build).
    order = np.argsort(hashes)
    hashes = hashes[order]
    twin = hashes[1:] == hashes[:-1]
    del hashes
    repeated = np.zeros(count, dtype=bool)
    repeated[order[1:][twin]] = True
    repeated[order[:-1][twin]] = True
    del order, twin
    repeated &= valid
    del valid
    positions = np.flatnonzero(repeated).astype(np.int32)
    del repeated
    if not len(positions):
        return result
    starts = np.cumsum([0] + [len(view) + 1 for view in views[:-1]]).astype(np.int32)
    owner = np.searchsorted(starts, positions, side="right") - 1
    positions -= starts[owner]
    # ``positions`` ascend, so each paragraph's offsets are one slice of them.
    bounds = np.searchsorted(owner, np.arange(len(views) + 1)).tolist()
    del owner
    if len(positions) <= OFFSETS_PER_SLICE:
        # As lists, converted once: the reading walks each paragraph's offsets twice (its
        # search, then its index), and a small array costs a conversion each time.
        offsets = positions.tolist()
        return [offsets[bounds[i] : bounds[i + 1]] for i in range(len(views))]
    return [positions[bounds[i] : bounds[i + 1]] for i in range(len(views))]


_HASH_MASK = (1 << 64) - 1


def _repeated_offsets_pure(views: list[str], joined: str, size: int) -> list[Offsets]:
    """:func:`repeated_anchor_offsets` in Python: the 64-bit hash of every window of ``joined``
    (:func:`cleankit.text.rolling_hash.window_hashes`, rolled: ``h = h * MULTIPLIER + point``
    modulo 2**64), a window repeated where another window, separators included, has its hash."""
    from cleankit.text.rolling_hash import MULTIPLIER

    count = len(joined) - size + 1
    result: list[Offsets] = [EMPTY_OFFSETS for _ in views]
    if count <= 1:
        return result
    points = [ord(char) for char in joined]
    top = pow(MULTIPLIER, size - 1, 1 << 64)  # the weight of a window's first point
    value = 0
    for point in points[:size]:
        value = (value * MULTIPLIER + point) & _HASH_MASK
    hashes = [value]
    for first, point in zip(points[: count - 1], points[size:], strict=True):
        value = ((value - first * top) * MULTIPLIER + point) & _HASH_MASK
        hashes.append(value)
    seen: dict[int, int] = {}
    for value in hashes:
        seen[value] = seen.get(value, 0) + 1
    start = 0
    for index, view in enumerate(views):
        # The windows inside a view are the valid ones (no separator inside).
        found = [offset for offset in range(len(view) - size + 1) if seen[hashes[start + offset]] > 1]
        if found:
            result[index] = found
        start += len(view) + 1
    return result


def _ints(offsets: Offsets) -> Iterable[int]:
    """The offsets as Python ints: a list or range as it is (iterated directly, without a
    generator in between), an array a slice at a time (a list of all of them would cost 36
    bytes each on a page of one repeated character)."""
    if isinstance(offsets, (range, list)):
        return offsets
    return _array_ints(offsets)


def _array_ints(offsets: np.ndarray) -> Iterator[int]:
    for start in range(0, len(offsets), OFFSETS_PER_SLICE):
        yield from offsets[start : start + OFFSETS_PER_SLICE].tolist()


def _remainder_edits(text: str, start: int, end: int, passages: list[Edit], ref: str) -> list[Edit]:
    """Remove ``text[start:end]``, a paragraph with its separator whose long ``passages`` (sorted
    edits inside it) repeat other paragraphs and whose rest repeats paragraph ``ref``: the
    passages keep their own refs, each piece of the rest names ``ref``. A piece that is only a
    separator or spaces goes with the passage next to it, so every edit holds text its ref names."""
    reason = "paragraph, once its long passages are removed, repeats another paragraph"
    out: list[Edit] = []
    cursor = start
    for passage in passages:
        if cursor < passage.start:
            if canonical(text[cursor : passage.start]):
                out.append(Edit("", "repeat", cursor, passage.start, text[cursor : passage.start], "", reason, ref))
            else:
                passage.start, passage.old = cursor, text[cursor : passage.end]
        out.append(passage)
        cursor = passage.end
    if cursor < end:
        if canonical(text[cursor:end]):
            out.append(Edit("", "repeat", cursor, end, text[cursor:end], "", reason, ref))
        else:
            last = out[-1]
            last.end, last.old = end, text[last.start : end]
    return out


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    pieces, cursor = [], 0
    for start, end in spans:
        pieces.append(text[cursor:start])
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _ends_sentence(text: str, offset: int, ends: frozenset[str]) -> bool:
    """Whether a sentence ends just before ``offset`` (closing quotes after the mark count)."""
    index = offset - 1
    while index >= 0 and text[index] in CLOSERS:
        index -= 1
    if index < 0 or text[index] not in ends:
        return False
    return offset >= len(text) or text[offset] not in CLOSERS


# -- which copy of a shared passage is the graft -------------------------------------------

# How far inside the aligned stretch a sentence boundary may lie and still be taken as the
# passage's edge (see _Copy.own).
EDGE_SLACK = 8
# Passages grafted into paragraphs read earlier make the document be read again with the
# original first; beyond this many such grafts in one document, the later copy goes.
MAX_REORDERS = 8
# Readings in document order after the first (see RepeatsStage.run).
MAX_SETTLING_READINGS = 3
# The Levenshtein similarity an unmatched edge of a near-identical copy keeps with the other
# copy's edge: edited text keeps most of it; a different opening shares a character or two.
EDITED_EDGE_SIMILARITY = 0.5
_NOT_TOPICAL = frozenset("，。、；：？！,.;:?!\"'()[]（）《》0123456789%")


def judge_graft(earlier: _Copy, later: _Copy, min_chars: int) -> tuple[_Copy, str]:
    """Which copy of a passage two paragraphs share is foreign to its paragraph, and why.

    The evidence, strongest first:

    1. A graft is dropped into its host wherever the copier's cursor was, often inside a
       sentence; the original sits between whole sentences of its paragraph. The copy whose
       removal edges (see :meth:`_Copy.removal`) cut a sentence of its paragraph is the graft.
    2. Enumerations run in order in the original: the copy whose paragraph, passage in place,
       counts its items (一是/二是, （一）/（二）, 一、/二、, 第一/第二) out of order more often
       is the graft.
    3. A paragraph opens with its heading (an enumerated item, a dash, or a short sentence with
       no comma), and a news paragraph with who speaks or its dateline (see :func:`_opening`);
       such an opening rarely stands in the middle of one. The copy that puts one where it
       cannot be (the passage opens with one but text of its paragraph comes before it, or the
       passage opens its paragraph and the paragraph's own opening follows it; an enumerated
       item that continues the count of the text before it is no such opening) is the graft —
       except that a speaker's attribution in mid-paragraph (news paragraphs quote a second
       speaker often enough) yields to a decisive share of wording (4.; see :func:`_outweighs`).
       A passage that refers back to a person or a day its paragraph has not named counts as
       such a fault too (:func:`_dangling_references`); the copy with more faults is the graft.
    4. Otherwise, the original shares its paragraph's wording: the copy whose paragraph has
       the smaller share of its other character pairs (Han bigrams, on the canonical view) in
       the passage is the graft.

    A copy whose paragraph holds fewer than ``min_chars`` characters besides the passage is
    all passage, not a host; then, and on a tie, the later copy is taken for the graft.
    """
    evidence = {}
    for copy, other in ((earlier, later), (later, earlier)):
        start, end = copy.removal(other)
        cuts = []
        if start > 0 and not _ends_sentence(copy.text, start, PASSAGE_EDGES):
            cuts.append("start")
        if end < len(copy.text) and not _ends_sentence(copy.text, end, PASSAGE_EDGES):
            cuts.append("end")
        before, passage, after = copy.text[:start], copy.text[start:end], copy.text[end:]
        rest = canonical(before) + "\n" + canonical(after)
        evidence[id(copy)] = (
            cuts,
            _pairs(canonical(passage)),
            _pairs(rest),
            len(rest) - 1,
            _out_of_order(copy.text),
            _misplaced_openings(before, passage, after) + _dangling_references(before, passage),
            _junction(before, passage, after),
        )
    cuts_earlier, passage_earlier, rest_earlier, length_earlier, order_earlier, openings_earlier, joins_earlier = (
        evidence[id(earlier)]
    )
    cuts_later, passage_later, rest_later, length_later, order_later, openings_later, joins_later = evidence[id(later)]
    if min(length_earlier, length_later) < min_chars:
        return later, "graft: the copy later in the document (one paragraph is all passage)"
    if len(cuts_earlier) != len(cuts_later):
        foreign, cuts = (earlier, cuts_earlier) if len(cuts_earlier) > len(cuts_later) else (later, cuts_later)
        where = " and ".join(cuts)
        return foreign, (
            f"graft: this copy cuts a sentence of its paragraph at its {where}; the other sits between whole sentences"
        )
    if order_earlier != order_later:
        foreign = earlier if order_earlier > order_later else later
        return foreign, (
            "graft: with this copy in place its paragraph counts its items out of order"
            f" {max(order_earlier, order_later)} times, the other's {min(order_earlier, order_later)} times"
        )
    share_earlier = len(passage_earlier & rest_earlier) / max(1, len(rest_earlier))
    share_later = len(passage_later & rest_later) / max(1, len(rest_later))
    fit_earlier = _fit(share_earlier, joins_earlier)
    fit_later = _fit(share_later, joins_later)
    fits_less, ours, theirs, (joined, parted) = (
        (earlier, share_earlier, share_later, joins_earlier)
        if fit_earlier < fit_later
        else (later, share_later, share_earlier, joins_later)
    )
    fit = (
        f"fits its paragraph less ({ours:.0%} of the paragraph's other character pairs"
        f" are in the passage, {theirs:.0%} for the other copy; the sentences either side of it"
        f" share {parted} character pairs, the passage's first and the sentence before it {joined})"
    )
    if len(openings_earlier) != len(openings_later):
        foreign, openings = (
            (earlier, openings_earlier) if len(openings_earlier) > len(openings_later) else (later, openings_later)
        )
        if foreign is not fits_less and _outweighs(openings, ours, theirs):
            return fits_less, f"graft: this copy {fit}, which outweighs a speaker's attribution in the other's middle"
        return foreign, f"graft: this copy {' and '.join(openings)}; the other does not"
    if fit_earlier == fit_later:
        return later, "graft: the copy later in the document (no evidence either way)"
    return fits_less, f"graft: this copy {fit}"


# How a copy fits its paragraph (see _fit): the wording share on a log scale, so that the
# two sentences a graft was dropped between, which read on from each other without it, can
# outweigh a small difference of shares (tuned on the 2024 evening news and TUNE reports).
SHARE_FLOOR = 0.01
JOINED_WEIGHT = 0.1
PARTED_WEIGHT = 0.2


def _fit(share: float, joins: tuple[int, int]) -> float:
    """How well a copy of a passage fits its paragraph: the share of the paragraph's other
    wording the passage holds, raised by the character pairs the passage's first sentence
    shares with the sentence before it, lowered by those the sentences either side of the
    passage share with each other (text that reads on across the passage was one stretch
    before a graft parted it)."""
    joined, parted = joins
    return math.log(share + SHARE_FLOOR) + JOINED_WEIGHT * joined - PARTED_WEIGHT * parted


def _junction(before: str, passage: str, after: str) -> tuple[int, int]:
    """The character pairs the last sentence before a passage shares with the passage's first
    sentence, and with the first sentence after the passage (0 where there is none).

    >>> before, passage = "国务院常务会议审议通过了事故调查报告。", "调查组由应急管理部牵头组成。"
    >>> _junction(before, passage, "会议指出，事故调查报告认定这是一起责任事故。")
    (1, 6)
    """
    last = _last_sentence(before)
    if not canonical(last):
        return 0, 0
    pairs_before = _pairs(canonical(last))
    joined = len(pairs_before & _pairs(canonical(_first_sentence(passage.lstrip()))))
    parted = len(pairs_before & _pairs(canonical(_first_sentence(after.lstrip())))) if after.strip() else 0
    return joined, parted


def _last_sentence(text: str) -> str:
    """The last sentence of ``text`` (its end mark and closing quotes included).

    >>> _last_sentence("会议听取了报告。审议通过了决议。")
    '审议通过了决议。'
    """
    text = text.rstrip()
    end = len(text)
    while end > 0 and text[end - 1] in CLOSERS:
        end -= 1
    start = end - 1
    while start > 0 and not (text[start - 1] in SENTENCE_ENDS and _ends_sentence(text, start, SENTENCE_ENDS)):
        start -= 1
    return text[max(0, start) :]


def _outweighs(openings: list[str], ours: float, theirs: float) -> bool:
    """Whether the wording shares (``ours`` < ``theirs``) outweigh the misplaced ``openings`` of
    the other copy: only a speaker's attribution, a tendency (consecutive paragraphs of one story
    quote speakers alike), yields, and only to a share at least :data:`DECISIVE_SHARE_RATIO`
    times the other's; headings, datelines and a paragraph's own opening after the passage
    do not."""
    if any(opening != SPEAKER_IN_THE_MIDDLE for opening in openings):
        return False
    return ours > 0 and ours * DECISIVE_SHARE_RATIO <= theirs


# A sentence that can head a paragraph: an enumerated item or a dash-led line, or a short
# sentence with no comma (government text heads its paragraphs with a short topic sentence:
# 持续优化城乡空间布局。).
HEADING_OPENING = lazy_compile(
    r"(?:[（(][一二三四五六七八九十]{1,3}[）)]|[一二三四五六七八九十]{1,3}[是、]"
    r"|第[一二三四五六七八九十]{1,3}[，,、是]|\d{1,2}[.．、]|[（(]\d{1,2}[）)]|[①-⑳]|——)"
)
HEADING_CHARS = 16
# A news paragraph opens with who speaks (习近平指出， 王沪宁表示， 声明称，) or with its item's
# dateline (央视网消息（新闻联播）： 新华社北京1月26日电): consecutive paragraphs of one story are
# told alike, so wording does not tell them apart, but a passage that opens with a speaker in the
# middle of a paragraph that already has its own is more often the graft (in the 2024 evening
# news, three in five such sentences open their paragraph). 说 after 来/是/该/以/话/般 is a
# connective (总的来说， 也就是说， 可以说，), not a speaker; a pronoun (他表示，) refers back to the
# speaker of the sentence before, so it continues a paragraph instead of opening one, and so
# does a speaker who "also" says (发言人当天还表示， 该国官员也称，): someone already quoted.
ATTRIBUTION_OPENING = lazy_compile(
    r"(?![他她它])[\u4e00-\u9fff·]{2,14}?(?<![还也])(?:表示|指出|强调|(?<![来是该以话般])说|认为|介绍|提出|宣布|称|谈到)[，：:,]"
)
SPEAKER = "speaker's attribution"
# A wording share this many times the other copy's outweighs a speaker's attribution: in the
# 2024 evening news, where the two disagree and one share is at least five times the other,
# the share is right about twice as often.
DECISIVE_SHARE_RATIO = 5.0
# How a copy that puts an opening in mid-paragraph is described (in the logged reason too).
IN_THE_MIDDLE = "opens with a {} in the middle of its paragraph"
SPEAKER_IN_THE_MIDDLE = IN_THE_MIDDLE.format(SPEAKER)
DATELINE_OPENING = lazy_compile(
    r"[^，。：:]{1,12}消息(?:[（(][^）)]{1,12}[）)])?[：:]|[^，。]{0,16}\d{1,2}月\d{1,2}日电|本报讯"
)
# An enumerated item at the start of a sentence: (一) 一是 一、 第一 (the kind and the numeral).
_ITEM = lazy_compile(
    r"(?:^|[。！？；;：:])[\s”’」』）)]*(?:[（(]([一二三四五六七八九十])[）)]|([一二三四五六七八九十])是"
    r"|([一二三四五六七八九十])、|第([一二三四五六七八九十])[，,、是])"
)
_NUMERALS = {char: value for value, char in enumerate("一二三四五六七八九十", start=1)}


def _first_sentence(text: str) -> str:
    """The first sentence of ``text`` (up to and with its end mark)."""
    for offset in range(1, len(text) + 1):
        if text[offset - 1] in SENTENCE_ENDS and _ends_sentence(text, offset, SENTENCE_ENDS):
            return text[:offset]
    return text


def _opening(sentence: str) -> str | None:
    """What ``sentence`` opens a paragraph with, if it reads as a paragraph's opening: its
    heading (:data:`HEADING_OPENING`, or a short sentence with no comma), who speaks
    (:data:`ATTRIBUTION_OPENING`) or a news item's dateline (:data:`DATELINE_OPENING`).

    >>> _opening("持续优化城乡空间布局。"), _opening("二是聚焦人工智能创新发展，加快建设引领地。")
    ('heading', 'heading')
    >>> _opening("王沪宁表示，去年11月，习近平主席会见岸田文雄首相。")
    "speaker's attribution"
    >>> _opening("央视网消息（新闻联播）：1月26日下午，国务院召开全国安全生产电视电话会议。")
    'dateline'
    >>> _opening("总的来说，经济运行稳中有进。") is None
    True
    """
    sentence = sentence.strip().lstrip("”’」』）)")
    if not sentence:
        return None
    if HEADING_OPENING.match(sentence):
        return "heading"
    if ATTRIBUTION_OPENING.match(sentence.lstrip("“「『")):
        return SPEAKER
    if DATELINE_OPENING.match(sentence):
        return "dateline"
    # A short clause that ends in a semicolon is one item of a list running on, not a heading.
    if len(sentence) <= HEADING_CHARS and not any(mark in sentence for mark in "，,；;"):
        return "heading"
    return None


def _misplaced_openings(before: str, passage: str, after: str) -> list[str]:
    """Where a copy of a passage puts a paragraph's opening that cannot stand there."""
    found = []
    opening = _first_sentence(passage)
    if canonical(before) and (kind := _opening(opening)) and not _continues_count(before, opening):
        # A news item's first speaker follows its dateline sentence (央视网消息：…举行新闻发布会。
        # 某某介绍，…): right after a paragraph that is only that sentence, a speaker is in place.
        lead = before.strip()
        if not (kind == SPEAKER and _first_sentence(lead) == lead and _opening(lead) == "dateline"):
            found.append(IN_THE_MIDDLE.format(kind))
    if not canonical(before) and canonical(after):
        following = _first_sentence(after.lstrip())
        # An item that continues the passage's own count (一是… in the passage, 二是… after it)
        # is the next item of the passage's list, not the paragraph's own heading.
        if (kind := _opening(following)) and not _continues_count(passage, following):
            found.append(f"opens its paragraph before the paragraph's own {kind}")
    return found


# A day named by reference to one named before (当天 "that day"), and a day named outright.
DAY_REFERENCE = lazy_compile(r"当天|当日|同日|次日|当晚")
DAY_NAMED = lazy_compile(r"\d{1,2}日|[今昨前明]天|[今昨]日")
# A speaker named by a pronoun (他强调， 她表示， 他们认为，): the person was named before.
PRONOUN_ATTRIBUTION = lazy_compile(
    r"[“「『]?[他她]们?[\u4e00-\u9fff]{0,4}?(?:表示|指出|强调|说|认为|介绍|提出|称|谈到)[，：:,]"
)


def _dangling_references(before: str, passage: str) -> list[str]:
    """Where a copy of a passage refers back to what its paragraph has not named: the passage
    opens its paragraph with a speaker's pronoun (他强调，), or says "that day" (当天, 当日 …)
    before naming a day of its own where its paragraph names none before it. The person or
    day it means was named where the passage came from.

    >>> _dangling_references("", "他强调，要压实安全生产责任。")
    ['opens its paragraph with a pronoun for a speaker it has not named']
    >>> _dangling_references("代表团24日抵达首都。", "双方当天举行会谈。")
    []
    >>> _dangling_references("双方举行会谈。", "双方当天举行会谈。")
    ['refers to a day its paragraph has not named']
    """
    found = []
    if not canonical(before) and PRONOUN_ATTRIBUTION.match(passage.lstrip()):
        found.append("opens its paragraph with a pronoun for a speaker it has not named")
    reference = DAY_REFERENCE.search(passage)
    if reference is not None and not DAY_NAMED.search(before):
        named = DAY_NAMED.search(passage)
        if named is None or named.start() > reference.start():
            found.append("refers to a day its paragraph has not named")
    return found


def _items(text: str) -> Iterator[tuple[int, int]]:
    """The enumerated items at the starts of ``text``'s sentences: (kind, numeral value)."""
    for match in _ITEM.finditer(text):
        kind = next(group for group in range(1, 5) if match.group(group))
        yield kind, _NUMERALS[match.group(kind)]


def _out_of_order(text: str) -> int:
    """How often the enumerated items of ``text`` do not follow the item before of their kind."""
    last: dict[int, int] = {}
    count = 0
    for kind, value in _items(text):
        if kind in last and value != last[kind] + 1:
            count += 1
        last[kind] = value
    return count


def _continues_count(passage: str, sentence: str) -> bool:
    """Whether ``sentence`` opens with the item that follows the last item of its kind in
    ``passage``.

    >>> _continues_count("一是明确工作原则。二是规范生产管理。", "三是压实主体责任。")
    True
    >>> _continues_count("一是明确工作原则。", "三是压实主体责任。")
    False
    """
    opening = next(_items(sentence), None)
    if opening is None or _ITEM.match(sentence) is None:
        return False
    last = {kind: value for kind, value in _items(passage)}
    return last.get(opening[0], -1) + 1 == opening[1]


def different_words(view: str, other: str) -> bool:
    """Whether two near-identical canonical views differ by whole words: a run of two or more
    Han characters where the other has other Han characters, or none inside the text. A regulation's parallel clauses
    read so (``依參賽作品之作曲、作詞、編曲類別…`` / ``…演奏、演唱、詮釋類別…``; ``對新臺幣特定金錢信託``
    / ``對外幣特定金錢信託``): each is the page's own text. A scraper's copy differs by what a
    window or a cut leaves (a truncated or dropped character, width, script: folded away
    in the view) or by a character changed here and there, not by other words.

    >>> different_words("依参赛作品之作曲类别创作者得选出", "依参赛作品之演奏类别创作者得选出")
    True
    >>> different_words("依照本行对新台币特定金钱信托投资", "依照本行对外币特定金钱信托投资")
    True
    >>> different_words("推进新型工业化的发展和改革", "推进新型工业和的发展及改革")  # single characters
    False
    >>> different_words("主旨：修正施行细则第五条条文。", "主旨：预告修正施行细则第五条条文。")
    True
    >>> different_words("推进新型工业化的发展和改革", "新型工业化的发展和改革")  # a window's cut edge
    False
    >>> different_words("产学研深度融合的技术创新体系", "产学研深度融合术创新体系")  # characters lost
    False
    """
    if view == other:
        return False
    # Adjacent edits form one differing run (新台币 / 外币 is a replacement and a deletion).
    runs: list[list[int]] = []
    for op in Levenshtein.opcodes(view, other):
        if op.tag == "equal":
            continue
        if runs and runs[-1][1] == op.src_start and runs[-1][3] == op.dest_start:
            runs[-1][1], runs[-1][3] = op.src_end, op.dest_end
        else:
            runs.append([op.src_start, op.src_end, op.dest_start, op.dest_end])
    for start, end, other_start, other_end in runs:
        mine, theirs = view[start:end], other[other_start:other_end]
        if max(len(mine), len(theirs)) < 2 or not all(map(is_han, mine + theirs)):
            continue
        if mine and theirs:
            return True
        # A word inserted inside the text (修正 / 预告修正) makes another notice; a cut or a
        # window loses text at the copy's ends, and characters lost inside it rarely make a
        # word of the dictionary (深度融合的技术 / 深度融合术).
        inside = start > 0 and end < len(view) and other_start > 0 and other_end < len(other)
        if inside and (mine or theirs) in word_model().freq:
            return True
    return False


def _edited(mine: str, theirs: str) -> bool:
    """Whether ``mine`` reads as an edited ``theirs`` rather than other text."""
    return Levenshtein.normalized_similarity(mine, theirs) >= EDITED_EDGE_SIMILARITY


def _pairs(view: str) -> set[str]:
    """The character pairs of a canonical view that carry its topic (no punctuation, digits)."""
    topical = [char not in _NOT_TOPICAL for char in view]
    return {view[i : i + 2] for i in range(len(view) - 1) if topical[i] and topical[i + 1]}


def _snap(text: str, start: int, end: int) -> tuple[int, int]:
    """Move ``[start, end)`` in to the nearest sentence boundaries of ``text`` within
    :data:`EDGE_SLACK` characters; an edge with none that close stays."""
    if start > 0 and not _ends_sentence(text, start, PASSAGE_EDGES):
        for cut in range(start + 1, min(end, start + EDGE_SLACK + 1)):
            if _ends_sentence(text, cut, PASSAGE_EDGES):
                start = cut
                break
    if end < len(text) and not _ends_sentence(text, end, PASSAGE_EDGES):
        for cut in range(end - 1, max(start, end - EDGE_SLACK - 1), -1):
            if _ends_sentence(text, cut, PASSAGE_EDGES):
                end = cut
                break
    return start, end
