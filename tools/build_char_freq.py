"""Build cleankit/data/hanzi_freq.tsv: character and bigram frequencies of real Chinese text.

Source: the State Council government work reports 1954-2025 as published on Wikisource, in
the public repository ``aldohemsn/chinese-political-corpora`` (file
``government_work_reports.jsonl``), read from a local git mirror. The CPC congress reports of
the same repository are NOT used here: the benchmarks evaluate on them.

Traditional forms are counted too: each report is also converted with OpenCC ``s2tw`` and
``s2hk`` (the forms Big5 and Big5-HKSCS pages use) and counted alongside the simplified text.
Full-width punctuation is counted as written. The output keeps every character seen at least
``--min-char`` times and every bigram of two CJK characters/punctuation seen at least
``--min-bigram`` times, one ``item<TAB>count`` per line, characters first.

It also writes the finer bigrams, ``cleankit/text/data/hanzi_bigrams_fine.tsv.xz``: every
bigram seen at least ``--min-fine-bigram`` times but fewer than ``--min-bigram`` (those are in
the main table), one ``bigram<TAB>count`` per line, xz-compressed. They are loaded only to
choose a guessed character (:func:`cleankit.text.plausibility.fine_model`), never to decide
whether text is damaged.

    python tools/build_char_freq.py [--mirror PATH]
"""

from __future__ import annotations

import argparse
import itertools
import json
import lzma
import subprocess
from collections import Counter
from pathlib import Path

import opencc

MIRROR = Path("/work/.mirror/aldohemsn+chinese-political-corpora/repo")
OUT = Path(__file__).resolve().parent.parent / "cleankit" / "text" / "data" / "hanzi_freq.tsv"
FINE_OUT = OUT.with_name("hanzi_bigrams_fine.tsv.xz")


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x3000 <= code <= 0x303F or 0x3400 <= code <= 0x9FFF or 0xFF00 <= code <= 0xFFEF or code >= 0x20000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mirror", type=Path, default=MIRROR)
    parser.add_argument("--min-char", type=int, default=2)
    parser.add_argument("--min-bigram", type=int, default=15)
    parser.add_argument("--min-fine-bigram", type=int, default=2)
    args = parser.parse_args()
    blob = subprocess.run(
        ["git", "--git-dir", str(args.mirror), "show", "HEAD:government_work_reports.jsonl"],
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8")
    texts = [json.loads(line)["content"] for line in blob.splitlines() if line.strip()]
    converters = [opencc.OpenCC("s2tw"), opencc.OpenCC("s2hk")]
    chars: Counter[str] = Counter()
    bigrams: Counter[str] = Counter()
    for text in texts:
        for variant in [text, *(c.convert(text) for c in converters)]:
            chars.update(variant)
            bigrams.update(a + b for a, b in itertools.pairwise(variant) if _is_cjk(a) and _is_cjk(b))
    lines = ["# character and CJK bigram counts; source and method: tools/build_char_freq.py"]
    lines += [f"{c}\t{n}" for c, n in chars.most_common() if n >= args.min_char and c.isprintable() and c != "\t"]
    lines += [f"{b}\t{n}" for b, n in bigrams.most_common() if n >= args.min_bigram]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # In character order, which compresses to about half of the count order.
    fine = [f"{b}\t{n}" for b, n in sorted(bigrams.items()) if args.min_fine_bigram <= n < args.min_bigram]
    FINE_OUT.write_bytes(lzma.compress(("\n".join(fine) + "\n").encode("utf-8"), preset=9))
    print(f"{FINE_OUT}: {len(fine)} bigrams, {FINE_OUT.stat().st_size} bytes")
    print(
        f"{OUT}: {sum(1 for c in chars.values() if c >= args.min_char)} characters, "
        f"{sum(1 for n in bigrams.values() if n >= args.min_bigram)} bigrams, {OUT.stat().st_size} bytes"
    )


if __name__ == "__main__":
    main()
