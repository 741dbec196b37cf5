"""The totals of a run (what the CLI prints and ``summary.json`` holds)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cleankit import __version__
from cleankit.core.records import ProvenanceRecord, RuleTotals
from cleankit.core.stats import add_document_totals
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

    def add(self, result: FileResult) -> None:
        if result.skipped:
            self.skipped += 1
            self.bytes_in += result.size
            return
        for record in result.records:
            self.add_record(record)

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
            "failures": [{"source": s, "error": e} for s, e in self.failures],
            "search_timeouts": dict(sorted(self.timeouts.items())),
        }
