"""Passes over a whole run's corpus, beside the per-document stages.

Some decisions cannot be made from one document: which short lines are a site's furniture
(seen on most of its pages), which documents are reprints of one notice. A corpus pass
sees the run in four moments, and the runner drives every pass the same way:

1. ``prepare(files)`` — in the parent, before any document is cleaned (site learning
   reads the inputs here and hands what it learned to its stage);
2. ``observe(document, output)`` — in the worker, after a document is cleaned and written:
   a small picklable summary of it (a MinHash signature), or ``None``;
3. ``merge(observation)`` — in the parent, as each document's result arrives;
4. ``finalize(changes)`` — in the parent, after every document: decisions that change
   records or outputs (duplicates), made through ``changes`` (:class:`RecordChanges`) so
   the runner can journal them, returning counts for the run summary.

Optional, found by name (``getattr``):

- ``survey_id()``, ``survey(source, raw)`` and ``learn(surveys)`` replace ``prepare``: the
  runner surveys each input file in its workers (the survey is JSON data, cached per file
  content in the output folder) and hands the surveys to ``learn`` in the parent (standard input,
  which is no file, is surveyed as ``-`` and learned from the same way before it is cleaned);
- ``context(source)``: a digest of what the pass learned that changes ``source``'s output;
  a rerun redoes a document whose context changed;
- ``flush()``: make what ``merge`` took durable; called before the provenance lines of the
  merged documents are appended;
- ``share_workers(executor)``: called before ``finalize`` when the run has several local
  workers, idle by then: ``finalize`` may hand per-item work to ``executor.results`` (the
  near-duplicate pass verifies its candidate pairs there); its outcome must not depend on
  how the items are spread or in what order they come back;
- ``abandon()``: the run stopped before its end (a full disk, Ctrl-C): drop what was merged
  and not flushed, and let go of open files;
- ``recover(outdir, data)`` (a module-level function named in the journal) replays what a
  killed run's ``finalize`` had decided.

A file that holds many documents (JSON Lines) hands over one :class:`ObservationBatch` per
pass; the runner merges its observations one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from cleankit.core.document import Document
from cleankit.core.records import ProvenanceRecord

if TYPE_CHECKING:
    from cleankit.run.state import Replacement


class RecordChanges(Protocol):
    """What ``finalize`` may change: records, outputs and its own state, all journaled."""

    outdir: Path

    def records_of(self, files: Sequence[str]) -> dict[str, list[ProvenanceRecord]]:
        """The latest records of these input files (read from provenance)."""
        ...

    def lines_of(self, files: Sequence[str]) -> dict[str, bytes]:
        """The same records as their provenance lines, unparsed (for a pass that parses them
        elsewhere, as the Ray engine does in its tasks)."""
        ...

    def replace(self, file: str, records: list[ProvenanceRecord]) -> None:
        """New records for ``file`` (same run): provenance is rewritten with them."""
        ...

    def replace_prepared(self, file: str, replacement: Replacement) -> None:
        """:meth:`replace` with the records already serialized (where they were rewritten: a
        worker hands back bytes instead of every record for the parent to serialize)."""
        ...

    def write_output(self, path: str, data: bytes) -> None: ...

    def delete_output(self, path: str) -> None: ...

    def journal(self, replay: str, data: Any) -> None:
        """Data for ``replay`` (``module:function``), called at the next start if this run is
        killed after its decisions are committed and before they are all applied."""
        ...

    def on_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the journal is committed (e.g. commit the pass's own index)."""
        ...


class ObservationBatch(list[Any]):
    """The observations of one pass for every document of one input file (``file``), in
    line order."""

    def __init__(self, file: str, items: Sequence[Any] = ()) -> None:
        super().__init__(items)
        self.file = file


@runtime_checkable
class CorpusPass(Protocol):
    name: str

    def prepare(self, files: Sequence[tuple[str, Path]]) -> None: ...

    def observe(self, document: Document, output: str) -> Any | None: ...

    def merge(self, observation: Any) -> None: ...

    def finalize(self, changes: RecordChanges) -> dict[str, int]: ...
