"""Near-duplicate documents across a crawl and across runs.

The same notice is reprinted by many sites with different furniture and small edits.
After a batch is cleaned, :class:`CrawlDedup` groups such copies, keeps one canonical
document per group and turns the others into duplicates whose provenance says which
document they copy (``duplicate_of``) and how closely (``similarity``).

Signatures: MinHash over character shingles (``neardup_shingle_chars``) of the canonical
view of the clean text (:mod:`cleankit.text.fold`), computed with numpy in the worker
processes. They are exactly what datasketch computes for the same shingle hashes
(``MinHash(scheme="affine32").update_batch``; a test checks it) and are used through
datasketch's ``LeanMinHash``; banding follows datasketch's ``MinHashLSH`` parameters for
the threshold. The LSH buckets live in the SQLite index (:mod:`cleankit.neardup.index`) so
memory stays flat and later runs see earlier ones.

Decisions: documents of the run are taken in quality order — fewest repairs (edits of
stages other than layout), then most complete (longest canonical text), then earliest
path. Each is compared with the kept documents sharing an LSH bucket (documents kept by
earlier runs, then better documents of this run): a candidate whose estimated Jaccard
similarity reaches ``neardup_threshold`` and whose rapidfuzz ratio on the canonical texts
reaches ``neardup_verify`` makes it a duplicate of the most similar one; otherwise it is
kept. Comparing with kept documents only (not with other duplicates) stops chains of
small edits from drifting a cluster away from its canonical copy.

The comparisons are made in rounds (:meth:`NearDupPass._decide`): every pair a waiting
document needs (it and a better candidate already kept) is verified, then every document
whose better candidates are all decided and verified is decided, in quality order; the
next round verifies the pairs the newly kept documents add. A decision depends only on its
better candidates' decisions and on the pair scores, a pure function of the two documents,
so the rounds give the quality-order decisions exactly and verify the same pairs, however
the pairs of a round are spread. A multi-worker run verifies a round's pairs in its
workers (:meth:`NearDupPass.share_workers`), a one-worker run in the parent.

A duplicate is not written (unless ``keep_duplicates``): its record gets one more step,
``neardup/duplicate-document``, an edit that removes the whole clean text, so its clean
text is empty and ``cleankit restore`` rebuilds the original from the record alone.
"""

from __future__ import annotations

import json
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import numpy as np
import xxhash
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from cleankit.core.corpus_pass import RecordChanges
from cleankit.core.document import Document, Edit
from cleankit.core.provenance import dumps_line_with_edits, split_edits, text_sha256
from cleankit.core.records import ProvenanceRecord
from cleankit.core.settings import Settings
from cleankit.core.stats import edit_totals
from cleankit.neardup.index import IndexedDoc, NearDupIndex, index_path
from cleankit.neardup.signature import SignatureParams, band_keys, params_from, signature
from cleankit.run.state import Replacement, checksum, records_from, row_changes
from cleankit.stages.paragraphs import paragraph_removal, paragraph_spans
from cleankit.text.fold import canonical, canonical_pieces

# Stages whose edits are layout, not repairs, for the quality score.
LAYOUT_STAGES = frozenset({"paragraphs", "reflow"})
# Canonical texts kept in memory while comparing (a cluster's kept copy is read once).
VIEW_CACHE = 256
# Most pairs that reach the alignment are reprints a few characters apart: their distance,
# searched only up to this bound, is exact and costs a band of the full alignment (on the
# 1,009 alignments of the benchmark crawl, half are within 64).
CLOSE_DISTANCE = 64
# Candidate pairs per task when the run's workers verify them (a task's pairs are sorted
# by their better document, so a reprinted notice's view is read once per task), and the
# fewest pairs of a round worth sending to the workers rather than verifying in the parent.
PAIRS_PER_TASK = 32
WORKER_ROUND_PAIRS = 64
# Rewriting the records of the duplicates: files per task, and the fewest files worth the workers.
FILES_PER_TASK = 32
WORKER_REWRITE_FILES = 64


class CharCounts(NamedTuple):
    """How often each character occurs in a text: code points (sorted) and their counts."""

    codes: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, text: str) -> CharCounts:
        points = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
        codes, counts = np.unique(points, return_counts=True)
        return cls(codes, counts.astype(np.int64))


