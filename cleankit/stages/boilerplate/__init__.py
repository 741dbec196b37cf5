"""Boilerplate out, metadata kept: the ``boilerplate`` stage.

A crawled page is article text wrapped in site furniture. This stage decides, line by line,
what is furniture, removes those lines whole (with their line break, through
``document.apply``, so restore stays exact) and keeps what the furniture said about the page
(publisher, source, time, views, document number, authors, attachments) in
``document.metadata["page"]``.

Where furniture may be (zones)
------------------------------
*Body lines* are sentence-like lines (long with sentence punctuation, or ending a sentence) that
no removing rule matches and that do not repeat an earlier line. The *head zone* is every line
before the first body line, the *tail zone* every line after the last one. Rules name the zone
they may fire in, so a footer rule never touches a body sentence that mentions 版权 or an
address. Zones depend only on body lines, which this stage never removes: running it again on
its own output finds the same zones and removes nothing more.

Blocks, not only lines
----------------------
- *glue*: a run of up to :attr:`BoilerplateStage.glue_lines` short unknown lines between two
  furniture lines of a ``glue`` family (the 大/中/小 of a font-size widget, the section name
  between breadcrumb separators) goes with them.
- *listing*: after a related-links heading (``block: listing``: 相关报道：, 最新资讯 …) the
  title-like lines that follow in the tail are its list.
- *after the footer*: after a footer anchor (copyright, ICP number) in the tail, short lines
  that are not sentences are footer too, and so is a repeat of the title or lead (some CMSs
  print them again after the footer).
- *label and value*: a label alone on its line (``block: value``: ``来源：``, ``发表时间：``) and the
  next line, when the label's fields read a value from the pair (``宁夏日报客户端``), are one
  metadata item: the value goes with the label.
- *last breadcrumb item*: the line after a breadcrumb separator standing alone (``>``), short
  and without punctuation, is the breadcrumb's last item (``宁夏要闻``), and so is a copy of it
  on the next line.
- *teaser*: a line after the text that repeats the page's opening (``各位代表：现在，我代表…``),
  with the title-like line just before it, is a teaser for the page printed after it; such a
  line is never the last body line, so the furniture before it is in the tail zone.
- *learned*: lines the corpus pre-pass saw at the edges of many pages of the same site
  (:mod:`cleankit.stages.boilerplate.sitelearn`), when connected to the page edge or to rule-matched furniture.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

from cleankit.core.budget import check_deadline
from cleankit.core.document import Document, Edit, EncodingInfo
from cleankit.core.settings import Settings
from cleankit.core.stage import register_stage
from cleankit.stages.boilerplate.metadata import METADATA_KEY, PageMetadata
from cleankit.stages.boilerplate.packs import Rule, RuleSet, SearchBudget, line_words, load_rules
from cleankit.stages.boilerplate.regex_safety import SEARCH_TIMEOUT
from cleankit.stages.boilerplate.sitelearn import (
    SENTENCE_ENDINGS,
    SITE_BY,
    FurnitureCounter,
    SiteFurniture,
    SiteLines,
    learn_site_furniture,
    learnable,
    sentence_like,
    shape_key,
    survey_bytes,
    survey_bytes_decoding,
)
from cleankit.stages.paragraphs import paragraph_spans
from cleankit.text.fold import match_views

# How many distinct (zone, line) judgements a stage keeps between pages, the least recently
# used dropped first. Most head and tail lines of a crawl are seen once (titles, dates, related
# links); the lines that repeat are a site's furniture. Chosen by replaying one worker's
# lookups on 1,500 pages of the bench crawl (benchmarks/README.md, branch mem5): 55,616
# lookups, 39,427 distinct lines; an unbounded memo hits 16,189 times, this bound 15,842
# (98 %; 8,192: 88 %); at ~420 B an entry (tracemalloc) ~7 MB, where the old bound (50,000,
# then cleared) let a worker hold ~21 MB.
JUDGED_LINES_KEPT = 16384
# How many lines' "removed by a rule" answers a stage keeps (body lines checked against the
# removing rules). Replaying one worker's 20,841 lookups on 10,000 pages of the 20,000-page bench
# crawl (benchmarks/README.md, branch mem10): 16,976 distinct, an unbounded memo hits 18.6 %,
# LRU 2,048 12.6 % (1,233 more checks of a line against the removing rules in 10,000 pages). At ~300 B an entry,
# 16,384 (the verdicts' bound, shared before) held 5 MB reached only after ~9,000 pages: a
# worker's memory grew with the crawl; 2,048 is ~0.6 MB, reached within ~1,200 pages.
REMOVED_LINES_KEPT = 2048
# Lines judged between two looks at the document's time budget.
DEADLINE_EVERY_LINES = 256
DIGITS_ONLY = re.compile(r"^[\d.,%\s*+-]+$")
# Each run tried from its first character only: tried from every dot of a long run, a line
# of dots that does not end there costs the square of its length.
TRAILING_ELLIPSIS = re.compile(r"(?:(?<!\.)\.{3,}|(?<!…)…+)$")
# What TRAILING_ELLIPSIS needs at a line's end: a str check before the regex, which would
# otherwise be tried at every position of every line.
ELLIPSIS_ENDINGS = ("...", "…")

# Names of the built-in (non-pack) decisions, used as the edit's rule.
GLUE = "widget-glue"
LISTING = "related-listing"
AFTER_FOOTER = "after-footer"
REPEATED = "repeated-title-lead"
LEARNED = "site-learned"
CRUMB = "breadcrumb-last-item"
# A lone breadcrumb separator line, and the longest last item taken after one.
SEPARATOR_ONLY = re.compile(r"^[>|/→»›-]{1,3}$")
CRUMB_CHARS = 12
NO_CRUMB = re.compile(r"[,，。;；:：!！?？、()（）]")
# A value on the line after its label: at most this long.
VALUE_CHARS = 60
# A repeat of the page's opening is looked for in the head and the first lines of the body.
OPENING_LINES = 3
REPEAT_MIN_CHARS = 12
SHORT_REPEAT_CHARS = 4
SENTENCE_STARTS_AFTER = frozenset("\n。！？!?；;:：")
KEY_SPACES = re.compile(r"\s+")
LEAD_PUNCTUATION = re.compile(r"[,，、:：;；。!！?？]")


ZONE_FLAGS = {"head": (True, False), "tail": (False, True), "head+tail": (True, True), "body": (False, False)}


class LineMemo(OrderedDict[Any, Any]):
    """Verdicts of lines, least recently used first (:meth:`keep`, :meth:`recall`); at most
    ``kept`` of them (default :data:`JUDGED_LINES_KEPT`)."""

    def __init__(self, kept: int | None = None) -> None:
        super().__init__()
        self.kept = JUDGED_LINES_KEPT if kept is None else kept

    def recall(self, key: Any) -> Any:
        """The verdict kept for ``key`` (None if none), now the most recently used."""
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def keep(self, key: Any, value: Any) -> None:
        """Keep ``value`` for ``key`` as the most recently used, dropping the least recently
        used beyond ``kept``."""
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.kept:
            self.popitem(last=False)


def remember(memo: LineMemo, key: Any, value: Any, budget: SearchBudget) -> None:
    """Keep a line's verdict for the next pages of a site (furniture repeats from page to
    page), unless a search of this page ran over the time limit or a rule was stopped: such a
    verdict holds for this page only. At most the memo's ``kept`` verdicts are kept, the least
    recently used dropped first."""
    if not budget.timeouts:
        memo.keep(key, value)


class RuleIndex:
    """The rules of one zone, indexed by their gate characters: a line is tried only against
    the rules whose gate it passes (most lines pass few), in the rules' order."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self.ungated = [i for i, rule in enumerate(rules) if rule.gate is None]
        self.by_char: dict[str, list[int]] = {}
        for i, rule in enumerate(rules):
            for char in rule.gate or ():
                self.by_char.setdefault(char, []).append(i)
        self.gate_chars = frozenset(self.by_char)

    def candidates(self, view: str) -> list[Rule]:
        """Rules whose first gate the line passes (or that have none), in order."""
        found = set(self.ungated)
        by_char = self.by_char
        for char in self.gate_chars.intersection(view):
            found.update(by_char[char])
        return [self.rules[i] for i in sorted(found)]


