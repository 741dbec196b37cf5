"""Whether a file holds JSON Lines, other JSON or neither, told from its name and first bytes.

Apart from :mod:`cleankit.run.jsonl` (which re-exports it), whose JSON Lines machinery
imports the near-duplicate pass and numpy: a run of one page (``cleankit clean -``) asks
this question and needs none of that.
"""

from __future__ import annotations

import json

# File names that hold JSON or JSON Lines: cleaned as text they would come out as invalid
# JSON (the punctuation stage widens the commas and colons of the syntax).
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
# How much of a file is looked at to tell JSON Lines from a single JSON document.
SNIFF_BYTES = 1 << 16


def json_kind(name: str, head: bytes) -> str | None:
    """``"jsonl"`` when a file named ``name`` that starts with ``head`` holds JSON Lines (its
    first non-blank line is a JSON object), ``"json"`` when it holds other JSON, None when
    it is not JSON (whatever its name). Only names ending in ``.jsonl``, ``.ndjson`` or
    ``.json`` are looked at: a page that happens to start with ``{`` is a page."""
    if not name.lower().endswith(JSON_SUFFIXES):
        return None
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if not text.startswith(("{", "[")):
        return None
    first = text.split("\n", 1)[0].strip()
    try:
        return "jsonl" if isinstance(json.loads(first), dict) else "json"
    except json.JSONDecodeError:
        return "json"
