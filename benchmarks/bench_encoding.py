"""Encoding detection and mojibake repair on real Chinese text (issue 4). Run by hand:

    python benchmarks/bench_encoding.py [--per-cell 30] [--mirror PATH]

Text: the CPC National Congress reports of the public repository
``aldohemsn/chinese-political-corpora`` (Wikisource), read from a local git mirror. They
are held out: cleankit's character-frequency table is built from the *government work
reports* of the same repository, never from these. Traditional text is the same text
through OpenCC ``s2tw`` (Big5) and ``s2hk`` (Big5-HKSCS).

1. Detection: random passages of 5 to 6,000 characters are encoded into GBK, GB18030,
   Big5, Big5-HKSCS, UTF-8 (with and without BOM) and UTF-16; cleankit, plain
   charset-normalizer and chardet each name an encoding; a file counts as right when
   decoding it with that name gives back the original text exactly. Accuracy per encoding
   and byte-length bucket, and every file over 200 bytes whose text came out wrong.
2. Throughput of detection + decoding (MB/s of input) against charset-normalizer's
   ``from_bytes(...).best()`` in the same process.
3. Repairs: held-out sentences garbled each way (tests/garble.py mis-decodes real bytes),
   repaired by the mojibake stage; character recovery rate per kind
   (1 - distance(repaired, original) / distance(garbled, original)), exact repairs, and
   how many clean sentences the stage changed (must be 0).
4. Throughput of the mojibake and markup stages on clean text vs hygiene (same process).
"""

from __future__ import annotations

import argparse
import codecs
import json
import random
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import chardet
import opencc
from charset_normalizer import from_bytes
from rapidfuzz.distance import Levenshtein

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import garble  # noqa: E402

from cleankit.core.document import Document  # noqa: E402
from cleankit.io.encoding import detect_and_decode  # noqa: E402
from cleankit.stages.hygiene import HygieneStage  # noqa: E402
from cleankit.stages.markup import MarkupStage  # noqa: E402
from cleankit.stages.mojibake import MojibakeStage  # noqa: E402

MIRROR = Path("/work/.mirror/aldohemsn+chinese-political-corpora/repo")
LENGTHS = [5, 10, 20, 50, 100, 300, 1000, 3000, 6000]
BUCKETS = [(0, 50), (51, 200), (201, 1000), (1001, 10_000), (10_001, 10**9)]
ENCODINGS = ["gbk", "gb18030", "big5", "big5hkscs", "utf-8", "utf-8-sig", "utf-16"]


def bucket_name(size: int) -> str:
    for low, high in BUCKETS:
        if low <= size <= high:
            return f"{low}-{high}" if high < 10**9 else f">{low - 1}"
    raise ValueError(size)


def load_text(mirror: Path) -> str:
    blob = subprocess.run(
        ["git", "--git-dir", str(mirror), "show", "HEAD:cpc_congress_reports.jsonl"], check=True, capture_output=True
    ).stdout.decode("utf-8")
    texts = [json.loads(line)["content"] for line in blob.splitlines() if line.strip()]
    return "\n".join(texts)


def passages(text: str, rng: random.Random, length: int, count: int) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if len(line.strip()) > 4]
    found = []
    while len(found) < count:
        start = rng.randrange(len(lines))
        chunk = ""
        index = start
        while len(chunk) < length and index < len(lines):
            chunk += ("\n" if chunk else "") + lines[index]
            index += 1
        if len(chunk) >= min(length, 5):
            found.append(chunk[:length])
    return found


def encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def right(raw: bytes, name: str | None, text: str) -> bool:
    if not name:
        return False
    try:
        return raw.decode(name) == text or (raw.decode(name).lstrip("\ufeff") == text)
    except (UnicodeDecodeError, LookupError):
        return False


