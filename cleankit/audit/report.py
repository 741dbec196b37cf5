"""``cleankit report``: one self-contained HTML file to review a cleaned corpus in a browser.

Layout: an overview (totals and SVG charts drawn here in Python), a searchable, sortable,
paginated table of every document, and per-document views with each change highlighted and
labelled by stage and rule, with links between duplicates and the copy kept.

Scraped text is hostile, so the page is built in two strictly separated parts:

- markup written here, where every piece of data goes through :func:`html.escape`;
- all per-document data as JSON in ``<script type="application/json">`` (never executed),
  escaped by :func:`script_json` so no text can close the element, and put on the page by
  ``report.js`` only through ``textContent``/``createElement`` (no ``innerHTML``).

On top of that, a Content-Security-Policy allows only the page's own script and style by
hash and no network at all: even a mistake in the escaping could not run injected script.
No templating library: the page has three insertion points, each escaped explicitly.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from cleankit import __version__
from cleankit.audit.records import FAILED, CleanTextReader, is_layout_change, iter_pieces, load_document
from cleankit.audit.stats import DocumentShare, corpus_stats, document_share
from cleankit.core.errors import AuditError
from cleankit.core.records import EditRecord, ProvenanceRecord

# Past these, the page stays responsive by sampling: the table keeps every document, the
# detailed views are limited (largest removed share first, then a seeded random sample).
DEFAULT_DETAILS = 300
DEFAULT_DETAIL_CHARS = 200_000

PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"]


def script_json(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: ``<``, ``>``, ``&`` and the
    JavaScript line separators are written as ``\\u`` escapes (so ``</script>`` and
    ``<!--`` cannot appear), and lone surrogates (undecodable names) as escapes too."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    return re.sub(r"[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text)


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _asset(name: str) -> str:
    return resources.files("cleankit.audit").joinpath("report_assets", name).read_text(encoding="utf-8")


def stage_colour(stage: str, stages: list[str]) -> str:
    return PALETTE[stages.index(stage) % len(PALETTE)] if stage in stages else "#888888"


# --- charts: small inline SVGs, every label escaped -----------------------------------------


def _empty_chart(title: str, chart_id: str, message: str) -> str:
    esc = html.escape
    return f'<figure class="chart" id="{chart_id}"><figcaption>{esc(title)}</figcaption><p>{esc(message)}</p></figure>'


def bar_chart(title: str, rows: list[tuple[str, float, str]], unit: str, chart_id: str) -> str:
    """Horizontal bars: ``rows`` of (label, value, colour)."""
    esc = html.escape
    if not rows:
        return _empty_chart(title, chart_id, "nothing to show")
    bar_height, gap, label_width, width = 18, 6, 260, 640
    height = len(rows) * (bar_height + gap) + gap
    top = max(value for _, value, _ in rows) or 1
    parts = [
        f'<figure class="chart" id="{chart_id}"><figcaption>{esc(title)}</figcaption>',
        f'<svg role="img" aria-label="{esc(title)}" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
    ]
    for i, (label, value, colour) in enumerate(rows):
        y = gap + i * (bar_height + gap)
        length = max(1.0, (width - label_width - 90) * value / top) if value else 0
        shown = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
        parts.append(
            f'<g class="bar"><title>{esc(label)}: {esc(shown)} {esc(unit)}</title>'
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end" font-size="12">{esc(label[:40])}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" fill="{esc(colour)}"></rect>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + 13}" font-size="12">{esc(shown)}</text></g>'
        )
    parts.append("</svg></figure>")
    return "".join(parts)


def column_chart(title: str, rows: list[tuple[str, int]], chart_id: str, colour: str = "#4e79a7") -> str:
    """Vertical bars for a distribution: ``rows`` of (bin label, count)."""
    esc = html.escape
    if not rows or not any(count for _, count in rows):
        return _empty_chart(title, chart_id, "nothing to show")
    width, height, bottom, left = 640, 220, 40, 40
    slot = (width - left) / len(rows)
    top = max(count for _, count in rows) or 1
    parts = [
        f'<figure class="chart" id="{chart_id}"><figcaption>{esc(title)}</figcaption>',
        f'<svg role="img" aria-label="{esc(title)}" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#999"></line>',
    ]
    for i, (label, count) in enumerate(rows):
        bar = (height - bottom - 20) * count / top
        x = left + i * slot + 3
        parts.append(
            f'<g class="bar"><title>{esc(label)}: {count:,}</title>'
            f'<rect x="{x:.1f}" y="{height - bottom - bar:.1f}" width="{slot - 6:.1f}" height="{bar:.1f}" '
            f'fill="{esc(colour)}"></rect>'
            f'<text x="{x + (slot - 6) / 2:.1f}" y="{height - bottom - bar - 4:.1f}" text-anchor="middle" '
            f'font-size="11">{count:,}</text>'
            f'<text x="{x + (slot - 6) / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
            f'font-size="10">{esc(label)}</text></g>'
        )
    parts.append("</svg></figure>")
    return "".join(parts)


# --- data for the page ------------------------------------------------------------------------


@dataclass
class ReportOptions:
    details: int = DEFAULT_DETAILS
    detail_chars: int = DEFAULT_DETAIL_CHARS
    seed: int = 0
    title: str = ""


def _pick_details(shares: dict[int, DocumentShare], limit: int, seed: int) -> tuple[list[int], str]:
    """Which documents get a detailed view, and the sentence that says so on the page."""
    candidates = sorted(shares)
    if len(candidates) <= limit:
        return candidates, f"Every document ({len(candidates):,}) has a detailed view."
    by_share = sorted(candidates, key=lambda i: (-shares[i].share, i))
    largest = by_share[: limit // 2]
    rest = sorted(set(candidates) - set(largest))
    sample = random.Random(seed).sample(rest, limit - len(largest))
    note = (
        f"Detailed views for {limit:,} of {len(candidates):,} documents: the {len(largest):,} with the largest "
        f"share removed and {len(sample):,} drawn at random (seed {seed}). Every document is in the table; "
        "for the others use `cleankit diff OUTDIR SOURCE`."
    )
    return sorted(largest + sample), note


def _reasons(record: ProvenanceRecord, edit: EditRecord) -> str:
    if edit.get("reason"):
        return edit["reason"]
    return record.get("stats", {}).get(f"{edit['stage']}/{edit['rule']}", {}).get("reason", "")


def _detail(
    record: ProvenanceRecord, read_clean: CleanTextReader, labels: dict[str, int], max_chars: int
) -> dict[str, Any]:
    """Pieces of the original: a string (unchanged) or ``[old, new, [label...], reason, [ref...],
    layout]`` (``layout`` 1 when the change only lays out line breaks: hidden by default)."""
    try:
        doc = load_document(record, read_clean)
    except AuditError as exc:
        return {"error": str(exc)}
    edits = record["edits"]
    pieces: list[Any] = []
    shown = 0
    truncated = False
    for old, new, change in iter_pieces(doc):
        if shown >= max_chars:
            truncated = True
            break
        shown += len(old)
        if change is None:
            pieces.append(old)
            continue
        keys = list(dict.fromkeys(f"{edits[i]['stage']}/{edits[i]['rule']}" for i in change.edits))
        reasons = list(dict.fromkeys(r for r in (_reasons(record, edits[i]) for i in change.edits) if r))
        refs = list(dict.fromkeys(str(edits[i]["ref"]) for i in change.edits if edits[i].get("ref")))
        layout = int(is_layout_change(change, edits))
        pieces.append([old, new, [labels.setdefault(k, len(labels)) for k in keys], "; ".join(reasons), refs, layout])
    return {"pieces": pieces, "truncated": truncated, "original_chars": len(doc.original)}


def build_report_data(
    records: list[ProvenanceRecord], outdir: Path, options: ReportOptions
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(statistics as from ``cleankit stats``, the JSON the page's script reads)."""
    shares = {i: document_share(r) for i, r in enumerate(records) if r.get("status") != FAILED}
    figures = corpus_stats(records, top=20, shares_by_index=shares)
    stages = sorted(figures["stages"])
    labels: dict[str, int] = {key: n for n, key in enumerate(sorted(figures["rules"]))}
    names: dict[str, int] = {}
    for index, record in enumerate(records):
        for name in (record.get("output"), record["source"], record.get("id")):
            if name:
                names.setdefault(str(name), index)
    chosen, note = _pick_details(shares, options.details, options.seed)
    read_clean = CleanTextReader(outdir)
    details = {str(i): _detail(records[i], read_clean, labels, options.detail_chars) for i in chosen}
    duplicates: dict[int, list[int]] = {}
    docs = []
    for index, record in enumerate(records):
        share = shares.get(index)
        target = record.get("duplicate_of")
        kept = names.get(str(target)) if target else None
        if kept is not None:
            duplicates.setdefault(kept, []).append(index)
        docs.append(
            {
                "source": record["source"],
                "id": record.get("id", ""),
                "status": record.get("status", "ok"),
                "encoding": (record.get("encoding") or {}).get("name", ""),
                "original": share.original_chars if share else None,
                "clean": share.clean_chars if share else None,
                "removed": share.removed_chars if share else None,
                "share": round(share.share, 6) if share else None,
                "edits": len(record.get("edits", [])),
                "rules": [labels.setdefault(k, len(labels)) for k in record.get("stats", {})],
                "duplicate_of": str(target) if target else None,
                "kept": kept,
                "similarity": record.get("similarity"),
                "error": record.get("error", ""),
                "metadata": record.get("metadata") or {},
                "flags": record.get("flags") or [],
            }
        )
    for kept, members in duplicates.items():
        docs[kept]["duplicates"] = members
    label_list = sorted(labels, key=labels.__getitem__)
    page_data = {
        "labels": label_list,
        "label_stage": [stages.index(k.split("/")[0]) if k.split("/")[0] in stages else -1 for k in label_list],
        "reasons": {k: v.get("reason", "") for k, v in figures["rules"].items()},
        "docs": docs,
        "details": details,
        "sampling_note": note,
        "palette": PALETTE,
    }
    return figures, page_data


