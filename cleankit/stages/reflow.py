"""Reflow: join paragraphs that a page or column break cut in the middle of a sentence.

Crawled articles often carry the print layout's breaks: ``…推动发展的重要方法，通`` /
``过调查研究…``. Runs after ``paragraphs``; every join is one edit that removes the
break between two paragraphs (rule ``join-broken-paragraph``).

No single rule decides. Each adjacent pair (A, B) is first checked against vetoes —
the cases that must never be glued:

* A ends a sentence (``。！？；…`` or ``.``, also behind closing quotes or brackets) or ends with a
  colon (it introduces what follows);
* B starts a heading or list item (``第一章``, ``一、``, ``（一）``, ``(1)``, ``1.``, ``①``,
  ``专栏3``, ``附件``, ``——``, bullets), or A is such a heading and is short (a list item
  that holds a full sentence already, ``（一）…。…``, is prose and may be joined);
* B is very short and does not end a sentence (table cells, dates, signatures);
* the text on both sides of the break is not Chinese (English is not reflowed here);
* B repeats the end of A (templated debris that a later stage removes, not a cut).

Two kinds of A are cut by construction, and lift the heading and short-B vetoes:

* A ends inside a quoted term it has just opened (``…成果找市场“双向`` / ``揭榜`` /
  ``挂帅”的简称``): a quotation mark opened in the last few characters and not closed;
* A is a dash-led (or bracketed) subtitle that has not reached its end
  (``——2026年1月26日在广东省第十四届`` / ``人民代表大会第五次会议上``): B, short and
  without sentence punctuation, brings the end a subtitle has (``…会议上``, ``讲话``, the
  closing bracket).

Then evidence for and against a cut is added up, and the pair is joined at a score of 3:

* +3 A ends with a clause mark (，、,) or an opening bracket;
* +5 B starts with punctuation no sentence starts with (，。、）》” ...);
* +3 A leaves a quote, bracket or book title open;
* +2 A ends inside a quoted term just opened (and B's lack of punctuation is not held against it);
* +5 A is a subtitle cut before its end and B ends it (neither loses points for lacking punctuation);
* +2 A is long for this document (at least half the typical paragraph, 40–100 characters),
  else +1 when it has at least 30 characters;
* +2 A holds a full sentence already (prose, not a heading), else +1 for clause punctuation;
* +1 B ends a sentence;
* +1 B starts with a one-character fragment before punctuation (``碍,最大限度…``);
* −2 A is short, has no clause or sentence punctuation and leaves no quote open (a heading
  or a table cell); −2 the same for B;
* −2 B starts with an enumerator such as 一是/二是/首先，;
* −3 B starts with a news dateline (新华社北京12月10日电, 本报讯, （记者…）);
* −2 A is the document's first paragraph (a title) and is short.

"Typical" is the median length of the document's paragraphs that end a sentence. The
decision is iterated to a fixed point (a join changes A's length and the typical
length), so reflowing reflowed text joins nothing more: the stage is idempotent.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from cleankit.core.document import Document, Edit
from cleankit.core.stage import register_stage
from cleankit.stages.paragraphs import paragraph_spans
from cleankit.text.cjk import CLAUSE_PUNCTUATION, CLOSERS, FULL_STOPS, OPENERS, SENTENCE_FINAL, is_chinese

JOIN_SCORE = 3
NO_COMMA_PENALTY = 4
# The longest note in brackets after a sentence's end that still ends the line's sentence.
NOTE_CHARS = 40
DEFAULT_TYPICAL = 120
MIN_LONG, MAX_LONG = 40, 100
MEDIUM_LENGTH = 30
SHORT_CELL = 8
REPEATED_TAIL = 6
MAX_PASSES = 50

_NUMERAL = "一二三四五六七八九十百千零〇两"
HEADING_START = re.compile(
    rf"""^(?:
        第[{_NUMERAL}\d]+[章节條条篇部编編款项項卷回]
      | [{_NUMERAL}]+[、.．]
      | [（(][{_NUMERAL}\d]+[）)]
      | \d+(?:\.\d+)*[、．]
      | \d+\.(?!\d)
      | \d+(?:\.\d+)+\s
      | [ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]+[、.．]
      | [①-⑳⑴-⒇⒈-⒛❶-❿]
      | (?:专栏|專欄|附件|附表|附录|附錄)\s*\d*
      | ——|--
      | [•●○▪■□◆◇►▶※★☆·]
      | [A-Za-z][.、．]\s
    )""",
    re.VERBOSE,
)
# A news lead starts a new paragraph: "新华社北京12月10日电", "本报讯", "（记者 张三）".
DATELINE_START = re.compile(
    r"^(?:新华社|中新社|本报讯|本报记者|人民网|新华网|央视网|中新网|[（(]记者"
    r"|[^，。：\n]{2,12}\d{1,2}月\d{1,2}日(?:电|讯))"
)
ENUMERATOR_START = re.compile(rf"^[{_NUMERAL}]是|^(?:首先|其次|再次|最后|此外|另外|同时)[，,]")
NO_SENTENCE_START = "，。、；：？！）)》〉】」』”’,.;:?!"
PUNCTUATION = CLAUSE_PUNCTUATION + SENTENCE_FINAL + "，。、；：？！"
FIRST_SEGMENT = re.compile(f"^[^{re.escape(PUNCTUATION)}][{re.escape(PUNCTUATION)}]")
COLONS = "：:"
# A quoted term cut by a break: the opening mark is at most this many characters from A's end.
OPEN_TERM_REACH = 12
TERM_QUOTES = {"“": "”", "「": "」", "『": "』", "‘": "’"}
# A subtitle: "——2026年1月26日在…会议上", "（2026年1月27日在…会议上）", "——在…的讲话".
SUBTITLE_START = re.compile(r"^(?:——|――|--|[（(](?=\d{4}年))")
SUBTITLE_END = re.compile(r"(?:上|讲话|講話|发言|發言|报告|報告|致辞|致辭|[）)])$")
MAX_SUBTITLE = 80


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends a sentence: with a sentence-final mark (closing quotes after it
    count), or with a note in brackets after one (``…依职务完成专业训练。（修正条文第十条）``).

    >>> ends_sentence("删除部分文字。（修正条文第十九条）"), ends_sentence("依前三款（附表）")
    (True, False)
    """
    stripped = text.rstrip(CLOSERS + " ")
    if stripped and stripped[-1] in SENTENCE_FINAL:
        return True
    tail = text.rstrip(" ")
    if tail[-1:] in ("）", ")"):
        opening = max(tail.rfind("（"), tail.rfind("("))
        if opening > 0 and len(tail) - opening <= NOTE_CHARS:
            before = tail[:opening].rstrip(CLOSERS + " ")
            return bool(before) and before[-1] in SENTENCE_FINAL
    return False


