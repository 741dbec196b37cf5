"""Learning a site's furniture from the corpus: lines that recur at the edges of many pages.

A cheap first pass over a folder run (:func:`learn_site_furniture`, called by the runner before
documents are dispatched) reads every file, takes the short lines near its top and bottom, and
counts in how many pages of the same site each line (as a :func:`furniture_key`) appears. Lines
seen in at least ``min_share`` of a site's pages (and at least ``min_pages`` pages) are that
site's furniture. The boilerplate stage removes them only where furniture may be: in the head or
tail zone, and only when the line is connected to the page edge or to a rule-matched furniture
line by other furniture lines, so body text that several pages quote is left alone.

What counts as "the same site" is ``by``: ``folder`` (the file's folder, the default) or
``top`` (the first path component of the input-relative path, e.g. a crawl stored as
``host/path/page.txt``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cleankit.io.encoding import detect_and_decode, sniff_binary
from cleankit.text.fold import match_views

SITE_BY = ("folder", "top")
# Lines that end a sentence are text (the boilerplate stage never takes them as the end of
# a furniture block); lines that end a sentence or introduce a list are never learned,
# however often they recur.
SENTENCE_ENDINGS = tuple("。！？!?；;")
NOT_LEARNED_ENDINGS = (*SENTENCE_ENDINGS, "：", ":")
KEY_DROP = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2060\ufeff\u00ad]+")
HAS_WORD = re.compile(r"[^\W\d_]{2}")
# A remark in brackets, e.g. "(此件公开发布)", belongs to the document that carries it.
BRACKETED = re.compile(r"^[(（\[【].*[)）\]】]$")
ZONES = ("head", "tail")
SENTENCE_PUNCT = re.compile(r"[,，。;；!！?？]")
SENTENCE_END = re.compile(r"[。！？!?][”」』\"]?$")
BODY_CHARS = 40


def sentence_like(line: str, body_chars: int = BODY_CHARS) -> bool:
    """Does the line read as running text? Long with sentence punctuation, or ending a sentence."""
    size = len(line)
    return (size >= body_chars and SENTENCE_PUNCT.search(line) is not None) or (
        size >= 16 and SENTENCE_END.search(line) is not None
    )


# How far from each edge of a page the pre-pass looks (lines).
HEAD_LINES = 25
TAIL_LINES = 30


def furniture_key(view: str) -> str:
    """A line's identity for counting: its match view without any whitespace, lower case."""
    return KEY_DROP.sub("", view).lower()


def site_of(source: str, by: str) -> str:
    """The site a document belongs to, from its input-relative path."""
    path = PurePosixPath(source.replace("\\", "/"))
    if by == "top":
        return path.parts[0] if len(path.parts) > 1 else ""
    return str(path.parent)


def learnable(line: str, max_chars: int) -> bool:
    """Could this line be site furniture? Short, with words, not a sentence or a bracketed remark."""
    return (
        len(line) <= max_chars
        and not line.endswith(NOT_LEARNED_ENDINGS)
        and HAS_WORD.search(line) is not None
        and BRACKETED.match(line) is None
    )


@dataclass
class SiteLines:
    """Per zone ("head", "tail"): furniture key -> number of pages that have it in that zone."""

    pages: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, zone: str, key: str) -> int:
        """Pages with this line in the zone (for "head+tail", the larger of the two)."""
        return max((self.counts.get(z, {}).get(key, 0) for z in ZONES if z in zone), default=0)