@dataclass(slots=True)
class LineVerdict:
    """What the stage decided about one line, and why (also what ``cleankit rules test`` shows)."""

    index: int
    start: int
    end: int
    text: str
    zone: str
    remove: bool = False
    rule: str = ""
    reason: str = ""
    fired: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    # Fields of fallback rules: used only for fields no other line gives.
    fallback_fields: dict[str, str] = field(default_factory=dict)


@dataclass
class Analysis:
    lines: list[LineVerdict]
    metadata: dict[str, Any]
    # User rules whose searches ran over the time limit on this page.
    budget: SearchBudget = field(default_factory=SearchBudget)


# What the rules said about one line: the rules fired, the one removing it, its fields and the
# fields of fallback rules.
Judgement = tuple[tuple[str, ...], Rule | None, dict[str, str], dict[str, str]]


@register_stage("boilerplate", order=60)
@dataclass
class BoilerplateStage:
    name: str = "boilerplate"
    # Extra rule pack folders (also the --rules flag of ``cleankit clean``).
    rules: list[str] = field(default_factory=list)
    default_rules: bool = True
    disable: list[str] = field(default_factory=list)
    # Extract metadata but leave its lines in the text.
    keep_metadata_lines: bool = False
    # A line of at least this many characters with sentence punctuation is body text.
    body_chars: int = 40
    # Without any sentence-like line, the longest line of at least this many characters is the body.
    pivot_chars: int = 10
    # Glue: lines of at most this many characters, runs of at most this many lines.
    glue_chars: int = 6
    glue_lines: int = 4
    # Listing blocks and after-footer lines: at most this many characters per line.
    listing_chars: int = 60
    footer_chars: int = 100
    # Site learning (a pass over the run's inputs first; see sitelearn.py).
    learn: bool = True
    learn_by: str = "folder"
    learn_min_pages: int = 5
    learn_min_share: float = 0.3
    learn_max_chars: int = 80
    # A user rule whose search runs over the time limit this many times in one document is
    # not tried again in that document (each timeout is flagged in provenance).
    max_search_timeouts: int = 3
    # A shape that is furniture on this many sites is furniture on every site.
    learn_min_sites: int = 3
    # JSON Lines: the record fields that name a page's site (the first one present; a URL
    # stands for its host). Records without any are not learned from.
    site_fields: list[str] = field(default_factory=lambda: ["site", "url"])
    ruleset: RuleSet = field(init=False, repr=False)
    _judged: LineMemo = field(default_factory=LineMemo, init=False, repr=False)
    _removed: LineMemo = field(default_factory=lambda: LineMemo(REMOVED_LINES_KEPT), init=False, repr=False)
    site_furniture: SiteFurniture | None = field(default=None, init=False, repr=False)

    def corpus_pass(self, settings: Settings) -> SiteLearningPass | None:
        """Learning reads the run's inputs first: files of a folder, or JSON Lines records
        that name their site (``site_fields``)."""
        if not self.learn or (settings.jsonl and not self.site_fields):
            return None
        jsonl = (settings.text_field, tuple(self.site_fields)) if settings.jsonl else None
        return SiteLearningPass(self, settings.max_bytes, settings.encoding, jsonl)

    def __post_init__(self) -> None:
        if self.learn_by not in SITE_BY:
            raise ValueError(f"learn_by must be one of {SITE_BY}, not {self.learn_by!r}")
        if self.max_search_timeouts < 1:
            raise ValueError(f"max_search_timeouts must be at least 1, not {self.max_search_timeouts}")
        if not isinstance(self.site_fields, list) or not all(isinstance(name, str) for name in self.site_fields):
            raise ValueError(f"site_fields must be a list of field names, not {self.site_fields!r}")
        self.ruleset = load_rules(self.rules, defaults=self.default_rules, disable=self.disable)
        rules = self.ruleset.rules
        self._rule_by_id = self.ruleset.by_id()
        self._removing = RuleIndex([rule for rule in rules if self._removes(rule)])
        self._by_zone = {
            zone: RuleIndex([rule for rule in rules if rule.allows(*flags)]) for zone, flags in ZONE_FLAGS.items()
        }

    def warm(self) -> None:
        """Compile every rule's patterns now, not when a page first asks for one
        (:class:`~cleankit.core.stage.Warms`)."""
        for rule in self.ruleset.rules:
            for pattern in (rule.compiled, rule.compiled_lines, *rule.compiled_fields.values()):
                compile_now = getattr(pattern, "compiled", None)  # a LazyPattern (text/lazy_pattern.py)
                if callable(compile_now):
                    compile_now()

    def run(self, document: Document) -> Document:
        site = self.site_furniture.for_source(document.source) if self.site_furniture else None
        analysis = self.analyse(document.text, site)
        if analysis.metadata:
            document.metadata.setdefault(METADATA_KEY, {}).update(analysis.metadata)
        self._flag_timeouts(document, analysis.budget)
        edits = []
        text = document.text
        for line in analysis.lines:
            if not line.remove:
                continue
            end = line.end + 1 if line.end < len(text) and text[line.end] == "\n" else line.end
            edits.append(Edit("", line.rule, line.start, end, text[line.start : end], "", line.reason))
        document.apply(self.name, edits)
        return document

    def _flag_timeouts(self, document: Document, budget: SearchBudget) -> None:
        """One flag per user rule whose searches ran over the time limit on this page."""
        for rule_id, count in sorted(budget.timeouts.items()):
            start, end = budget.first_line[rule_id]
            reason = (
                f"the rule's search ran over the time limit ({SEARCH_TIMEOUT * 1000:.0f} ms) on {count} line(s), "
                "each counted as not matched"
            )
            if budget.stopped(rule_id):
                reason += f"; the rule was not tried again in this document after {count}"
            details = {"timeouts": count, "stopped": budget.stopped(rule_id)}
            document.flag(self.name, rule_id, start, end, reason, details)

    # --- the decision --------------------------------------------------------------------

    def analyse(self, text: str, site: SiteLines | None = None) -> Analysis:
        budget = SearchBudget(self.max_search_timeouts)
        spans = list(paragraph_spans(text))
        originals = [text[start:end] for start, end in spans]
        views = match_views(originals)
        first, last = self._body_bounds(views, spans, budget)
        body_candidates = self._body_candidates(views, first, last)
        verdicts: list[LineVerdict] = []
        removal_rule: list[Rule | None] = []
        for index, ((start, end), original, view) in enumerate(zip(spans, originals, views, strict=True)):
            in_head, in_tail = index < first, index > last
            zone = "head+tail" if in_head and in_tail else "head" if in_head else "tail" if in_tail else "body"
            verdict = LineVerdict(index, start, end, original, zone)
            budget.line = (start, end)
            if index % DEADLINE_EVERY_LINES == 0:
                check_deadline()
            if zone == "body":
                candidates = body_candidates.get(index)
                if candidates is None:
                    # No rule's search hit the line (most body lines): nothing fires.
                    verdicts.append(verdict)
                    removal_rule.append(None)
                    continue
                judged = self._judge(view, original, candidates, False, budget)
            else:
                # Furniture repeats from page to page of a site: judge each distinct line once.
                known = self._judged.recall((zone, original))
                if known is not None:
                    judged = known
                else:
                    judged = self._judge(view, original, self._by_zone[zone].candidates(view), True, budget)
                    remember(self._judged, (zone, original), judged, budget)
            fired, chosen, fields, fallback_fields = judged
            if fired:
                verdict.fired.extend(fired)
                verdict.fields.update(fields)
                verdict.fallback_fields.update(fallback_fields)
            if chosen is not None:
                verdict.remove, verdict.rule, verdict.reason = True, chosen.id, chosen.reason()
                also = [rule_id for rule_id in verdict.fired if rule_id != chosen.id]
                if also:
                    verdict.reason += f" (also: {', '.join(also)})"
            verdicts.append(verdict)
            removal_rule.append(chosen)
        self._neighbours(verdicts, removal_rule)
        self._values(verdicts, views, removal_rule, budget)
        self._learned(verdicts, views, site)
        self._glue(verdicts, views, removal_rule)
        self._crumbs(verdicts, views, removal_rule)
        self._teasers(verdicts, views, first)
        self._listings(verdicts, views, removal_rule)
        self._after_footer(verdicts, views, removal_rule, views[max(first, 0) : last + 1])
        metadata = PageMetadata()
        for verdict in verdicts:
            if verdict.fields:
                metadata.update(verdict.fields)
            if verdict.fallback_fields:
                metadata.update(verdict.fallback_fields, fallback=True)
        return Analysis(verdicts, metadata.to_json(), budget)

    def _judge(
        self, view: str, original: str, candidates: Sequence[Rule], gate_passed: bool, budget: SearchBudget
    ) -> Judgement:
        """The rules that fire on one line, the one that removes it (if any), and the fields
        found (each field from the first rule that has it; fallback rules' fields apart)."""
        fired: list[str] = []
        chosen: Rule | None = None
        fields: dict[str, str] = {}
        fallback_fields: dict[str, str] = {}
        tokens = None
        for rule in candidates:
            if rule.words and tokens is None:
                tokens = line_words(view)
            if not rule.match(view, tokens, gate_passed=gate_passed, budget=budget):
                continue
            fired.append(rule.id)
            if rule.extracts:
                found = fallback_fields if rule.fallback else fields
                for name, value in rule.extract(view, original, budget).items():
                    found.setdefault(name, value)
            if chosen is None and self._removes(rule):
                chosen = rule
        return tuple(fired), chosen, fields, fallback_fields

    def _body_candidates(self, views: Sequence[str], first: int, last: int) -> dict[int, list[Rule]]:
        """Body lines meet only the ``anywhere`` rules. A line-local rule is searched over all
        body lines at once (one call instead of one per line); the lines it hits, and every line
        for the other rules, are then checked line by line as usual."""
        hits: dict[int, list[Rule]] = {}
        if last < first:
            return hits
        body = views[first : last + 1]
        joined = "\n".join(body)
        starts = list(accumulate((len(view) + 1 for view in body[:-1]), initial=0))
        for rule in self._by_zone["body"].rules:
            offsets = rule.lines_hit(joined)
            lines: Sequence[int]
            if offsets is None:
                lines = range(first, last + 1)
            else:
                lines = sorted({first + bisect_right(starts, offset) - 1 for offset in offsets})
            for index in lines:
                hits.setdefault(index, []).append(rule)
        return hits

    def not_furniture(self) -> list[str]:
        """Lines the rule packs give as not furniture (their negative examples): no shape of
        theirs is learned as furniture of every site."""
        return [text for rule in self.ruleset.rules for text in rule.negatives]

    def _removes(self, rule: Rule) -> bool:
        return rule.action == "remove" or (rule.action == "both" and not self.keep_metadata_lines)

    def _removed_by_a_rule(self, view: str, line: tuple[int, int], budget: SearchBudget) -> bool:
        # The same furniture lines are checked on every page of a site: each distinct line
        # once, as in :meth:`analyse` (a verdict reached with a search over the time limit, or
        # under a budget that stopped a rule, holds for this page only).
        if not budget.timeouts:
            known = self._removed.recall(view)
            if known is not None:
                return known
        tokens = line_words(view)
        budget.line = line
        removed = any(rule.match(view, tokens, True, budget) for rule in self._removing.candidates(view))
        remember(self._removed, view, removed, budget)
        return removed

    def _body_bounds(
        self, views: Sequence[str], spans: Sequence[tuple[int, int]], budget: SearchBudget
    ) -> tuple[int, int]:
        """Indexes of the first and last body line: sentence-like, not a repeat of an earlier
        line (the last one not a repeat of the page's opening either), not removed by a rule.
        Only lines scanned from each end are checked against the
        rules (the lines between are body whatever they say). Without any such line, the
        longest line no rule removes (of at least :attr:`pivot_chars`) stands for the body;
        without that either, every line is body and only ``anywhere`` rules fire."""
        seen: set[str] = set()
        earlier: list[str] = []
        candidate: list[bool] = []
        for view in views:
            size = len(view)
            repeat = size >= 8 and view in seen
            if not repeat and view.endswith(ELLIPSIS_ENDINGS) and TRAILING_ELLIPSIS.search(view):
                # A lead printed again, cut short: "近日，我市召开…"
                lead = TRAILING_ELLIPSIS.sub("", view)
                repeat = len(lead) >= 12 and any(line.startswith(lead) for line in earlier)
            seen.add(view)
            if size >= 12:
                earlier.append(view)
            candidate.append(sentence_like(view, self.body_chars) and not repeat)
        order = range(len(views))

        def body(i: int) -> bool:
            return candidate[i] and not self._removed_by_a_rule(views[i], spans[i], budget)

        first = next((i for i in order if body(i)), None)
        if first is not None:
            opening = Opening(views, first)
            last = next(
                i
                for i in reversed(order)
                if body(i) and (i == first or not opening.repeated_by(i))
            )
            return first, last
        best = -1
        for index, view in enumerate(views):
            longer = len(view) >= self.pivot_chars and (best < 0 or len(view) > len(views[best]))
            if longer and not self._removed_by_a_rule(view, spans[index], budget):
                best = index
        return (best, best) if best >= 0 else (0, len(views) - 1)

    def _neighbours(self, verdicts: list[LineVerdict], removal_rule: list[Rule | None]) -> None:
        """Lines removed by a ``needs_neighbour`` rule stay removed only inside a run of lines
        removed by that family's rules that holds one whose rule needs no neighbour."""
        index = 0
        while index < len(verdicts):
            rule = removal_rule[index]
            if rule is None or rule.needs_neighbour is None:
                index += 1
                continue
            family = rule.needs_neighbour
            start = index
            while start > 0 and _family(removal_rule[start - 1]) == family:
                start -= 1
            end = index
            while end + 1 < len(verdicts) and _family(removal_rule[end + 1]) == family:
                end += 1
            run = range(start, end + 1)
            if not any(removal_rule[i].needs_neighbour is None for i in run):  # type: ignore[union-attr]
                for i in run:
                    verdicts[i].remove, verdicts[i].rule = False, ""
                    verdicts[i].reason = ""
                    removal_rule[i] = None
            index = end + 1

    def _values(
        self,
        verdicts: list[LineVerdict],
        views: Sequence[str],
        removal_rule: list[Rule | None],
        budget: SearchBudget,
    ) -> None:
        """A label alone on its line (a ``block: value`` rule: ``来源：``) and the next line read
        as one: when the label's fields find a value in the pair, the next line is that value
        and goes with the label (kept with it when metadata lines are kept)."""
        for index, verdict in enumerate(verdicts[:-1]):
            if not verdict.fired or verdict.zone == "body":
                continue
            label_rule = next(
                (rule for rule_id in verdict.fired if (rule := self._rule_by_id[rule_id]).block == "value"), None
            )
            if label_rule is None:
                continue
            following, view = verdicts[index + 1], views[index + 1]
            claimed = removal_rule[index + 1]
            if following.zone == "body" or sentence_like(view, self.body_chars):
                # A label that may introduce the text and is right before it stays (记者：).
                if label_rule.introduces_text and removal_rule[index] is label_rule:
                    verdict.remove, verdict.rule, verdict.reason = False, "", ""
                    removal_rule[index] = None
                continue
            if (
                len(view) > VALUE_CHARS
                or (claimed is not None and not claimed.fallback)
                or any(self._rule_by_id[rule_id].block == "value" for rule_id in following.fired)
            ):
                continue
            budget.line = (verdict.start, following.end)
            fields = label_rule.pair_fields(views[index], verdict.text, view, following.text, budget)
            if not fields:
                continue
            for name, value in fields.items():
                verdict.fields.setdefault(name, value)
            following.fields, following.fallback_fields = {}, {}
            following.remove = verdict.remove
            following.rule = verdict.rule if verdict.remove else ""
            following.reason = f"{label_rule.family}: the value of the label {verdict.text.strip()!r} before it"
            removal_rule[index + 1] = removal_rule[index]

    def _crumbs(self, verdicts: list[LineVerdict], views: Sequence[str], removal_rule: list[Rule | None]) -> None:
        """The last item of a breadcrumb split over lines: the short line after a separator
        standing alone (``首页`` / ``>`` / ``政务信息`` / ``>`` / ``宁夏要闻``), and a copy of it on the
        next line (``云南要闻`` printed again as the column's heading)."""
        for index in range(len(verdicts) - 1):
            separator = verdicts[index]
            if not (separator.remove and separator.zone == "head" and SEPARATOR_ONLY.match(views[index])):
                continue
            crumb = index + 1
            item = views[crumb]
            if (
                verdicts[crumb].zone != "head"
                or verdicts[crumb].remove
                or len(item) > CRUMB_CHARS
                or NO_CRUMB.search(item)
                or SEPARATOR_ONLY.match(item)
            ):
                continue
            copies = [crumb]
            if crumb + 1 < len(verdicts) and views[crumb + 1] == item and not verdicts[crumb + 1].remove:
                copies.append(crumb + 1)
            for i in copies:
                verdicts[i].remove, verdicts[i].rule = True, CRUMB
                verdicts[i].reason = "navigation: the last item of a breadcrumb split over lines"
                removal_rule[i] = removal_rule[index]

    def _learned(self, verdicts: list[LineVerdict], views: Sequence[str], site: SiteLines | None) -> None:
        """Lines of a learned shape, kept only when their run of furniture touches the page
        edge or holds a rule-matched line (so a line several pages quote inside their text stays)."""
        if not site or not self.learn:
            return
        reasons: dict[int, str] = {}
        for verdict, view in zip(verdicts, views, strict=True):
            if verdict.zone == "body" or verdict.remove or not learnable(view, self.learn_max_chars):
                continue
            why = site.why(verdict.zone, shape_key(view))
            if why:
                reasons[verdict.index] = why
        if not reasons:
            return
        total = len(verdicts)
        index = 0
        while index < total:
            if not (verdicts[index].remove or index in reasons):
                index += 1
                continue
            run_end = index
            while run_end + 1 < total and (verdicts[run_end + 1].remove or run_end + 1 in reasons):
                run_end += 1
            run = range(index, run_end + 1)
            at_edge = index == 0 or run_end == total - 1
            has_rule = any(verdicts[i].remove for i in run)
            if at_edge or has_rule:
                for i in run:
                    if i in reasons and not verdicts[i].remove:
                        verdicts[i].remove = True
                        verdicts[i].rule = LEARNED
                        verdicts[i].reason = reasons[i]
            index = run_end + 1

    def _glue(self, verdicts: list[LineVerdict], views: Sequence[str], removal_rule: list[Rule | None]) -> None:
        """Short unknown lines between two furniture lines of a glue family belong to them."""

        def glue_at(i: int) -> bool:
            if not 0 <= i < len(verdicts) or not verdicts[i].remove:
                return False
            rule = removal_rule[i]
            return verdicts[i].rule == LEARNED or (rule is not None and rule.glue)

        def weak(i: int) -> bool:
            verdict, view = verdicts[i], views[i]
            return (
                verdict.zone != "body"
                and not verdict.remove
                and len(view) <= self.glue_chars
                and not view.endswith((*SENTENCE_ENDINGS, ":"))
                and DIGITS_ONLY.match(view) is None
            )

        index = 0
        while index < len(verdicts):
            if not weak(index):
                index += 1
                continue
            run_end = index
            while run_end + 1 < len(verdicts) and weak(run_end + 1):
                run_end += 1
            if run_end - index + 1 <= self.glue_lines and glue_at(index - 1) and glue_at(run_end + 1):
                before, after = verdicts[index - 1].rule, verdicts[run_end + 1].rule
                for i in range(index, run_end + 1):
                    verdicts[i].remove, verdicts[i].rule = True, GLUE
                    verdicts[i].reason = f"short line inside a furniture block (between {before} and {after})"
            index = run_end + 1

    def _listings(self, verdicts: list[LineVerdict], views: Sequence[str], removal_rule: list[Rule | None]) -> None:
        """The title-like lines after a related-links heading, up to the first line that is not."""
        for index, rule in enumerate(removal_rule):
            if rule is None or rule.block != "listing" or not verdicts[index].remove:
                continue
            for j in range(index + 1, len(verdicts)):
                verdict = verdicts[j]
                following = removal_rule[j]
                if verdict.zone == "body" or (following is not None and following.anchor):
                    break  # the footer starts: what follows is the footer's, not the list's
                if verdict.remove:
                    continue
                view = views[j]
                if len(view) > self.listing_chars or view.endswith(SENTENCE_ENDINGS):
                    break
                verdict.remove, verdict.rule = True, LISTING
                verdict.reason = f"listed under the {rule.id} heading {verdicts[index].text!r}"

    def _teasers(self, verdicts: list[LineVerdict], views: Sequence[str], first: int) -> None:
        """After the text, a line that repeats the page's opening (a teaser of this page, its
        lead printed again), and the title-like line just before it, are not the text's."""
        if first < 0:
            return
        opening = Opening(views, first)
        for index, verdict in enumerate(verdicts):
            if verdict.zone not in ("tail", "head+tail") or verdict.remove or not opening.repeated_by(index):
                continue
            verdict.remove, verdict.rule = True, REPEATED
            verdict.reason = "the page's opening printed again after the text"
            before = index - 1
            if before >= 0 and verdicts[before].zone in ("tail", "head+tail") and not verdicts[before].remove:
                view = views[before]
                if len(view) <= self.listing_chars and not view.endswith((*SENTENCE_ENDINGS, ":")):
                    verdicts[before].remove, verdicts[before].rule = True, REPEATED
                    verdicts[before].reason = "title of the page's opening printed again after the text"

    def _after_footer(
        self,
        verdicts: list[LineVerdict],
        views: Sequence[str],
        removal_rule: list[Rule | None],
        body_views: Sequence[str],
    ) -> None:
        """After a footer anchor: short non-sentence lines and repeats of the title or lead."""
        anchor = next(
            (i for i, rule in enumerate(removal_rule) if rule is not None and rule.anchor and verdicts[i].remove),
            None,
        )
        if anchor is None:
            return
        head_views = {views[v.index] for v in verdicts if v.zone in ("head", "head+tail") and v.index < anchor}
        anchor_rule = verdicts[anchor].rule
        for verdict in verdicts[anchor + 1 :]:
            if verdict.remove or verdict.zone == "body":
                continue
            view = views[verdict.index]
            lead = TRAILING_ELLIPSIS.sub("", view)
            if view in head_views or (len(lead) >= 12 and any(b.startswith(lead) for b in body_views)):
                verdict.remove, verdict.rule = True, REPEATED
                verdict.reason = "title or lead printed again after the footer"
            elif len(view) <= self.footer_chars and not view.endswith(SENTENCE_ENDINGS):
                verdict.remove, verdict.rule = True, AFTER_FOOTER
                verdict.reason = f"after the footer's {anchor_rule} line"


