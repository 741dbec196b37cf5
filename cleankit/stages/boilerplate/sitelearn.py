"""Learning a site's furniture from the corpus: line templates that recur at the edges of pages.

A cheap first pass over a run reads every input before documents are dispatched: the runner's
workers survey each file (:func:`survey_bytes`: the short lines near each page's top and bottom,
as shapes; JSON data, cached per file content in the run state) and the parent counts in how
many pages of the same site each line's *shape* appears
(:func:`shape_key`: the line without spaces, with dates, times, numbers, hexadecimal ids and
the value after a short label masked — ``本版责任编辑：王强`` and ``本版责任编辑：李敏`` are one
shape, ``本版责任编辑:〈V〉``). Shapes seen in at least ``min_share`` of a site's pages (and at
least ``min_pages`` pages) are that site's furniture; shapes that are furniture on at least
``min_sites`` sites are furniture on every site (pages of sites too small to learn from
included), unless a rule pack's negative example — text the packs say is not furniture — has
that shape. The boilerplate stage removes such lines only where furniture may be: in the head
or tail zone, and only when the line is connected to the page edge or to a rule-matched
furniture line by other furniture lines, so body text that several pages quote is left alone.

What counts as "the same site" is ``by``: ``folder`` (the file's folder, the default) or
``top`` (the first path component of the input-relative path, e.g. a crawl stored as
``host/path/page.txt``). A JSON Lines record names its site in a field (``site_fields``: the
first of them the record has; a URL stands for its host), so JSON Lines input — files or
standard input — is learned from too.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from cleankit.core.document import EncodingInfo
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


# What a shape masks: at each position a hexadecimal id, a date, a time of day, else a number.
# The id's lookaheads read at most an id's length (unbounded, a long run of letters costs the
# square of its length).
DIGIT_MASK = re.compile(
    r"(?P<H>(?=[0-9a-f]{0,63}[a-f])(?=[0-9a-f]{0,63}\d)[0-9a-f]{8,64})"
    r"|(?P<D>\d{2,4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?)"
    r"|(?P<T>\d{1,2}[:时]\d{2}(?:[:分]\d{2}秒?)?分?)"
    r"|\d+"
)
DIGIT_MASKS = {"H": "〈H〉", "D": "〈D〉", "T": "〈T〉", None: "0"}
DIGIT = re.compile(r"\d")
WEEKDAY = re.compile(r"(星期|周)[一二三四五六日天]")
CJK_ORDINAL = re.compile(r"第[一二三四五六七八九十百零〇]+(?=[版期号条届次])")
# A short label and its value (``来源:四川日报``, ``本版责任编辑:王强``): the value is masked.
LABEL_VALUE = re.compile(r"^([^:]{1,8}):([^:。，！？；,;!?]{1,40})$")
SHAPE_WORD = re.compile(r"[^\W\d_〈〉]{2}")


def shape_key(view: str) -> str:
    """A line's template: its :func:`furniture_key` with dates, times, weekdays, numbers,
    hexadecimal ids and a short label's value masked."""
    key = furniture_key(view)
    # Most furniture lines hold no digit, weekday, ordinal or label: skip those searches.
    if DIGIT.search(key):
        key = DIGIT_MASK.sub(lambda found: DIGIT_MASKS[found.lastgroup], key)
    if "星期" in key or "周" in key:
        key = WEEKDAY.sub(r"\1〈W〉", key)
    if "第" in key:
        key = CJK_ORDINAL.sub("第0", key)
    if ":" in key:
        key = LABEL_VALUE.sub(r"\1:〈V〉", key)
    return key


def learnable_shape(key: str) -> bool:
    """A shape must keep words of its own: a bare date or number is no template of furniture."""
    return SHAPE_WORD.search(key) is not None


def site_of(source: str, by: str) -> str:
    """The site a document belongs to, from its input-relative path."""
    path = PurePosixPath(source.replace("\\", "/"))
    if by == "top":
        return path.parts[0] if len(path.parts) > 1 else ""
    return str(path.parent)


