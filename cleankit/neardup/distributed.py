"""Crawl near-duplicates decided on Ray, with the decisions of the local pass.

:class:`RayNearDupPass` is :class:`cleankit.neardup.crawl.NearDupPass` with another
``_decide``. Everything before the decision is shared: the workers compute each document's
MinHash signature and band keys (:mod:`cleankit.neardup.signature`, in ``observe``), and the
driver adds them to the SQLite index as results arrive. Then:

1. **band buckets** — the index's ``(band, key, doc)`` entries of the documents that can take
   part (this run's pending documents and the kept documents of earlier runs) become a Ray
   Data dataset, shuffled by band key (``groupby``); each bucket with a pending document emits
   its candidate pairs, and a second shuffle by pair makes them distinct;
2. **candidate verification** — each pair is verified in the workers by the local pass's own
   ``_similarity`` (signature estimate, the two cheap bounds, rapidfuzz on the canonical
   views read from the output folder); the signatures are broadcast through the object store;
3. **connected components** of the verified pairs (union-find in the driver: one edge per
   verified pair, a small fraction of the candidates);
4. **decisions**, per component: the local greedy rule — pending documents in quality order,
   each a duplicate of the most similar *kept* document it was verified against (ties to the
   lowest row id, as the local pass's candidate order gives), else kept. A document's
   decision depends only on documents it was verified against, all in its component, so
   deciding component by component gives exactly the local decisions.

5. **rewriting** the duplicates' records (and outputs): the local pass's own ``_rewrite``, in
   Ray tasks over groups of files; each parses and checks its files' provenance lines (sent by
   the driver) and hands the changes back, and the driver applies them in the local pass's
   order. The journal and the index commit stay the driver's.

JSON Lines runs (:class:`RayJsonlNearDupPass`) go through the same steps, their documents
being lines (``FILE#LINE``) read as the local JSON Lines pass reads them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from cleankit.core.corpus_pass import RecordChanges
from cleankit.core.document import Edit
from cleankit.core.records import ProvenanceRecord
from cleankit.neardup.crawl import GatheredChanges, NearDupPass, apply_gathered
from cleankit.neardup.index import IndexedDoc
from cleankit.run.jsonl import JsonlNearDupPass, split_source
from cleankit.run.state import parse_lines

# Band bucket entries per shuffle partition.
ENTRIES_PER_PARTITION = 1_000_000


@dataclass
class RayNearDupPass(NearDupPass):
    """The near-duplicate corpus pass with its decisions made on Ray (see the module's doc)."""

    session: Any = field(default=None, repr=False)
    # Figures of the last decision, for benchmarks: buckets, candidate and verified pairs.
    figures: dict[str, int] = field(default_factory=dict, repr=False)

    @classmethod
    def like(cls, local: NearDupPass, session: Any) -> RayNearDupPass:
        init = {f.name: getattr(local, f.name) for f in fields(local) if f.init}
        return cls(**init, session=session)

    def __getstate__(self) -> dict[str, Any]:
        """As the local pass's, and without the driver's Ray session."""
        state = super().__getstate__()
        state.update(session=None)
        return state

    def _decide(self) -> dict[int, tuple[int | None, float]]:
        index = self._index
        pending = self._pending()
        if not pending:
            return {}
        docs = index.docs_in(("pending", "kept"))
        entries = index.band_entries(("pending", "kept"))
        scores = verified_pairs(self.session, docs, entries, self, self.figures)
        states = {rowid: doc.state for rowid, doc in docs.items()}
        near = neighbours(scores)
        decisions: dict[int, tuple[int | None, float]] = {}
        for component in components(scores, [rowid for rowid, _source, _quality in pending]):
            for rowid, (dup, score) in decide(component, near, states).items():
                decisions[rowid] = (dup, score)
        ordered: dict[int, tuple[int | None, float]] = {}
        for rowid, _source, _quality in pending:  # the local pass's order, for the journal
            dup, score = decisions.get(rowid, (None, 1.0))
            if dup is None:
                index.set_state(rowid, "kept")
            else:
                index.set_state(rowid, "duplicate", dup)
            ordered[rowid] = (dup, score)
        return ordered

    def _rewrite(
        self,
        changes: RecordChanges,
        decisions: dict[int, tuple[int | None, float]],
        updates: dict[str, list[Edit]],
    ) -> dict[str, int]:
        """The local pass's rewrite of the duplicates' records (and outputs), run in Ray tasks
        on groups of files: each parses and checks its files' provenance lines, rewrites
        them and hands back the changes, which the driver applies in the local pass's order.
        (Parsing and checking those lines was a third of the driver's CPU on the bench crawl.)"""
        index = self._index
        duplicates = {rowid: d for rowid, d in decisions.items() if d[0] is not None}
        known: dict[int, tuple[str, str]] = {}
        for rowid, (dup_of, _score) in duplicates.items():
            kept = index.get(dup_of)  # type: ignore[arg-type]
            known[dup_of] = (kept.source, kept.doc_id)  # type: ignore[index]
            known.setdefault(rowid, (index.source_of(rowid), ""))
        by_file: dict[str, dict[int, tuple[int | None, float]]] = defaultdict(dict)
        for rowid, decision in duplicates.items():
            by_file[self._file_of(known[rowid][0])][rowid] = decision
        edited: dict[str, dict[str, list[Edit]]] = defaultdict(dict)
        for source, edits in updates.items():
            edited[self._file_of(source)][source] = edits
        files = sorted(by_file.keys() | edited.keys())
        if not files:
            return super()._rewrite(changes, decisions, updates)
        ray = self.session.open()
        from cleankit.run.ray_engine import batch_size

        size = batch_size(len(files), int(ray.cluster_resources().get("CPU", 1)))
        worker = ray.remote(max_retries=0)(_rewrite_files)
        shared = ray.put(self)
        refs = []
        for start in range(0, len(files), size):
            group = files[start : start + size]
            lines = changes.lines_of(group)
            mine = {rowid: d for file in group for rowid, d in by_file.get(file, {}).items()}
            names = {r: known[r] for rowid, (dup_of, _s) in mine.items() for r in (rowid, dup_of) if r is not None}
            paragraphs = {source: e for file in group for source, e in edited.get(file, {}).items()}
            refs.append(worker.remote(shared, lines, names, mine, paragraphs))
        counts: dict[str, int] = defaultdict(int)
        for ref in refs:  # in file order: the journal's entries come out as the local pass's
            done, found = ray.get(ref)
            for name, value in found.items():
                counts[name] += value
            apply_gathered(done, changes)
        return {"duplicates": counts["duplicates"], "paragraphs_removed": counts["paragraphs_removed"]}

    def _file_of(self, source: str) -> str:
        """The input file whose provenance holds a document's record."""
        return source


@dataclass
class RayJsonlNearDupPass(RayNearDupPass, JsonlNearDupPass):
    """The near-duplicate pass over JSON Lines lines (:class:`cleankit.run.jsonl.JsonlNearDupPass`),
    decided and rewritten on Ray as :class:`RayNearDupPass` does for files."""

    def _file_of(self, source: str) -> str:
        return split_source(source)[0]


class _Names:
    """What a pass's ``_rewrite`` asks of the index, for the documents of one group of files:
    their sources (and the kept documents' ids), sent by the driver."""

    def __init__(self, names: dict[int, tuple[str, str]]) -> None:
        self.names = names

    def get(self, rowid: int) -> Any:
        source, doc_id = self.names[rowid]
        return _Named(source, doc_id)

    def source_of(self, rowid: int) -> str:
        return self.names[rowid][0]


@dataclass
class _Named:
    source: str
    doc_id: str


class _Gathered(GatheredChanges):
    """The :class:`cleankit.core.corpus_pass.RecordChanges` of a Ray task: records read from
    the provenance lines the driver sent (parsed and checked as the run state does), changes
    gathered in order for the driver to apply."""

    def __init__(self, outdir: Path, lines: dict[str, bytes]) -> None:
        super().__init__()
        self.outdir = outdir
        self.lines = lines

    def lines_of(self, files: Sequence[str]) -> dict[str, bytes]:
        return {file: self.lines[file] for file in files if file in self.lines}

    def records_of(self, files: Sequence[str]) -> dict[str, list[ProvenanceRecord]]:
        return {file: parse_lines(data) for file, data in self.lines_of(files).items()}


def _rewrite_files(
    rewriter: RayNearDupPass,
    lines: dict[str, bytes],
    names: dict[int, tuple[str, str]],
    decisions: dict[int, tuple[int | None, float]],
    updates: dict[str, list[Edit]],
) -> tuple[list[tuple[str, str, Any]], dict[str, int]]:
    """A Ray task: the local pass's ``_rewrite`` of one group of files."""
    rewriter.index = _Names(names)  # type: ignore[assignment]
    gathered = _Gathered(rewriter.outdir, lines)
    counts = super(RayNearDupPass, rewriter)._rewrite(gathered, decisions, updates)  # type: ignore[arg-type]
    return gathered.done, counts


def neighbours(scores: dict[tuple[int, int], float]) -> dict[int, list[tuple[int, float]]]:
    found: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for (a, b), score in scores.items():
        found[a].append((b, score))
        found[b].append((a, score))
    return found


def components(scores: dict[tuple[int, int], float], order: list[int]) -> list[list[int]]:
    """The pending documents (``order``: quality order) grouped by connected component of the
    verified pairs, each group in quality order; a document with no verified pair is a
    component of its own."""
    parent: dict[int, int] = {}

    def root(node: int) -> int:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in scores:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for rowid in order:
        groups.setdefault(root(rowid), []).append(rowid)
    return list(groups.values())


def decide(
    component: list[int], near: dict[int, list[tuple[int, float]]], states: dict[int, str]
) -> dict[int, tuple[int | None, float]]:
    """The local greedy rule on one component (pending documents in quality order): each is
    a duplicate of the most similar document already kept it was verified against, ties to the
    lowest row id, else kept. ``near``: each document's verified pairs; ``states`` is updated."""
    decisions: dict[int, tuple[int | None, float]] = {}
    for rowid in component:
        best: tuple[float, int] | None = None
        for other, score in sorted(near.get(rowid, ())):
            if states.get(other) == "kept" and (best is None or score > best[0]):
                best = (score, other)
        if best is None:
            states[rowid] = "kept"
            decisions[rowid] = (None, 1.0)
        else:
            states[rowid] = "duplicate"
            decisions[rowid] = (best[1], best[0])
    return decisions


def bucket_pairs(pending: frozenset[int]) -> Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]:
    """Ray Data: the candidate pairs of one band bucket (documents sharing a band key) that
    the local pass would compare: a pending document with any other of the bucket."""

    def pairs(group: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        members = np.unique(group["doc"]).tolist()
        first: list[int] = []
        second: list[int] = []
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if a in pending or b in pending:
                    first.append(a)
                    second.append(b)
        return {"a": np.asarray(first, dtype=np.int64), "b": np.asarray(second, dtype=np.int64)}

    return pairs


def verifier(docs: Any, comparer: NearDupPass) -> Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]:
    """Ray Data: the candidate pairs of one document ``a`` (a group of the shuffle by pair),
    made distinct (a pair shares several bands) and verified by the pass's own
    ``_similarity`` (-1: not near-duplicates; ``comparer`` is the pass as pickled for a
    worker: it reads clean texts as its run wrote them, files or JSON Lines lines), with the
    documents (signatures, outputs) from the object store."""
    held: dict[str, Any] = {}

    def scores(group: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if not held:  # once per worker process
            import ray

            held["docs"] = ray.get(docs) if isinstance(docs, ray.ObjectRef) else docs
        found: dict[int, IndexedDoc] = held["docs"]
        local = comparer
        pairs = np.unique(np.stack([group["a"], group["b"]], axis=1), axis=0) if len(group["a"]) else np.zeros((0, 2))
        out = []
        for a, b in pairs.astype(np.int64).tolist():
            # The local pass compares (pending document, kept candidate); the score is symmetric.
            score = local._similarity(found[a], found[b])
            out.append(-1.0 if score is None else score)
        return {
            "a": pairs[:, 0].astype(np.int64),
            "b": pairs[:, 1].astype(np.int64),
            "score": np.asarray(out, dtype=np.float64),
        }

    return scores


def shuffle_partitions(entries: int) -> int:
    """Partitions of each shuffle: about a million bucket entries each (a few tens of MB),
    at least one per CPU of the cluster for a large corpus, one for a small one (each
    partition is a task: a test's handful of documents need not pay for two hundred)."""
    return max(1, min(256, entries // ENTRIES_PER_PARTITION + 1))


def verified_pairs(
    session: Any,
    docs: dict[int, IndexedDoc],
    entries: np.ndarray,
    comparer: NearDupPass,
    figures: dict[str, int],
) -> dict[tuple[int, int], float]:
    """(a, b) with a < b -> verified similarity, for every candidate pair of a pending document."""
    pending = frozenset(rowid for rowid, doc in docs.items() if doc.state == "pending")
    if not len(entries):
        return {}
    import pyarrow as pa

    table = pa.table({"band": entries[:, 0], "key": entries[:, 1], "doc": entries[:, 2]})
    scores: dict[tuple[int, int], float] = {}
    candidates = 0
    # Under Ray Client the shuffles run in an actor on the cluster (RaySession.stream).
    for batch in session.stream(_verify, table, docs, pending, comparer):
        candidates += len(batch["a"])
        for a, b, score in zip(batch["a"].tolist(), batch["b"].tolist(), batch["score"].tolist(), strict=True):
            if score >= 0:
                scores[(a, b)] = float(score)
    figures.update(band_entries=len(entries), candidate_pairs=candidates, verified_pairs=len(scores))
    return scores


def _verify(
    ray: Any,
    table: Any,
    docs: dict[int, IndexedDoc],
    pending: frozenset[int],
    comparer: NearDupPass,
) -> Iterator[dict[str, np.ndarray]]:
    """The two shuffles and the verification as Ray Data operations; yields batches of
    verified candidate pairs (``a``, ``b``, ``score``; -1: not near-duplicates)."""
    partitions = shuffle_partitions(len(table))
    shared = ray.put(docs)
    context = ray.data.DataContext.get_current()
    # Task-based sort shuffle: no long-lived aggregator actors to start for a small crawl,
    # and it scales out the same way on a cluster.
    context.shuffle_strategy = ray.data.context.ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    verified = (
        ray.data.from_arrow(table)
        .groupby(["band", "key"], num_partitions=partitions)  # shuffle 1: band buckets
        .map_groups(bucket_pairs(pending), batch_format="numpy")
        .groupby("a", num_partitions=partitions)  # shuffle 2: a document's pairs together
        .map_groups(verifier(shared, comparer), batch_format="numpy")
    )
    yield from verified.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=0)
