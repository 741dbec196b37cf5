"""What every stage is, and the one helper most rule-based stages share."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, Protocol, runtime_checkable

from cleankit.document import Document, Edit


@runtime_checkable
class Stage(Protocol):
    """A pipeline step: ``run`` changes ``document.text`` only through ``document.apply``."""

    name: str

    def run(self, document: Document) -> Document: ...


def regex_edits(
    text: str,
    pattern: re.Pattern[str],
    rule: str,
    replacement: str | Callable[[re.Match[str]], str],
    reason: str = "",
) -> Iterator[Edit]:
    """One edit per match whose replacement differs from the match."""
    if isinstance(replacement, str):
        # The common case (hygiene's passes: thousands of matches a page), kept to the
        # least work per match.
        for match in pattern.finditer(text):
            old = match.group()
            if old != replacement:
                start, end = match.span()
                yield Edit("", rule, start, end, old, replacement, reason)
        return
    for match in pattern.finditer(text):
        old = match.group()
        new = replacement(match)
        if new != old:
            yield Edit(stage="", rule=rule, start=match.start(), end=match.end(), old=old, new=new, reason=reason)


def options_for(stage_options: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    return dict(stage_options.get(name, {}))