def detection(text: str, per_cell: int, seed: int) -> dict:
    rng = random.Random(seed)
    to_tw, to_hk = opencc.OpenCC("s2tw"), opencc.OpenCC("s2hk")
    files: list[tuple[str, str, bytes]] = []
    for encoding in ENCODINGS:
        for length in LENGTHS:
            for passage in passages(text, rng, length, per_cell * 3):
                variant = passage
                if encoding == "big5" or (encoding.startswith("utf") and rng.random() < 0.3):
                    variant = to_tw.convert(passage)
                elif encoding == "big5hkscs":
                    variant = to_hk.convert(passage)
                if encodable(variant, encoding):
                    files.append((encoding, variant, variant.encode(encoding)))
                if sum(1 for f in files if f[0] == encoding and len(f[1]) <= length) >= per_cell * (
                    LENGTHS.index(length) + 1
                ):
                    break
    results: dict = {"files": len(files), "bytes": sum(len(f[2]) for f in files), "cells": {}, "wrong_over_200": {}}
    detectors = {
        "cleankit": lambda raw: detect_and_decode(raw),
        "charset-normalizer": lambda raw: from_bytes(raw).best(),
        "chardet": lambda raw: chardet.detect(raw),
    }
    for tool, detect in detectors.items():
        cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        wrong: list[str] = []
        start = time.perf_counter()
        for encoding, variant, raw in files:
            answer = detect(raw)
            if tool == "cleankit":
                ok = answer[0] == variant
                name = answer[1].name
            elif tool == "charset-normalizer":
                name = answer.encoding if answer is not None else None
                ok = right(raw, name, variant)
            else:
                name = answer.get("encoding")
                ok = right(raw, name, variant)
            cell = cells[(encoding, bucket_name(len(raw)))]
            cell[0] += ok
            cell[1] += 1
            if not ok and len(raw) > 200:
                wrong.append(f"{encoding} {len(raw)} B -> {name}")
        seconds = time.perf_counter() - start
        results["cells"][tool] = {f"{e}|{b}": v for (e, b), v in cells.items()}
        results["wrong_over_200"][tool] = wrong
        results.setdefault("seconds", {})[tool] = seconds
    return results


def throughput(text: str, seed: int) -> dict:
    rng = random.Random(seed)
    blobs = []
    for passage in passages(text, rng, 2000, 150):
        encoding = rng.choice(["utf-8", "gbk", "gb18030", "utf-16"])
        blobs.append(passage.encode(encoding))
    for path in sorted(garble.SAMPLES.iterdir()):
        blobs.append(path.read_bytes())
        blobs.append(path.read_text(encoding="utf-8").encode("gb18030"))
    total = sum(len(b) for b in blobs) / 1e6
    timings = {}
    for name, call in (
        ("cleankit detect+decode", detect_and_decode),
        ("charset-normalizer best()", lambda b: from_bytes(b).best()),
    ):
        best = min(_timed(lambda call=call: [call(b) for b in blobs]) for _ in range(3))
        timings[name] = total / best
    return {"mb": total, "mb_per_s": timings}


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


KINDS = {
    "utf8-as-latin1": garble.utf8_as_latin1,
    "utf8-as-cp1252": garble.utf8_as_cp1252,
    "double utf8-as-latin1": garble.double_utf8_as_latin1,
    "gbk-as-latin1": garble.gbk_as_latin1,
    "gbk-as-utf8 (surrogateescape)": garble.gbk_as_utf8_surrogateescape,
    "utf8-as-gbk": garble.utf8_as_gbk,
}