def verified_ratio(first: str, second: str, cutoff: float) -> float:
    """``fuzz.ratio(first, second, score_cutoff=cutoff * 100) / 100``, computed from a banded
    distance first when the two texts are close: the same float, since ``fuzz.ratio`` is
    ``(1 - indel distance / total length) * 100``.

    >>> verified_ratio("国务院关于印发方案的通知", "国务院关于印发计划的通知", 0.5) == fuzz.ratio(
    ...     "国务院关于印发方案的通知", "国务院关于印发计划的通知") / 100
    True
    """
    total = len(first) + len(second)
    if total:
        distance = Indel.distance(first, second, score_cutoff=CLOSE_DISTANCE)
        if distance <= CLOSE_DISTANCE:
            score = (1.0 - distance / total) * 100
            return (score if score >= cutoff * 100 else 0.0) / 100
    return fuzz.ratio(first, second, score_cutoff=cutoff * 100) / 100


def ratio_upper_bound(first: CharCounts, second: CharCounts) -> float:
    """An upper bound of ``fuzz.ratio`` (as a fraction) of two texts, from their character
    counts: every character one text has more of than the other costs at least one indel.
    The L1 distance of the counts is taken over sorted code arrays (a merge in numpy, not a
    Python loop over every distinct character of both texts)."""
    total = int(first.counts.sum()) + int(second.counts.sum())
    if not total:
        return 1.0
    at = np.searchsorted(second.codes, first.codes)
    inside = at < len(second.codes)
    shared = np.zeros(len(first.codes), dtype=bool)
    shared[inside] = second.codes[at[inside]] == first.codes[inside]
    matched = second.counts[at[shared]]
    distance = int(np.abs(first.counts[shared] - matched).sum())
    distance += int(first.counts[~shared].sum()) + int(second.counts.sum()) - int(matched.sum())
    return 1 - distance / total


def quality_key(document: Document, view_chars: int, source: str) -> tuple[int, int, str]:
    """Sort key, best first: fewest repairs, most complete, earliest path."""
    repairs = document.count_edits(skip_stages=LAYOUT_STAGES)
    return repairs, -view_chars, source


@dataclass
class NearDupInput:
    """What a worker hands the crawl pass about one written document."""

    doc_id: str
    source: str
    output: str
    chars: int
    quality: tuple[int, int, str]
    signature: np.ndarray
    band_keys: list[int] = field(default_factory=list)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # The signature as its bytes (an array's own pickling is several times the cost of
        # the rest of a result, which the parent unpickles while both cores run workers).
        signature = self.signature
        return _near_dup_input, (
            self.doc_id,
            self.source,
            self.output,
            self.chars,
            self.quality,
            signature.tobytes(),
            signature.dtype.str,
            self.band_keys,
        )


def _near_dup_input(
    doc_id: str,
    source: str,
    output: str,
    chars: int,
    quality: tuple[int, int, str],
    signature: bytes,
    dtype: str,
    keys: list[int],
) -> NearDupInput:
    return NearDupInput(doc_id, source, output, chars, quality, np.frombuffer(signature, dtype=dtype), keys)


@dataclass
class PairTask:
    """Candidate pairs ``(document, better candidate)`` for a worker to verify, with the
    index's records of the documents they name."""

    docs: dict[int, IndexedDoc]
    pairs: list[tuple[int, int]]


@dataclass
class PairScores:
    """The verified similarity of each pair of a task (None: not near-duplicates); ``scores``
    is None when the worker verifying them died (the parent verifies them itself)."""

    pairs: list[tuple[int, int]]
    scores: list[float | None] | None


@dataclass
class PairVerifier:
    """The work of a worker at the end of a run: verify a task's pairs with the pass's own
    ``_similarity`` (the pass as the worker holds it: it reads clean texts as its run wrote them)."""

    comparer: NearDupPass
    # Its workers need the pass (pickled) and the comparison views' tables, loaded before the
    # run's first pool: they are forked from the executor's nursery, not the grown parent.
    forks_small: ClassVar[bool] = True

    def __call__(self, task: PairTask) -> PairScores:
        docs = task.docs
        return PairScores(task.pairs, [self.comparer._similarity(docs[a], docs[b]) for a, b in task.pairs])


