"""Build cleankit/text/data/hanzi_trigrams.tsv.xz: character trigram counts of real Chinese text
from a wider range of writing than the work reports alone.

They are used only to choose among the readings of a guessed character
(:mod:`cleankit.text.trigrams`), never to decide whether text is damaged. The bigram table
(``tools/build_char_freq.py``) is counted on the State Council work reports alone, whose
formulas favour frequent pairs (在在 above 在于 between two frequent characters); three
characters in a row, counted over news and general prose as well, know which character fits
between two others.

Sources (public GitHub repositories, read from local git mirrors at their ``HEAD``):

- ``aldohemsn/chinese-political-corpora``, ``government_work_reports.jsonl``: the State Council
  work reports 1954-2025 (Wikisource), the source of the bigram table. Its CPC congress reports
  are not used (benchmarks once evaluated on them).
- ``yuikns/icwb2-data``, ``gold/*_test_gold.utf8`` and ``gold/as_testing_gold.utf8``: the gold
  texts of the Second SIGHAN Chinese word segmentation bakeoff (2005): Peking University
  (People's Daily, simplified), Microsoft Research (news, simplified), City University of Hong
  Kong (news, traditional) and Academia Sinica (the balanced corpus, traditional); the word
  boundaries (spaces) are dropped.
- ``zjy-ucas/ChineseNER``, ``data/example.dev`` and ``data/example.test``: People's Daily
  sentences of a named-entity corpus, one character and its tag per line.

None of them is a source the benchmarks' splits use (the 2026 provincial work reports, the
Executive Yuan gazette, the xwlb news).

Every text is converted to simplified characters (OpenCC ``t2s``; the guesses are scored
through the same conversion, as the word model's are) and every run of three ideographs is
counted (punctuation is left to the bigrams, see :func:`cleankit.text.trigrams.counted`).
The table keeps each trigram seen at least ``--min-trigram`` times (3: 90,000 trigrams,
400 kB; at 2 they are 162,000 and 670 kB) and, for each pair that begins a kept trigram, how
often the pair was followed by any character (the denominator of the trigram's probability,
counted before pruning), one ``item<TAB>count`` per line in character order, xz-compressed.

    python tools/build_trigrams.py [--reports PATH] [--sighan PATH] [--ner PATH]
"""

from __future__ import annotations

import argparse
import json
import lzma
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import opencc

from cleankit.text.trigrams import counted

MIRRORS = Path("/work/.mirror")
OUT = Path(__file__).resolve().parent.parent / "cleankit" / "text" / "data" / "hanzi_trigrams.tsv.xz"
SIGHAN_FILES = (
    "gold/pku_test_gold.utf8",
    "gold/msr_test_gold.utf8",
    "gold/cityu_test_gold.utf8",
    "gold/as_testing_gold.utf8",
)
NER_FILES = ("data/example.dev", "data/example.test")


def _show(git_dir: Path, path: str) -> str:
    blob = subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", f"HEAD:{path}"], check=True, capture_output=True
    ).stdout
    return blob.decode("utf-8-sig")


def report_texts(git_dir: Path) -> Iterator[str]:
    blob = _show(git_dir, "government_work_reports.jsonl")
    yield from (json.loads(line)["content"] for line in blob.splitlines() if line.strip())


def sighan_texts(git_dir: Path) -> Iterator[str]:
    for path in SIGHAN_FILES:
        # Words are separated by ASCII or ideographic spaces; a line is a sentence or more.
        yield from ("".join(line.split()) for line in _show(git_dir, path).splitlines())


def ner_texts(git_dir: Path) -> Iterator[str]:
    for path in NER_FILES:
        sentence: list[str] = []
        for line in _show(git_dir, path).splitlines():
            char = line.split(" ", 1)[0]
            if char:
                sentence.append(char)
            elif sentence:
                yield "".join(sentence)
                sentence = []
        if sentence:
            yield "".join(sentence)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=Path, default=MIRRORS / "aldohemsn+chinese-political-corpora" / "repo")
    parser.add_argument("--sighan", type=Path, default=MIRRORS / "yuikns+icwb2-data" / "repo")
    parser.add_argument("--ner", type=Path, default=MIRRORS / "zjy-ucas+ChineseNER" / "repo" / ".git")
    parser.add_argument("--min-trigram", type=int, default=3)
    args = parser.parse_args()
    t2s = opencc.OpenCC("t2s")
    trigrams: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    sources = {
        "reports": report_texts(args.reports),
        "sighan": sighan_texts(args.sighan),
        "ner": ner_texts(args.ner),
    }
    for name, texts in sources.items():
        for text in texts:
            simple = t2s.convert(text)
            sizes[name] += len(simple)
            trigrams.update(
                simple[i : i + 3]
                for i in range(len(simple) - 2)
                if counted(simple[i]) and counted(simple[i + 1]) and counted(simple[i + 2])
            )
    pairs: Counter[str] = Counter()
    for trigram, count in trigrams.items():
        pairs[trigram[:2]] += count
    kept = {trigram: count for trigram, count in trigrams.items() if count >= args.min_trigram}
    kept_pairs = {trigram[:2] for trigram in kept}
    rows = {**kept, **{pair: pairs[pair] for pair in kept_pairs}}
    lines = [f"{item}\t{count}" for item, count in sorted(rows.items())]
    OUT.write_bytes(lzma.compress(("\n".join(lines) + "\n").encode("utf-8"), preset=9 | lzma.PRESET_EXTREME))
    print(f"characters read: {dict(sizes)}")
    print(f"{OUT}: {len(kept)} trigrams, {len(kept_pairs)} pairs, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