# Below this many characters one scan by a character class beats a search per character (a
# search per character runs at memchr speed, so it wins on long text that holds none of them).
_SHORT_SCAN = 64
_CHAR_CLASSES: dict[str, re.Pattern[str]] = {}


def _has_any(text: str, chars: str, end: int | None = None) -> bool:
    """Whether ``text[:end]`` holds one of ``chars`` (without copying it)."""
    end = len(text) if end is None else end
    if end <= _SHORT_SCAN:
        pattern = _CHAR_CLASSES.get(chars)
        if pattern is None:
            pattern = _CHAR_CLASSES[chars] = re.compile("[" + "".join(map(re.escape, chars)) + "]")
        return pattern.search(text, 0, end) is not None
    if end == len(text):
        return any(map(text.__contains__, chars))
    return any(text.find(c, 0, end) >= 0 for c in chars)


# Open quotes and brackets: A leaves one open when it has more openers than closers.
# Prose long enough for a page break to cut holds one of these.
COMMAS = "，,"
_PAIRED = tuple("“”《》（(）)「」")
# The sets A is asked whether it holds a character of (before its last character, or at all).
_HELD = (FULL_STOPS, CLAUSE_PUNCTUATION, PUNCTUATION, COMMAS)
_FULL_STOPS, _CLAUSE_MARKS, _ALL_MARKS, _COMMAS = range(len(_HELD))
_TRAILING = CLOSERS + " "
# How much of A's start is kept for the heading test. HEADING_START reads an opening mark,
# a run of numerals, digits and dots and two characters after it, so the verdict on this
# many characters is the verdict on the whole paragraph unless such a run is longer.
HEADING_WINDOW = 4096


