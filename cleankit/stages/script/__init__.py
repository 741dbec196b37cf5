"""Script: one target script per corpus (simplified by default), converted with OpenCC.

Two steps, each only when it changes something:

1. ``pinyin-gloss``: pinyin glosses glued after characters are removed
   (:mod:`cleankit.stages.script.pinyin_gloss`), before conversion, which would otherwise leave
   ``新质(zhì)生产(chǎn)力``.
2. ``opencc``: phrase-level OpenCC conversion to the target. The provenance holds one
   edit per run of changed characters (``發展`` → ``发展`` is one edit; runs at most eight
   unchanged characters apart share one), so it stays compact and restore stays exact.

Targets and their OpenCC configs (script only, never vocabulary: ``s2twp``/``tw2sp``
would also swap words such as 软件→軟體, which is rewriting, not canonicalising):

==============  ==============  ===========================================
``to``          config          result
==============  ==============  ===========================================
``simplified``  ``t2s.json``    mainland simplified (phrase-aware: 乾隆 stays)
``traditional`` ``s2t.json``    OpenCC standard traditional (phrase-aware: 头发→頭髮)
``tw``          ``s2tw.json``   traditional with Taiwan character forms (裡, 為)
``hk``          ``s2hk.json``   traditional with Hong Kong character forms
``keep``        none            no conversion (glosses are still removed)
==============  ==============  ===========================================

Converting text that has no character OpenCC's t2s changes on its own is skipped for the
``simplified`` target: the script mix is counted anyway (a table lookup per character),
and it answers before OpenCC's full pass (benchmarks/README.md).

``document.metadata["script"]`` records the target, the config and the script mix
before and after: Han characters, traditional-only and simplified-only characters, and a
label (``simplified`` or ``traditional`` when that script has 90 % of the marked
characters, else ``mixed``; ``none`` without any).
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from cleankit.core.document import Document, Edit
from cleankit.core.errors import SettingsError
from cleankit.core.stage import register_stage
from cleankit.io import cache as disk_cache
from cleankit.stages.script import variants
from cleankit.stages.script.pinyin_gloss import find_glosses, readings
from cleankit.stages.script.shared import keep_shared, shared_characters
from cleankit.stages.script.stray import judge_strays
from cleankit.stages.script.variants import conversion_chain
from cleankit.text.cjk import HAN_BLOCKS, SCRIPT_TARGETS, code_points, opencc_converter
from cleankit.text.small import use_numpy

if TYPE_CHECKING:
    import numpy as np

# The blocks whose characters are probed to learn which ones are script-specific. The
# supplementary-plane blocks (70,000 rare characters, about 900 of them in OpenCC's tables)
# are not probed: that would add half a second to every worker's start. A text with any of
# them is always converted instead of trusting the shortcut.
PROBED_BLOCKS = HAN_BLOCKS[:3]


converter = opencc_converter


def _changed_alone(config: str) -> str:
    """Characters that ``config`` converts even when they stand alone. Probing the blocks
    means loading the config's dictionaries (s2t's alone is a tenth of a second) and
    converting 28,000 characters, once per process: the answer is kept in the cache, keyed by
    the config, the OpenCC version and this code."""
    import opencc

    code = disk_cache.code_fingerprint(__name__)
    if code is None:
        return _probe(config)
    key = disk_cache.key_of(code, getattr(opencc, "__version__", "?"), config, repr(PROBED_BLOCKS))
    found = disk_cache.cached("opencc-changed", key, lambda: _probe(config), lambda value: isinstance(value, str))
    return str(found)


def _probe(config: str) -> str:
    chars = [chr(code) for low, high in PROBED_BLOCKS for code in range(low, high + 1)]
    converted = converter(config).convert("\n".join(chars)).split("\n")
    return "".join(c for c, new in zip(chars, converted, strict=True) if new != c)


_HAN_FLAG, _TRADITIONAL_FLAG, _SIMPLIFIED_FLAG, _UNPROBED_FLAG = 1, 2, 4, 8


@cache
def _char_flags() -> np.ndarray:
    """One byte per code point: Han, traditional-only (t2s changes it alone),
    simplified-only (s2t changes it alone), Han but not probed. A table lookup counts a 100 kB document in
    well under a millisecond; a regex class of 4,000 characters is ten times slower."""
    import numpy as np

    table = np.zeros(0x110000, dtype=np.uint8)
    for low, high in HAN_BLOCKS:
        table[low : high + 1] |= _HAN_FLAG if (low, high) in PROBED_BLOCKS else _HAN_FLAG | _UNPROBED_FLAG
    for config, flag in (("t2s.json", _TRADITIONAL_FLAG), ("s2t.json", _SIMPLIFIED_FLAG)):
        table[[ord(c) for c in _changed_alone(config)]] |= flag
    # Characters both scripts write (准, 云, 台, 后: s2t changes them alone, yet 核准 and 台灣 are
    # traditional) are evidence of neither: counted as simplified, a short traditional line
    # with two of them read as a simplified page whose 經 and 後 were names to keep.
    table[[ord(c) for c in shared_characters()]] &= ~np.uint8(_SIMPLIFIED_FLAG)
    return table


@cache
def _script_sets() -> tuple[frozenset[str], frozenset[str]]:
    """The traditional-only and the simplified-only characters of :func:`_char_flags`, as sets
    (a small page without numpy, :mod:`cleankit.text.small`)."""
    traditional = frozenset(_changed_alone("t2s.json"))
    simplified = frozenset(_changed_alone("s2t.json")) - shared_characters()
    return traditional, simplified


def _mix_counts(text: str) -> tuple[int, int, int, int]:
    """Han, traditional-only, simplified-only and rare (unprobed Han) characters of ``text``."""
    if use_numpy(len(text)):
        import numpy as np

        flags = _char_flags()[code_points(text)]
        return (
            int(np.count_nonzero(flags & _HAN_FLAG)),
            int(np.count_nonzero(flags & _TRADITIONAL_FLAG)),
            int(np.count_nonzero(flags & _SIMPLIFIED_FLAG)),
            int(np.count_nonzero(flags & _UNPROBED_FLAG)),
        )
    traditional_set, simplified_set = _script_sets()
    han = traditional = simplified = rare = 0
    for char, count in Counter(text).items():
        code = ord(char)
        for low, high in HAN_BLOCKS:
            if low <= code <= high:
                han += count
                if (low, high) not in PROBED_BLOCKS:
                    rare += count
                break
        if char in traditional_set:
            traditional += count
        if char in simplified_set:
            simplified += count
    return han, traditional, simplified, rare


def script_mix(text: str) -> dict[str, Any]:
    """How many Han, traditional-only and simplified-only characters ``text`` has (the
    supplementary-plane ones count as Han only; ``rare`` says how many there are)."""
    han, traditional, simplified, rare = _mix_counts(text)
    # Some characters are simplified-only by OpenCC's tables yet common in traditional text
    # (着, 里 in some phrases): a script is named when it holds 90 % of the marked characters.
    marked = traditional + simplified
    if not marked:
        label = "none"
    elif traditional >= 0.9 * marked:
        label = "traditional"
    elif simplified >= 0.9 * marked:
        label = "simplified"
    else:
        label = "mixed"
    mix = {"label": label, "han": han, "traditional": traditional, "simplified": simplified}
    if rare:
        mix["rare"] = rare
    return mix


# Changed runs at most this many unchanged characters apart share one edit: traditional
# text changes every few characters, and one edit per isolated character would make
# provenance (and applying it) several times larger for no gain in exactness.
MERGE_GAP = 8


def _aligned_runs(old: str, new: str, offset: int, rule: str, reason: str) -> list[Edit]:
    """Edits for two strings of equal length: one per run of changed characters, runs
    at most :data:`MERGE_GAP` unchanged characters apart merged."""
    import numpy as np

    changed = np.flatnonzero(code_points(old) != code_points(new))
    if changed.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(changed) > MERGE_GAP + 1)
    starts = changed[np.concatenate(([0], breaks + 1))]
    ends = changed[np.concatenate((breaks, [changed.size - 1]))] + 1
    return [
        Edit("", rule, offset + s, offset + e, old[s:e], new[s:e], reason)
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    ]


def conversion_edits(old: str, new: str, rule: str, reason: str) -> list[Edit]:
    """Edits that turn ``old`` into ``new``, one per run of changed characters.

    OpenCC's character configs keep lengths, so the texts align position by position;
    a phrase that changes length (rare) is diffed line by line.
    """
    if old == new:
        return []
    if len(old) == len(new):
        import numpy as np

        newline = ord("\n")
        if np.array_equal(code_points(old) == newline, code_points(new) == newline):
            return _aligned_runs(old, new, 0, rule, reason)
    edits: list[Edit] = []
    offset = 0
    old_lines, new_lines = old.split("\n"), new.split("\n")
    if len(old_lines) != len(new_lines):  # OpenCC never adds or removes line breaks; be safe anyway
        old_lines, new_lines = [old], [new]
    for old_line, new_line in zip(old_lines, new_lines, strict=True):
        if old_line != new_line:
            if len(old_line) == len(new_line):
                edits.extend(_aligned_runs(old_line, new_line, offset, rule, reason))
            else:
                matcher = difflib.SequenceMatcher(None, old_line, new_line, autojunk=False)
                for tag, i1, i2, j1, j2 in matcher.get_opcodes():
                    if tag != "equal":
                        edits.append(Edit("", rule, offset + i1, offset + i2, old_line[i1:i2], new_line[j1:j2], reason))
        offset += len(old_line) + 1
    return edits


@register_stage("script", order=40)
@dataclass
class ScriptStage:
    name: str = "script"
    to: str = "simplified"
    pinyin_glosses: bool = True  # remove pinyin glosses glued after characters
    config: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.to not in SCRIPT_TARGETS:
            raise SettingsError(f"stage script: unknown target {self.to!r} (known: {', '.join(SCRIPT_TARGETS)})")
        self.config = SCRIPT_TARGETS[self.to]

    def warm(self) -> None:
        """Load the converters and pinyin tables a page loads on first use
        (:class:`~cleankit.core.stage.Warms`): each region's standardising converter and the
        target's, every region's to simplified when that is the target."""
        if self.config is not None:
            configs = {*variants.TO_STANDARD.values(), self.config}
            if self.to == "simplified":
                configs.update(variants.TO_SIMPLIFIED.values())
            for config in sorted(configs):
                opencc_converter(config)
        if self.pinyin_glosses:
            readings("中")  # imports pypinyin and loads its dictionaries

    def run(self, document: Document) -> Document:
        before = script_mix(document.text)  # glosses (Latin letters) do not count in the mix
        converted = 0
        # Removing a gloss can expose another one (质(zhì)(zhì), or 质(zhì)量(zhìliàng) whose
        # second gloss spells both characters): repeat until none is left, so that the
        # stage is idempotent. Almost every document needs one step at most.
        while self.pinyin_glosses and document.apply(
            self.name,
            [
                Edit("", "pinyin-gloss", start, end, document.text[start:end], "", "pinyin gloss after characters")
                for start, end, _ in find_glosses(document.text)
            ],
        ):
            pass
        info: dict[str, Any] = {"to": self.to, "config": self.config, "before": before}
        if self.config is not None and self._may_change(before):
            if self.to == "simplified" and _stray_traditional(before):
                converted = self._simplified_page(document, info)
            else:
                converted = self._convert(document, before["label"], info)
        info["after"] = script_mix(document.text) if converted else before
        document.metadata["script"] = info
        return document

    def _convert(self, document: Document, label: str, info: dict[str, Any]) -> int:
        """The whole page through the configurations its regional standard needs."""
        chain, variant = conversion_chain(self.to, label, document.text)
        if variant is not None:
            info["variant"] = variant.to_json()
        info["config"] = "+".join(chain)
        converted = 0
        # A page already in traditional characters keeps those both scripts write (核准, 云云)
        # when converted to a traditional target (:mod:`cleankit.stages.script.shared`).
        keep = self.to != "simplified" and label == "traditional"
        kept: set[int] = set()  # offsets (no step of OpenCC's changes a length)
        for config in chain:
            text = document.text
            target = converter(config).convert(text)
            if keep:
                target, offsets = keep_shared(text, target)
                kept.update(offsets)
            rule = "opencc-" + config.removesuffix(".json")
            reason = f"OpenCC {config}" + (f" ({_REGION_NAMES[variant.name]} page)" if variant is not None else "")
            converted += document.apply(self.name, conversion_edits(text, target, rule, reason))
        if kept:
            info["kept_shared"] = len(kept)
        return converted

    def _simplified_page(self, document: Document, info: dict[str, Any]) -> int:
        """A simplified page's stray traditional characters: converted where they are a
        leftover, kept where they are a name (:mod:`cleankit.stages.script.stray`)."""
        text = document.text
        target = converter("t2s.json").convert(text)
        if len(target) != len(text):  # a phrase changing length: no position-wise judgement
            return document.apply(self.name, conversion_edits(text, target, "opencc-t2s", "OpenCC t2s.json"))
        import numpy as np

        old, new = code_points(text), code_points(target)
        changed = np.flatnonzero(old != new)
        flags = _char_flags()[old[changed]]
        # Characters of the probed blocks that t2s changes on their own are judged; the rest
        # it changes (supplementary-plane variants, a phrase's other characters) are taken.
        judged = (flags & _TRADITIONAL_FLAG).astype(bool) & ~(flags & _UNPROBED_FLAG).astype(bool)
        decisions = judge_strays(text, target, changed[judged].tolist())
        others = old.copy()
        others[changed[~judged]] = new[changed[~judged]]
        converted = document.apply(self.name, conversion_edits(text, _text_of(others), "opencc-t2s", "OpenCC t2s.json"))
        converted += document.apply(
            self.name,
            [
                Edit("", "opencc-t2s", d.offset, d.offset + 1, d.char, d.converted, d.reason)
                for d in decisions
                if d.convert
            ],
        )
        if decisions:
            kept = [d for d in decisions if not d.convert]
            info["stray"] = {
                "converted": len(decisions) - len(kept),
                "kept": len(kept),
                "decisions": [d.to_json(text) for d in decisions[:MAX_LOGGED_STRAYS]],
            }
        return converted

    def _may_change(self, mix: dict[str, Any]) -> bool:
        if self.to == "simplified":
            return mix["traditional"] > 0 or "rare" in mix
        return mix["han"] > 0


def _stray_traditional(mix: dict[str, Any]) -> bool:
    """Whether a page's traditional characters are strays on a simplified page: the page is
    labelled simplified, or has at most :data:`STRAY_CHARS` of them and more simplified ones
    (a short simplified text with one name in it is not 90 % simplified)."""
    traditional, simplified = mix["traditional"], mix["simplified"]
    return mix["label"] == "simplified" or (traditional <= STRAY_CHARS and simplified > traditional)


# A page with this many traditional characters or fewer, and more simplified ones, is simplified.
STRAY_CHARS = 2
# Stray-character decisions written into metadata.script per document (the counts cover all).
MAX_LOGGED_STRAYS = 20
_REGION_NAMES = {
    "tw": "Taiwan-standard",
    "hk": "Hong Kong-standard",
    "tw+hk": "Taiwan or Hong Kong-standard",
    "standard": "OpenCC-standard",
}


def _text_of(points: np.ndarray) -> str:
    import numpy as np

    return points.astype(np.uint32).tobytes().decode("utf-32-le", errors="surrogatepass")
