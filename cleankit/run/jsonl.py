"""JSON Lines input: every line is a document, and the output stays aligned with the input.

Line N of the output file is line N of the input file, always (the design datatrove and
most dataset tools rely on, so a cleaned file can be joined back to its input line by line):

- a cleaned line is the input object with its ``text_field`` cleaned and every other field
  carried through unchanged;
- a line that cannot be cleaned (not JSON, not an object, no string text field, a stage
  bug) is written through with a status field (``jsonl_status_field``, default
  ``cleankit``): ``{"status": "failed", "error": "..."}`` added to the object, or, for a
  line that is no JSON object at all, ``{"cleankit": {"status": "failed", "error": "...",
  "line": "<the input line>"}}``. Its provenance record says the same (``status: failed``);
- a blank line stays a blank line;
- a near-duplicate (or exact duplicate) of another line, in this run or an earlier one into
  the same output folder, is decided as documents of a folder run are
  (:class:`cleankit.neardup.crawl.NearDupPass`): its line keeps every other field, its text
  field becomes ``""`` and its status field says ``{"status": "duplicate", "duplicate_of":
  "corpus.jsonl#2", "similarity": 0.97}``; with ``keep_duplicates`` the cleaned text stays
  and the status field is added all the same. Its provenance record gets ``status:
  duplicate``, ``duplicate_of`` and ``similarity`` and, when the text was dropped, the step
  ``neardup/duplicate-document`` that removes it, so ``cleankit restore`` still rebuilds
  the original line's text from the record alone. The rewritten file and records are
  handed to the run's end-of-run journal (:mod:`cleankit.run.state`) as a folder run's
  decisions are, so a run killed at any moment leaves the file before or after them, and
  the run state records the rewritten file (a rerun skips it).

A document's source is ``FILE#LINE`` (line numbers from 1).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleankit.core.corpus_pass import CorpusPass, ObservationBatch, RecordChanges
from cleankit.core.document import Document, Edit
from cleankit.core.errors import InputError, StageBug
from cleankit.core.pipeline import Pipeline
from cleankit.core.provenance import build_record, dumps, failure_record
from cleankit.core.records import ProvenanceRecord
from cleankit.core.settings import Settings
from cleankit.neardup.crawl import NearDupInput, NearDupPass, _append_step

# Re-exported (the sniffing lives apart, so that a run of one page need not import this module).
from cleankit.run.json_kind import JSON_SUFFIXES as JSON_SUFFIXES
from cleankit.run.json_kind import SNIFF_BYTES as SNIFF_BYTES
from cleankit.run.json_kind import json_kind as json_kind


def _split_lines(content: str) -> list[str]:
    """The lines of a JSON Lines text; a final line break ends the last line, it does not
    start an empty one."""
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


@dataclass
class JsonlResult:
    records: list[ProvenanceRecord]
    lines: list[str]
    observations: dict[str, ObservationBatch]


def clean_jsonl(
    pipeline: Pipeline,
    content: str,
    rel: str,
    fingerprint: str,
    output: str | None,
    passes: Sequence[CorpusPass] = (),
) -> JsonlResult:
    """Clean each line of a JSON Lines text (its ``text_field``): one output line per input
    line (see the module docstring), the provenance records (failures included, as
    ``rel#line``) and what the corpus passes observed of each cleaned line."""
    settings = pipeline.settings
    field_name, status_field = settings.text_field, settings.jsonl_status_field
    records: list[ProvenanceRecord] = []
    out_lines: list[str] = []
    # One batch per pass, even an empty one: merging it tells the pass which file was redone.
    observations = {corpus_pass.name: ObservationBatch(rel) for corpus_pass in passes}
    for number, line in enumerate(_split_lines(content), start=1):
        source = f"{rel}#{number}"
        line = line.removesuffix("\r")
        if not line.strip():
            out_lines.append(line)
            continue
        obj: Any = None
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise InputError(f"not a JSON object but {type(obj).__name__}")
            if not isinstance(obj.get(field_name), str):
                raise InputError(f"no string field {field_name!r}")
            document = pipeline.clean_text(obj[field_name], source=source)
        except (json.JSONDecodeError, InputError, StageBug, ValueError, OSError) as exc:
            from cleankit.run.cleaner import internal_error

            error = f"line {number}: {internal_error(exc) if isinstance(exc, StageBug) else exc}"
            record = failure_record(source, error, fingerprint, _line_sha256(line), len(line.encode("utf-8")))
            records.append(record)
            if isinstance(obj, dict):
                obj[status_field] = {"status": "failed", "error": error}
            else:
                obj = {status_field: {"status": "failed", "error": error, "line": line}}
            out_lines.append(dumps(obj))
            continue
        obj[field_name] = document.text
        record = build_record(document, fingerprint, output)
        if output is not None:
            record["output_line"] = number - 1
            record["text_field"] = field_name
        records.append(record)
        out_lines.append(dumps(obj))
        for corpus_pass in passes:
            observation = corpus_pass.observe(document, source)
            if observation is not None:
                observations[corpus_pass.name].append(observation)
    return JsonlResult(records, out_lines, observations)


def _line_sha256(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8", errors="surrogatepass")).hexdigest()


def split_source(source: str) -> tuple[str, int]:
    """``FILE#LINE`` → (FILE, 0-based line index)."""
    name, _, number = source.rpartition("#")
    return name, int(number) - 1


@dataclass
class JsonlNearDupPass(NearDupPass):
    """The crawl's near-duplicate pass over the lines of JSON Lines files.

    Every line is a document, known to the index by its source ``FILE#LINE``; its clean
    text is read from that line of the output file. Duplicates are decided exactly as in a
    folder run; what changes is how a decision is written: the duplicate's line stays (the
    output stays aligned with the input), its text is dropped and its status field says
    what it duplicates (module docstring)."""

    text_field: str = "text"
    status_field: str = "cleankit"
    # The lines of the output files read last: deciding compares lines of few files at once.
    _files: OrderedDict[str, list[str]] = field(default_factory=OrderedDict, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, outdir: Path) -> JsonlNearDupPass:
        base = NearDupPass.from_settings(settings, outdir)
        return cls(
            outdir,
            base.params,
            verify=base.verify,
            keep_duplicates=base.keep_duplicates,
            neardup_paragraphs=base.neardup_paragraphs,
            paragraph_min_chars=base.paragraph_min_chars,
            text_field=settings.text_field,
            status_field=settings.jsonl_status_field,
        )

    def observe(self, document: Document, output: str) -> NearDupInput | None:
        item = super().observe(document, output)
        if item is not None:
            # Ties are broken by the earliest path: line 2 must come before line 10.
            name, index = split_source(output)
            item.quality = (item.quality[0], item.quality[1], f"{name}#{index:012d}")
        return item

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.update(_files=OrderedDict())
        return state

    def read_clean(self, output: str) -> str:
        name, index = split_source(output)
        if name not in self._files:
            self._files[name] = (self.outdir / name).read_bytes().decode("utf-8").split("\n")
            if len(self._files) > 2:
                self._files.popitem(last=False)
        value = json.loads(self._files[name][index])[self.text_field]
        if not isinstance(value, str):
            raise ValueError(f"{output}: no text in field {self.text_field!r}")
        return value

    def merge(self, observation: Any) -> None:
        """A JSON Lines file's batch: the lines an earlier run indexed for this file are
        forgotten (the file was redone), then each line is added."""
        if isinstance(observation, ObservationBatch):
            self._index.forget_lines(observation.file)
            for item in observation:
                self.add(item)
        else:
            self.add(observation)

    def _rewrite(
        self,
        changes: RecordChanges,
        decisions: dict[int, tuple[int | None, float]],
        updates: dict[str, list[Edit]],
    ) -> dict[str, int]:
        """The lines of the duplicates and of documents that lost paragraphs, rewritten in
        their output file (which keeps every line), and their records replaced: handed to the
        run, which journals them."""
        duplicates = self._duplicate_sources(decisions)
        counts = {"duplicates": len(duplicates), "paragraphs_removed": sum(len(e) for e in updates.values())}
        affected = duplicates.keys() | updates.keys()
        files = sorted({split_source(source)[0] for source in affected})
        self._files.clear()
        for file, records in changes.records_of(files).items():
            lines: list[str] | None = None
            new_records: list[ProvenanceRecord] = []
            for record in records:
                source = record["source"]
                if source not in affected or record["status"] == "failed" or "output_line" not in record:
                    new_records.append(record)
                    continue
                if lines is None:
                    lines = (self.outdir / str(record["output"])).read_bytes().decode("utf-8").split("\n")
                obj = json.loads(lines[record["output_line"]])
                field_name = record.get("text_field", self.text_field)
                if source in duplicates:
                    record, obj = self._line_as_duplicate(record, obj, field_name, *duplicates[source])
                else:
                    document = Document(id=record["id"], source=source, text=obj[field_name])
                    document.steps = list(record["steps"])
                    document.apply("neardup", updates[source])
                    record = _append_step(record, document.text, document.edits)
                    obj[field_name] = document.text
                lines[record["output_line"]] = dumps(obj)
                new_records.append(record)
            if lines is None:
                continue
            data = "\n".join(lines).encode("utf-8", errors="surrogatepass")
            for index, record in enumerate(new_records):
                if record["status"] != "failed" and "output_line" in record:
                    record = record.copy()
                    record["output_bytes"] = len(data)
                    new_records[index] = record
            changes.write_output(file, data)
            changes.replace(file, new_records)
        return counts

    def _line_as_duplicate(
        self, record: ProvenanceRecord, obj: dict[str, Any], field_name: str, kept: str, kept_id: str, score: float
    ) -> tuple[ProvenanceRecord, dict[str, Any]]:
        record = record.copy()
        record.update({"status": "duplicate", "duplicate_of": kept, "duplicate_of_id": kept_id, "similarity": score})
        if not self.keep_duplicates:
            text = obj[field_name]
            edit = Edit(
                "neardup", "duplicate-document", 0, len(text), text, "", f"near-duplicate of {kept}", f"doc:{kept}"
            )
            record = _append_step(record, "", [edit])
            obj[field_name] = ""
        obj[self.status_field] = {"status": "duplicate", "duplicate_of": kept, "similarity": score}
        return record, obj