def _text_key(view: str) -> str:
    """A line as running text: no spaces, no trailing ellipsis (str checks first: the
    regular expressions would be tried at every position)."""
    if view.endswith(ELLIPSIS_ENDINGS):
        view = TRAILING_ELLIPSIS.sub("", view)
    return KEY_SPACES.sub("", view) if " " in view or "\t" in view else view


class Opening:
    """The page's opening — head lines and the first body lines — and whether a later line
    repeats running text of it (``各位代表：现在，我代表…``). A title or a signature (no
    punctuation) printed twice is no such repeat; a short line (``各位代表！``) must be a whole
    sentence of the opening, from a sentence start to its end."""

    def __init__(self, views: Sequence[str], first: int) -> None:
        self.views = views
        self.end = first + OPENING_LINES
        self._keys: list[str] | None = None
        self._texts: dict[int, tuple[str, str]] = {}

    def _text(self, before: int) -> tuple[str, str]:
        """The opening's lines before line ``before``: run together, and a line per line."""
        before = min(self.end, before)
        found = self._texts.get(before)
        if found is None:
            if self._keys is None:
                self._keys = [_text_key(view) for view in self.views[: self.end]]
            lines = self._keys[:before]
            found = self._texts[before] = ("".join(lines), "\n".join(lines))
        return found

    def repeated_by(self, index: int) -> bool:
        """Does line ``index`` repeat the opening (the part of it before the line)?"""
        view = self.views[index]
        if len(view) < SHORT_REPEAT_CHARS or LEAD_PUNCTUATION.search(view) is None:
            return False
        key = _text_key(view)
        if len(key) >= REPEAT_MIN_CHARS:
            return key in self._text(index)[0]  # a teaser may run over a break of the text
        if len(key) < SHORT_REPEAT_CHARS or not key.endswith(SENTENCE_ENDINGS):
            return False
        opening = self._text(index)[1]
        at = opening.find(key)
        while at >= 0:
            if at == 0 or opening[at - 1] in SENTENCE_STARTS_AFTER:
                return True
            at = opening.find(key, at + 1)
        return False