class _Left:
    """The left side A of a candidate pair, grown as the paragraphs on its right join it.

    The score needs of A only its two ends, its length, whether it holds certain marks and
    how many quotes and brackets it opens and closes, so those are kept up to date as pieces
    join instead of re-reading the joined text at every pair: a chain of n cut lines took n²
    steps (1.1 / 4.6 s for 2,000 / 4,000). Each piece is read once for each question, and
    only when a pair gets past the vetoes.
    """

    __slots__ = ("_asked", "_counted", "_counts", "_earlier", "ends_sentence", "length", "pieces", "start")

    def __init__(self, text: str, text_ends_sentence: bool) -> None:
        self.pieces = [text]
        self.length = len(text)
        self.start = text[:HEADING_WINDOW]
        self.ends_sentence = text_ends_sentence
        # Per set of _HELD: whether a piece before the last holds one of its characters, and
        # how many pieces have been asked (the answer only grows as pieces join).
        self._earlier = [False] * len(_HELD)
        self._asked = 1
        self._counts: dict[str, int] | None = None
        self._counted = 0

    def join(self, text: str, text_ends_sentence: bool) -> None:
        self.pieces.append(text)
        self.length += len(text)
        if len(self.start) < HEADING_WINDOW:
            self.start += text[: HEADING_WINDOW - len(self.start)]
        # A + B ends a sentence as B does, unless B is only closing marks and spaces.
        if text.rstrip(_TRAILING):
            self.ends_sentence = text_ends_sentence

    @property
    def last(self) -> str:
        return self.pieces[-1][-1]

    def tail(self, size: int) -> str:
        """The last ``size`` characters (all of A when it is shorter)."""
        last = self.pieces[-1]
        if len(last) >= size:
            # The common case: no join of pieces, no copy of the whole last piece.
            return last[len(last) - size :] if size else ""
        found: list[str] = []
        have = 0
        for piece in reversed(self.pieces):
            found.append(piece)
            have += len(piece)
            if have >= size:
                break
        return "".join(reversed(found))[-size:] if size else ""

    def endswith(self, text: str) -> bool:
        last = self.pieces[-1]
        if len(text) <= len(last):
            return last.endswith(text)
        return len(text) <= self.length and self.tail(len(text)) == text

    def holds(self, which: int, but_last_char: bool) -> bool:
        """Whether A (without its last character) holds a character of ``_HELD[which]``."""
        chars = _HELD[which]
        if len(self.pieces) > self._asked:
            # The pieces that stopped being the last one since the previous question.
            for piece in self.pieces[self._asked - 1 : -1]:
                for index, held in enumerate(_HELD):
                    if not self._earlier[index] and _has_any(piece, held):
                        self._earlier[index] = True
            self._asked = len(self.pieces)
        if self._earlier[which]:
            return True
        last = self.pieces[-1]
        return _has_any(last, chars, max(len(last) - 1, 0) if but_last_char else None)

    def unbalanced(self) -> bool:
        counts = self._counts
        if counts is None:
            counts = self._counts = dict.fromkeys(_PAIRED, 0)
        for piece in self.pieces[self._counted :]:
            for char in _PAIRED:
                counts[char] += piece.count(char)
        self._counted = len(self.pieces)
        return (
            counts["“"] > counts["”"]
            or counts["《"] > counts["》"]
            or counts["（"] + counts["("] > counts["）"] + counts[")"]
            or counts["「"] > counts["」"]
        )


def open_quoted_term(text: str) -> bool:
    """Does the text end inside a quotation it opened in its last few characters
    (``…成果找市场“双向``)? The quoted part holds no punctuation: a term, not a speech."""
    tail = text[-OPEN_TERM_REACH:]
    for opener, closer in TERM_QUOTES.items():
        at = tail.rfind(opener)
        if at >= 0 and closer not in tail[at:] and not _has_any(tail[at + 1 :], PUNCTUATION):
            return True
    return False


