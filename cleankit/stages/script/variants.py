"""Which regional standard a traditional page follows, and the OpenCC configurations that
convert it to a target.

Traditional text comes in three standards that OpenCC knows: its own (``s2t``'s output:
爲, 裏, 着力, 衛生), Taiwan's (為, 裡, 著力, 衛生) and Hong Kong's (為, 裏, 着力, 衞生, 説).
OpenCC's generic ``t2s`` only knows its own, so a Taiwan page comes out with 著力 and 接著 in
simplified text, and a Hong Kong page with 衞生; its regional configurations ``tw2s`` and
``hk2s`` first map the region's forms to OpenCC's (phrase by phrase: 顯著 and 著作 keep 著)
and then convert. Converting a page with the wrong one is no better: ``tw2s`` on standard
text would turn every 著 it has no phrase for into 着.

To simplified, the evidence is the page itself: ``tw2t`` changes exactly the Taiwan forms of
a text, ``hk2t`` the Hong Kong ones, phrase by phrase. Forms both regions share (為, 偽, 眾)
say nothing about which; the region with more forms of its own is the page's, and a page
with none is standard.

To a traditional target, a page of another region is first brought to OpenCC's standard.
There the evidence must not be a character OpenCC's standard writes too: ``s2t`` keeps 著
(著作), which ``tw2t`` reads as Taiwan's 着 when no phrase protects it, so converted text
would be converted again. Only *markers* count: characters a region's table changes that no
simplified character becomes under ``s2t`` (裡, 汙 for Taiwan; 衞, 説, 税 for Hong Kong; 為
for both), so the target's own output never looks regional to itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from cleankit.text.cjk import code_points, opencc_converter

if TYPE_CHECKING:
    import numpy as np

# The configuration that takes each standard to simplified text.
TO_SIMPLIFIED = {"standard": "t2s.json", "tw": "tw2s.json", "hk": "hk2s.json"}
# The configuration that takes each regional standard to OpenCC's.
TO_STANDARD = {"tw": "tw2t.json", "hk": "hk2t.json"}
# The regional standard each traditional target writes, and the configuration that takes
# simplified (and OpenCC standard) text there.
TARGET_STANDARD = {"traditional": "standard", "tw": "tw", "hk": "hk"}


@dataclass(frozen=True)
class Variant:
    """A page's regional standard and the evidence for it: characters only Taiwan's forms
    change (``tw``), only Hong Kong's (``hk``), and both (``shared``)."""

    name: str
    tw: int
    hk: int
    shared: int

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "tw": self.tw, "hk": self.hk, "shared": self.shared}


def regional_variant(text: str) -> Variant:
    """The regional standard of the traditional characters in ``text``."""
    import numpy as np

    original = code_points(text)
    changed = {}
    for region, config in TO_STANDARD.items():
        converted = opencc_converter(config).convert(text)
        if len(converted) != len(text):
            # A phrase that changes length (none of the variant tables has one today):
            # compare the lines that kept theirs.
            changed[region] = _changed_by_line(text, converted)
        else:
            changed[region] = original != code_points(converted)
    tw, hk = changed["tw"], changed["hk"]
    tw_only = int(np.count_nonzero(tw & ~hk))
    hk_only = int(np.count_nonzero(hk & ~tw))
    shared = int(np.count_nonzero(tw & hk))
    name = "tw" if tw_only > hk_only else "hk" if hk_only > tw_only else "standard"
    return Variant(name, tw_only, hk_only, shared)


def _changed_by_line(text: str, converted: str) -> np.ndarray:
    import numpy as np

    flags = np.zeros(len(text), dtype=bool)
    offset = 0
    for old, new in zip(text.split("\n"), converted.split("\n"), strict=False):
        if len(old) == len(new):
            flags[offset : offset + len(old)] = code_points(old) != code_points(new)
        offset += len(old) + 1
    return flags


_MARK_TW, _MARK_HK = 1, 2


@cache
def _markers() -> np.ndarray:
    """One byte per code point: a Taiwan marker, a Hong Kong marker (both: a shared form).
    The compatibility ideographs are left out: OpenCC normalizes them in every config."""
    import numpy as np

    from cleankit.stages.script import _TRADITIONAL_FLAG, _char_flags

    flags = _char_flags()
    chars = [chr(code) for low, high in MARKER_BLOCKS for code in range(low, high + 1)]
    probe = "\n".join(chars)
    standard = opencc_converter("s2t.json").convert(probe).split("\n")
    written = {new for char, new in zip(chars, standard, strict=True) if not flags[ord(char)] & _TRADITIONAL_FLAG}
    table = np.zeros(0x110000, dtype=np.uint8)
    for region, flag in (("tw", _MARK_TW), ("hk", _MARK_HK)):
        converted = opencc_converter(TO_STANDARD[region]).convert(probe).split("\n")
        marked = [ord(char) for char, new in zip(chars, converted, strict=True) if new != char and char not in written]
        table[marked] |= flag
    return table


MARKER_BLOCKS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF))


def regional_markers(text: str) -> Variant:
    """The regional standard of ``text`` by its markers alone (see the module docstring)."""
    import numpy as np

    marks = _markers()[code_points(text)]
    tw = int(np.count_nonzero(marks == _MARK_TW))
    hk = int(np.count_nonzero(marks == _MARK_HK))
    shared = int(np.count_nonzero(marks == _MARK_TW | _MARK_HK))
    name = "tw" if tw > hk else "hk" if hk > tw else "tw+hk" if shared else "standard"
    return Variant(name, tw, hk, shared)


def conversion_chain(target: str, page: str, text: str) -> tuple[list[str], Variant | None]:
    """The OpenCC configurations, in order, that take a page to ``target``, and the regional
    standard they were chosen for.

    ``page`` is the page's script label (``simplified``, ``traditional``, ``mixed``, ``none``).
    To simplified, a traditional or mixed page goes through its region's configuration
    (:func:`regional_variant`). To a traditional target, simplified text goes through
    OpenCC's own ``s2t``/``s2tw``/``s2hk``, and the markers of another region than the
    target's are first brought to OpenCC's standard (a Hong Kong page to ``tw``: ``hk2t``
    then ``s2tw``, which also converts any simplified characters left in it).
    """
    from cleankit.text.cjk import SCRIPT_TARGETS

    config = SCRIPT_TARGETS[target]
    if config is None:
        return [], None
    if target == "simplified":
        if page not in ("traditional", "mixed"):
            return [config], None
        variant = regional_variant(text)
        return [TO_SIMPLIFIED[variant.name]], variant
    if page == "simplified":
        return [config], None
    variant = regional_markers(text)
    own = TARGET_STANDARD[target]
    prefix = []
    if variant.tw and own != "tw":
        prefix.append(TO_STANDARD["tw"])
    if variant.hk and own != "hk":
        prefix.append(TO_STANDARD["hk"])
    if variant.shared and own == "standard" and not prefix:
        prefix.append(TO_STANDARD["hk" if variant.hk > variant.tw else "tw"])
    return [*prefix, config], variant
