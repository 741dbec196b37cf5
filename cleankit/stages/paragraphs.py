"""Paragraph layout: every non-empty line is a paragraph, paragraphs are separated by one
blank line, the text ends with one LF (an empty document stays empty).

Later stages find paragraphs with :func:`paragraph_spans`, which is what they remove,
join or compare.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cleankit.core.document import Document, Edit, EditRun, LogEntry
from cleankit.core.stage import register_stage

PARAGRAPH = re.compile(r"[^\n]+")
# A run of line breaks between two paragraphs that is not one blank line ("\n\n"): one
# break, or three and more (the lookarounds keep the runs at the text's start and end out).
MIDDLE_BREAK = re.compile(r"(?<=[^\n])(\n\n\n+|\n)(?=[^\n])")
REASON = "one blank line between paragraphs"


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
        size = len(text)
        head = size - len(text.lstrip("\n"))
        if head == size:  # empty, or nothing but line breaks: one run, at the start
            if text:
                document.apply(self.name, [Edit("", "leading-blank-lines", 0, size, text, "", REASON)])
            return document
        tail = size - len(text.rstrip("\n"))
        # The breaks between paragraphs that are not one blank line, as one run, with the
        # text they leave; the first and last runs of breaks are edits of their own.
        parts: list[LogEntry] = []
        if head:
            parts.append([Edit("", "leading-blank-lines", 0, head, text[:head], "", REASON)])
        after = text
        split = MIDDLE_BREAK.split(text)
        if len(split) > 1:
            made = EditRun.from_split("paragraph-break", "\n\n", REASON, split)
            assert made is not None, "a middle break is never empty nor one blank line"
            parts.append(made[0])
            after = made[1]
        after = after[head : len(after) - tail]
        if tail > 1:
            parts.append([Edit("", "trailing-blank-lines", size - tail, size, text[size - tail :], "\n", REASON)])
        elif not tail:
            parts.append([Edit("", "final-newline", size, size, "", "\n", "text ends with LF")])
        document.apply_parts(self.name, parts, after + "\n")
        return document