def site_of_record(record: dict[str, object], fields: Sequence[str]) -> str | None:
    """The site a JSON Lines record names: the first of ``fields`` it has as a non-empty
    string; a URL (``https://www.gd.gov.cn/…``) stands for its host."""
    for name in fields:
        value = record.get(name)
        if not isinstance(value, str) or not value.strip():
            continue
        value = value.strip()
        if "://" in value:
            try:
                host = urlsplit(value).hostname
            except ValueError:
                host = None
            return f"host:{host}" if host else f"{name}:{value}"
        return f"{name}:{value}"
    return None


def split_record_source(source: str) -> tuple[str, int] | None:
    """``file.jsonl#12`` → (``file.jsonl``, 12): where a JSON Lines document came from."""
    rel, sep, number = source.rpartition("#")
    return (rel, int(number)) if sep and number.isdigit() else None


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
    """Per zone ("head", "tail"): line shape -> number of pages that have it in that zone; and
    the shapes that are furniture on many sites (shape -> number of sites), for every site."""

    pages: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    common: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, zone: str, key: str) -> int:
        """Pages with this line shape in the zone (for "head+tail", the larger of the two)."""
        return max((self.counts.get(z, {}).get(key, 0) for z in ZONES if z in zone), default=0)

    def why(self, zone: str, key: str) -> str | None:
        """Why a line of this shape is this site's furniture in the zone (None: it is not)."""
        pages = self.count(zone, key)
        if pages:
            return f"site furniture: seen in {pages} of {self.pages} pages of this site"
        sites = max((self.common.get(z, {}).get(key, 0) for z in ZONES if z in zone), default=0)
        return f"furniture on {sites} sites: a line of this shape is at their pages' edges" if sites else None