def repairs(text: str, count: int, seed: int) -> dict:
    rng = random.Random(seed)
    sentences = [
        s
        for s in re.split(r"(?<=[。！？；])", text.replace("\n", ""))
        if 8 <= len(s) <= 80 and sum("\u4e00" <= c <= "\u9fff" for c in s) >= 0.6 * len(s)
    ]
    chosen = rng.sample(sentences, count)
    to_tw = opencc.OpenCC("s2tw")
    chosen = [to_tw.convert(s) if i % 4 == 0 else s for i, s in enumerate(chosen)]
    results = {}

    def repaired(garbled: str) -> str:
        document = Document.from_text(garbled)
        MojibakeStage().run(document)
        return document.text

    kinds = dict(KINDS)
    kinds["byte-shift (GBK, 6-9 chars)"] = None
    for kind, function in kinds.items():
        damage = undone = exact = cases = 0
        for sentence in chosen:
            try:
                if function is None:
                    if len(sentence) < 16:
                        continue
                    start = rng.randrange(1, len(sentence) - 12)
                    garbled = garble.byte_shift(sentence, start, rng.randrange(6, 10))
                else:
                    garbled = function(sentence)
            except UnicodeEncodeError:
                continue
            fixed = repaired(garbled)
            before = Levenshtein.distance(garbled, sentence)
            after = Levenshtein.distance(fixed, sentence)
            damage += before
            undone += before - after
            exact += fixed == sentence
            cases += 1
        results[kind] = {"cases": cases, "recovery": undone / damage if damage else 1.0, "exact": exact / cases}
    changed = sum(repaired(s) != s for s in chosen)
    results["clean sentences changed"] = {"cases": len(chosen), "changed": changed}
    return results


def stage_speed(text: str) -> dict:
    sample_text = [p.read_text(encoding="utf-8") for p in sorted(garble.SAMPLES.iterdir())]
    docs = sample_text + [text[i : i + 20000] for i in range(0, min(len(text), 2_000_000), 20000)]
    total = sum(len(d.encode()) for d in docs) / 1e6
    MojibakeStage().run(Document.from_text("预热" + "鍒涙柊?!斗桨浮沸?"))  # load tables once
    speeds = {}
    for name, stage in (("hygiene", HygieneStage()), ("mojibake", MojibakeStage()), ("markup", MarkupStage())):
        seconds = min(_timed(lambda stage=stage: [stage.run(Document.from_text(d)) for d in docs]) for _ in range(3))
        speeds[name] = total / seconds
    return {"mb": total, "mb_per_s": speeds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mirror", type=Path, default=MIRROR)
    parser.add_argument("--per-cell", type=int, default=30)
    parser.add_argument("--sentences", type=int, default=300)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    text = load_text(args.mirror)
    report = {
        "detection": detection(text, args.per_cell, args.seed),
        "throughput": throughput(text, args.seed),
        "repairs": repairs(text, args.sentences, args.seed),
        "stages": stage_speed(text),
    }
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print_report(report)


def print_report(report: dict) -> None:
    detection_results = report["detection"]
    print(f"detection: {detection_results['files']} files, {detection_results['bytes'] / 1e6:.1f} MB")
    buckets = [bucket_name(low) for low, _high in BUCKETS]
    for tool, cells in detection_results["cells"].items():
        print(f"\n{tool} (% right; files)")
        print("| encoding | " + " | ".join(f"{b} B" for b in buckets) + " |")
        print("|---|" + "---:|" * len(buckets))
        for encoding in ENCODINGS:
            row = []
            for bucket in buckets:
                right_count, total = cells.get(f"{encoding}|{bucket}", [0, 0])
                row.append(f"{100 * right_count / total:.0f} ({total})" if total else "-")
            print(f"| {encoding} | " + " | ".join(row) + " |")
        wrong = detection_results["wrong_over_200"][tool]
        print(f"files > 200 B with wrong text: {len(wrong)} {wrong[:8]}")
    print("\nthroughput (MB/s of input):", {k: round(v, 1) for k, v in report["throughput"]["mb_per_s"].items()})
    print("\nrepairs:")
    for kind, result in report["repairs"].items():
        print(f"  {kind}: {result}")
    print("\nstages (MB/s of text):", {k: round(v, 1) for k, v in report["stages"]["mb_per_s"].items()})


if __name__ == "__main__":
    codecs.lookup("big5hkscs")
    main()
