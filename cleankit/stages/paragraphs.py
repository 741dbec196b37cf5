"""Paragraph layout: every non-empty line is a paragraph, paragraphs are separated by one
blank line, the text ends with one LF (an empty document stays empty).

Later stages find paragraphs with :func:`paragraph_spans`, which is what they remove,
join or compare.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cleankit.core.document import Document, Edit
from cleankit.core.stage import register_stage

PARAGRAPH = re.compile(r"[^\n]+")
BREAK_RUN = re.compile(r"\n+")


def paragraph_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each paragraph (non-empty line) of ``text``."""
    for match in PARAGRAPH.finditer(text):
        yield match.start(), match.end()


def paragraph_removal(text: str, spans: Sequence[tuple[int, int]], index: int, kept_after: bool) -> tuple[int, int]:
    """The span that removes paragraph ``index`` with one separator, keeping the layout: up
    to the next paragraph; or, when no later paragraph is kept (``kept_after`` false), from
    the end of the previous paragraph, so the text still ends as it did."""
    start, end = spans[index]
    if kept_after:
        return start, spans[index + 1][0]
    if index == 0:
        return 0, len(text)
    return spans[index - 1][1], end


@register_stage("paragraphs", order=70)
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
