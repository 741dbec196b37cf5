"""What was changed in a document, in the coordinates of the ORIGINAL text and the clean text.

The edit log (see :mod:`cleankit.core.document`) stores each step's edits in the coordinates of
the text that step received. A reviewer wants to see them on the original page instead, and
beside the clean text. :func:`align` composes the steps into one *alignment*: an ordered list
of :class:`Change` spans, each an original range ``[orig_start, orig_end)`` that became the
clean range ``[clean_start, clean_end)``, labelled with the edits that took part. Between two
changes the texts are identical and equally long (the "gaps").

How steps compose: a step's edit whose span lies in a gap maps back exactly; an edit that
reaches into text an earlier step wrote (a Change's clean side) cannot be split back onto
the original, so it swallows that whole Change: the merged Change covers both original
ranges and carries both edits' labels. Hence the union of the Changes' original ranges is
exactly the set of original characters that did not survive into the clean text
(``tests/test_audit.py`` checks this against a per-character model on random runs).

Everything here works from coordinates alone (``start``, ``end`` and ``len(new)`` of each
edit), so corpus statistics need no text; :func:`load_document` adds the texts for views.

**Layout is not removal.** An edit that only changes line breaks (``\n`` → ``\n\n`` between
paragraphs, a CRLF made LF, the break reflow takes out between two halves of a sentence)
changes how the text is laid out, not what it says. Such edits (:func:`is_layout`) and the
changes made only of them are counted apart from removals and left out of the audit views
unless asked for (``--layout``, or a filter that names their stage or rule).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleankit.core.errors import AuditError, RestoreError
from cleankit.core.provenance import read_records, restore_from_record
from cleankit.core.records import EditRecord, ProvenanceRecord
from cleankit.io.files import PROVENANCE_FILE

# Characters that end a line: an edit made only of these is layout.
LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")

# Record statuses: "ok" and "failed" come from the runner; later stages add others
# (e.g. "duplicate"). Anything that is not "failed" has been through the pipeline.
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Change:
    """``original[orig_start:orig_end]`` became ``clean[clean_start:clean_end]``.

    ``edits`` are indices into the record's ``edits`` list (step order) of every edit that
    took part; their ``stage``/``rule`` are the change's labels.
    """

    orig_start: int
    orig_end: int
    clean_start: int
    clean_end: int
    edits: tuple[int, ...]

    @property
    def removed(self) -> int:
        """Original characters that did not survive (changed or removed)."""
        return self.orig_end - self.orig_start


# Internal working form: (orig_start, orig_end, cur_start, cur_end, edit indices).
_Span = tuple[int, int, int, int, tuple[int, ...]]


def _apply_step(changes: list[_Span], step: Sequence[tuple[int, int, int, int]]) -> list[_Span]:
    """Compose one step (edits as ``(start, end, len(new), index)``, sorted) onto ``changes``.

    ``changes`` are in the coordinates of the step's input; the result is in its output's.
    A change is *before* an edit ``[s, e)`` when it ends at or before ``s`` (a zero-width
    change at ``s`` too: an insertion goes after an earlier deletion at the same place), and
    *touched* when it starts before ``e`` and is not before: then it is merged.
    """
    out: list[_Span] = []
    ends = [span[3] for span in changes]
    count = len(changes)
    j = 0
    delta = 0  # how much this step's edits so far moved the text after them
    prev_orig, prev_cur = 0, 0  # end of the last span passed, for mapping positions in gaps
    k = 0
    while k < len(step):
        start, end, new_len, index = step[k]
        before = bisect_right(ends, start, j)
        if before > j:
            if delta:
                out.extend((a, b, c + delta, d + delta, e) for a, b, c, d, e in changes[j:before])
            else:
                out.extend(changes[j:before])
            prev_orig, prev_cur = changes[before - 1][1], changes[before - 1][3]
            j = before
        lo, hi = start, end
        orig_lo = prev_orig + (start - prev_cur)
        growth = new_len - (end - start)
        labels: list[int] = [index]
        while True:
            while j < count and changes[j][2] < hi:  # touched: merge the whole earlier change
                a, b, c, d, e = changes[j]
                if c < lo:
                    lo, orig_lo = c, a
                hi = max(hi, d)
                labels.extend(e)
                prev_orig, prev_cur = b, d
                j += 1
            if k + 1 < len(step) and step[k + 1][0] < hi:  # the next edit reaches into this one
                k += 1
                start, end, new_len, index = step[k]
                hi = max(hi, end)
                growth += new_len - (end - start)
                labels.append(index)
                continue
            break
        orig_hi = prev_orig + (hi - prev_cur)
        out.append((orig_lo, orig_hi, lo + delta, hi + delta + growth, tuple(sorted(set(labels)))))
        prev_orig, prev_cur = orig_hi, hi
        delta += growth
        k += 1
    if j < count:
        if delta:
            out.extend((a, b, c + delta, d + delta, e) for a, b, c, d, e in changes[j:])
        else:
            out.extend(changes[j:])
    return out


def align(edits: Sequence[EditRecord]) -> list[Change]:
    """The alignment of original and clean text from a record's ``edits`` (JSON form)."""
    by_step: dict[int, list[tuple[int, int, int, int]]] = {}
    for index, edit in enumerate(edits):
        by_step.setdefault(edit["step"], []).append((edit["start"], edit["end"], len(edit["new"]), index))
    changes: list[_Span] = []
    for step in sorted(by_step):
        # Stored order within a step (by start, end) is the order apply() used; keep it for
        # insertions at one position, whose texts follow each other in that order.
        changes = _apply_step(changes, sorted(by_step[step], key=lambda edit: (edit[0], edit[1], edit[3])))
    return [Change(*span) for span in changes]


