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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
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
    edits: list[Edit] = field(default_factory=list)
    # Names of the stages that applied each step, in order (index == step number).
    steps: list[str] = field(default_factory=list)
    # Set by a stage that decides the whole document is not to be written (e.g. a duplicate).
    status: Status = "ok"
    flags: list[dict[str, Any]] = field(default_factory=list)

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
        self.edits.extend(batch)
        return len(batch)

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
    append = pieces.append
    cursor = 0
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
    append(text[cursor:])
    return pieces


def _raise_conflict(stage: str, text: str, batch: list[Edit]) -> NoReturn:
    """Raise the :class:`EditConflict` of the first edit of the (sorted) ``batch`` that fails."""
    cursor = 0
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
    pieces: list[str] = []
    cursor = 0
    delta = 0
    for edit in edits:
        out_start = edit.start + delta
        out_end = out_start + len(edit.new)
        if out_start < cursor or text[out_start:out_end] != edit.new:
            raise EditConflict(
                f"cannot undo {edit.stage}/{edit.rule} at {edit.start}: the text there is not what the step wrote"
            )
        pieces.append(text[cursor:out_start])
        pieces.append(edit.old)
        cursor = out_end
        delta += len(edit.new) - len(edit.old)
    pieces.append(text[cursor:])
    return "".join(pieces)


def undo_steps(text: str, edits: Sequence[Edit]) -> str:
    """Rebuild the original text from the final text and the full edit log."""
    by_step: dict[int, list[Edit]] = {}
    for edit in edits:
        by_step.setdefault(edit.step, []).append(edit)
    for step in sorted(by_step, reverse=True):
        batch = sorted(by_step[step], key=_span_key)
        text = undo_step(text, batch)
    return text
