"""Characters both scripts write, kept as written on a page already in traditional characters.

Converting to a traditional target runs OpenCC's ``s2t``/``s2tw``/``s2hk``, which read every
character as simplified. Most traditional characters pass through unchanged, but about 200
are also simplified forms of other characters, and OpenCC picks among their traditional
candidates by phrase: 核准 becomes 核準, 云云 雲雲, 附表 附錶, 發布 發佈, 皇后 皇後, 台灣 臺灣. On a
simplified page that is the conversion; on a page written in traditional characters the writer
already chose, and the choice is replaced by another word's character. On the Executive Yuan
Gazette (Taiwan, traditional) cleaned ``--to tw``, these were about half of the characters the
script stage changed (benchmarks/README.md, quality section).

So on a page labelled traditional, a character of :func:`shared_characters` that a
conversion step would change is kept, and the count is logged in ``metadata.script``. Pages
labelled mixed are converted as OpenCC decides (a 准 among simplified characters is a
simplified 准: 标准 → 標準).

>>> keep_shared("經核准後公布", "經核準後公佈")
('經核准後公布', [2, 5])
>>> keep_shared("發布的决定", "發佈的決定")  # 决 is simplified only: converted
('發布的決定', [1])
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def shared_characters() -> frozenset[str]:
    """The characters that are among their own traditional candidates in OpenCC's
    simplified-to-traditional table (``data/shared_han.tsv``, made by
    ``tools/build_shared_han.py``)."""
    data = resources.files("cleankit.text").joinpath("data/shared_han.tsv").read_text(encoding="utf-8")
    return frozenset(line.split("\t", 1)[0] for line in data.splitlines() if line and not line.startswith("#"))


def keep_shared(text: str, converted: str) -> tuple[str, list[int]]:
    """``converted`` with the shared characters of ``text`` put back where it changed them,
    and their offsets. A conversion that changed the text's length is returned as it is
    (no position-wise comparison; none of OpenCC's character tables does that)."""
    if len(converted) != len(text):
        return converted, []
    chars = shared_characters()
    kept = [i for i, (old, new) in enumerate(zip(text, converted, strict=True)) if old != new and old in chars]
    if not kept:
        return converted, []
    out = list(converted)
    for i in kept:
        out[i] = text[i]
    return "".join(out), kept