def is_layout(edit: EditRecord) -> bool:
    """Does ``edit`` only add, remove or change line breaks?"""
    old, new = edit["old"], edit["new"]
    return LINE_BREAKS.issuperset(old) and LINE_BREAKS.issuperset(new) and bool(old or new)


def is_layout_change(change: Change, edits: Sequence[EditRecord]) -> bool:
    """Is ``change`` made only of layout edits?"""
    return all(is_layout(edits[i]) for i in change.edits)


def original_length(record: ProvenanceRecord) -> int:
    """Characters of the decoded original, from the clean length and the edits alone."""
    return record.get("output_chars", 0) + sum(len(e["old"]) - len(e["new"]) for e in record.get("edits", []))


def labels_of(change: Change, edits: Sequence[EditRecord]) -> list[str]:
    """``stage/rule`` of every edit in ``change``, first occurrence order, no repeats."""
    return list(dict.fromkeys(f"{edits[i]['stage']}/{edits[i]['rule']}" for i in change.edits))


def matches(edit: EditRecord, stages: Iterable[str], rules: Iterable[str]) -> bool:
    """Does ``edit`` pass the ``--stage``/``--rule`` filters (empty filter: everything)?

    A rule filter matches either the bare rule name or ``stage/rule``.
    """
    stages, rules = list(stages), list(rules)
    if stages and edit["stage"] not in stages:
        return False
    return not rules or edit["rule"] in rules or f"{edit['stage']}/{edit['rule']}" in rules


def filtered(
    doc: AuditedDocument, stages: Iterable[str] = (), rules: Iterable[str] = (), layout: bool = True
) -> AuditedDocument:
    """The document as if only the changes in which an edit passing the filters took part
    had been made: its ``clean`` is the original with just those changes. With ``layout``
    false, changes made only of layout edits are left out too, unless a stage or rule
    filter names one of their edits."""
    stages, rules = list(stages), list(rules)
    if not stages and not rules and layout:
        return doc
    edits = doc.record["edits"]
    pieces: list[str] = []
    kept: list[Change] = []
    cursor = 0  # in the original
    length = 0  # of the filtered text so far
    for change in doc.changes:
        if stages or rules:
            if not any(matches(edits[i], stages, rules) for i in change.edits):
                continue
        elif is_layout_change(change, edits):
            continue
        gap = doc.original[cursor : change.orig_start]
        became = doc.clean[change.clean_start : change.clean_end]
        pieces += [gap, became]
        start = length + len(gap)
        kept.append(Change(change.orig_start, change.orig_end, start, start + len(became), change.edits))
        length = start + len(became)
        cursor = change.orig_end
    pieces.append(doc.original[cursor:])
    return AuditedDocument(doc.record, doc.original, "".join(pieces), kept)


