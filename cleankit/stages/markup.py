"""Markup the crawler left in the text: entities, tags, style/script blocks, inline CSS.

Runs after hygiene. Rules, each its own step and each switchable with ``[stage.markup]``:

* ``style-script``   ``<style>…</style>``, ``<script>…</script>`` and ``<!-- … -->`` removed.
* ``tags``           HTML tags of known elements removed; block elements (p, div, br, li,
  tr, h1-h6, …) leave a line break so their paragraphs stay apart.
* ``attribute-tail`` the end of a tag the crawler cut into, at the start of a line: CSS
  declarations and/or ``name="value"`` attributes closed by ``>`` (seed 002 begins with
  ``-top: 0px; … font-size: 16pt;">``).
* ``css-rules``      a line made only of CSS rules (``.TRS_Editor P{margin:0}``).
* ``entities``       ``&nbsp;``, ``&#x4e2d;``, ``&amp;`` … decoded, also when escaped twice;
  space-like results become U+0020.
* ``space-tidy``     the spaces a removal leaves (runs, line edges) are tidied as hygiene would.

Only ASCII tag and property names are matched, so Chinese text with colons, semicolons or
《》 is never taken for markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

from cleankit.core.document import Document, Edit
from cleankit.core.stage import regex_edits, register_stage
from cleankit.stages.hygiene import EDGE_SPACES, SPACE_RUNS, SPACE_VARIANTS
from cleankit.text.lazy_pattern import lazy_compile

BLOCK_TAGS = (
    "p|div|br|hr|li|ul|ol|dl|dt|dd|tr|table|tbody|thead|tfoot|h[1-6]|section|article|header|footer|"
    "blockquote|pre|form|nav|aside|main|figure|figcaption|address|center"
)
INLINE_TAGS = (
    "a|span|font|b|i|u|s|em|strong|small|big|sub|sup|img|td|th|caption|col|colgroup|label|input|"
    "button|select|option|textarea|iframe|embed|object|param|meta|link|base|html|head|body|title|"
    "abbr|cite|code|kbd|mark|q|strike|tt|var|wbr|o:p|st1:[a-z]+|v:[a-z]+|nobr|video|audio|source|"
    "picture|svg|path|map|area|ins|del"
)
_ATTRS = r"(?:\s[^<>]{0,2000})?"
BLOCK_TAG = lazy_compile(rf"</?(?:{BLOCK_TAGS}){_ATTRS}/?>", re.IGNORECASE)
INLINE_TAG = lazy_compile(rf"</?(?:{INLINE_TAGS}){_ATTRS}/?>", re.IGNORECASE)
# A block is an opening, then the nearest closer of its kind (``-->`` for a comment).
BLOCK_OPENING = re.compile(r"<(style|script|noscript)\b[^>]{0,2000}>|<!--", re.IGNORECASE)
BLOCK_CLOSERS = {
    kind: re.compile(rf"</{kind}\s*>", re.IGNORECASE) for kind in ("style", "script", "noscript")
} | {"!--": re.compile("-->")}
_CSS_DECL = r"[A-Za-z-]+\s*:\s*[^;:\n<>{}]{0,120};"
# The last declaration of a style attribute needs no ';' before the closing quote.
_CSS_LAST = r"""[A-Za-z-]+\s*:\s*[^;:\n<>{}"']{1,120}"""
_ATTR = r"""[A-Za-z][\w:-]*\s*=\s*(?:"[^"\n]{0,500}"|'[^'\n]{0,500}'|[^\s"'<>]+)"""
# Each declaration or attribute is matched atomically: an unquoted value may hold "=" and
# ":", so without it a run of adjacent pairs (a=ba=ba=b…) that ends in no ">" was split
# every possible way before failing (×5 per two more pairs: 17 s for 20). Giving back
# characters inside an item only ever mattered on such runs.
ATTRIBUTE_TAIL = lazy_compile(
    rf"""^[ \t]*(?:(?>(?:{_CSS_DECL}|{_ATTR})[ \t]*)+(?:{_CSS_LAST})?["']?|{_CSS_LAST}["'])[ \t]*/?>[ \t]*""",
    re.MULTILINE,
)
CSS_RULES = re.compile(r"^[ \t]*(?:[.#@]?[A-Za-z][\w .#:,>*\[\]=\"'-]{0,200}\{[^{}\n]*\}[ \t]*)+$\n?", re.MULTILINE)
ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?")
SPACE_LIKE = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# Passes over the text: entities can hide tags (&lt;p&gt;) and tags can hide tags.
MAX_PASSES = 3


def block_spans(text: str) -> Iterator[tuple[int, int]]:
    """Spans of ``<style>…</style>``, ``<script>…</script>``, ``<noscript>…</noscript>`` and
    ``<!-- … -->`` blocks, each closed by the nearest closer of its kind.

    An opening whose closer is missing is left alone, and so is every later opening of the
    same kind, since none of them can find one either: k unclosed ``<!--`` cost one scan of
    the text, not k (a single lazy regex rescans to the end for each of them).

    >>> text = "a<!-- x -->b<STYLE type=x>p{}</style >c<!-- open"
    >>> [text[s:e] for s, e in block_spans(text)]
    ['<!-- x -->', '<STYLE type=x>p{}</style >']
    >>> list(block_spans("<script>no end <!-- nor here"))
    []
    """
    hopeless: set[str] = set()
    position = 0
    while opening := BLOCK_OPENING.search(text, position):
        kind = (opening.group(1) or "!--").lower()
        closer = None if kind in hopeless else BLOCK_CLOSERS[kind].search(text, opening.end())
        if closer is None:
            hopeless.add(kind)
            position = opening.start() + 1
            continue
        yield opening.start(), closer.end()
        position = closer.end()


def _block_edits(text: str) -> Iterator[Edit]:
    for start, end in block_spans(text):
        yield Edit("", "style-script", start, end, text[start:end], "", "style/script/comment block")


def _decode_entity(match: re.Match[str]) -> str:
    old = match.group()
    if not old.endswith(";") and not old[1:].lower().startswith(("nbsp", "amp", "lt", "gt", "quot")):
        return old  # "&copy" without ";" inside a URL query is usually not an entity
    new = old
    for _ in range(MAX_PASSES):
        decoded = html.unescape(new)
        if decoded == new:
            break
        new = decoded
    if not new or any(0xD800 <= ord(c) <= 0xDFFF for c in new):
        return old
    return " " if SPACE_LIKE.fullmatch(new) else new


@register_stage("markup", order=30)
@dataclass
class MarkupStage:
    name: str = "markup"
    style_script: bool = True
    tags: bool = True
    attribute_tail: bool = True
    css_rules: bool = True
    entities: bool = True

    def run(self, document: Document) -> Document:
        changed = False
        for _ in range(MAX_PASSES):
            applied = self._one_pass(document)
            changed = changed or applied > 0
            if not applied:
                break
        if changed:
            self._tidy(document)
        return document

    def _one_pass(self, document: Document) -> int:
        apply = document.apply
        applied = 0
        if self.style_script and "<" in document.text:
            applied += apply(self.name, _block_edits(document.text))
        if self.tags and "<" in document.text:
            applied += apply(self.name, regex_edits(document.text, BLOCK_TAG, "tags", "\n", "block tag"))
            applied += apply(self.name, regex_edits(document.text, INLINE_TAG, "tags", "", "inline tag"))
        if self.attribute_tail and ">" in document.text:
            applied += apply(
                self.name,
                regex_edits(document.text, ATTRIBUTE_TAIL, "attribute-tail", "", "end of a cut HTML tag (attributes)"),
            )
        if self.css_rules and "{" in document.text:
            applied += apply(self.name, regex_edits(document.text, CSS_RULES, "css-rules", "", "CSS rules"))
        if self.entities and "&" in document.text:
            applied += apply(self.name, regex_edits(document.text, ENTITY, "entities", _decode_entity, "HTML entity"))
        return applied

    def _tidy(self, document: Document) -> None:
        """Spaces left where markup was: the same canonical form hygiene makes."""
        for pattern, new, reason in (
            (SPACE_VARIANTS, " ", "space-like to U+0020"),
            (EDGE_SPACES, "", "space at line edge"),
            (SPACE_RUNS, " ", "run of spaces"),
        ):
            document.apply(self.name, regex_edits(document.text, pattern, "space-tidy", new, reason))
