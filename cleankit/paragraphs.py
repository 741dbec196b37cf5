"""Paragraph layout: every non-empty line is a paragraph, paragraphs are separated by one
blank line, the text ends with one LF (an empty document stays empty).

Later stages find paragraphs with :func:`paragraph_spans`, which is what they remove,
join or compare.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from cleankit.document import Document, Edit

PARAGRAPH = re.compile(r"[^\n]+")
BREAK_RUN = re.compile(r"\n+")


def paragraph_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each paragraph (non-empty line) of ``text``."""
    for match in PARAGRAPH.finditer(text):
        yield match.start(), match.end()


def removal_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a paragraph's span to take one adjacent separator with it, so that removing
    it leaves the canonical layout intact."""
    if end < len(text) and text[end] == "\n":
        sep_end = end
        while sep_end < len(text) and text[sep_end] == "\n":
            sep_end += 1
        if sep_end < len(text):
            return start, sep_end
        # Last paragraph: take the separator before it instead, keep the final LF.
        sep_start = start
        while sep_start > 0 and text[sep_start - 1] == "\n":
            sep_start -= 1
        return (sep_start, end) if sep_start > 0 else (start, sep_end)
    return start, end


@dataclass
class ParagraphStage:
    name: str = "paragraphs"

    def run(self, document: Document) -> Document:
        text = document.text
        edits: list[Edit] = []
        matches = list(BREAK_RUN.finditer(text))
        for match in matches:
            start, end = match.span()
            if start == 0:
                new, rule = "", "leading-blank-lines"
            elif end == len(text):
                new, rule = "\n", "trailing-blank-lines"
            else:
                new, rule = "\n\n", "paragraph-break"
            if match.group() != new:
                edits.append(Edit("", rule, start, end, match.group(), new, "one blank line between paragraphs"))
        if text and not text.endswith("\n"):
            edits.append(Edit("", "final-newline", len(text), len(text), "", "\n", "text ends with LF"))
        document.apply(self.name, edits)
        return document
