"""``cleankit diff``: the original against the clean text, as hunks of whole lines.

Hunks come from the alignment (:mod:`cleankit.audit.records`), not from a text diff: a line block is
cut only where both texts are at a line start *and* aligned (in unchanged text), so every
hunk holds exactly the changes the pipeline made, each known by stage and rule. Two views:

- :func:`unified` — a plain unified diff (``patch``/``git apply`` take it); the labels of a
  hunk's changes go after its ``@@ … @@`` header, where diff tools allow free text;
- :func:`render_inline` — for a terminal: the original lines with each change shown in
  place (removed text struck out in red, inserted text in green, whitespace made visible)
  and followed by its ``⟨stage/rule⟩`` label; without colour, ``[-removed-]{+inserted+}``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from rich.text import Text

from cleankit.audit.records import AuditedDocument, Change, labels_of
from cleankit.core.records import EditRecord


@dataclass
class Block:
    """Whole lines: ``orig_lines`` (from line ``orig_line``, 0-based) became ``clean_lines``.
    Unchanged blocks are one line each and have no ``changes``."""

    orig_start: int
    orig_end: int
    orig_line: int
    clean_line: int
    orig_lines: list[str]
    clean_lines: list[str]
    changes: list[Change] = field(default_factory=list)


def _at_line_start(text: str, position: int) -> bool:
    return position == 0 or position == len(text) or text[position - 1] == "\n"


def _lines(text: str) -> list[str]:
    """Lines ending at LF only (``str.splitlines`` would also cut at CR, U+2028 …)."""
    if not text:
        return []
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def blocks(doc: AuditedDocument) -> list[Block]:
    """The document as a sequence of unchanged lines and changed line blocks."""
    original, clean = doc.original, doc.clean
    points: list[tuple[int, int, list[Change]]] = [(0, 0, [])]
    passed: list[Change] = []

    def sync(o: int, c: int) -> None:
        nonlocal passed
        if points[-1][0] == o and points[-1][1] == c:
            return
        points.append((o, c, passed))
        passed = []

    o = c = 0
    for change in [*doc.changes, None]:
        gap_end = change.orig_start if change else len(original)
        if _at_line_start(original, o) and _at_line_start(clean, c):
            sync(o, c)
        newline = original.find("\n", o, gap_end)
        while newline != -1:
            sync(newline + 1, c + newline + 1 - o)
            newline = original.find("\n", newline + 1, gap_end)
        if change is None:
            sync(len(original), len(clean))
            break
        if change.orig_end > change.orig_start or change.clean_end > change.clean_start:
            passed.append(change)
        # (An empty change, text written by one step and removed by a later one, has no lines.)
        o, c = change.orig_end, change.clean_end
    result: list[Block] = []
    orig_line = clean_line = 0
    for (o1, c1, _), (o2, c2, changes) in pairwise(points):
        orig_lines, clean_lines = _lines(original[o1:o2]), _lines(clean[c1:c2])
        result.append(Block(o1, o2, orig_line, clean_line, orig_lines, clean_lines, changes))
        orig_line += len(orig_lines)
        clean_line += len(clean_lines)
    return result


def hunks(all_blocks: Sequence[Block], context: int) -> Iterator[list[Block]]:
    """Groups of blocks: each changed block with ``context`` unchanged lines around it;
    groups closer than ``2 * context`` lines are joined."""
    changed = [i for i, block in enumerate(all_blocks) if block.changes]
    if not changed:
        return
    start = max(0, changed[0] - context)
    end = changed[0] + 1
    for index in changed[1:]:
        if index - context <= end + context:
            end = index + 1
            continue
        yield list(all_blocks[start : min(len(all_blocks), end + context)])
        start, end = index - context, index + 1
    yield list(all_blocks[start : min(len(all_blocks), end + context)])


def hunk_labels(hunk: Sequence[Block], doc: AuditedDocument) -> list[str]:
    edits = doc.record["edits"]
    return list(dict.fromkeys(label for block in hunk for ch in block.changes for label in labels_of(ch, edits)))


def _range(first_line: int, count: int) -> str:
    # Unified-diff convention: an empty range names the line before it.
    start = first_line + 1 if count else first_line
    return str(start) if count == 1 else f"{start},{count}"


def _span(first_line: int, count: int) -> str:
    """Human line range: ``line 4``, ``lines 4–9``, ``before line 4``."""
    if count == 0:
        return f"before line {first_line + 1}"
    return f"line {first_line + 1}" if count == 1 else f"lines {first_line + 1}–{first_line + count}"


def _diff_lines(sign: str, lines: Sequence[str]) -> Iterator[str]:
    for line in lines:
        if line.endswith("\n"):
            yield sign + line
        else:
            yield sign + line + "\n"
            yield "\\ No newline at end of file\n"


def unified(doc: AuditedDocument, context: int = 3, name: str | None = None) -> str:
    """A unified diff from the original to the clean text ("" when nothing changed)."""
    # A file name may hold a line break or tab, which would end the header line early.
    name = (name or doc.record["source"]).replace("\n", "\\n").replace("\t", "\\t")
    out: list[str] = []
    for hunk in hunks(blocks(doc), context):
        if not out:
            encoding = (doc.record.get("encoding") or {}).get("name", "?")
            out.append(f"--- a/{name}\t(original, decoded from {encoding})\n")
            out.append(f"+++ b/{name}\t(clean)\n")
        orig_count = sum(len(b.orig_lines) for b in hunk)
        clean_count = sum(len(b.clean_lines) for b in hunk)
        labels = ", ".join(hunk_labels(hunk, doc))
        ranges = f"-{_range(hunk[0].orig_line, orig_count)} +{_range(hunk[0].clean_line, clean_count)}"
        out.append(f"@@ {ranges} @@ {labels}\n")
        for block in hunk:
            if block.changes:
                out.extend(_diff_lines("-", block.orig_lines))
                out.extend(_diff_lines("+", block.clean_lines))
            else:
                out.extend(_diff_lines(" ", block.orig_lines))
    return "".join(out)


# --- the labelled inline view ------------------------------------------------------------

_VISIBLE = {" ": "·", "\t": "→", "\r": "␍", "\n": "↵"}
_NEXT_LINE = "\n~ "


# A run of 4+ repeats of one or two invisible characters (not LF), shown once with a count:
# 36 × " \u00a0" reads "(·⟨U+00A0⟩)×36" instead of 72 symbols.
_INVISIBLE_RUN = re.compile(r"((?:[^\S\n]|[\u00ad\u200b-\u200f\u2060\ufeff]){1,2}?)\1{3,}")


def _visible_chars(text: str) -> str:
    out = []
    for ch in text:
        if ch in _VISIBLE:
            out.append(_VISIBLE[ch])
        elif not ch.isprintable() or unicodedata.category(ch) in ("Zs", "Cf", "Cc"):
            out.append(f"⟨U+{ord(ch):04X}⟩")
        else:
            out.append(ch)
    return "".join(out)


def visible(text: str) -> str:
    """Removed or inserted text with its invisible characters shown: ``·`` space, ``→`` tab,
    ``␍`` CR, ``↵`` LF, ``⟨U+XXXX⟩`` other spaces and format or control characters; a long
    run of them as ``(unit)×count``. The same rules are in ``report_assets/report.js``."""
    if text.isprintable() and " " not in text:
        return text
    out = []
    cursor = 0
    for match in _INVISIBLE_RUN.finditer(text):
        unit = match.group(1)
        shown = _visible_chars(unit)
        out.append(_visible_chars(text[cursor : match.start()]))
        out.append(f"{shown if len(unit) == 1 else f'({shown})'}×{len(match.group()) // len(unit)}")
        cursor = match.end()
    out.append(_visible_chars(text[cursor:]))
    return "".join(out)


STYLE_REMOVED = "bold red strike"
STYLE_INSERTED = "bold green"
STYLE_LABEL = "magenta"
STYLE_CONTEXT = "dim"
STYLE_HEADER = "cyan"


def render_inline(doc: AuditedDocument, context: int = 3, colour: bool = True) -> Text:
    """The labelled inline view of one document (empty when nothing changed).

    Lines follow the original: changed lines start with ``~``, context lines are dim.
    A removed line break shows as ``↵`` and still breaks the line; an inserted one shows
    as ``↵`` only. Each change is followed by ``⟨stage/rule, …⟩``.
    """
    text = Text()
    edits = doc.record["edits"]
    for hunk in hunks(blocks(doc), context):
        orig_count = sum(len(b.orig_lines) for b in hunk)
        clean_count = sum(len(b.clean_lines) for b in hunk)
        header = f"@@ original {_span(hunk[0].orig_line, orig_count)} → clean {_span(hunk[0].clean_line, clean_count)}"
        text.append(header + " @@\n", style=STYLE_HEADER)
        for block in hunk:
            if block.changes:
                text.append_text(_render_block(doc, block, edits, colour))
            else:
                text.append("  " + "".join(block.orig_lines).rstrip("\n") + "\n", style=STYLE_CONTEXT)
    return text


def _render_block(doc: AuditedDocument, block: Block, edits: Sequence[EditRecord], colour: bool) -> Text:
    line = Text("~ ")
    cursor = block.orig_start
    for change in block.changes:
        line.append(doc.original[cursor : change.orig_start].replace("\n", _NEXT_LINE))
        removed = doc.original[change.orig_start : change.orig_end]
        inserted = doc.clean[change.clean_start : change.clean_end]
        breaks_after = removed.endswith("\n")
        if breaks_after:
            removed = removed[:-1]
        if removed or breaks_after:
            shown = ("↵" + _NEXT_LINE).join(visible(part) for part in removed.split("\n"))
            shown += "↵" if breaks_after else ""
            line.append(shown if colour else f"[-{shown}-]", style=STYLE_REMOVED)
        if inserted:
            shown = visible(inserted)
            line.append(shown if colour else f"{{+{shown}+}}", style=STYLE_INSERTED)
        line.append("⟨" + ", ".join(labels_of(change, edits)) + "⟩", style=STYLE_LABEL)
        if breaks_after:
            line.append(_NEXT_LINE)
        cursor = change.orig_end
    tail = doc.original[cursor : block.orig_end]
    line.append(tail.removesuffix("\n").replace("\n", _NEXT_LINE))
    if line.plain.endswith(_NEXT_LINE):
        line.right_crop(len(_NEXT_LINE))
    line.append("\n")
    return line


# --- the command ----------------------------------------------------------------------------


def describe(doc: AuditedDocument) -> str:
    """One line about a document: encoding, sizes, share of the original changed, status."""
    record = doc.record
    removed = sum(change.removed for change in doc.changes)
    share = removed / len(doc.original) if doc.original else 0.0
    parts = [
        f"{(record.get('encoding') or {}).get('name', '?')}",
        f"{len(doc.original):,} → {len(doc.clean):,} chars",
        f"{share:.1%} of the original changed or removed",
    ]
    if record.get("status", "ok") != "ok":
        parts.append(f"status {record['status']}")
    if record.get("duplicate_of"):
        similarity = record.get("similarity")
        parts.append(f"duplicate of {record['duplicate_of']}" + (f" ({similarity})" if similarity is not None else ""))
    return " · ".join(parts)
