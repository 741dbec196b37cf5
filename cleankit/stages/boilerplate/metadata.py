"""Page metadata: what the furniture said about the page, gathered into ``document.metadata``.

Rules with ``action: extract`` or ``both`` name fields (see ``rules/page-metadata.yaml``); this
module merges the values found on a page into one record, stored as
``document.metadata["page"]``. Fields in :data:`cleankit.rules.LIST_FIELDS` (``authors``,
``attachments``) collect every distinct value in page order, split on name separators for
``authors``; every other field keeps the first value found (the head of the page wins over a
repeat in the footer). ``views`` becomes an integer. Values of ``fallback`` rules (a bare
date-time line) count only for fields no other rule of the page gave.
"""

from __future__ import annotations

import re
from typing import Any

from cleankit.stages.boilerplate.packs import LIST_FIELDS

METADATA_KEY = "page"
NAME_SEPARATORS = re.compile(r"[\s、,，;；]+")
INTEGER_FIELDS = frozenset({"views"})


class FieldValues:
    """Field values in page order: lists collect, every other field keeps its first value."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, name: str, value: str) -> None:
        value = value.strip()
        if not value:
            return
        if name in LIST_FIELDS:
            items = NAME_SEPARATORS.split(value) if name == "authors" else [value]
            existing: list[str] = self.values.setdefault(name, [])
            for item in items:
                if item and item not in existing:
                    existing.append(item)
            return
        if name in self.values:
            return
        if name in INTEGER_FIELDS:
            if not value.isdigit():
                return
            self.values[name] = int(value)
            return
        self.values[name] = value


class PageMetadata:
    """Accumulates field values found on one page (and, apart, those of fallback rules)."""

    def __init__(self) -> None:
        self.found = FieldValues()
        self.fallbacks = FieldValues()

    def add(self, name: str, value: str, fallback: bool = False) -> None:
        (self.fallbacks if fallback else self.found).add(name, value)

    def update(self, fields: dict[str, str], fallback: bool = False) -> None:
        for name, value in fields.items():
            self.add(name, value, fallback)

    def to_json(self) -> dict[str, Any]:
        values = dict(self.found.values)
        for name, value in self.fallbacks.values.items():
            values.setdefault(name, value)
        return values
