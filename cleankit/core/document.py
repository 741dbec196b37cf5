"""The document model and its edit log.

Coordinate system (this is what makes restore exact)
----------------------------------------------------
A document's text passes through a sequence of *steps*. Step 0 receives the decoded
original text; step k receives the output of step k-1. A stage may apply several steps
(one per rule, say). Every edit belongs to exactly one step and its ``start``/``end``
are offsets in **Unicode code points** into the text *that step received*; ``old`` is
the text of that span and ``new`` its replacement (empty for a removal). The edits of
one step never overlap and are stored sorted by ``start``.

Undoing a step therefore only needs its own edits: walking them in order and keeping a
running length delta gives where each replacement sits in the step's output, and
splicing ``old`` back in rebuilds the step's input. Undoing the steps from last to
first rebuilds the original text from the clean text alone (:func:`undo_steps`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, chain, repeat
from operator import add, attrgetter, sub
from typing import Any, NoReturn

from cleankit.core.errors import EditConflict
from cleankit.core.records import EditRecord, EncodingRecord, Status


@dataclass(slots=True)
class Edit:
    """One change to the text: ``text[start:end]`` (== ``old``) became ``new``."""

    stage: str
    rule: str
    start: int
    end: int
    old: str
    new: str
    reason: str = ""
    ref: str | None = None
    step: int = -1

    def to_json(self) -> EditRecord:
        record: EditRecord = {
            "step": self.step,
            "stage": self.stage,
            "rule": self.rule,
            "start": self.start,
            "end": self.end,
            "old": self.old,
            "new": self.new,
        }
        if self.reason:
            record["reason"] = self.reason
        if self.ref is not None:
            record["ref"] = self.ref
        return record

    @classmethod
    def from_json(cls, record: EditRecord) -> Edit:
        return cls(
            stage=record["stage"],
            rule=record["rule"],
            start=record["start"],
            end=record["end"],
            old=record["old"],
            new=record["new"],
            reason=record.get("reason", ""),
            ref=record.get("ref"),
            step=record["step"],
        )


_span_key = attrgetter("start", "end")


@dataclass(slots=True)
class EditRun:
    """Many edits of one rule in one step that all write the same ``new`` text for the same
    ``reason``, kept as columns (``starts``, ``ends``, ``olds``: sorted, non-overlapping,
    each ``old`` different from ``new``), not as one :class:`Edit` each.

    The mechanical rules fire hundreds of times a page (a line's trailing spaces, CRLF,
    NBSP, blank-line runs): as columns, the stage builds them and the new text in one pass
    of C loops (:meth:`from_split`), and applying, undoing, counting and writing the record
    work on the columns. :meth:`edits` gives the same edits as objects, in order.
    """

    stage: str
    rule: str
    step: int
    new: str
    reason: str
    starts: list[int]
    ends: list[int]
    olds: list[str]

    @classmethod
    def from_split(cls, rule: str, new: str, reason: str, parts: list[str]) -> tuple[EditRun, str] | None:
        """The run that replaces each odd-numbered piece of ``parts`` (what a pattern with one
        capturing group around all of it ``split`` off: the matches) by ``new``, and the text
        after it; None when one match is empty or already ``new`` (no run describes that:
        such a match is not an edit, or the pattern is not one this is for)."""
        olds = parts[1::2]
        if new in olds or (new and "" in olds):
            return None
        offsets = list(accumulate(map(len, parts)))
        run = cls("", rule, -1, new, reason, offsets[0:-1:2], offsets[1::2], olds)
        return run, new.join(parts[0::2])

    def __len__(self) -> int:
        return len(self.starts)

    def edits(self) -> list[Edit]:
        size = len(self.starts)
        return list(
            map(
                Edit,
                repeat(self.stage, size),
                repeat(self.rule, size),
                self.starts,
                self.ends,
                self.olds,
                repeat(self.new, size),
                repeat(self.reason, size),
                repeat(None, size),
                repeat(self.step, size),
            )
        )

    def chars_removed(self) -> int:
        return sum(map(len, self.olds))

    def gaps(self, text: str, cursor: int) -> list[str]:
        """The stretches of ``text`` (the step's input) before each edit, from ``cursor`` on."""
        return list(map(text.__getitem__, map(slice, chain((cursor,), self.ends), self.starts)))

    def out_starts(self, delta: int) -> list[int]:
        """Where each edit's ``new`` starts in the step's output, ``delta`` being how much the
        step's earlier edits moved the text before this run."""
        removed = accumulate(map(len, self.olds), initial=0)
        shifted = map(sub, self.starts, removed)
        size = len(self.new)
        if size:
            shifted = map(add, shifted, range(0, size * len(self.starts), size))
        if delta:
            shifted = map(add, shifted, repeat(delta))
        return list(shifted)


# One entry of a document's edit log: edits as objects (any step), or a run (one step).
LogEntry = list[Edit] | EditRun


@dataclass(slots=True)
class EncodingInfo:
    """How the raw bytes became text, and what restore needs to get the bytes back."""

    name: str
    confidence: float = 1.0
    method: str = ""
    bom: bool = False
    runner_up: str | None = None
    # Byte runs the codec could not decode: (offset in the decoded text, raw bytes).
    # Each stands in the decoded text as one U+FFFD.
    undecodable: list[tuple[int, bytes]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Set only when the codec does not round-trip: the raw bytes themselves (rare).
    raw_fallback: bytes | None = None
    # Mixed-encoding files (name "mixed"): (byte offset, text offset, encoding) where each
    # run of lines decoded with one encoding starts.
    segments: list[tuple[int, int, str]] = field(default_factory=list)

    def to_json(self) -> EncodingRecord:
        record: EncodingRecord = {
            "name": self.name,
            "confidence": round(self.confidence, 4),
            "method": self.method,
            "bom": self.bom,
        }
        if self.runner_up:
            record["runner_up"] = self.runner_up
        if self.undecodable:
            record["undecodable"] = [[offset, raw.hex()] for offset, raw in self.undecodable]
        if self.notes:
            record["notes"] = list(self.notes)
        if self.raw_fallback is not None:
            record["raw_fallback_hex"] = self.raw_fallback.hex()
        if self.segments:
            record["segments"] = [list(segment) for segment in self.segments]
        return record

    @classmethod
    def from_json(cls, record: EncodingRecord) -> EncodingInfo:
        fallback = record.get("raw_fallback_hex")
        return cls(
            name=record["name"],
            confidence=record.get("confidence", 1.0),
            method=record.get("method", ""),
            bom=record.get("bom", False),
            runner_up=record.get("runner_up"),
            undecodable=[(offset, bytes.fromhex(raw)) for offset, raw in record.get("undecodable", [])],
            notes=list(record.get("notes", [])),
            raw_fallback=bytes.fromhex(fallback) if fallback is not None else None,
            segments=[(int(b), int(t), str(e)) for b, t, e in record.get("segments", [])],
        )


@dataclass
class Document:
    """A text on its way through the pipeline, with everything needed to explain it."""

    id: str
    source: str
    text: str
    sha256: str = ""
    size: int = 0
    encoding: EncodingInfo | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # Names of the stages that applied each step, in order (index == step number).
    steps: list[str] = field(default_factory=list)
    # Set by a stage that decides the whole document is not to be written (e.g. a duplicate).
    status: Status = "ok"
    flags: list[dict[str, Any]] = field(default_factory=list)
    # The edit log in the order applied: lists of edits and runs (see :attr:`log`).
    _log: list[LogEntry] = field(default_factory=list, init=False, repr=False)

    @property
    def edits(self) -> list[Edit]:
        """Every edit as an object, in the order applied. The runs in the log become objects
        here, once (the log keeps the objects from then on); the per-document path (the
        restore check, the record) reads :attr:`log` and never asks."""
        log = self._log
        if len(log) == 1 and not isinstance(log[0], EditRun):
            return log[0]
        merged: list[Edit] = []
        for entry in log:
            merged.extend(entry.edits() if isinstance(entry, EditRun) else entry)
        self._log = [merged]
        return merged

    @edits.setter
    def edits(self, edits: list[Edit]) -> None:
        self._log = [edits]

    @property
    def log(self) -> list[LogEntry]:
        """The edit log as applied: lists of edits (each stamped with its step) and runs (one
        step each; a step may hold several entries, in text order). Read it, do not change it."""
        return self._log

    def count_edits(self, skip_stages: Collection[str] = ()) -> int:
        """How many edits the log holds, leaving out those of ``skip_stages``."""
        count = 0
        for entry in self._log:
            if not isinstance(entry, EditRun):
                count += sum(1 for edit in entry if edit.stage not in skip_stages)
            elif entry.stage not in skip_stages:
                count += len(entry)
        return count

    @classmethod
    def from_text(cls, text: str, source: str = "-", doc_id: str | None = None) -> Document:
        raw = text.encode("utf-8", errors="surrogatepass")
        digest = hashlib.sha256(raw).hexdigest()
        return cls(
            id=doc_id or digest[:16],
            source=source,
            text=text,
            sha256=digest,
            size=len(raw),
            encoding=EncodingInfo(name="utf-8", method="given as text"),
        )

    def apply(self, stage: str, edits: Iterable[Edit]) -> int:
        """Apply one step of non-overlapping edits (offsets into the current text).

        Returns the number of edits applied. An empty batch records no step.
        """
        given = edits if type(edits) is list else list(edits)
        if not given:
            return 0
        text = self.text
        # Most batches come sorted (a regex's matches, a scan from left to right): they are
        # checked in the order given and sorted only when that fails. A batch that passes in
        # its own order is already in start, end order (each edit starts at or after the end
        # of the one before), which is the order the stable sort would leave it in; a batch
        # that fails is sorted and checked again, so it raises what it always raised.
        pieces = _spliced(text, given)
        batch = given
        if pieces is None:
            batch = sorted(given, key=_span_key)
            pieces = _spliced(text, batch)
            if pieces is None:
                _raise_conflict(stage, text, batch)
        step = len(self.steps)
        for edit in batch:
            edit.stage = stage
            edit.step = step
        self.text = "".join(pieces)
        self.steps.append(stage)
        self._log_edits(batch)
        return len(batch)

    def _log_edits(self, batch: list[Edit]) -> None:
        log = self._log
        if log and not isinstance(log[-1], EditRun):
            log[-1].extend(batch)
        else:
            log.append(list(batch))

    def apply_parts(self, stage: str, parts: Sequence[LogEntry], text: str | None = None) -> int:
        """Apply one step made of ``parts`` in text order: lists of edits (each list in order,
        checked as :meth:`apply` checks) and runs (:class:`EditRun`). A run is checked only
        at its ends, not edit by edit: the stage that built it guarantees its columns (sorted,
        each ``old`` the text at its span and not ``new``), and the pipeline's restore check
        rebuilds the original from the whole log. ``text``: the text after the step, when the
        stage built it along with the run (:meth:`EditRun.from_split`); otherwise it is built
        here. The parts are checked either way.

        Returns the number of edits applied. Parts without edits are dropped; a step with no
        edit is not recorded.
        """
        kept = [part for part in parts if len(part)]
        if not kept:
            return 0
        built = self._splice_parts(stage, kept, build=text is None)
        text = built if text is None else text
        step = len(self.steps)
        for part in kept:
            if isinstance(part, EditRun):
                part.stage = stage
                part.step = step
                self._log.append(part)
            else:
                for edit in part:
                    edit.stage = stage
                    edit.step = step
                self._log_edits(part)
        self.text = text
        self.steps.append(stage)
        return sum(map(len, kept))

    def _splice_parts(self, stage: str, parts: list[LogEntry], build: bool) -> str:
        """The text after ``parts`` ("" when not ``build``); an :class:`EditConflict` when a
        part overlaps the one before it, or an edit does not hold what it names."""
        text = self.text
        size = len(text)
        pieces: list[str] = []
        cursor = 0
        for part in parts:
            if isinstance(part, EditRun):
                if part.starts[0] < cursor or part.ends[-1] > size:
                    raise EditConflict(f"stage {stage!r} rule {part.rule!r}: a run overlaps the edits before it")
                if build:
                    pieces.append(part.new.join(part.gaps(text, cursor)))
                    pieces.append(part.new)
                cursor = part.ends[-1]
                continue
            # An edit list's pieces are built even when the text is given (a few edits a step).
            end = _splice_into(pieces, text, part, cursor)
            if end is None:
                _raise_conflict(stage, text, part, cursor)
            cursor = end
        if not build:
            return ""
        pieces.append(text[cursor:])
        return "".join(pieces)

    def flag(
        self,
        stage: str,
        rule: str,
        start: int,
        end: int,
        reason: str,
        details: Mapping[str, Any] | None = None,
        guess: bool = False,
    ) -> None:
        """Note a suspicious span without changing it (offsets into the current text);
        ``details`` are more fields for the record (a count, say). ``guess``: the span holds
        characters a repair guessed (not read from the input), which the run summary counts
        per rule."""
        flag: dict[str, Any] = {
            "stage": stage,
            "rule": rule,
            "step": len(self.steps),
            "start": start,
            "end": end,
            "text": self.text[start:end],
            "reason": reason,
            **(details or {}),
        }
        if guess:
            flag["guess"] = True
        self.flags.append(flag)

    def guessed_share(self) -> float:
        """The share of the text's non-blank characters that repairs guessed (flags with ``guess``)."""
        guessed = sum(flag["end"] - flag["start"] for flag in self.flags if flag.get("guess"))
        visible = len(self.text) - sum(map(self.text.count, " \n"))
        return min(1.0, guessed / visible) if visible else 0.0


def _spliced(text: str, batch: list[Edit]) -> list[str] | None:
    """The pieces of ``text`` with ``batch`` applied in its order (None: an edit overlaps the
    one before it, lies outside the text, does not hold the text it names, or changes nothing)."""
    pieces: list[str] = []
    cursor = _splice_into(pieces, text, batch, 0)
    if cursor is None:
        return None
    pieces.append(text[cursor:])
    return pieces


def _splice_into(pieces: list[str], text: str, batch: list[Edit], cursor: int) -> int | None:
    """Append to ``pieces`` the text from ``cursor`` to each edit of ``batch`` and its new text,
    in the batch's order; where the last edit ends (None: an edit fails :func:`_spliced`'s checks)."""
    append = pieces.append
    size = len(text)
    for edit in batch:
        start = edit.start
        end = edit.end
        old = edit.old
        new = edit.new
        if start < cursor or end < start or end > size or text[start:end] != old or old == new:
            return None
        append(text[cursor:start])
        append(new)
        cursor = end
    return cursor


def _raise_conflict(stage: str, text: str, batch: list[Edit], cursor: int = 0) -> NoReturn:
    """Raise the :class:`EditConflict` of the first edit of the (sorted) ``batch`` that fails,
    ``cursor`` being where the edits before the batch end."""
    for edit in batch:
        if edit.start < cursor or edit.end < edit.start or edit.end > len(text):
            raise EditConflict(
                f"stage {stage!r} rule {edit.rule!r}: edit [{edit.start}, {edit.end}) overlaps "
                f"a previous edit or lies outside the text (length {len(text)})"
            )
        if text[edit.start : edit.end] != edit.old:
            raise EditConflict(f"stage {stage!r} rule {edit.rule!r}: edit's old text does not match the span")
        if edit.old == edit.new:
            raise EditConflict(f"stage {stage!r} rule {edit.rule!r}: edit changes nothing")
        cursor = edit.end
    raise AssertionError("unreachable: _spliced refused a batch that passes every check")


def undo_step(text: str, edits: Sequence[Edit]) -> str:
    """Rebuild a step's input text from its output and its (sorted) edits."""
    return _undo_parts(text, edits)


def undo_steps(text: str, edits: Sequence[Edit]) -> str:
    """Rebuild the original text from the final text and the full edit log."""
    by_step: dict[int, list[Edit]] = {}
    for edit in edits:
        by_step.setdefault(edit.step, []).append(edit)
    for step in sorted(by_step, reverse=True):
        batch = sorted(by_step[step], key=_span_key)
        text = undo_step(text, batch)
    return text


def undo_log(text: str, log: Sequence[LogEntry]) -> str:
    """Rebuild the original text from the final text and a document's :attr:`Document.log`:
    :func:`undo_steps` for the edits as objects, the runs undone as whole columns."""
    by_step: dict[int, list[Edit | EditRun]] = {}
    runs: set[int] = set()
    for entry in log:
        if isinstance(entry, EditRun):
            by_step.setdefault(entry.step, []).append(entry)
            runs.add(entry.step)
            continue
        for edit in entry:
            by_step.setdefault(edit.step, []).append(edit)
    for step in sorted(by_step, reverse=True):
        items = by_step[step]
        if step in runs:
            text = _undo_parts(text, items)
            continue
        # Edits only, in the order given (the setter takes any): sorted as undo_steps does.
        text = _undo_parts(text, sorted(items, key=_span_key))
    return text


def _undo_parts(text: str, items: Sequence[Edit | EditRun]) -> str:
    """Undo one step from its output and its parts (edits and runs) in text order: each part's
    ``new`` must stand where the step wrote it, and its ``old`` goes back in its place."""
    pieces: list[str] = []
    cursor = 0
    delta = 0
    for item in items:
        if isinstance(item, Edit):
            out_start = item.start + delta
            out_end = out_start + len(item.new)
            if out_start < cursor or text[out_start:out_end] != item.new:
                raise EditConflict(
                    f"cannot undo {item.stage}/{item.rule} at {item.start}: the text there is not what the step wrote"
                )
            pieces.append(text[cursor:out_start])
            pieces.append(item.old)
            cursor = out_end
            delta += len(item.new) - len(item.old)
            continue
        run = item
        starts = run.out_starts(delta)
        size = len(run.new)
        ends = list(map(add, starts, repeat(size))) if size else starts
        if starts[0] < cursor or (
            size and list(map(text.__getitem__, map(slice, starts, ends))).count(run.new) != len(starts)
        ):
            raise EditConflict(
                f"cannot undo {run.stage}/{run.rule} at {run.starts[0]}: the text there is not what the step wrote"
            )
        merged = [""] * (2 * len(starts))
        merged[0::2] = map(text.__getitem__, map(slice, chain((cursor,), ends), starts))
        merged[1::2] = run.olds
        pieces += merged
        cursor = ends[-1]
        delta += size * len(starts) - run.chars_removed()
    pieces.append(text[cursor:])
    return "".join(pieces)