@dataclass
class RewriteTask:
    """A group of input files whose records the end of a run rewrites: each file's
    provenance lines (the bytes, or where they are in ``provenance``: the worker reads them
    itself, so the parent never holds every duplicate's lines at once) and the checksum they
    are trusted with (None: check every record), the duplicates among its documents (source
    -> kept source, kept id, similarity) and the paragraphs removed from the others."""

    start: int
    lines: dict[str, tuple[bytes | tuple[int, int], int | None]]
    duplicates: dict[str, tuple[str, str, float]]
    updates: dict[str, list[Edit]]
    provenance: str | None = None

    def files(self) -> Iterator[tuple[str, bytes, int | None]]:
        """Each file, its provenance lines and their trusted checksum, in the task's order."""
        handle = open(self.provenance, "rb") if self.provenance is not None else None  # noqa: SIM115
        try:
            for file, (where, trusted) in self.lines.items():
                if isinstance(where, bytes):
                    yield file, where, trusted
                else:
                    assert handle is not None
                    handle.seek(where[0])
                    yield file, handle.read(where[1]), trusted
        finally:
            if handle is not None:
                handle.close()


def apply_gathered(done: list[tuple[str, str, Any]], changes: RecordChanges) -> None:
    """Make the changes a :class:`GatheredChanges` gathered (in a worker or a Ray task), in order."""
    for kind, target, value in done:
        if kind == "replace":
            changes.replace(target, value)
        elif kind == "write":
            changes.write_output(target, value)
        else:
            changes.delete_output(target)


Gathered = list[tuple[str, str, Any]]


def _apply_records(done: Gathered | None, changes: RecordChanges) -> Gathered | None:
    """Hand the replaced records of ``done`` (prepared by :class:`FileRewriter`) to ``changes``
    now; the rest of ``done`` (None: its worker died)."""
    if done is None:
        return None
    rest: Gathered = []
    for entry in done:
        if entry[0] == "prepared":
            changes.replace_prepared(entry[1], entry[2])
        else:
            rest.append(entry)
    return rest


class GatheredChanges:
    """Changes of records and outputs gathered in order, for the parent to apply."""

    def __init__(self) -> None:
        self.done: list[tuple[str, str, Any]] = []

    def replace(self, file: str, records: list[ProvenanceRecord]) -> None:
        self.done.append(("replace", file, records))

    def write_output(self, path: str, data: bytes) -> None:
        self.done.append(("write", path, data))

    def delete_output(self, path: str) -> None:
        self.done.append(("delete", path, None))

    def replace_prepared(self, file: str, replacement: Replacement) -> None:
        self.done.append(("prepared", file, replacement))


@dataclass
class FileRewriter:
    """The work of a worker at the end of a run: the pass's own rewrite of a group of files."""

    rewriter: NearDupPass
    forks_small: ClassVar[bool] = True  # as PairVerifier's

    def __call__(self, task: RewriteTask) -> tuple[int, list[tuple[str, str, Any]]]:
        gathered = GatheredChanges()
        for file, data, trusted in task.files():
            self.rewriter._rewrite_lines(file, data, trusted, task.duplicates, task.updates, gathered)
        # Each file's new records go back serialized, as the commit writes them (replace_prepared).
        done = [
            ("prepared", file, Replacement.of(value)) if kind == "replace" else (kind, file, value)
            for kind, file, value in gathered.done
        ]
        return task.start, done


def describe(document: Document, source: str, output: str, params: SignatureParams) -> NearDupInput:
    """Everything the index stores of a document, computed in the worker (the parent only inserts)."""
    view = canonical_pieces(document.text, [(0, len(document.text))])[0]  # canonical(), in numpy
    sig = signature(view, params)
    return NearDupInput(
        document.id, source, output, len(view), quality_key(document, len(view), source), sig, band_keys(sig, params)
    )


