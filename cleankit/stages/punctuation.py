"""Punctuation and spacing of Chinese text, in one canonical form.

Runs after ``hygiene`` (which already made line endings LF, every space-like character a
plain space, removed zero-width characters and applied NFC) and ``script``. Rules, each
its own step, each only where it changes something:

``quotes``
    Double quotes follow the document's dominant style: curly ``“”``, corner ``「」`` or
    straight ``"`` (pairs in Chinese text only). The minority style is converted to the
    dominant one, except that nothing is ever converted *to* straight quotes: a document
    whose Chinese text mostly uses ``"`` is left as it is. Single quotes follow with
    their double style (``‘’`` ↔ ``『』``); straight ``'`` is an apostrophe and stays.
``brackets``
    A matched pair of ``( )`` becomes ``（ ）`` when it holds a Han character or stands
    next to Chinese text (``人工智能(AI)`` → ``人工智能（AI）``), unless it is glued to a
    Latin letter or digit and holds no Han character (``f(x)``, ``IPv4(a)`` stay).
``width``
    Half-width ``, : ; ? !`` inside Chinese text become ``，：；？！``. "Inside Chinese
    text" means the nearest character on either side — skipping spaces, line breaks,
    other marks of this set and half-width brackets — is a Han character or Chinese
    punctuation, full-width brackets included (``增长(%),`` → ``增长（%），``). In a
    document that is mostly Han characters, a mark between other characters is converted
    too unless a Latin letter is next to it or digits are on both sides
    (``52.7%,2020年`` → ``52.7%，2020年``). A mark glued to a Latin letter or digit and
    followed by a space is English (``Hello, world! 中文``). So ``1,000``, ``3:30``,
    ``Hello, world`` stay, and URLs, e-mail addresses and `code` are never touched.
``lost-character`` (a flag, not an edit)
    A ``?`` or ``？`` that stands for a character lost in conversion (a GBK/UTF-8 mix-up
    writes ``?`` for what it cannot map) is not a question mark: it touches U+FFFD or another
    ``?`` such run, or sits inside a word (a Han character or letter/digit right on both
    sides, at least one Han) in a sentence with nothing that asks (吗, 呢, 什么, 是否, 如何 …).
    It is left as it is, and flagged so a reviewer sees it; ``width`` never widens it.
``cjk-spacing``
    Spaces between Chinese punctuation and Chinese text (``发展 ，推动``) and the spaces of
    letter-spaced Chinese (``通 知``, ``关 于 印 发``) are removed. A space between two
    words (``朱玉兵 天津市科学技术局``, two parts of a heading) is kept: it separates.
``stranded-stop``
    A line that holds only a sentence's closing marks (``。``, ``”。``, ``）！``) after a line of
    Chinese text is that line's end, cut off by a break: the break is removed. Joined here,
    before ``boilerplate`` judges the page's lines, so that a second cleaning (which would see
    the line already joined by ``reflow``) judges the same lines as the first.
``nfkc`` (option ``nfkc = true``, off by default)
    Full-width Latin letters and digits (``ＡＢＣ１２３``) become ASCII. Only those
    characters are normalised: NFKC on the whole text would also fold ``，`` to ``,``.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from cleankit.core.document import Document, Edit
from cleankit.core.stage import register_stage
from cleankit.text.cjk import HAN, HAN_RANGES, han_count, is_chinese, is_han
from cleankit.text.lazy_pattern import lazy_compile

WIDTH_MAP = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！"}
# Marks skipped when looking for the text around a mark, so that converting one mark never
# changes the decision for its neighbour (that keeps the stage idempotent). The rules run
# in the order quotes, brackets, width: each sees the marks of the rules before it in
# their final form (the width rule counts full-width brackets and curly quotes as Chinese).
_SKIPPED_BY_BRACKETS = frozenset(",:;?!，：；？！()（） \n")
_SKIPPED_BY_WIDTH = frozenset(",:;?!，：；？！() \n")
HALF_WIDTH = re.compile(r"[,:;?!]")
PARENS = re.compile(r"[()]")
STRAIGHT_QUOTE = re.compile('"')
HAN_CHAR = lazy_compile(HAN)

# Each alternative of the protected pattern, with the literal it cannot match without.
# An address is tried only from the start of its run of address characters: tried from
# every character of a long run without "@", the search costs the square of the run.
_PROTECTED_PARTS = (
    ("://", r"(?:https?|ftp)://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+"),
    ("www.", r"www\.[A-Za-z0-9-]+\.[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+"),
    ("@", r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
    ("`", r"`[^`\n]+`"),
)
# The whole alternation: what a text holding every hint is searched with.
PROTECTED = lazy_compile("|".join(part for _hint, part in _PROTECTED_PARTS))
# Text without any of these has nothing to protect (saves the regex pass on most pages).
_PROTECTED_HINTS = tuple(hint for hint, _part in _PROTECTED_PARTS)
# The protected pattern without the alternatives whose literal the text lacks, by the hints
# present. Such an alternative matches nowhere in the text, so leaving it out changes no
# match; kept in, the e-mail one (no literal to start from) is tried at every character of a
# page that holds a URL but no "@" (most pages with a URL).
_PROTECTED_BY_HINTS: dict[tuple[bool, ...], re.Pattern[str]] = {}


def _protected_pattern(present: tuple[bool, ...]) -> re.Pattern[str]:
    found = _PROTECTED_BY_HINTS.get(present)
    if found is None:
        parts = [part for (_hint, part), there in zip(_PROTECTED_PARTS, present, strict=True) if there]
        found = _PROTECTED_BY_HINTS[present] = re.compile("|".join(parts))
    return found


_URL_TAIL = ".,:;?!)'"

# A '?' or '？' standing for a lost character: a run of them (or of U+FFFD) that holds a
# U+FFFD or has two or more marks, or one between word characters (below).
QUESTION_RUN = re.compile("[?？\ufffd]+")
# What makes a sentence a question; a '?' inside a word in a sentence without any of these
# is a lost character. Looked for back to the end of the previous sentence.
QUESTION_CUES = (
    "吗", "呢", "么", "吧", "嘛", "啊", "什么", "怎", "为何", "如何", "哪", "谁", "几", "多少", "是否",
    "难道", "可否", "能否", "是不是", "有没有", "还是", "何", "啥", "岂", "否",
)  # fmt: skip
SENTENCE_END = re.compile("[。！？!?；;\n]")
LOST_REASON = "a ? standing for a lost character (next to damaged text, or inside a word): left as it is"

_CLOSING = "”’」』）)》"
# The line break first and the character before it read after it (the same matches): a
# pattern that opens with a lookbehind is tried at every character, one that opens with a
# literal only where the literal is.
STRANDED_STOP = lazy_compile(rf"\n(?<=[{HAN_RANGES}{_CLOSING}]\n)(?=[{_CLOSING}]*[。！？][{_CLOSING}。！？]*(?:\n|$))")

CJK_PUNCT_FOR_SPACING = frozenset("，。、；：？！“”‘’（）《》【】「」『』〔〕")
SPACE_RUN = re.compile(" +")
FULLWIDTH_ALNUM = re.compile(r"[０-９Ａ-Ｚａ-ｚ]+")

QUOTE_STYLES = {
    "curly": ("“", "”", "‘", "’"),
    "corner": ("「", "」", "『", "』"),
}


def protected_spans(text: str) -> list[tuple[int, int]]:
    """URLs, e-mail addresses and `code`: punctuation there is never changed."""
    spans: list[tuple[int, int]] = []
    present = tuple(hint in text for hint in _PROTECTED_HINTS)
    if not any(present):
        return spans
    for match in _protected_pattern(present).finditer(text):
        start, end = match.span()
        if not match.group().startswith("`"):
            while end > start and text[end - 1] in _URL_TAIL:
                end -= 1
        spans.append((start, end))
    return spans


class _Protected:
    """The protected spans of one text (sorted, disjoint), asked about position after position:
    a binary search each, so a page of many URLs and many marks stays linear."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans = protected_spans(text)
        self.starts = [start for start, _end in self.spans]

    @classmethod
    def of(cls, text: str) -> _Protected:
        """The protected spans of ``text``, found once for the rules that ask in turn: each
        rule of a pass asks about the same text until one of them changes it, and the search
        for e-mail addresses (no literal to start from) is tried at every character."""
        global _last_protected
        found = _last_protected
        if found is None or (found.text is not text and found.text != text):
            found = _last_protected = cls(text)
        return found

    def __contains__(self, position: int) -> bool:
        index = bisect_right(self.starts, position) - 1
        return index >= 0 and position < self.spans[index][1]