def cut_subtitle(a: str, b: str) -> bool:
    """Is A a subtitle cut before its end, and B the rest of it? A starts like a subtitle
    (a dash, or a bracket opening on a date) and lacks a subtitle's end; B, short and without
    sentence punctuation, has it (``人民代表大会第五次会议上``)."""
    return (
        SUBTITLE_START.match(a) is not None
        and SUBTITLE_END.search(a) is None
        and SUBTITLE_END.search(b) is not None
        and len(a) + len(b) <= MAX_SUBTITLE
        and not _has_any(a + b, FULL_STOPS + "；;，,")
        and HEADING_START.match(b) is None
    )


def join_score(
    a: _Left, b: str, typical: float, first: bool, b_ends_sentence: bool, need: int | None = None
) -> int | None:
    """Evidence that B continues A's sentence; ``None`` when a veto applies. With ``need``, a
    score that cannot reach it may be returned before A's marks are read: some value below
    ``need``, not the score."""
    if not b:
        return None
    last = a.last
    if a.ends_sentence or last in COLONS:
        return None
    long_length = min(max(typical / 2, MIN_LONG), MAX_LONG)
    if HEADING_START.match(b):
        return None
    # A line cut inside a quoted term or before a subtitle's end is a cut whatever it looks like.
    in_term = open_quoted_term(a.tail(OPEN_TERM_REACH))
    # A subtitle is short: A is read whole only when it is.
    subtitle = not in_term and a.length + len(b) <= MAX_SUBTITLE and cut_subtitle(a.tail(a.length), b)
    cut_by_construction = in_term or subtitle
    heading = HEADING_START.match(a.start) and a.length < long_length and not a.holds(_FULL_STOPS, but_last_char=True)
    if heading and not cut_by_construction:
        return None  # a heading; a list item that already holds a sentence is prose
    if len(b) < SHORT_CELL and not b_ends_sentence and not in_term:
        return None
    if not (is_chinese(last) or is_chinese(b[0])):
        return None
    if a.endswith(b) or (min(a.length, len(b)) >= REPEATED_TAIL and a.tail(REPEATED_TAIL) == b[-REPEATED_TAIL:]):
        return None

    # B's terms, A's length and ending first; A's marks and brackets (the costly reads) last,
    # when they can still lift the score to ``need``.
    no_sentence_start = b[0] in NO_SENTENCE_START
    long = a.length >= long_length
    score = 0
    if last in CLAUSE_PUNCTUATION or last in OPENERS:
        score += 3
    if no_sentence_start:
        score += 5
    if in_term:
        score += 2
    if subtitle:
        score += 5
    if long:
        score += 2
    elif a.length >= MEDIUM_LENGTH:
        score += 1
    if b_ends_sentence:
        score += 1
    if FIRST_SEGMENT.match(b):
        score += 1
    if not _has_any(b, PUNCTUATION) and len(b) < long_length and not cut_by_construction:
        score -= 2
    if ENUMERATOR_START.match(b):
        score -= 2
    if DATELINE_START.match(b):
        score -= 3
    if first and not long:
        score -= 2
    # What A's marks can still add: 3 for a quote or bracket it leaves open, 2 for a full stop.
    if need is not None and score + 5 < need:
        return score
    open_quote = a.unbalanced()
    if open_quote:
        score += 3
    # Every other set A is asked about is part of PUNCTUATION: an A without any (a title, a
    # menu line: most pairs scored) answers them all with one scan.
    punctuated = a.holds(_ALL_MARKS, but_last_char=False)
    full_stop = punctuated and a.holds(_FULL_STOPS, but_last_char=True)
    # A line that holds neither a comma nor a full stop is a title, a heading, a dated order
    # line or a list's item (…办法第三条修正草案总说明, 中华民国95年8月24日…号令修正): unless it
    # ends inside a bracket or a quotation it opened, or B cannot start a sentence, B starts a
    # paragraph of its own.
    if (
        not (open_quote or cut_by_construction or no_sentence_start)
        and not (punctuated and a.holds(_COMMAS, but_last_char=False))
        and not full_stop
    ):
        score -= NO_COMMA_PENALTY
    # A's full stops and clause marks before its last character.
    if full_stop:
        score += 2
    elif punctuated and a.holds(_CLAUSE_MARKS, but_last_char=True):
        score += 1
    # A subtitle and the inside of a quoted term carry no punctuation by nature.
    if not punctuated and not open_quote and not long and not subtitle:
        score -= 2
    return score


