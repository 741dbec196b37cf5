"""``cleankit stats``: what the pipeline did to a whole output folder, from provenance alone.

Built only on the generic parts of a record (``status``, ``stats`` per ``stage/rule``,
``edits``, ``encoding``, ``duplicate_of``), so a new stage's rules show up without changes
here. No text is read: the share of each original that was removed comes from the
alignment of its edit coordinates (:func:`cleankit.audit.align`).

Layout edits (only line breaks: :func:`cleankit.audit.records.is_layout`) are counted apart:
``rules`` and ``stages`` keep every edit as the rule saw it (the figures of ``summary.json``)
and say how many of them were layout (``layout_edits``, ``layout_chars_removed``,
``layout_chars_added``); removed characters and shares count only what was not layout.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from cleankit.audit.records import FAILED, is_layout, removed_share
from cleankit.core.records import ProvenanceRecord, RuleTotals
from cleankit.core.stats import COUNTS, add_document_totals


@dataclass
class DocumentShare:
    """How much of one document's original text did not survive."""

    source: str
    id: str
    status: str
    original_chars: int
    clean_chars: int
    removed_chars: int
    rules: list[str]  # the rules that changed its text (not only its layout), most characters removed first
    layout_chars: int = 0  # original line breaks only laid out differently

    @property
    def share(self) -> float:
        return self.removed_chars / self.original_chars if self.original_chars else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "id": self.id,
            "status": self.status,
            "original_chars": self.original_chars,
            "clean_chars": self.clean_chars,
            "removed_chars": self.removed_chars,
            "removed_share": round(self.share, 6),
            "layout_chars": self.layout_chars,
            "rules": self.rules,
        }


def document_share(record: ProvenanceRecord) -> DocumentShare:
    removed, layout, original = removed_share(record)
    content: Counter[str] = Counter()
    for edit in record.get("edits", []):
        if not is_layout(edit):
            content[f"{edit['stage']}/{edit['rule']}"] += len(edit["old"])
    return DocumentShare(
        source=record["source"],
        id=record.get("id", ""),
        status=record.get("status", "ok"),
        original_chars=original,
        clean_chars=record.get("output_chars", 0),
        removed_chars=removed,
        rules=sorted(content, key=lambda key: (-content[key], key)),
        layout_chars=layout,
    )


LAYOUT_COUNTS = ("layout_edits", "layout_chars_removed", "layout_chars_added")


def layout_totals(record: ProvenanceRecord) -> dict[str, dict[str, int]]:
    """Per ``stage/rule`` of one record: how many of its edits were layout, and their characters."""
    totals: dict[str, dict[str, int]] = {}
    for edit in record.get("edits", []):
        if is_layout(edit):
            entry = totals.setdefault(f"{edit['stage']}/{edit['rule']}", dict.fromkeys(LAYOUT_COUNTS, 0))
            entry["layout_edits"] += 1
            entry["layout_chars_removed"] += len(edit["old"])
            entry["layout_chars_added"] += len(edit["new"])
    return totals


def _record_key(record: ProvenanceRecord) -> str:
    return record.get("id") or record["source"]


def duplicate_clusters(records: list[ProvenanceRecord]) -> list[dict[str, Any]]:
    """Clusters of documents marked ``duplicate_of`` another, each with the copy kept.

    ``duplicate_of`` may name the kept copy by id, by source or by output path; chains
    (a duplicate of a duplicate) are followed to the copy at their end.
    """
    by_name: dict[str, ProvenanceRecord] = {}
    for record in records:
        for name in (record.get("output"), record["source"], record.get("id")):
            if name:
                by_name.setdefault(name, record)
    parent: dict[str, str] = {}
    for record in records:
        target = record.get("duplicate_of")
        if target:
            kept = by_name.get(str(target))
            parent[_record_key(record)] = _record_key(kept) if kept else str(target)

    def root(key: str) -> str:
        seen = set()
        while key in parent and key not in seen:
            seen.add(key)
            key = parent[key]
        return key

    members: dict[str, list[ProvenanceRecord]] = {}
    for record in records:
        if record.get("duplicate_of"):
            members.setdefault(root(_record_key(record)), []).append(record)
    by_key = {_record_key(r): r for r in records}
    clusters: list[dict[str, Any]] = []
    for kept_key, duplicates in members.items():
        kept = by_key.get(kept_key)
        clusters.append(
            {
                "kept": kept["source"] if kept else kept_key,
                "kept_id": kept.get("id") if kept else None,
                "kept_found": kept is not None,
                "size": len(duplicates) + 1,
                "duplicates": [
                    {"source": r["source"], "id": r.get("id"), "similarity": r.get("similarity")} for r in duplicates
                ],
            }
        )
    clusters.sort(key=lambda c: (-c["size"], c["kept"]))
    return clusters