def _content(entry: dict[str, Any]) -> tuple[int, int]:
    """(edits, characters removed) of a stats row without its layout edits."""
    return (
        entry["edits"] - entry.get("layout_edits", 0),
        entry["chars_removed"] - entry.get("layout_chars_removed", 0),
    )


def render_report(outdir: Path, records: list[ProvenanceRecord], options: ReportOptions | None = None) -> str:
    """The whole HTML page."""
    options = options or ReportOptions()
    esc = html.escape
    figures, data = build_report_data(records, outdir, options)
    stages = sorted(figures["stages"])
    # Layout edits (only line breaks) are not removals: the bars count what the rule removed
    # apart from them, and a rule that only laid text out has no bar (the totals count it).
    content = {key: _content(entry) for key, entry in figures["rules"].items()}
    rules = sorted((kv for kv in content.items() if kv[1][0]), key=lambda kv: (-kv[1][1], kv[0]))
    rule_rows = [(key, float(removed), stage_colour(key.split("/")[0], stages)) for key, (_, removed) in rules]
    stage_content = {s: _content(figures["stages"][s]) for s in stages}
    stage_rows = [(s, float(stage_content[s][1]), stage_colour(s, stages)) for s in stages if stage_content[s][0]]
    encodings = [(name, float(count), "#76b7b2") for name, count in figures["encodings"].items()]
    histogram = list(figures["removed_share_histogram"].items())
    sizes = figures["duplicates"]["cluster_sizes"]
    size_rows = [(f"{size} docs", count) for size, count in sorted(Counter(sizes).items())]
    charts = "".join(
        [
            bar_chart("Characters removed per stage", stage_rows, "characters", "chart-stages"),
            bar_chart("Characters removed per stage and rule", rule_rows, "characters", "chart-rules"),
            column_chart("Documents by share of the original removed", histogram, "chart-share"),
            bar_chart("Encodings seen", encodings, "documents", "chart-encodings"),
            column_chart("Duplicate clusters by size", size_rows, "chart-clusters", "#b07aa1")
            if size_rows
            else _empty_chart(
                "Duplicate clusters by size", "chart-clusters", "No document in this folder is marked as a duplicate."
            ),
        ]
    )
    statuses = ", ".join(f"{esc(name)} {count:,}" for name, count in figures["statuses"].items())
    title = options.title or f"cleankit report: {outdir.resolve().name}"
    script, style = _asset("report.js"), _asset("report.css")
    csp = (
        f"default-src 'none'; script-src {_csp_hash(script)}; style-src {_csp_hash(style)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    legend = "".join(
        f'<li><span class="swatch swatch-{i % len(PALETTE)}"></span>{esc(stage)}</li>' for i, stage in enumerate(stages)
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<link rel="icon" href="data:,">
<style>{style}</style>
</head>
<body>
<header>
<h1>{esc(title)}</h1>
<p class="meta">cleankit {esc(__version__)} · generated {esc(generated)} · folder {esc(str(outdir))}</p>
<nav><a href="#overview">Overview</a> <a href="#documents">Documents</a> <a href="#document">Document view</a></nav>
</header>
<main>
<section id="overview">
<h2>Overview</h2>
<dl class="totals">
<div><dt>documents</dt><dd id="total-documents">{figures["documents"]:,}</dd></div>
<div><dt>by status</dt><dd>{statuses}</dd></div>
<div><dt>original characters</dt><dd>{figures["original_chars"]:,}</dd></div>
<div><dt>changed or removed</dt><dd>{figures["removed_chars"]:,} ({figures["removed_share"]:.2%})</dd></div>
<div><dt>layout edits (line breaks only, not counted as removed)</dt>
<dd id="total-layout">{figures["layout"]["edits"]:,}</dd></div>
<div><dt>clean characters</dt><dd>{figures["clean_chars"]:,}</dd></div>
<div><dt>duplicate clusters</dt><dd>{figures["duplicates"]["clusters"]:,}</dd></div>
</dl>
<ul class="legend">{legend}</ul>
<div class="charts">{charts}</div>
</section>
<section id="documents">
<h2>Documents</h2>
<p class="note" id="sampling-note"></p>
<div class="controls">
<label>Search <input id="search" type="search" placeholder="name, status, encoding, stage/rule…"
 autocomplete="off"></label>
<span id="count"></span>
<button id="prev" type="button">◀ previous</button> <span id="page"></span>
<button id="next" type="button">next ▶</button>
</div>
<table id="doc-table">
<thead><tr>
<th data-key="source" aria-sort="none">document</th><th data-key="status" aria-sort="none">status</th>
<th data-key="encoding" aria-sort="none">encoding</th><th data-key="original" aria-sort="none">original chars</th>
<th data-key="clean" aria-sort="none">clean chars</th><th data-key="share" aria-sort="descending">removed</th>
<th data-key="edits" aria-sort="none">edits</th><th data-key="rules" aria-sort="none">stage/rule</th>
<th data-key="duplicate_of" aria-sort="none">duplicate of / note</th>
</tr></thead>
<tbody></tbody>
</table>
</section>
<section id="document">
<h2>Document view</h2>
<p class="note">Choose a document in the table. Removed text is <del>struck out in red</del>, inserted text
<ins>green</ins>; each change is followed by its <span class="label">stage/rule</span> label (hover for the reason).
Invisible characters are shown: · space, → tab, ␍ CR, ↵ line break, ⟨U+XXXX⟩ others. Layout edits (only line
breaks) are hidden until "show layout edits" is ticked; a rule's chip above the text shows only its changes.</p>
<div id="doc-view"></div>
</section>
</main>
<script type="application/json" id="cleankit-data">{script_json(data)}</script>
<script>{script}</script>
</body>
</html>
"""


def write_report(outdir: Path, output: Path, options: ReportOptions | None = None) -> dict[str, Any]:
    """Write the report for ``outdir`` to ``output``; returns a few figures for the caller."""
    from cleankit.audit.records import read_outdir
    from cleankit.io.files import write_atomic

    records = read_outdir(outdir)
    page = render_report(outdir, records, options)
    write_atomic(output, page.encode("utf-8"))
    return {"documents": len(records), "bytes": len(page.encode("utf-8"))}