def broken_paragraph_joins(paragraphs: list[str]) -> list[int]:
    """Indices ``i`` such that paragraph ``i`` and ``i + 1`` are one paragraph cut in two."""
    groups = [[i] for i in range(len(paragraphs))]
    # A group (its first and last paragraph) has the same text in every pass, and so whether
    # it ends a sentence; a pair of groups whose left side holds its group only (no join in
    # this pass yet) has the same score as in an earlier pass when the typical length is the
    # same. A page that needs a second pass for one join asks most pairs again.
    ended: dict[tuple[int, int], bool] = {}
    scored: dict[tuple[int, int, int, int], tuple[float, int | None]] = {}
    # A pass joins everything it can from left to right; another pass is needed only when a
    # join on the right makes a pair on its left qualify. Real pages settle in at most five
    # passes (benchmark corpus); the cap bounds the time on adversarial input.
    for _ in range(MAX_PASSES):
        texts = [
            paragraphs[group[0]] if len(group) == 1 else "".join([paragraphs[i] for i in group]) for group in groups
        ]
        endings = []
        for group, text in zip(groups, texts, strict=True):
            span = (group[0], group[-1])
            text_ends = ended.get(span)
            if text_ends is None:
                text_ends = ended[span] = ends_sentence(text)
            endings.append(text_ends)
        typical = typical_length(texts, endings)
        merged: list[list[int]] = []
        left: _Left | None = None
        fresh = False  # the left side holds its group only
        changed = False
        for group, text, text_ends in zip(groups, texts, endings, strict=True):
            if left is not None:
                owner = merged[-1]
                pair = (owner[0], owner[-1], group[0], group[-1])
                known = scored.get(pair) if fresh else None
                if known is not None and known[0] == typical:
                    score = known[1]
                else:
                    score = join_score(left, text, typical, owner[0] == 0, text_ends, JOIN_SCORE)
                    if fresh:
                        scored[pair] = (typical, score)
                if score is not None and score >= JOIN_SCORE:
                    owner.extend(group)
                    left.join(text, text_ends)
                    fresh = False
                    changed = True
                    continue
            merged.append(group)
            # join_score's first veto, read before a left side is built: an empty paragraph, or
            # one that ends a sentence or with a colon, joins nothing on its right (most do).
            left = _Left(text, text_ends) if text and not text_ends and text[-1] not in COLONS else None
            fresh = True
        groups = merged
        if not changed:
            break
    return [group[k] for group in groups for k in range(len(group) - 1)]


def typical_length(texts: list[str], endings: list[bool]) -> float:
    """Median length of the paragraphs that end a sentence (a default when there are few)."""
    lengths = [len(text) for text, ends in zip(texts, endings, strict=True) if ends]
    return statistics.median(lengths) if len(lengths) >= 3 else DEFAULT_TYPICAL


@register_stage("reflow", order=80)
@dataclass
class ReflowStage:
    name: str = "reflow"

    def run(self, document: Document) -> Document:
        text = document.text
        spans = list(paragraph_spans(text))
        joins = broken_paragraph_joins([text[start:end] for start, end in spans])
        edits = []
        for index in joins:
            gap_start, gap_end = spans[index][1], spans[index + 1][0]
            edits.append(
                Edit(
                    "",
                    "join-broken-paragraph",
                    gap_start,
                    gap_end,
                    text[gap_start:gap_end],
                    "",
                    "paragraph cut mid-sentence by a page or column break",
                )
            )
        document.apply(self.name, edits)
        return document