def removed_share(record: ProvenanceRecord, changes: Sequence[Change] | None = None) -> tuple[int, int, int]:
    """(original characters changed or removed, original line breaks only laid out
    differently, original length) of a cleaned document: a change made only of layout
    edits counts as layout, not as removal."""
    edits = record.get("edits", [])
    if changes is None:
        changes = align(edits)
    removed = layout = 0
    for change in changes:
        if is_layout_change(change, edits):
            layout += change.removed
        else:
            removed += change.removed
    return removed, layout, original_length(record)


# --- reading an output folder -------------------------------------------------------------


def read_outdir(outdir: Path) -> list[ProvenanceRecord]:
    """The provenance records of a ``cleankit clean`` output folder."""
    path = outdir / PROVENANCE_FILE
    if not path.is_file():
        raise AuditError(f"{outdir}: no {PROVENANCE_FILE} here; is this the output folder of `cleankit clean`?")
    return list(read_records(path))


def find_records(records: Sequence[ProvenanceRecord], source: str) -> list[ProvenanceRecord]:
    """Records whose ``source`` is ``source`` (or ends with ``/source``, or the records of
    a JSON Lines file named ``source``)."""
    wanted = source.replace("\\", "/")
    exact = [r for r in records if r["source"] == wanted or r.get("id") == wanted]
    if exact:
        return exact
    lines = [r for r in records if r.get("file") == wanted]
    if lines:
        return lines
    return [r for r in records if wanted.endswith("/" + r["source"])]


@dataclass
class AuditedDocument:
    """A record with its texts and alignment, ready to show."""

    record: ProvenanceRecord
    original: str
    clean: str
    changes: list[Change]


class CleanTextReader:
    """Reads clean outputs; a JSON Lines output is read and split once for all its lines."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self._lines: dict[str, list[str]] = {}
        self._cells: dict[tuple[str, str], list[Any]] = {}  # Parquet outputs: (file, column) -> cells

    def __call__(self, record: ProvenanceRecord) -> str:
        output = record.get("output")
        if not output:
            raise AuditError(f"{record['source']}: no output was written (status {record.get('status')!r})")
        path = self.outdir / output
        try:
            column = (output, record.get("text_field", ""))
            if "output_line" in record and column not in self._cells and output not in self._lines:
                data = path.read_bytes()
                if data[:4] == b"PAR1":  # a Parquet output (cleankit.io.parquet)
                    from cleankit.io.parquet import read_column

                    self._cells[column] = read_column(data, record["text_field"])
                else:
                    self._lines[output] = data.decode("utf-8").split("\n")
            if column in self._cells:
                text = self._cells[column][record["output_line"]]
                if not isinstance(text, str):
                    raise KeyError(f"row {record['output_line']} of column {column[1]!r} holds no text")
                return text
            if "output_line" in record:
                if output not in self._lines:
                    self._lines[output] = path.read_bytes().decode("utf-8").split("\n")
                return json.loads(self._lines[output][record["output_line"]])[record["text_field"]]
            return path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError, IndexError, KeyError, json.JSONDecodeError) as exc:
            raise AuditError(f"{record['source']}: cannot read its clean output {path}: {exc}") from exc


def load_document(record: ProvenanceRecord, read_clean: CleanTextReader) -> AuditedDocument:
    """Texts and alignment of one record; :class:`AuditError` names what is missing."""
    if record.get("status") == FAILED:
        raise AuditError(f"{record['source']} failed to clean: {record.get('error')}")
    clean = read_clean(record)
    try:
        original = restore_from_record(clean, record)
    except RestoreError as exc:
        raise AuditError(str(exc)) from exc
    return AuditedDocument(record, original, clean, align(record.get("edits", [])))


def iter_pieces(doc: AuditedDocument) -> Iterator[tuple[str, str, Change | None]]:
    """The original text cut into ``(original piece, clean piece, change or None)`` in order."""
    cursor = 0
    for change in doc.changes:
        if change.orig_start > cursor:
            text = doc.original[cursor : change.orig_start]
            yield text, text, None
        before = doc.original[change.orig_start : change.orig_end]
        yield before, doc.clean[change.clean_start : change.clean_end], change
        cursor = change.orig_end
    if cursor < len(doc.original):
        text = doc.original[cursor:]
        yield text, text, None