_last_protected: _Protected | None = None


class _Neighbours:
    """The nearest character before or after a position of one text that is not in
    ``skipped`` (empty at the edge of the text).

    Walking over the skipped characters from every mark made a run of marks quadratic
    (", " × 20,000 took over a minute): the runs of skipped characters are found instead,
    once per text and only when a neighbour is skipped, and a lookup jumps over a whole run.
    """

    def __init__(self, text: str, skipped: frozenset[str], run: re.Pattern[str]) -> None:
        self.text = text
        self.skipped = skipped
        self.run = run
        self._starts: list[int] | None = None
        self._ends: list[int] = []

    def _run_at(self, index: int) -> tuple[int, int]:
        """The run of skipped characters that holds ``index`` (a skipped character)."""
        if self._starts is None:
            spans = [match.span() for match in self.run.finditer(self.text)]
            self._starts = [start for start, _end in spans]
            self._ends = [end for _start, end in spans]
        found = bisect_right(self._starts, index) - 1
        return self._starts[found], self._ends[found]

    def before(self, position: int) -> str:
        index = position - 1
        if index < 0:
            return ""
        if self.text[index] not in self.skipped:
            return self.text[index]
        start = self._run_at(index)[0]
        return self.text[start - 1] if start > 0 else ""

    def after(self, position: int) -> str:
        index = position + 1
        if index >= len(self.text):
            return ""
        if self.text[index] not in self.skipped:
            return self.text[index]
        end = self._run_at(index)[1]
        return self.text[end] if end < len(self.text) else ""


