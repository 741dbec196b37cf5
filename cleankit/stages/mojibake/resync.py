"""A shifted run that ends where its decoder fell back in step: evidence for a short repair.

A decoder one byte out of step reads each trail byte as the lead of the next pair, until a
trail byte in the ASCII range (GBK and Big5 trail bytes 0x40-0x7E: ``@``, ``A``-``Z``,
``[``, ``_``, ``a``-``z`` ...) comes where a lead should be: it decodes as that ASCII
character, and the decoder is in step again after it. So a run that starts with a lost-byte
mark and ends with such a lone ASCII character (``�鬼鴢h。`` is ``為原則。`` read by Big5;
``?账瓦_之`` is ``日送達之`` read by GBK) carries its own evidence: the ASCII character is
the trail of the run's last character, and the text after it is in step. Such a run is
short (the decoder falls back in step after a few pairs), so it cannot show the three
characters decoded from complete pairs a repair needs elsewhere; here one per guessed
character is enough.
"""

from __future__ import annotations

# Trail bytes a GBK or Big5 decoder reads as ASCII when it meets one where a lead should be.
ASCII_TRAIL = frozenset(chr(byte) for byte in range(0x40, 0x7F))
LOST_BYTE_MARKS = "?\ufffd"


def fell_back_in_step(replaced: str) -> bool:
    """``replaced`` (the part of a run a realignment replaces) starts with a lost-byte mark
    and ends with a lone ASCII trail byte after a character that is not ASCII.

    >>> fell_back_in_step("\\ufffd鬼鴢h"), fell_back_in_step("?账瓦_"), fell_back_in_step("?abc")
    (True, True, False)
    """
    return (
        len(replaced) >= 3
        and replaced[0] in LOST_BYTE_MARKS
        and replaced[-1] in ASCII_TRAIL
        and not replaced[-2].isascii()
    )