def corpus_stats(
    records: list[ProvenanceRecord], top: int = 20, shares_by_index: dict[int, DocumentShare] | None = None
) -> dict[str, Any]:
    """Totals per stage and per rule, encodings, duplicate clusters, failures, and the
    ``top`` documents with the largest share of their original removed.

    ``shares_by_index`` (record index → :func:`document_share`) saves aligning twice when
    the caller needs the per-document figures too."""
    statuses: Counter[str] = Counter()
    encodings: Counter[str] = Counter()
    rules: dict[str, RuleTotals] = {}
    stages: dict[str, dict[str, Any]] = {}
    shares: list[DocumentShare] = []
    failures = []
    layout_rules: dict[str, dict[str, int]] = {}
    layout_documents = 0
    for index, record in enumerate(records):
        status = record.get("status", "ok")
        statuses[status] += 1
        if status == FAILED:
            failures.append({"source": record["source"], "error": record.get("error", "")})
            continue
        encoding = record.get("encoding")
        if encoding:
            encodings[encoding["name"]] += 1
        touched_stages = set()
        layout = layout_totals(record)
        for key, entry in record.get("stats", {}).items():
            stage = key.split("/", 1)[0]
            touched_stages.add(stage)
            total = add_document_totals(rules, key, entry)
            if entry.get("reason"):
                total.setdefault("reason", entry["reason"])
            stage_total = stages.setdefault(stage, {"documents": 0, "edits": 0, "chars_removed": 0, "chars_added": 0})
            for name in COUNTS:
                stage_total[name] += entry.get(name, 0)
            for name, count in layout.get(key, {}).items():
                layout_rules.setdefault(key, dict.fromkeys(LAYOUT_COUNTS, 0))[name] += count
                stage_total[name] = stage_total.get(name, 0) + count
        if layout:
            layout_documents += 1
        for stage in touched_stages:
            stages[stage]["documents"] += 1
        shares.append(shares_by_index[index] if shares_by_index is not None else document_share(record))
    original = sum(s.original_chars for s in shares)
    removed = sum(s.removed_chars for s in shares)
    for key, counts in layout_rules.items():
        rules[key]["layout_edits"] = counts["layout_edits"]
        rules[key]["layout_chars_removed"] = counts["layout_chars_removed"]
        rules[key]["layout_chars_added"] = counts["layout_chars_added"]
    clusters = duplicate_clusters(records)
    # Documents a later stage set aside as a whole (duplicates...) are listed with their
    # clusters; the largest shares that matter for a rule gone wrong are among the kept.
    ranked = sorted((s for s in shares if s.status == "ok"), key=lambda s: (-s.share, s.source))
    histogram = [0] * 10
    for share in shares:
        histogram[min(9, int(share.share * 10))] += 1
    return {
        "documents": len(records),
        "statuses": dict(statuses.most_common()),
        "original_chars": original,
        "clean_chars": sum(s.clean_chars for s in shares),
        "removed_chars": removed,
        "removed_share": round(removed / original, 6) if original else 0.0,
        "layout_chars": sum(s.layout_chars for s in shares),
        "layout": {
            "documents": layout_documents,
            "edits": sum(counts["layout_edits"] for counts in layout_rules.values()),
            "rules": sorted(layout_rules),
        },
        "stages": dict(sorted(stages.items())),
        "rules": dict(sorted(rules.items())),
        "encodings": dict(encodings.most_common()),
        "removed_share_histogram": {f"{i * 10}-{i * 10 + 10}%": n for i, n in enumerate(histogram)},
        "duplicates": {
            "clusters": len(clusters),
            "documents_marked": sum(c["size"] - 1 for c in clusters),
            "cluster_sizes": dict(sorted(Counter(c["size"] for c in clusters).items())),
            "largest": clusters[:top],
        },
        "largest_share_removed": [s.to_json() for s in ranked[:top]],
        "failures": failures,
    }