def _skip_runs(skipped: frozenset[str]) -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(char) for char in sorted(skipped)) + "]+")


_WIDTH_RUNS = _skip_runs(_SKIPPED_BY_WIDTH)
_BRACKET_RUNS = _skip_runs(_SKIPPED_BY_BRACKETS)


def _width_neighbours(text: str) -> _Neighbours:
    return _Neighbours(text, _SKIPPED_BY_WIDTH, _WIDTH_RUNS)


def _bracket_neighbours(text: str) -> _Neighbours:
    return _Neighbours(text, _SKIPPED_BY_BRACKETS, _BRACKET_RUNS)


def _in_chinese(around: _Neighbours, start: int, end: int) -> bool:
    left, right = around.before(start), around.after(end - 1)
    return bool(left and is_chinese(left)) or bool(right and is_chinese(right))


def mostly_chinese(text: str) -> bool:
    """Han characters are at least half of the text's visible characters. Neither this
    stage nor reflow changes the answer (they only swap marks and remove spaces and line
    breaks), which keeps the width rule's fallback idempotent."""
    visible = len(text) - text.count(" ") - text.count("\n")
    return visible > 0 and han_count(text) * 2 >= visible


def _width_fallback(around: _Neighbours, position: int) -> bool:
    """For a mark between two non-Chinese characters in a mostly Chinese document: convert
    unless it sits in English (a Latin letter on either side) or in a number (digits on
    both sides: 1,000, 3:30). ``增长52.7%,2020年`` → ``增长52.7%，2020年``."""
    left = around.before(position)
    right = around.after(position)
    if not left or not right or (left.isascii() and left.isalpha()) or (right.isascii() and right.isalpha()):
        return False
    return not (left.isdigit() and right.isdigit())


