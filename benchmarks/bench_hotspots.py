"""Per-stage throughput of the full default pipeline, with an identical-output check.

Cleans a fixed list of inputs (every file of ``samples/`` plus the first ``--limit`` files,
sorted, of the synthetic crawl ``benchmarks/data/small``) with
``Pipeline.from_settings(Settings()).clean_bytes(raw)`` and:

* writes one line per document: sha256 of the clean text and sha256 of the full provenance
  record (``json.dumps(build_record(doc, "x", None), sort_keys=True)``) to ``--hashes``;
  with ``--check REFERENCE`` compares them to a reference file written by an earlier run
  (a performance change must leave both identical);
* after a warm-up (the 20 crawl files after the timed ones, cleaned by a throwaway
  pipeline, untimed),
  reports MB/s of input (CPU time, ``time.process_time``) overall and per stage (each
  stage's ``run`` is wrapped with a timer; "decode+verify" is the rest of ``clean_bytes``);
* measures, in the same process, a baseline: ``raw.decode(detected encoding)`` + one
  OpenCC ``t2s`` ``convert`` per document, so figures can be quoted as ratios on a
  noisy shared machine.

    python benchmarks/bench_hotspots.py --hashes /tmp/ref.txt            # reference
    python benchmarks/bench_hotspots.py --check /tmp/ref.txt             # after a change
    python benchmarks/bench_hotspots.py --profile 40                     # cProfile top 40
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

import opencc

from cleankit.core.pipeline import Pipeline
from cleankit.core.provenance import build_record
from cleankit.core.settings import Settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_CORPUS = Path("/work/main/benchmarks/data/small")
WARM_UP = 20
# Traditional text with a pinyin gloss: loads the script stage's tables and pypinyin.
WARM_UP_TEXT = "國務院關於質(zhì)量發展的通知\n各省、自治區、直轄市人民政府：現將有關事項通知如下。\n"


def list_inputs(corpus: Path, limit: int) -> tuple[list[Path], list[Path]]:
    """The timed inputs, and the warm-up inputs (the next crawl files: not timed ones, so
    that no memo is filled with what is then measured)."""
    samples = sorted((ROOT / "samples").glob("*.txt"))
    crawl = sorted(p for p in corpus.rglob("*") if p.is_file() and not p.name.startswith("."))
    return samples + crawl[:limit], crawl[limit : limit + WARM_UP]


def run(inputs: list[Path], warm_up: list[Path], hashes_out: Path | None, check: Path | None) -> int:
    raws = [(p, p.read_bytes()) for p in inputs]
    total_bytes = sum(len(raw) for _, raw in raws)
    # Warm-up on a throwaway pipeline: one-time costs (OpenCC tables, the pypinyin import,
    # the script flag table) are paid once per worker, not per document of a crawl.
    warm = Pipeline.from_settings(Settings())
    for path in warm_up:
        warm.clean_bytes(path.read_bytes())
    warm.clean_text(WARM_UP_TEXT)
    pipeline = Pipeline.from_settings(Settings())

    stage_time: dict[str, float] = defaultdict(float)
    for stage in pipeline.stages:
        original_run = stage.run

        def timed(document, _run=original_run, _name=stage.name):  # type: ignore[no-untyped-def]
            start = time.process_time()
            try:
                return _run(document)
            finally:
                stage_time[_name] += time.process_time() - start

        object.__setattr__(stage, "run", timed)

    lines: list[str] = []
    encodings: list[str] = []
    total = 0.0
    for path, raw in raws:
        start = time.process_time()
        document = pipeline.clean_bytes(raw, source=path.name)
        total += time.process_time() - start
        encodings.append(document.encoding.name if document.encoding else "utf-8")
        record = json.dumps(build_record(document, "x", None), sort_keys=True)
        text_hash = hashlib.sha256(document.text.encode("utf-8", "surrogatepass")).hexdigest()
        record_hash = hashlib.sha256(record.encode("utf-8", "surrogatepass")).hexdigest()
        lines.append(f"{path.name} {text_hash} {record_hash}")

    # Baseline: decode with the encoding cleankit found + one OpenCC t2s per document.
    converter = opencc.OpenCC("t2s")
    start = time.process_time()
    for (_, raw), name in zip(raws, encodings, strict=True):
        converter.convert(raw.decode(name, errors="replace"))
    baseline = time.process_time() - start

    mb = total_bytes / 1e6
    print(f"{len(raws)} documents, {mb:.2f} MB")
    print(f"baseline decode+t2s: {mb / baseline:8.2f} MB/s")
    print(f"pipeline total:      {mb / total:8.2f} MB/s  ({baseline / total:.3f} x baseline)")
    rest = total - sum(stage_time.values())
    print(f"{'stage':<14}{'MB/s':>10}{'share':>8}")
    for name, seconds in [*stage_time.items(), ("decode+rest", rest)]:
        print(f"{name:<14}{mb / max(seconds, 1e-9):10.2f}{seconds / total:8.1%}")

    text = "\n".join(lines) + "\n"
    if hashes_out:
        hashes_out.write_text(text)
    if check:
        reference = check.read_text().splitlines()
        differing = [new for new, old in zip(lines, reference, strict=False) if new != old]
        if len(reference) != len(lines) or differing:
            print(f"OUTPUT CHANGED: {len(differing)} documents differ", file=sys.stderr)
            for line in differing[:10]:
                print("  " + line.split()[0], file=sys.stderr)
            return 1
        print("identical output and provenance for all documents")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=400)
    parser.add_argument("--hashes", type=Path, help="write per-document hashes here")
    parser.add_argument("--check", type=Path, help="compare hashes with this reference file")
    parser.add_argument("--profile", type=int, metavar="N", help="cProfile; print the top N by self time")
    args = parser.parse_args()
    inputs, warm_up = list_inputs(args.corpus, args.limit)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        code = run(inputs, warm_up, args.hashes, args.check)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)
        return code
    return run(inputs, warm_up, args.hashes, args.check)


if __name__ == "__main__":
    sys.exit(main())
