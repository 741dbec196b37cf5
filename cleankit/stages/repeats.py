"""Repeats inside one document: the ``repeats`` stage (last in the default pipeline; called
``dedup`` before 0.2, a name still accepted in settings).

Scrapers emit overlapping windows (a paragraph followed by its own suffixes), and pages
carry passages grafted from elsewhere on the page. This stage keeps the first copy of
each and removes later ones, comparing paragraphs on the canonical view
(:mod:`cleankit.text.fold`) so copies that differ in script, width, whitespace or a
truncated character still match.

How a repeat is found (seed and extend): every ``anchor_chars``-gram of the paragraphs
kept so far is indexed; a later paragraph is scanned for anchors, each hit is extended
character by character in both directions, and hits on the same kept paragraph that lie
on nearly the same diagonal (gaps of at most ``max_gap`` characters: a few edited
characters) are merged into one aligned segment, verified with rapidfuzz's Levenshtein
similarity (>= ``similarity``). Then, for a paragraph at least ``min_chars`` long:

- ``repeat``: one segment covers it (up to ``1 - similarity`` of it unmatched): the
  paragraph reappears whole, or is a suffix or fragment of an earlier paragraph. The
  whole paragraph goes, with its separator. A paragraph shorter than ``passage_chars``
  counts only when it is an earlier paragraph's suffix (what an overlapping scraper
  window leaves) or all of it: a short line that occurs in the middle or at the start
  of a longer one (a signature, or a title quoted in the heading) is legitimate.
- ``passage``: a segment of at least ``passage_chars`` characters inside a paragraph
  that also holds other text: the passage goes and the text around it stays. The span
  removed is shrunk to whole sentences of the paragraph being edited, so no sentence
  of it is cut and the partial sentence at each seam stays; when that leaves less than
  ``passage_chars``, to whole clauses; failing that, the exact aligned span goes.

Each removal's ``ref`` names the kept copy: ``para:N`` (the N-th paragraph, from 1, of
the text this step produces) and, for a passage, ``para:N:A-B`` (code-point offsets of
the kept passage inside that paragraph).

Short lines (table cells, list numbers, short headers) are below ``min_chars`` and
never touched. Repeats within a single paragraph are not looked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from rapidfuzz.distance import Levenshtein

from cleankit.core.budget import check_deadline
from cleankit.core.document import Document, Edit
from cleankit.core.stage import register_stage
from cleankit.stages.paragraphs import paragraph_removal, paragraph_spans
from cleankit.text.fold import canonical, canonical_pieces, view_positions
from cleankit.text.rolling_hash import window_hashes

SENTENCE_ENDS = frozenset("。！？!?；;…")
CLAUSE_ENDS = SENTENCE_ENDS | frozenset("，,、：:")
# Kept places remembered per anchor: enough to find the right copy among a few repeats
# of a common phrase, bounded so a page of one phrase repeated stays linear.
MAX_ANCHOR_PLACES = 8
CLOSERS = frozenset("”’」』）)】〕\"'")
# A paragraph's repeated anchor offsets: an int32 array, or every offset (a range).
Offsets: TypeAlias = "np.ndarray | range"
EMPTY_OFFSETS = np.zeros(0, dtype=np.int32)
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


@register_stage("repeats", order=90, aliases=("dedup",))
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
        document.apply(self.name, self.find_edits(document.text))
        return document

    def find_edits(self, text: str) -> list[Edit]:
        spans = list(paragraph_spans(text))
        paragraphs = [_Paragraph(s, e, view) for (s, e), view in zip(spans, canonical_pieces(text, spans), strict=True)]
        repeated = repeated_anchor_offsets([p.view for p in paragraphs], self.anchor_chars)
        anchors: dict[str, list[tuple[int, int]]] = {}
        # (paragraph index, start, end in the paragraph, rule, kept paragraph, kept span)
        removals: list[tuple[int, int, int, str, int, tuple[int, int] | None]] = []
        kept_views: dict[int, str] = {}
        for index, paragraph in enumerate(paragraphs):
            if index % DEADLINE_EVERY_PARAGRAPHS == 0:
                check_deadline()
            view = paragraph.view
            if len(view) >= self.min_chars and anchors and len(repeated[index]):
                segments = self._segments(view, anchors, kept_views, repeated[index])
                whole = self._whole_repeat(view, segments, kept_views)
                passages: list[tuple[int, int, Segment]] = []
                if whole is None:
                    para_text = text[paragraph.start : paragraph.end]
                    for segment in segments:
                        span = self._passage_span(para_text, view, segment, kept_views)
                        if span is not None:
                            passages.append((*span, segment))
                    if passages:
                        # What is left once the passages go is checked like any paragraph,
                        # so a second run finds nothing more to remove.
                        paragraph.kept_text = _without(para_text, [(a, b) for a, b, _ in passages])
                        view = canonical(paragraph.kept_text)
                        repeated[index] = range(len(view))
                        if len(view) >= self.min_chars:
                            segments = self._segments(view, anchors, kept_views, repeated[index])
                            whole = self._whole_repeat(view, segments, kept_views)
                for start, end, segment in passages:
                    removals.append(
                        (index, start, end, "passage", segment.kept, (segment.kept_start, segment.kept_end))
                    )
                if whole is not None:
                    # With passages cut first, the whole paragraph still goes, but as pieces:
                    # each passage names its own kept copy (above), the rest names the
                    # paragraph it repeats, so every ref holds what its edit removed.
                    paragraph.removed = True
                    removals.append((index, 0, paragraph.end - paragraph.start, "repeat", whole.kept, None))
                    continue
            kept_views[index] = view
            if len(repeated[index]):
                self._index(view, index, anchors, repeated[index])
        return self._edits(text, paragraphs, removals)

    # -- finding -------------------------------------------------------------------

    def _index(
        self, view: str, index: int, anchors: dict[str, list[tuple[int, int]]], repeated: Offsets
    ) -> None:
        """Index the anchors of a kept paragraph at every ``stride``-th offset: a later
        copy is scanned at every offset, so any match of at least ``min_chars`` still
        contains an indexed anchor (stride = min_chars - anchor_chars + 1). Anchors that
        occur once in the whole document can match nothing and are left out."""
        size = self.anchor_chars
        stride = self.min_chars - size + 1
        last = len(view) - size
        # Walk the (few, ascending) repeated offsets rather than every stride offset of
        # the paragraph; ``last`` is the suffix anchor: short windows repeat a paragraph's end.
        if isinstance(repeated, np.ndarray):
            repeated = repeated[(repeated <= last) & ((repeated % stride == 0) | (repeated == last))]
        for offset in _ints(repeated):
            if offset > last or (offset % stride and offset != last):
                continue
            places = anchors.setdefault(view[offset : offset + size], [])
            if len(places) < MAX_ANCHOR_PLACES:
                places.append((index, offset))

    def _segments(
        self,
        view: str,
        anchors: dict[str, list[tuple[int, int]]],
        kept_views: dict[int, str],
        offsets: Offsets,
    ) -> list[Segment]:
        """Aligned stretches of ``view`` found from the anchors at ``offsets`` (ascending:
        the offsets whose anchor occurs elsewhere in the document)."""
        size = self.anchor_chars
        found: list[Segment] = []
        limit = len(view) - size
        floor = 0
        for offset in _ints(offsets):
            if offset < floor or offset > limit:
                continue
            places = anchors.get(view[offset : offset + size])
            if places is None:
                continue
            best: Segment | None = None
            for kept, kept_offset in places:
                other = kept_views[kept]
                start, kept_start = offset, kept_offset
                while start > floor and kept_start > 0 and view[start - 1] == other[kept_start - 1]:
                    start -= 1
                    kept_start -= 1
                end, kept_end = offset + size, kept_offset + size
                while end < len(view) and kept_end < len(other) and view[end] == other[kept_end]:
                    end += 1
                    kept_end += 1
                if best is None or end - start > best.end - best.start:
                    best = Segment(start, end, kept, kept_start, kept_end)
            assert best is not None
            found.append(best)
            floor = best.end
        return self._merge(found)

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
            if self._similar(view, other[lo:hi]):
                return segment
        return None

    def _passage_span(
        self, para_text: str, view: str, segment: Segment, kept_views: dict[int, str]
    ) -> tuple[int, int] | None:
        """The span (offsets in the paragraph) to remove for a long repeated passage."""
        if segment.end - segment.start < self.passage_chars:
            return None
        other = kept_views[segment.kept]
        if not self._similar(view[segment.start : segment.end], other[segment.kept_start : segment.kept_end]):
            return None
        positions = view_positions(para_text)
        matched = positions[segment.start], positions[segment.end - 1] + 1
        # Prefer whole sentences, then whole clauses, then the exact aligned span.
        for ends in (SENTENCE_ENDS, CLAUSE_ENDS, None):
            start, end = matched if ends is None else sentence_span(para_text, *matched, ends)
            removed = len(canonical(para_text[start:end]))
            if removed >= self.passage_chars:
                break
        else:
            return None
        # Point the reference at the kept copy of what is removed (same diagonal).
        shift = len(canonical(para_text[:start])) - segment.start
        segment.kept_start = max(segment.kept_start, min(segment.kept_end - 1, segment.kept_start + shift))
        segment.kept_end = min(segment.kept_end, segment.kept_start + removed)
        return start, end

    # -- edits ---------------------------------------------------------------------

    def _edits(
        self,
        text: str,
        paragraphs: list[_Paragraph],
        removals: list[tuple[int, int, int, str, int, tuple[int, int] | None]],
    ) -> list[Edit]:
        number: dict[int, int] = {}
        last_kept = -1
        for index, paragraph in enumerate(paragraphs):
            if not paragraph.removed:
                number[index] = len(number) + 1
                last_kept = index
        spans = [(paragraph.start, paragraph.end) for paragraph in paragraphs]
        edits: list[Edit] = []
        # Passages cut from a paragraph that then went whole (find_edits lists them before it).
        cut_first: dict[int, list[Edit]] = {}
        for index, start, end, rule, kept, kept_span in removals:
            paragraph = paragraphs[index]
            ref = f"para:{number[kept]}"
            if rule == "passage":
                source = paragraphs[kept]
                kept_text = source.kept_text if source.kept_text is not None else text[source.start : source.end]
                positions = view_positions(kept_text)
                assert kept_span is not None
                ref += f":{positions[kept_span[0]]}-{positions[kept_span[1] - 1] + 1}"
                start, end = paragraph.start + start, paragraph.start + end
                reason = "long passage repeats a passage of an earlier paragraph"
                passage = Edit("", rule, start, end, text[start:end], "", reason, ref)
                if paragraph.removed:
                    cut_first.setdefault(index, []).append(passage)
                else:
                    edits.append(passage)
                continue
            start, end = paragraph_removal(text, spans, index, index < last_kept)
            passages = cut_first.pop(index, None)
            if passages:
                edits.extend(_remainder_edits(text, start, end, passages, ref))
            else:
                reason = "paragraph repeats an earlier paragraph (whole, suffix or fragment)"
                edits.append(Edit("", rule, start, end, text[start:end], "", reason, ref))
        return edits


def repeated_anchor_offsets(views: list[str], size: int) -> list[Offsets]:
    """Per paragraph, the offsets (ascending, int32) whose ``size``-character anchor occurs
    more than once in the whole document (numpy: one hash per position, one sort). Only those
    can start a match, so a page without repeats costs no per-character Python work.

    Memory: a page of one character repeated has every offset repeated; this holds at most
    about 24 bytes per character at once (32-bit code points, 64-bit hashes, the sort's order
    and the sorted hashes), each array dropped as soon as it is used, and hands back 4 bytes
    per offset instead of a Python list (36 bytes per offset)."""
    joined = "\n".join(views)  # canonical views hold no whitespace: "\n" separates them
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
    return [positions[bounds[i] : bounds[i + 1]] for i in range(len(views))]


def _ints(offsets: Offsets) -> Iterator[int]:
    """The offsets as Python ints, a slice at a time (a list of all of them would cost 36
    bytes each on a page of one repeated character)."""
    if isinstance(offsets, range):
        yield from offsets
        return
    for start in range(0, len(offsets), OFFSETS_PER_SLICE):
        yield from offsets[start : start + OFFSETS_PER_SLICE].tolist()


def _remainder_edits(text: str, start: int, end: int, passages: list[Edit], ref: str) -> list[Edit]:
    """Remove ``text[start:end]``, a paragraph with its separator whose long ``passages`` (sorted
    edits inside it) repeat other paragraphs and whose rest repeats paragraph ``ref``: the
    passages keep their own refs, each piece of the rest names ``ref``. A piece that is only a
    separator or spaces goes with the passage next to it, so every edit holds text its ref names."""
    reason = "paragraph, once its long passages are removed, repeats an earlier paragraph"
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


def sentence_span(text: str, start: int, end: int, ends: frozenset[str] = SENTENCE_ENDS) -> tuple[int, int]:
    """Shrink ``[start, end)`` to whole sentences of ``text``: it then starts at the text's
    start or after a sentence end, and ends at the text's end or after a sentence end
    (``ends``: the marks that end one; clause marks give whole clauses)."""
    if start > 0 and not _ends_sentence(text, start, ends):
        cut = start
        while cut < end and not _ends_sentence(text, cut, ends):
            cut += 1
        start = cut
    if end < len(text) and not _ends_sentence(text, end, ends):
        cut = end
        while cut > start and not _ends_sentence(text, cut, ends):
            cut -= 1
        end = cut
    return start, max(start, end)


def _ends_sentence(text: str, offset: int, ends: frozenset[str]) -> bool:
    """Whether a sentence ends just before ``offset`` (closing quotes after the mark count)."""
    index = offset - 1
    while index >= 0 and text[index] in CLOSERS:
        index -= 1
    if index < 0 or text[index] not in ends:
        return False
    return offset >= len(text) or text[offset] not in CLOSERS