def _english_style(text: str, position: int) -> bool:
    """A mark glued to a Latin letter or digit and followed by a space is written the
    English way (``Hello, world! 中文``); Chinese marks are never followed by a space."""
    before = text[position - 1] if position > 0 else ""
    after = text[position + 1] if position + 1 < len(text) else ""
    return before.isascii() and before.isalnum() and after == " "


def _word_char(char: str) -> bool:
    return bool(char) and (is_han(char) or (char.isascii() and char.isalnum()))


def _asks(text: str, position: int) -> bool:
    """Does the sentence before ``position`` hold a question word or particle?"""
    start = position
    while start > 0 and not SENTENCE_END.match(text, start - 1):
        start -= 1
    sentence = text[start:position]
    return any(cue in sentence for cue in QUESTION_CUES)


def lost_character_marks(text: str) -> list[int]:
    """Positions of the ``?``/``？`` that stand for lost characters (module docstring)."""
    if "?" not in text and "？" not in text:
        return []
    protected = _Protected.of(text)
    found: list[int] = []
    for run in QUESTION_RUN.finditer(text):
        start, end = run.span()
        marks = [i for i in range(start, end) if text[i] != "\ufffd"]
        if not marks or start in protected:
            continue
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        touches_han = (bool(before) and is_han(before)) or (bool(after) and is_han(after))
        damaged = "\ufffd" in run.group() or (len(marks) >= 2 and touches_han)
        in_word = len(marks) == 1 and _word_char(before) and _word_char(after) and touches_han
        if (damaged or in_word) and not _asks(text, start):
            found.extend(marks)
    return found


def _alone_on_its_line(text: str, position: int) -> bool:
    r"""Whether the mark at ``position`` is the only visible character of its line.

    >>> _alone_on_its_line("科技创新\n,\n", 5), _alone_on_its_line("科技创新\n, 其中", 5)
    (True, False)
    """
    if position and text[position - 1] not in _LINE_PADDING:
        return False  # a visible character before it on its line (most marks): no scan of the line
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    line = text[start : len(text) if end < 0 else end]
    return line.strip(_STRIPPED) == text[position]


_STRIPPED = " \t\r\u3000\u00a0"
# What may stand before a mark alone on its line: the end of the line before, or what strip takes.
_LINE_PADDING = frozenset(_STRIPPED + "\n")


def width_edits(text: str) -> Iterator[Edit]:
    protected = _Protected.of(text)
    lost = set(lost_character_marks(text))
    around = _width_neighbours(text)
    chinese_document: bool | None = None  # computed only when a mark needs it
    chinese_anywhere: bool | None = None
    for match in HALF_WIDTH.finditer(text):
        position = match.start()
        if position in protected or _english_style(text, position) or position in lost:
            continue
        if _alone_on_its_line(text, position):
            # A mark alone on its line stands in no text: its nearest characters are on other
            # lines, which a later stage may remove (a repeated line, furniture), so cleaning
            # the output again would read other neighbours. Any Chinese on the page decides,
            # which no later removal or join can turn from absent to present.
            if chinese_anywhere is None:
                chinese_anywhere = any(map(is_chinese, text))
            if chinese_anywhere:
                yield Edit("", "width", position, position + 1, match.group(), WIDTH_MAP[match.group()], "")
            continue
        convert = _in_chinese(around, position, position + 1)
        if not convert:
            if chinese_document is None:
                chinese_document = mostly_chinese(text)
            convert = chinese_document and _width_fallback(around, position)
        if convert:
            yield Edit("", "width", position, position + 1, match.group(), WIDTH_MAP[match.group()], "")


