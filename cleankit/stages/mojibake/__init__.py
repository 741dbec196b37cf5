"""Mojibake: text that was decoded with the wrong codec before it reached us.

Runs before hygiene (hygiene would delete the C1 characters a Latin-1 misreading leaves).
Each kind of damage is its own rule, applied as its own step, so each shows in provenance
with its before/after text and each can be switched off with ``[stage.mojibake]`` options:

* ``utf8-as-latin1``  UTF-8 read as Latin-1/cp1252, also twice (``å¹¿è¥¿`` -> 广西): ftfy,
  with the settings that leave Chinese punctuation alone, on the spans a cheap regex finds.
* ``gbk-as-latin1``   GBK read as Latin-1/cp1252 (``¹ãÎ÷`` -> 广西).
* ``utf8-as-gbk``     UTF-8 read as GBK/GB18030 (``鍒涙柊`` -> 创新).
* ``gbk-as-utf8``     GBK read as UTF-8 with ``surrogateescape`` (lone surrogates in the text).
* ``byte-shift``      GBK/GB18030 or Big5 bytes decoded one byte out of step, usually next to a ``?``
  where a byte was lost (``?!斗桨浮沸?`` -> ``。《方案》…``): the run is re-encoded, realigned
  by a search that may assume lost bytes, and kept only when it reads as better Chinese.
* ``lost-bytes``      lost-byte marks with strong evidence (U+FFFD next to CJK, ``??`` between
  ideographs, a ``?`` touching a private-use character, a lone trail byte or a repair) and
  the debris next to them are removed, logged and flagged (``�平�兴业`` -> ``兴业``).
* ``short-run``       a span lost-bytes would remove, read as a whole (its guessed characters
  chosen together by their sentence) when one reading is clearly best, and flagged
  (``�平�兴业`` -> ``推进兴业``).
* ``replacement-char`` a lone U+FFFD ending a paragraph (a multi-byte character cut at a
  chunk boundary) is removed; other U+FFFD runs are flagged.
* ``debris``          ``锟斤拷`` (U+FFFD bytes read as GBK) and ``烫烫烫``/``屯屯屯`` (uninitialised
  memory) are flagged.

Every repair must read as better Chinese under :mod:`cleankit.text.plausibility` by a margin;
text that already reads well is never touched. What cannot be recovered is flagged
(``document.flag``); lost-byte marks with strong evidence are removed (``lost-bytes``), the
rest only when ``remove_unrecoverable`` is set.

Layout: :mod:`.stage` holds the stage and the two marker rules (``replacement-char``,
``debris``); each repair has its module (:mod:`.latin1` for both Latin-1 misreadings,
:mod:`.utf8_as_gbk`, :mod:`.gbk_as_utf8`, :mod:`.byte_shift` with its codec frames in
:mod:`.frames`, :mod:`.lost_bytes`, :mod:`.short_run`); :mod:`.common`
holds the test every repair must pass (:func:`.common.reads_better`).
"""

from cleankit.stages.mojibake.stage import MojibakeStage

__all__ = ["MojibakeStage"]