@dataclass
class SiteFurniture:
    """What the pre-pass learned, per site: picklable, passed to every worker."""

    by: str = "folder"
    sites: dict[str, SiteLines] = field(default_factory=dict)

    def for_source(self, source: str) -> SiteLines | None:
        return self.sites.get(site_of(source, self.by))

    def digest(self, source: str) -> str:
        """What was learned for ``source``'s site, as far as it changes a clean text: the
        learned lines per zone (their counts only change the reasons in provenance)."""
        site = self.for_source(source)
        if site is None:
            return ""
        lines = {zone: sorted(site.counts.get(zone, {})) for zone in ZONES}
        return hashlib.sha256(json.dumps(lines, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def candidate_lines(text: str, max_chars: int) -> tuple[list[str], list[str]]:
    """The short lines before the first and after the last sentence-like line of a page (the
    stage's head and tail zones, roughly: no rule is run here), that could be furniture."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    body = [i for i, line in enumerate(lines) if sentence_like(line)]
    if body:
        head, tail = lines[: body[0]][:HEAD_LINES], lines[body[-1] + 1 :][-TAIL_LINES:]
    else:
        head, tail = lines[:HEAD_LINES], lines[-TAIL_LINES:]
    return [line for line in head if learnable(line, max_chars)], [line for line in tail if learnable(line, max_chars)]


def page_keys(text: str, max_chars: int) -> dict[str, set[str]]:
    """Furniture keys of a page's candidate lines, per zone."""
    head, tail = candidate_lines(text, max_chars)
    views = match_views(head + tail)
    return {
        "head": {furniture_key(view) for view in views[: len(head)]} - {""},
        "tail": {furniture_key(view) for view in views[len(head) :]} - {""},
    }


def raw_page_keys(raw: bytes, max_chars: int, max_bytes: int, encoding: str | None) -> dict[str, set[str]] | None:
    """:func:`page_keys` of a file's bytes, or None for what is not a page (empty, binary,
    too large, undecodable): the main pass reports those."""
    if not raw or len(raw) > max_bytes or (sniff_binary(raw) and not encoding):
        return None
    try:
        text, _info = detect_and_decode(raw, encoding)
    except (ValueError, LookupError):
        return None
    return page_keys(text, max_chars)


@dataclass
class FurnitureCounter:
    """Counts furniture candidates page by page; :meth:`result` applies the thresholds."""

    by: str = "folder"
    max_chars: int = 80
    pages: Counter[str] = field(default_factory=Counter)
    counts: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)

    def add_text(self, source: str, text: str) -> None:
        self.add_keys(source, page_keys(text, self.max_chars))

    def add_keys(self, source: str, keys: Mapping[str, Iterable[str]]) -> None:
        """Count one page from its :func:`page_keys` (computed elsewhere, or cached)."""
        site = site_of(source, self.by)
        self.pages[site] += 1
        for zone, found in keys.items():
            self.counts.setdefault((site, zone), Counter()).update(found)

    def add_file(self, source: str, path: Path, max_bytes: int, encoding: str | None = None) -> None:
        """Count one file; files that cannot be read or are not text are passed over here (the
        main pass reports them)."""
        try:
            with open(path, "rb") as handle:
                raw = handle.read(max_bytes + 1)
        except OSError:
            return
        keys = raw_page_keys(raw, self.max_chars, max_bytes, encoding)
        if keys is not None:
            self.add_keys(source, keys)

    def result(self, min_pages: int, min_share: float) -> SiteFurniture:
        learned = SiteFurniture(by=self.by)
        for site, pages in self.pages.items():
            if pages < min_pages:
                continue
            threshold = max(min_pages, math.ceil(min_share * pages))
            counts = {
                zone: {key: n for key, n in self.counts.get((site, zone), Counter()).items() if n >= threshold}
                for zone in ZONES
            }
            if any(counts.values()):
                learned.sites[site] = SiteLines(pages, counts)
        return learned


def learn_site_furniture(
    files: Iterable[tuple[str, Path]],
    by: str = "folder",
    max_chars: int = 80,
    min_pages: int = 5,
    min_share: float = 0.3,
    max_bytes: int = 256 * 1024 * 1024,
    encoding: str | None = None,
) -> SiteFurniture:
    """The pre-pass: ``files`` are (input-relative source, path) pairs."""
    counter = FurnitureCounter(by=by, max_chars=max_chars)
    for source, path in files:
        counter.add_file(source, path, max_bytes, encoding)
    return counter.result(min_pages, min_share)