def _bracket_pairs(text: str) -> Iterator[tuple[int, int]]:
    """Matched ``( )`` pairs of the whole text (a break in the middle does not unmatch them)."""
    stack: list[int] = []
    if "(" not in text:
        return  # no pair opens (the character-class scan costs more than a substring test)
    for match in PARENS.finditer(text):
        if match.group() == "(":
            stack.append(match.start())
        elif stack:
            yield stack.pop(), match.start()


def bracket_edits(text: str) -> list[Edit]:
    protected = _Protected.of(text)
    around = _bracket_neighbours(text)
    edits = []
    for open_at, close_at in _bracket_pairs(text):
        if open_at in protected or close_at in protected:
            continue
        has_han = HAN_CHAR.search(text, open_at + 1, close_at) is not None
        glued = open_at > 0 and text[open_at - 1].isascii() and text[open_at - 1].isalnum()
        if has_han or (not glued and _in_chinese(around, open_at, close_at + 1)):
            edits.append(Edit("", "brackets", open_at, open_at + 1, "(", "（", ""))
            edits.append(Edit("", "brackets", close_at, close_at + 1, ")", "）", ""))
    return edits


def _straight_pairs(text: str) -> list[tuple[int, int]]:
    """Pairs of straight double quotes (first with second, third with fourth...) in Chinese text."""
    positions = [match.start() for match in STRAIGHT_QUOTE.finditer(text)]
    protected = _Protected.of(text)
    around = _bracket_neighbours(text)
    pairs = []
    for open_at, close_at in zip(positions[::2], positions[1::2], strict=False):
        if open_at in protected:
            continue
        holds_han = HAN_CHAR.search(text, open_at + 1, close_at) is not None
        if holds_han or _in_chinese(around, open_at, close_at + 1):
            pairs.append((open_at, close_at))
    return pairs


def dominant_quote_style(text: str, straight_pairs: list[tuple[int, int]] | None = None) -> str:
    """The text's dominant style of double quotes (``straight_pairs``: the text's
    :func:`_straight_pairs`, if the caller has them)."""
    if straight_pairs is None:
        straight_pairs = _straight_pairs(text) if '"' in text else []
    counts = {
        "curly": text.count("“") + text.count("”"),
        "corner": text.count("「") + text.count("」"),
        "straight": 2 * len(straight_pairs),
    }
    return max(counts, key=lambda style: (counts[style], style == "curly", style == "corner"))


def quote_edits(text: str) -> list[Edit]:
    if not any(q in text for q in '"“”「」'):
        return []
    # The pairs found once for the style and the edits (a text without '"' has none).
    pairs = _straight_pairs(text) if '"' in text else []
    style = dominant_quote_style(text, pairs)
    if style == "straight":
        return []
    open_double, close_double = QUOTE_STYLES[style][:2]
    other = QUOTE_STYLES["corner" if style == "curly" else "curly"]
    mapping = dict(zip(other, QUOTE_STYLES[style], strict=True))
    edits: list[Edit] = []
    # A substring test per mark (memory speed) before the character-class scan.
    if any(mark in text for mark in other):
        minority = re.compile("[" + "".join(other) + "]")
        edits = [
            Edit("", "quotes", m.start(), m.end(), m.group(), mapping[m.group()], "") for m in minority.finditer(text)
        ]
    for open_at, close_at in pairs:
        edits.append(Edit("", "quotes", open_at, open_at + 1, '"', open_double, ""))
        edits.append(Edit("", "quotes", close_at, close_at + 1, '"', close_double, ""))
    return edits


