"""GBK read as UTF-8 with ``surrogateescape``: the ``gbk-as-utf8`` rule.

The undecodable bytes became lone surrogates and byte pairs that happened to be valid UTF-8
became other characters, but every byte is still there: encoding the run back with
``surrogateescape`` gives the GBK bytes.
"""

from __future__ import annotations

import re

from cleankit.core.document import Edit
from cleankit.stages.mojibake.common import reads_better
from cleankit.text.plausibility import ChineseModel

SURROGATE = re.compile("[\udc80-\udcff]")
# ASCII below 0x40 is never part of a GBK double-byte character.
NOT_GBK_PART = re.compile("[^\x00-\x3f\\s]+")


def gbk_as_utf8_edits(text: str, model: ChineseModel) -> list[Edit]:
    """GBK bytes decoded as UTF-8 with surrogateescape, decoded again as GB18030.

    >>> from cleankit.text.plausibility import chinese_model
    >>> [edit.new for edit in gbk_as_utf8_edits("\\udcb9\\udce3\\udcce\\udcf7", chinese_model())]
    ['广西']
    """
    edits = []
    for match in NOT_GBK_PART.finditer(text):
        old = match.group()
        if not SURROGATE.search(old):
            continue
        try:
            new = old.encode("utf-8", errors="surrogateescape").decode("gb18030")
        except UnicodeDecodeError:
            continue
        if new != old and reads_better(model, old, new):
            edits.append(Edit("", "gbk-as-utf8", match.start(), match.end(), old, new, "GBK bytes read as UTF-8"))
    return edits