def _family(rule: Rule | None) -> str | None:
    return rule.family if rule is not None else None


@dataclass
class SiteLearningPass:
    """The corpus pre-pass of a run: learn each site's furniture from every input before any
    document is cleaned, and hand it to the boilerplate stage. ``jsonl`` (text field, site
    fields) reads the inputs as JSON Lines records.

    The runner surveys the inputs in its workers (:meth:`survey`, cached per file content so an
    unchanged page is not decoded again) and hands the surveys to :meth:`learn`; :meth:`prepare`
    does both in this process (standard input: ``learn`` of its one ``survey``). :meth:`context`
    tells the runner what was learned for a document's site, so a rerun redoes the documents
    whose learned furniture changed."""

    stage: BoilerplateStage
    max_bytes: int
    encoding: str | None
    jsonl: tuple[str, tuple[str, ...]] | None = None
    name: str = "site-learning"

    def prepare(self, files: Sequence[tuple[str, Path]]) -> None:
        stage = self.stage
        stage.site_furniture = learn_site_furniture(
            files,
            by=stage.learn_by,
            max_chars=stage.learn_max_chars,
            min_pages=stage.learn_min_pages,
            min_share=stage.learn_min_share,
            max_bytes=self.max_bytes,
            encoding=self.encoding,
            min_sites=stage.learn_min_sites,
            not_furniture=stage.not_furniture(),
            jsonl=self.jsonl,
        )

    def __getstate__(self) -> dict[str, Any]:
        """The pass with what it learned into its stage: a worker whose stage was not pickled
        with it (a nursery's, which has the pipeline from before the survey) gets the
        furniture from here."""
        return {**self.__dict__, "site_furniture": self.stage.site_furniture}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        furniture = state.pop("site_furniture")
        self.__dict__.update(state)
        self.stage.site_furniture = furniture

    def survey_id(self) -> str:
        """What a cached survey depends on besides the file's bytes (``shapes``: surveys hold
        line shapes, not the lines of earlier versions)."""
        jsonl = "" if self.jsonl is None else json.dumps(self.jsonl, ensure_ascii=False)
        return f"{self.name}:shapes:{self.stage.learn_max_chars}:{self.max_bytes}:{self.encoding}:{jsonl}"

    def survey(self, source: str, raw: bytes) -> dict[str, object] | None:
        return survey_bytes(raw, self.stage.learn_max_chars, self.max_bytes, self.encoding, self.jsonl)

    def survey_decoding(self, source: str, raw: bytes) -> tuple[dict[str, object] | None, EncodingInfo | None]:
        """:meth:`survey`, and how it decoded the bytes (the encoding the cleaner would detect:
        the same forced encoding, ``self.encoding``, is the settings')."""
        return survey_bytes_decoding(raw, self.stage.learn_max_chars, self.max_bytes, self.encoding, self.jsonl)

    def learn(self, surveys: Iterable[tuple[str, Mapping[str, Any] | None]]) -> None:
        stage = self.stage
        counter = FurnitureCounter(by=stage.learn_by, max_chars=stage.learn_max_chars)
        for source, survey in surveys:
            if survey is not None:
                counter.add_survey(source, survey)
        stage.site_furniture = counter.result(
            stage.learn_min_pages, stage.learn_min_share, stage.learn_min_sites, stage.not_furniture()
        )

    def context(self, source: str) -> str:
        return self.stage.site_furniture.digest(source) if self.stage.site_furniture else ""

    def observe(self, document: Document, output: str) -> None:
        return None

    def merge(self, observation: Any) -> None:
        return None

    def finalize(self, changes: Any) -> dict[str, int]:
        return {}