def spacing_edits(text: str) -> list[Edit]:
    """Spaces at Chinese punctuation, and the spaces of letter-spaced Chinese: three or more
    single characters with one space between each (关 于 印 发), or a line of two (通 知).
    A word of two or more characters next to a space is never letter-spaced."""
    edits = []
    letter_spaces: list[int] = []
    size = len(text)
    for match in SPACE_RUN.finditer(text):
        start, end = match.span()
        if start == 0 or end == size:
            continue
        left, right = text[start - 1], text[end]
        if (left in CJK_PUNCT_FOR_SPACING and (is_han(right) or right in CJK_PUNCT_FOR_SPACING)) or (
            is_han(left) and right in CJK_PUNCT_FOR_SPACING
        ):
            edits.append(Edit("", "cjk-spacing", start, end, match.group(), "", ""))
        elif (
            end == start + 1
            and is_han(left)
            and is_han(right)
            and (start < 2 or not is_han(text[start - 2]))
            and (end + 1 >= size or not is_han(text[end + 1]))
        ):
            letter_spaces.append(start)
    group: list[int] = []
    for position in [*letter_spaces, -1]:
        if group and position == group[-1] + 2:
            group.append(position)
            continue
        if len(group) >= 2 or (len(group) == 1 and _whole_line(text, group[0] - 1, group[0] + 2)):
            edits.extend(Edit("", "cjk-spacing", p, p + 1, " ", "", "") for p in group)
        group = [position]
    return sorted(edits, key=lambda edit: edit.start)


def _whole_line(text: str, start: int, end: int) -> bool:
    return (start == 0 or text[start - 1] == "\n") and (end == len(text) or text[end] == "\n")


def stranded_stop_edits(text: str) -> Iterator[Edit]:
    r"""The line breaks before a line of only closing marks.

    >>> [(e.start, e.old) for e in stranded_stop_edits("会议召开。部署工作\n。\n会议召开。")]
    [(9, '\n')]
    >>> list(stranded_stop_edits("会议召开。\n。"))  # the line before already ends its sentence
    []
    """
    if "\n" not in text:
        return
    for match in STRANDED_STOP.finditer(text):
        yield Edit("", "stranded-stop", match.start(), match.end(), "\n", "", "")


def nfkc_edits(text: str) -> Iterator[Edit]:
    for match in FULLWIDTH_ALNUM.finditer(text):
        ascii_form = unicodedata.normalize("NFKC", match.group())
        yield Edit("", "nfkc", match.start(), match.end(), match.group(), ascii_form, "")


MAX_PASSES = 4

REASONS = {
    "width": "half-width mark inside Chinese text",
    "brackets": "half-width brackets around or beside Chinese text",
    "quotes": "quote marks to the document's dominant style",
    "cjk-spacing": "space inside Chinese text",
    "nfkc": "full-width Latin letters and digits to ASCII",
    "stranded-stop": "a line of only closing marks ends the line before it (cut off by a break)",
}


@register_stage("punctuation", order=50)
@dataclass
class PunctuationStage:
    name: str = "punctuation"
    nfkc: bool = False

    def run(self, document: Document) -> Document:
        rules = [quote_edits, bracket_edits, width_edits, spacing_edits, stranded_stop_edits]
        if self.nfkc:
            rules.append(nfkc_edits)
        # A converted mark makes its neighbours' context Chinese (a curly quote next to a
        # straight pair, say), so rules repeat until a whole pass changes nothing: that is
        # what makes cleaning clean output a no-op.
        # The text on which each rule last found nothing: a rule is a function of the text, so
        # asked again about the same text (the rules after the last one that changed it, in
        # the pass that confirms nothing changes) it would find nothing again.
        quiet: dict[Callable[[str], Iterable[Edit]], str] = {}
        for _ in range(MAX_PASSES):
            changed = 0
            for rule in rules:
                text = document.text
                if quiet.get(rule) == text:
                    continue
                edits = list(rule(text))
                if not edits:
                    quiet[rule] = text
                    continue
                for edit in edits:
                    edit.reason = REASONS[edit.rule]
                changed += document.apply(self.name, edits)
            if not changed:
                break
        for position in lost_character_marks(document.text):
            document.flag(self.name, "lost-character", position, position + 1, LOST_REASON)
        return document