@dataclass
class NearDupPass:
    """The crawl's corpus pass (:class:`cleankit.core.corpus_pass.CorpusPass`): workers
    compute each document's signature, the parent adds it to the index as it arrives, and
    after the run every pending document is decided and provenance and outputs rewritten."""

    outdir: Path
    params: SignatureParams
    verify: float = 0.8
    keep_duplicates: bool = False
    neardup_paragraphs: bool = False
    paragraph_min_chars: int = 10
    name: str = "neardup"
    run: str = field(default_factory=lambda: f"{time.time():.3f}@{os.getpid()}")
    index: NearDupIndex | None = field(default=None, init=False)
    added: int = 0
    # The run's executor, when its workers may verify candidate pairs (share_workers).
    workers: Any = field(default=None, init=False, repr=False)
    _states: dict[str, tuple[str, str]] | None = field(default=None, init=False, repr=False)
    _paragraphs: list[tuple[int, int]] = field(default_factory=list, init=False, repr=False)
    _views: OrderedDict[str, str | None] = field(default_factory=OrderedDict, init=False, repr=False)
    _histograms: OrderedDict[str, CharCounts] = field(default_factory=OrderedDict, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, outdir: Path) -> NearDupPass:
        return cls(
            outdir,
            params_from(settings),
            verify=settings.neardup_verify,
            keep_duplicates=settings.keep_duplicates,
            neardup_paragraphs=settings.neardup_paragraphs,
            paragraph_min_chars=settings.neardup_paragraph_chars,
        )

    def __getstate__(self) -> dict[str, Any]:
        """What a worker needs to observe documents, when the pass is sent to it (the cleaner
        carries it; the Ray engine pickles it): not the run's index connection or caches."""
        state = dict(self.__dict__)
        state.update(index=None, _states=None, _paragraphs=[], workers=None)
        state.update(_views=type(self._views)(), _histograms=type(self._histograms)())
        return state

    def prepare(self, files: Sequence[tuple[str, Path]]) -> None:
        """Open the index before any document is cleaned: one built with other signature
        settings is refused now, not after the run."""
        self.index = NearDupIndex(index_path(self.outdir), self.params.to_meta())

    def observe(self, document: Document, output: str) -> NearDupInput | None:
        if not document.text.strip():  # empty texts are not near-duplicates
            return None
        return describe(document, output, output, self.params)

    def merge(self, observation: NearDupInput) -> None:
        self.add(observation)

    def flush(self) -> None:
        """Commit the documents merged so far: before their provenance lines are appended,
        so a document a killed run finished is decided by the next run's pass."""
        self._index.commit()

    def agrees(self, row: Any) -> bool:
        """Does the index say of a finished file what its row says? (A row says ``ok`` of a
        document the index holds as kept or pending, ``duplicate`` of one it holds as a
        duplicate; a document the index does not hold was pruned, or had no text.)"""
        if self._states is None:
            self._states = self._index.states()
        held = self._states.get(row.file)
        if held is None or row.status not in ("ok", "duplicate"):
            return True
        state, doc_id = held
        if doc_id != row.file_sha256[:16]:
            return False
        return state == "duplicate" if row.status == "duplicate" else state in ("kept", "pending")

    def share_workers(self, executor: Any) -> None:
        """The run's workers are idle once every document is cleaned: the candidate pairs of
        the decisions are verified there (``executor.results``), the parent only decides."""
        self.workers = executor

    def abandon(self) -> None:
        """The run stopped early: close the index, dropping what was merged and not flushed
        (those documents' provenance lines were never appended; a rerun redoes them)."""
        if self.index is not None:
            self.index.close(commit=False)
            self.index = None

    def finalize(self, changes: RecordChanges) -> dict[str, int]:
        """Decide every pending document and hand the changes of records and outputs to the
        run, which journals them; the index's decisions are committed by the journal's commit."""
        try:
            decisions = self._decide()
            updates = self._paragraph_pass(decisions) if self.neardup_paragraphs else {}
            counts = self._rewrite(changes, decisions, updates)
        except BaseException:
            self._index.close(commit=False)
            raise
        if decisions or self._paragraphs:
            changes.journal(f"{__name__}:replay_decisions", self._journal(decisions))
        changes.on_commit(self._index.close)
        return counts

    @property
    def _index(self) -> NearDupIndex:
        if self.index is None:
            self.index = NearDupIndex(index_path(self.outdir), self.params.to_meta())
        return self.index

    def add(self, item: NearDupInput) -> None:
        """Add a document (committed by :meth:`flush`)."""
        self._index.add(
            item.doc_id,
            item.source,
            item.output,
            item.chars,
            item.quality,
            self.run,
            item.signature,
            item.band_keys or band_keys(item.signature, self.params),
        )
        self.added += 1

    def _journal(self, decisions: dict[int, tuple[int | None, float]]) -> dict[str, Any]:
        """The decisions by source (what :func:`replay_decisions` needs if the run is killed)."""
        source_of = self._index.source_of
        return {
            "decisions": [
                [source_of(rowid), "kept" if dup is None else "duplicate", None if dup is None else source_of(dup)]
                for rowid, (dup, _score) in decisions.items()
            ],
            "paragraphs": [[value, source_of(rowid)] for value, rowid in self._paragraphs],
        }

    # -- deciding ------------------------------------------------------------------

    def _pending(self) -> list[tuple[int, str, str]]:
        """The documents still to decide, best quality first: the order decisions are made in
        and journaled in, by every engine."""
        return sorted(self._index.pending(), key=lambda row: (tuple(json.loads(row[2])), row[0]))

    def _duplicate_sources(self, decisions: dict[int, tuple[int | None, float]]) -> dict[str, tuple[str, str, float]]:
        """Each duplicate's source -> (the kept document's source, its id, similarity)."""
        duplicates: dict[str, tuple[str, str, float]] = {}
        for rowid, (dup_of, score) in decisions.items():
            if dup_of is not None:
                kept = self._index.get(dup_of)
                duplicates[self._index.source_of(rowid)] = (kept.source, kept.doc_id, score)
        return duplicates

    def _decide(self) -> dict[int, tuple[int | None, float]]:
        """rowid -> (kept rowid it duplicates or None, similarity), in quality order, decided
        in rounds (module docstring)."""
        index = self._index
        order = [rowid for rowid, _source, _quality in self._pending()]
        place = {rowid: position for position, rowid in enumerate(order)}
        # Each document's better candidates: kept by earlier runs, or this run's and better.
        better: dict[int, list[int]] = {}
        states: dict[int, str] = {}
        candidates = index.pending_candidates(("kept", "pending"))
        for rowid in order:
            found = candidates.get(rowid, [])
            better[rowid] = [other for other in found if place.get(other, -1) < place[rowid]]
            for other in better[rowid]:
                states.setdefault(other, "pending" if other in place else "kept")
        scores: dict[tuple[int, int], float | None] = {}
        decided: dict[int, tuple[int | None, float]] = {}
        waiting = order
        while waiting:
            waiting = self._decide_ready(waiting, better, states, scores, decided)
            needed = {
                (rowid, other)
                for rowid in waiting
                for other in better[rowid]
                if states[other] == "kept" and (rowid, other) not in scores
            }
            self._verify(sorted(needed, key=lambda pair: (pair[1], pair[0])), scores)
        decisions: dict[int, tuple[int | None, float]] = {}
        for rowid in order:  # in quality order: the order of the journal
            dup, _score = decisions[rowid] = decided[rowid]
            if dup is None:
                index.set_state(rowid, "kept")
            else:
                index.set_state(rowid, "duplicate", dup)
        # Not committed here: the run commits the decisions after its journal (run/state.py).
        return decisions

    @staticmethod
    def _decide_ready(
        waiting: list[int],
        better: dict[int, list[int]],
        states: dict[int, str],
        scores: dict[tuple[int, int], float | None],
        decided: dict[int, tuple[int | None, float]],
    ) -> list[int]:
        """Decide, in quality order, every waiting document whose better candidates are all
        decided and verified: a duplicate of the most similar kept one (ties to the lowest
        row id), else kept. Returns the documents still waiting (in order)."""
        still: list[int] = []
        for rowid in waiting:
            best: tuple[float, int] | None = None
            ready = True
            for other in better[rowid]:  # sorted by row id
                state = states[other]
                if state == "pending" or (state == "kept" and (rowid, other) not in scores):
                    ready = False
                    break
                score = scores.get((rowid, other)) if state == "kept" else None
                if score is not None and (best is None or score > best[0]):
                    best = (score, other)
            if not ready:
                still.append(rowid)
            elif best is None:
                states[rowid] = "kept"
                decided[rowid] = (None, 1.0)
            else:
                states[rowid] = "duplicate"
                decided[rowid] = (best[1], best[0])
        return still

    def _verify(self, pairs: list[tuple[int, int]], scores: dict[tuple[int, int], float | None]) -> None:
        """Score ``pairs`` (a document and a better candidate) into ``scores``: in the run's
        workers when it has them and the round is large enough, else here."""
        docs: dict[int, IndexedDoc] = {}
        for pair in pairs:
            for rowid in pair:
                if rowid not in docs:
                    docs[rowid] = self._index.get(rowid)
        left = pairs
        if self.workers is not None and len(pairs) >= WORKER_ROUND_PAIRS:
            tasks = []
            for start in range(0, len(pairs), PAIRS_PER_TASK):
                chunk = pairs[start : start + PAIRS_PER_TASK]
                tasks.append(PairTask({rowid: docs[rowid] for pair in chunk for rowid in pair}, chunk))
            left = []
            lost = lambda task, _why: PairScores(task.pairs, None)  # noqa: E731
            for result in self.workers.results(tasks, PairVerifier(self), lost):
                if result.scores is None:
                    left.extend(result.pairs)
                else:
                    scores.update(zip(result.pairs, result.scores, strict=True))
        for first, second in left:
            scores[(first, second)] = self._similarity(docs[first], docs[second])

    def _similarity(self, first: Any, second: Any) -> float | None:
        """Verified similarity of two indexed documents, or None when not duplicates."""
        # LeanMinHash.jaccard, without building two objects per pair: equal slots / slots.
        estimate = float(np.count_nonzero(first.signature == second.signature)) / len(first.signature)
        if estimate < self.params.threshold:
            return None
        first_view, second_view = self._view(first.output), self._view(second.output)
        if first_view is None or second_view is None:
            # The kept copy's clean file is gone: the signature estimate is all there is.
            return round(float(estimate), 4)
        # fuzz.ratio is 1 - indel distance / total length, and the indel distance is at least
        # the length difference and the L1 distance of the character counts: two bounds that
        # reject most non-duplicates for a fraction of an alignment's cost, with the same
        # verdict (a third of the time of a crawl run went to alignments before them).
        if abs(len(first_view) - len(second_view)) > (1 - self.verify) * (len(first_view) + len(second_view)):
            return None
        if ratio_upper_bound(self._histogram(first.output), self._histogram(second.output)) < self.verify:
            return None
        score = verified_ratio(first_view, second_view, self.verify)
        return round(score, 4) if score >= self.verify else None

    def _histogram(self, output: str) -> CharCounts:
        if output in self._histograms:
            self._histograms.move_to_end(output)
            return self._histograms[output]
        histogram = CharCounts.of(self._view(output) or "")
        self._histograms[output] = histogram
        if len(self._histograms) > VIEW_CACHE:
            self._histograms.popitem(last=False)
        return histogram

    def read_clean(self, output: str) -> str:
        """The clean text of the document the index knows as ``output`` (JSON Lines runs
        read one line of a file: :class:`cleankit.run.jsonl.JsonlNearDupPass`)."""
        return (self.outdir / output).read_text(encoding="utf-8")

    def _view(self, output: str | None) -> str | None:
        """Canonical clean text of an output file (a few recent ones cached)."""
        if not output:
            return None
        if output in self._views:
            self._views.move_to_end(output)
            return self._views[output]
        try:
            text = self.read_clean(output)
        except (OSError, ValueError, LookupError):  # gone, not UTF-8, or a line without text
            view: str | None = None
        else:
            # canonical(text), folded in numpy: six times faster than its str.translate.
            view = canonical_pieces(text, [(0, len(text))])[0]
        self._views[output] = view
        if len(self._views) > VIEW_CACHE:
            self._views.popitem(last=False)
        return view

    # -- optional: paragraphs seen in an earlier kept document (CCNet style) -----------

    def _paragraph_pass(self, decisions: dict[int, tuple[int | None, float]]) -> dict[str, list[Edit]]:
        kept = sorted((self._index.get(r) for r, (dup, _) in decisions.items() if dup is None), key=lambda d: d.source)
        updates: dict[str, list[Edit]] = {}
        for doc in kept:
            if not doc.output:
                continue
            text = self.read_clean(doc.output)
            spans = list(paragraph_spans(text))
            hashes = [_paragraph_hash(text[s:e], self.paragraph_min_chars) for s, e in spans]
            owners = self._index.paragraph_owner([h for h in hashes if h is not None])
            removed = [h is not None and owners.get(h, doc.rowid) != doc.rowid for h in hashes]
            edits = []
            for position in range(len(spans)):
                if removed[position]:
                    owner = owners[hashes[position]]  # type: ignore[index]
                    cut_start, cut_end = paragraph_removal(text, spans, position, not all(removed[position + 1 :]))
                    edits.append(
                        Edit(
                            "neardup",
                            "seen-paragraph",
                            cut_start,
                            cut_end,
                            text[cut_start:cut_end],
                            "",
                            "paragraph already in an earlier kept document",
                            f"doc:{self._index.source_of(owner)}",
                        )
                    )
            kept_hashes = [h for h, gone in zip(hashes, removed, strict=True) if h is not None and not gone]
            self._index.add_paragraphs(doc.rowid, kept_hashes)
            self._paragraphs.extend((value, doc.rowid) for value in kept_hashes)
            if edits:
                updates[doc.source] = edits
        return updates

    # -- rewriting -----------------------------------------------------------------

    def _rewrite(
        self,
        changes: RecordChanges,
        decisions: dict[int, tuple[int | None, float]],
        updates: dict[str, list[Edit]],
    ) -> dict[str, int]:
        """The records of the duplicates and of documents that lost paragraphs, replaced; the
        duplicates' outputs deleted, the others rewritten (applied by the run's journal)."""
        duplicates = self._duplicate_sources(decisions)
        counts = {"duplicates": len(duplicates), "paragraphs_removed": sum(len(e) for e in updates.values())}
        affected = sorted(duplicates.keys() | updates.keys())
        if self.workers is not None and len(affected) >= WORKER_REWRITE_FILES:
            self._rewrite_in_workers(changes, affected, duplicates, updates)
            return counts
        # The run's own changes (EndOfRun) know each row's checksum: lines in, lines out, as a
        # worker does (lines_of and replace_prepared are RecordChanges' own).
        trusted: Callable[[str], int | None] | None = getattr(changes, "row_checksum", None)
        for start in range(0, len(affected), FILES_PER_TASK):  # a group's records at a time
            group = affected[start : start + FILES_PER_TASK]
            if trusted is not None:
                for file, data in changes.lines_of(group).items():
                    self._rewrite_lines(file, data, trusted(file), duplicates, updates, changes)
                continue
            for file, records in changes.records_of(group).items():
                self._rewrite_file(file, records, duplicates, updates, changes)
        return counts

    def _rewrite_lines(
        self,
        file: str,
        data: bytes,
        trusted: int | None,
        duplicates: dict[str, tuple[str, str, float]],
        updates: dict[str, list[Edit]],
        changes: Any,
    ) -> None:
        """:meth:`_rewrite_file` of a file's provenance lines (``trusted``: their row's checksum).
        A duplicate's record is most of what the end of a run rewrites, and its edits (every
        stage's, with the text they removed: 49 kB a record on the bench crawl) are kept as
        they are: when its lines are one trusted record, they are parsed and written again
        without the edits, which are copied as bytes (the same line, byte for byte:
        :func:`cleankit.core.provenance.dumps_line_with_edits`)."""
        source = duplicates.get(file)
        if source is not None and file not in updates and trusted is not None and checksum(data) == trusted:
            split = split_edits(data) if data.count(b"\n") == 1 else None
            if split is not None:
                record = json.loads(split[0])
                if record["source"] == file and record["status"] != "failed" and "output_line" not in record:
                    new = self._as_duplicate(record, *source)
                    line = dumps_line_with_edits(new, split[1])
                    if line is not None:
                        if new.get("output") is None:
                            changes.delete_output(str(new.get("file", file)))
                        changes.replace_prepared(file, Replacement(line, row_changes([new])))
                        return
        self._rewrite_file(file, records_from(data, trusted), duplicates, updates, changes)

    def _rewrite_file(
        self,
        file: str,
        records: list[ProvenanceRecord],
        duplicates: dict[str, tuple[str, str, float]],
        updates: dict[str, list[Edit]],
        changes: Any,
    ) -> None:
        """The new records of one input file (and its output changes), into ``changes``."""
        new_records = []
        for record in records:
            source = record["source"]
            if record["status"] == "failed" or "output_line" in record:
                new_records.append(record)
            elif source in duplicates:
                record = self._as_duplicate(record, *duplicates[source])
                if record.get("output") is None:
                    changes.delete_output(str(record.get("file", source)))
                new_records.append(record)
            elif source in updates:
                record, data = self._with_edits(record, updates[source])
                changes.write_output(str(record["output"]), data)
                new_records.append(record)
            else:
                new_records.append(record)
        changes.replace(file, new_records)

    def _rewrite_in_workers(
        self,
        changes: RecordChanges,
        affected: list[str],
        duplicates: dict[str, tuple[str, str, float]],
        updates: dict[str, list[Edit]],
    ) -> None:
        """:meth:`_rewrite_file` of every affected file in the run's workers, in groups: each
        parses its files' provenance lines (trusted as the run state trusts them: only parsed
        when their checksum is their row's, else checked record by record) and hands back the
        changes, applied here in file order, as the parent would have made them. A task
        names where its lines are when the run's changes can say (``spans_of``: the workers
        read them), and each group's new records are handed on as they arrive (the run's
        changes keep them on disk): the parent holds a few groups' records, not all."""
        spans_of = getattr(changes, "spans_of", None)
        provenance: str | None = None
        found_lines: dict[str, bytes | tuple[int, int]]
        if callable(spans_of):
            provenance, spans = spans_of(affected)
            found_lines = dict(spans)
        else:
            found_lines = dict(changes.lines_of(affected))
        trusted = getattr(changes, "row_checksum", None)
        files = [file for file in affected if file in found_lines]
        tasks = []
        for start in range(0, len(files), FILES_PER_TASK):
            group = files[start : start + FILES_PER_TASK]
            tasks.append(
                RewriteTask(
                    start,
                    {file: (found_lines[file], trusted(file) if callable(trusted) else None) for file in group},
                    {file: duplicates[file] for file in group if file in duplicates},
                    {file: updates[file] for file in group if file in updates},
                    provenance,
                )
            )
        del found_lines
        # A file's new records go to ``changes`` as soon as they arrive (each file is in one
        # task, so their order does not matter); the outputs' writes and deletions keep the
        # file order, the order of the journal.
        rewriter = FileRewriter(self)
        rest: dict[int, Gathered | None] = {}
        for result in self.workers.results(tasks, rewriter, lambda task, _why: (task.start, None)):
            rest[result[0]] = _apply_records(result[1], changes)
        for task in tasks:
            done = rest.get(task.start)
            if done is None:  # its worker died: rewritten here
                done = _apply_records(rewriter(task)[1], changes)
            apply_gathered(done or [], changes)

    def _as_duplicate(self, record: ProvenanceRecord, kept: str, kept_id: str, score: float) -> ProvenanceRecord:
        record = record.copy()
        record.update({"status": "duplicate", "duplicate_of": kept, "duplicate_of_id": kept_id, "similarity": score})
        output = record.get("output")
        if self.keep_duplicates or output is None:
            return record
        text = (self.outdir / output).read_text(encoding="utf-8")
        edit = Edit("neardup", "duplicate-document", 0, len(text), text, "", f"near-duplicate of {kept}", f"doc:{kept}")
        record = _append_step(record, "", [edit])
        record["output"] = None
        record["output_bytes"] = 0
        return record

    def _with_edits(self, record: ProvenanceRecord, edits: list[Edit]) -> tuple[ProvenanceRecord, bytes]:
        path = self.outdir / str(record["output"])
        document = Document(id=record["id"], source=record["source"], text=path.read_text(encoding="utf-8"))
        document.steps = list(record["steps"])
        document.apply("neardup", edits)
        record = _append_step(record, document.text, document.edits)
        data = document.text.encode("utf-8")
        record["output_bytes"] = len(data)
        return record, data