@dataclass
class SiteFurniture:
    """What the pre-pass learned, per site: picklable, passed to every worker.

    ``record_sites`` maps a JSON Lines file to the site of each of its lines (an index into
    ``site_names``, 0 for none), so that a document ``file.jsonl#12`` finds its site."""

    by: str = "folder"
    sites: dict[str, SiteLines] = field(default_factory=dict)
    common: dict[str, dict[str, int]] = field(default_factory=dict)
    site_names: list[str] = field(default_factory=lambda: [""])
    record_sites: dict[str, array[int]] = field(default_factory=dict)
    # The digest of each set of sites asked for so far (sorted names): a run asks for every
    # file's before cleaning, in its serial part, and all the files of a site share one.
    _digests: dict[tuple[str, ...], str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def site_for(self, source: str) -> str | None:
        found = split_record_source(source)
        if found is not None and found[0] in self.record_sites:
            rel, number = found
            lines = self.record_sites[rel]
            index = lines[number] if number < len(lines) else 0
            return self.site_names[index] if index else None
        return site_of(source, self.by)

    def for_source(self, source: str) -> SiteLines | None:
        site = self.site_for(source)
        learned = self.sites.get(site) if site is not None else None
        if learned is not None:
            return learned
        return SiteLines(0, {}, self.common) if self.common else None

    def digest(self, source: str) -> str:
        """What was learned for ``source``'s site (for a JSON Lines file, the sites its records
        name), as far as it changes a clean text: the learned shapes per zone, this site's and
        every site's (their counts only change the reasons in provenance). Empty when nothing
        learned applies to it."""
        if source in self.record_sites:
            names = sorted({self.site_names[index] for index in self.record_sites[source] if index})
        else:
            site = self.site_for(source)
            names = [site] if site is not None else []
        key = tuple(names)
        found = self._digests.get(key)
        if found is None:
            found = self._digests[key] = self._digest_of(key)
        return found

    def _digest_of(self, names: tuple[str, ...]) -> str:
        learned = {name: _shapes(self.sites[name].counts) for name in names if name in self.sites}
        if not learned and not self.common:
            return ""
        data = {"sites": learned, "common": _shapes(self.common)}
        return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def _shapes(counts: Mapping[str, Mapping[str, int]]) -> dict[str, list[str]]:
    return {zone: sorted(counts.get(zone, {})) for zone in ZONES}


def candidate_lines(text: str, max_chars: int) -> tuple[list[str], list[str]]:
    """The short lines before the first and after the last sentence-like line of a page (the
    stage's head and tail zones, roughly: no rule is run here), that could be furniture."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    # Only the first and the last sentence-like line matter: each end is scanned up to its
    # own, not every line of the body.
    first = next((i for i, line in enumerate(lines) if sentence_like(line)), None)
    if first is not None:
        last = next(i for i in range(len(lines) - 1, first - 1, -1) if sentence_like(lines[i]))
        head, tail = lines[:first][:HEAD_LINES], lines[last + 1 :][-TAIL_LINES:]
    else:
        head, tail = lines[:HEAD_LINES], lines[-TAIL_LINES:]
    return [line for line in head if learnable(line, max_chars)], [line for line in tail if learnable(line, max_chars)]


def page_keys(text: str, max_chars: int) -> dict[str, set[str]]:
    """Shapes of a page's candidate lines, per zone."""
    head, tail = candidate_lines(text, max_chars)
    views = match_views(head + tail)
    shapes = [shape_key(view) for view in views]
    return {
        "head": {key for key in shapes[: len(head)] if learnable_shape(key)},
        "tail": {key for key in shapes[len(head) :] if learnable_shape(key)},
    }


# A page's survey: its candidate shapes per zone (JSON data). A JSON Lines file's survey:
# ``{"records": [[line number, site, page survey], ...]}`` for the records that name a site.
PageSurvey = dict[str, list[str]]


def page_survey(text: str, max_chars: int) -> PageSurvey:
    return {zone: sorted(found) for zone, found in page_keys(text, max_chars).items()}


def survey_bytes(
    raw: bytes,
    max_chars: int,
    max_bytes: int,
    encoding: str | None,
    jsonl: tuple[str, Sequence[str]] | None = None,
) -> dict[str, object] | None:
    """What the pre-pass learns from one input file's bytes (None for what is not a page:
    empty, binary, too large, undecodable; the main pass reports those). ``jsonl`` (text
    field, site fields) reads the bytes as JSON Lines records."""
    return survey_bytes_decoding(raw, max_chars, max_bytes, encoding, jsonl)[0]


def survey_bytes_decoding(
    raw: bytes,
    max_chars: int,
    max_bytes: int,
    encoding: str | None,
    jsonl: tuple[str, Sequence[str]] | None = None,
) -> tuple[dict[str, object] | None, EncodingInfo | None]:
    """:func:`survey_bytes`, and how the bytes were decoded (None if they were not): the
    cleaner decodes them the same way without detecting the encoding again."""
    if not raw or len(raw) > max_bytes:
        return None, None
    if jsonl is not None:
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None, None
        return {"records": jsonl_survey(content, max_chars, *jsonl)}, None
    if sniff_binary(raw) and not encoding:
        return None, None
    try:
        text, info = detect_and_decode(raw, encoding)
    except (ValueError, LookupError):
        return None, None
    return dict(page_survey(text, max_chars)), info


def jsonl_survey(
    content: str, max_chars: int, text_field: str, site_fields: Sequence[str]
) -> list[list[object]]:
    """The records of JSON Lines text that name their site, numbered as the cleaner numbers
    them (from 1, ``source#N``): ``[number, site, page survey]`` each (bad lines are the main
    pass's to report)."""
    found: list[list[object]] = []
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
            continue
        site = site_of_record(record, site_fields)
        if site is not None:
            found.append([number, site, page_survey(record[text_field], max_chars)])
    return found


@dataclass
class FurnitureCounter:
    """Counts furniture candidates page by page; :meth:`result` applies the thresholds."""

    by: str = "folder"
    max_chars: int = 80
    pages: Counter[str] = field(default_factory=Counter)
    counts: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    site_names: list[str] = field(default_factory=lambda: [""])
    site_index: dict[str, int] = field(default_factory=dict)
    record_sites: dict[str, array[int]] = field(default_factory=dict)

    def add_text(self, source: str, text: str, site: str | None = None) -> None:
        self.add_keys(source, page_keys(text, self.max_chars), site)

    def add_keys(self, source: str, keys: Mapping[str, Iterable[str]], site: str | None = None) -> None:
        """Count one page from its :func:`page_keys` (computed elsewhere, or cached)."""
        site = site_of(source, self.by) if site is None else site
        self.pages[site] += 1
        for zone, found in keys.items():
            self.counts.setdefault((site, zone), Counter()).update(found)

    def add_survey(self, source: str, survey: Mapping[str, Any]) -> None:
        """Count one input file from its :func:`survey_bytes`: a page, or the records of a
        JSON Lines file (whose sites are remembered per line)."""
        records = survey.get("records")
        if records is None:
            self.add_keys(source, survey)
            return
        sites = array("I")
        for number, site, keys in records:
            index = self.site_index.setdefault(site, len(self.site_names))
            if index == len(self.site_names):
                self.site_names.append(site)
            if len(sites) <= number:
                sites.extend([0] * (number + 1 - len(sites)))
            sites[number] = index
            self.add_keys(source, keys, site)
        if sites:
            self.record_sites[source] = sites

    def add_file(
        self,
        source: str,
        path: Path,
        max_bytes: int,
        encoding: str | None = None,
        jsonl: tuple[str, Sequence[str]] | None = None,
    ) -> None:
        """Count one file; files that cannot be read or are not text are passed over here (the
        main pass reports them)."""
        try:
            with open(path, "rb") as handle:
                raw = handle.read(max_bytes + 1)
        except OSError:
            return
        survey = survey_bytes(raw, self.max_chars, max_bytes, encoding, jsonl)
        if survey is not None:
            self.add_survey(source, survey)

    def result(
        self, min_pages: int, min_share: float, min_sites: int = 3, not_furniture: Iterable[str] = ()
    ) -> SiteFurniture:
        """Each site's furniture, and the shapes furniture on at least ``min_sites`` sites
        (but for the shapes of ``not_furniture``: lines the rule packs say are not furniture)."""
        learned = SiteFurniture(by=self.by, site_names=self.site_names, record_sites=self.record_sites)
        on_sites: dict[str, Counter[str]] = {zone: Counter() for zone in ZONES}
        for site, pages in self.pages.items():
            if pages < min_pages:
                continue
            threshold = max(min_pages, math.ceil(min_share * pages))
            counts = {
                zone: {key: n for key, n in self.counts.get((site, zone), Counter()).items() if n >= threshold}
                for zone in ZONES
            }
            for zone, keys in counts.items():
                on_sites[zone].update(keys.keys())
            if any(counts.values()):
                learned.sites[site] = SiteLines(pages, counts)
        refused = {shape_key(view) for view in match_views(list(not_furniture))}
        learned.common = {
            zone: {key: n for key, n in sites.items() if n >= min_sites and key not in refused}
            for zone, sites in on_sites.items()
        }
        if not any(learned.common.values()):
            learned.common = {}
        for lines in learned.sites.values():
            lines.common = learned.common
        return learned


def learn_site_furniture(
    files: Iterable[tuple[str, Path]],
    by: str = "folder",
    max_chars: int = 80,
    min_pages: int = 5,
    min_share: float = 0.3,
    max_bytes: int = 256 * 1024 * 1024,
    encoding: str | None = None,
    min_sites: int = 3,
    not_furniture: Iterable[str] = (),
    jsonl: tuple[str, Sequence[str]] | None = None,
) -> SiteFurniture:
    """The pre-pass: ``files`` are (input-relative source, path) pairs; ``jsonl`` (text field,
    site fields) reads them as JSON Lines."""
    counter = FurnitureCounter(by=by, max_chars=max_chars)
    for source, path in files:
        counter.add_file(source, path, max_bytes, encoding, jsonl)
    return counter.result(min_pages, min_share, min_sites, not_furniture)
