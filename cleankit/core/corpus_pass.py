"""Passes over a whole run's corpus, beside the per-document stages.

Some decisions cannot be made from one document: which short lines are a site's furniture
(seen on most of its pages), which documents are reprints of one notice. A corpus pass
sees the run in four moments, and the runner drives every pass the same way:

1. ``prepare(files)`` — in the parent, before any document is cleaned (site learning
   reads the inputs here and hands what it learned to its stage);
2. ``observe(document, output)`` — in the worker, after a document is cleaned and written:
   a small picklable summary of it (a MinHash signature), or ``None``;
3. ``merge(observation)`` — in the parent, as each document's result arrives;
4. ``finalize(provenance)`` — in the parent, after every document: decisions that change
   records or outputs (duplicates), returning counts for the run summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cleankit.core.document import Document


@runtime_checkable
class CorpusPass(Protocol):
    name: str

    def prepare(self, files: Sequence[tuple[str, Path]]) -> None: ...

    def observe(self, document: Document, output: str) -> Any | None: ...

    def merge(self, observation: Any) -> None: ...

    def finalize(self, provenance: Path) -> dict[str, int]: ...
