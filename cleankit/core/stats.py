"""Per-rule edit totals: one shape (``edits``, ``chars_removed``, ``chars_added``, and
``documents`` when summed over documents) built in one place for provenance records, the
crawl pass, run summaries and corpus statistics."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cleankit.core.document import Edit, EditRun, LogEntry
from cleankit.core.records import RuleTotals

COUNTS = ("edits", "chars_removed", "chars_added")


def edit_totals(edits: Iterable[Edit], stats: dict[str, RuleTotals] | None = None) -> dict[str, RuleTotals]:
    """Totals per ``stage/rule`` of ``edits``, added to ``stats`` when given."""
    stats = {} if stats is None else stats
    # A step's edits are consecutive and mostly of one rule: the entry is looked up again
    # only when the stage or rule changes.
    stage = rule = None
    entry: RuleTotals = {}
    for edit in edits:
        if edit.rule != rule or edit.stage != stage:
            stage, rule = edit.stage, edit.rule
            found = stats.get(f"{stage}/{rule}")
            if found is None:
                found = stats[f"{stage}/{rule}"] = {"edits": 0, "chars_removed": 0, "chars_added": 0}
            entry = found
        entry["edits"] += 1
        entry["chars_removed"] += len(edit.old)
        entry["chars_added"] += len(edit.new)
    return stats


def log_totals(log: Sequence[LogEntry], stats: dict[str, RuleTotals] | None = None) -> dict[str, RuleTotals]:
    """:func:`edit_totals` of a document's edit log (:attr:`Document.log`), a run counted
    from its columns."""
    stats = {} if stats is None else stats
    for entry in log:
        if not isinstance(entry, EditRun):
            edit_totals(entry, stats)
            continue
        key = f"{entry.stage}/{entry.rule}"
        found = stats.get(key)
        if found is None:
            found = stats[key] = {"edits": 0, "chars_removed": 0, "chars_added": 0}
        size = len(entry)
        found["edits"] += size
        found["chars_removed"] += entry.chars_removed()
        found["chars_added"] += size * len(entry.new)
    return stats


def add_document_totals(totals: dict[str, RuleTotals], key: str, entry: RuleTotals) -> RuleTotals:
    """Add one document's totals for ``key`` to corpus totals (which also count documents)."""
    total = totals.get(key)
    if total is None:
        total = totals[key] = {"documents": 0, "edits": 0, "chars_removed": 0, "chars_added": 0}
    total["documents"] += 1
    total["edits"] += entry.get("edits", 0)
    total["chars_removed"] += entry.get("chars_removed", 0)
    total["chars_added"] += entry.get("chars_added", 0)
    return total