def _append_step(record: ProvenanceRecord, new_text: str, edits: Iterable[Edit]) -> ProvenanceRecord:
    record = record.copy()
    step = len(record["steps"])
    record["steps"] = [*record["steps"], "neardup"]
    stats = {key: value.copy() for key, value in record["stats"].items()}
    new_edits = list(record["edits"])
    edits = list(edits)
    for edit in edits:
        edit.step = step
        edit.stage = "neardup"
        new_edits.append(edit.to_json())
    edit_totals(edits, stats)
    record["edits"] = new_edits
    record["stats"] = stats
    record["output_sha256"] = text_sha256(new_text)
    record["output_chars"] = len(new_text)
    return record


def replay_decisions(outdir: Path, data: dict[str, Any]) -> None:
    """Commit the decisions of a run killed after its journal was committed (the journal's
    replay; repeating it changes nothing)."""
    path = index_path(outdir)
    if not path.exists():
        return
    with NearDupIndex(path) as index:
        rowids = index.rowids()
        for source, state, kept in data["decisions"]:
            if source in rowids:
                index.set_state(rowids[source], state, rowids.get(kept) if kept is not None else None)
        index.add_paragraphs_of([(value, rowids[source]) for value, source in data["paragraphs"] if source in rowids])


def _paragraph_hash(paragraph: str, min_chars: int) -> int | None:
    view = canonical(paragraph)
    if len(view) < min_chars:
        return None
    return xxhash.xxh64_intdigest(view.encode("utf-8")) - (1 << 63)
