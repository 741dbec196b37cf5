"""The totals of a run (what the CLI prints and ``summary.json`` holds).

Each worker totals its own file's records (:meth:`RunSummary.add_record`); the parent only
merges those small totals, and the folder's totals are the merge of every finished file's
(kept in the run state), so no provenance record is parsed to write ``summary.json``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cleankit import __version__
from cleankit.core.records import ProvenanceRecord, RuleTotals
from cleankit.core.stats import add_document_totals

if TYPE_CHECKING:
    from cleankit.run.plan import FileResult


@dataclass
class RunSummary:
    """Totals of one run, plus what a reader needs to find each failure."""

    documents: int = 0
    skipped: int = 0
    failed: int = 0
    duplicates: int = 0
    bytes_in: int = 0
    chars_out: int = 0
    seconds: float = 0.0
    rules: dict[str, RuleTotals] = field(default_factory=dict)
    encodings: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)
    # Per ``stage/rule``: rule searches that ran over their time limit (flags with a
    # ``timeouts`` count), the documents they happened in, and those the rule was stopped in.
    timeouts: dict[str, dict[str, int]] = field(default_factory=dict)
    # Per stage/rule of the flags documents carry: documents, flags, and characters guessed.
    flags: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Its fields in order (every result's totals cross a pipe to the parent: plan.FileResult).
        return RunSummary, tuple(getattr(self, name) for name in _FIELDS)

    def add(self, result: FileResult) -> None:
        if result.skipped:
            self.skipped += 1
            self.bytes_in += result.size
            return
        if result.totals is not None:
            self.merge(result.totals)

    def add_record(self, record: ProvenanceRecord) -> None:
        self.bytes_in += record.get("input_bytes", 0)
        if record["status"] == "failed":
            self.failed += 1
            self.failures.append((record["source"], record["error"]))
            return
        self.documents += 1
        self.duplicates += record["status"] == "duplicate"
        self.chars_out += record["output_chars"]
        encoding = record.get("encoding")
        if encoding:
            self.encodings[encoding["name"]] += 1
        for key, stats in record["stats"].items():
            add_document_totals(self.rules, key, stats)
        for flag in record.get("flags") or []:
            count = flag.get("timeouts")
            if isinstance(count, int):
                entry = self.timeouts.setdefault(
                    f"{flag.get('stage')}/{flag.get('rule')}", {"documents": 0, "timeouts": 0, "stopped": 0}
                )
                entry["documents"] += 1
                entry["timeouts"] += count
                entry["stopped"] += bool(flag.get("stopped"))
        self._add_flags(record)
        self.warnings.extend((record["source"], warning) for warning in record.get("warnings", []))

    def _add_flags(self, record: ProvenanceRecord) -> None:
        seen: set[str] = set()
        for flag in record.get("flags") or []:
            key = f"{flag['stage']}/{flag['rule']}"
            entry = self.flags.setdefault(key, {"documents": 0, "flags": 0, "guessed_chars": 0})
            entry["flags"] += 1
            if flag.get("guess"):
                entry["guessed_chars"] += flag["end"] - flag["start"]
            if key not in seen:
                entry["documents"] += 1
                seen.add(key)

    def merge(self, other: RunSummary) -> None:
        self.documents += other.documents
        self.skipped += other.skipped
        self.failed += other.failed
        self.duplicates += other.duplicates
        self.bytes_in += other.bytes_in
        self.chars_out += other.chars_out
        for key, totals in other.rules.items():
            mine = self.rules.get(key)
            if mine is None:
                mine = self.rules[key] = {"documents": 0, "edits": 0, "chars_removed": 0, "chars_added": 0}
            mine["documents"] += totals.get("documents", 0)
            mine["edits"] += totals.get("edits", 0)
            mine["chars_removed"] += totals.get("chars_removed", 0)
            mine["chars_added"] += totals.get("chars_added", 0)
        self.encodings.update(other.encodings)
        self.failures.extend(other.failures)
        for key, counts in other.timeouts.items():
            entry = self.timeouts.setdefault(key, {"documents": 0, "timeouts": 0, "stopped": 0})
            for name in ("documents", "timeouts", "stopped"):
                entry[name] += counts.get(name, 0)
        for key, counts in other.flags.items():
            entry = self.flags.setdefault(key, {"documents": 0, "flags": 0, "guessed_chars": 0})
            for name in ("documents", "flags", "guessed_chars"):
                entry[name] += counts.get(name, 0)
        self.warnings.extend(other.warnings)

    def totals_json(self) -> str:
        """The file-level totals as stored in the run state (:meth:`from_totals` reads them)."""
        data = {
            "documents": self.documents,
            "failed": self.failed,
            "duplicates": self.duplicates,
            "bytes_in": self.bytes_in,
            "chars_out": self.chars_out,
            "rules": self.rules,
            "encodings": dict(self.encodings),
            "failures": self.failures,
            "timeouts": self.timeouts,
            "flags": self.flags,
            "warnings": self.warnings,
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_totals(cls, text: str) -> RunSummary:
        data = json.loads(text)
        return cls(
            documents=data["documents"],
            failed=data["failed"],
            duplicates=data["duplicates"],
            bytes_in=data["bytes_in"],
            chars_out=data["chars_out"],
            rules=data["rules"],
            encodings=Counter(data["encodings"]),
            failures=[(source, error) for source, error in data["failures"]],
            timeouts=data.get("timeouts", {}),
            flags=data.get("flags", {}),
            warnings=[(source, warning) for source, warning in data.get("warnings", [])],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "cleankit": __version__,
            "documents": self.documents,
            "skipped": self.skipped,
            "failed": self.failed,
            "duplicates": self.duplicates,
            "bytes_in": self.bytes_in,
            "chars_out": self.chars_out,
            "seconds": round(self.seconds, 3),
            "rules": dict(sorted(self.rules.items())),
            "encodings": dict(self.encodings.most_common()),
            # In source order: the order results arrive in depends on the engine and the timing
            # (two JSON Lines files on Ray), and summary.json must not.
            "failures": [{"source": s, "error": e} for s, e in sorted(self.failures)],
            "search_timeouts": dict(sorted(self.timeouts.items())),
            "flags": dict(sorted(self.flags.items())),
            "warnings": [{"source": s, "warning": w} for s, w in sorted(self.warnings)],
        }


_FIELDS = tuple(name for name in RunSummary.__dataclass_fields__)
