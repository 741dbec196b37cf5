"""Deduplication benchmark (issue 7): planted repeats with known truth, built from real text.

Real text: paragraphs of the State Council government work reports and CPC congress
reports (``aldohemsn/chinese-political-corpora``, read from the local git mirror by
``make_corpus.load_pools``) plus the crawled pages in ``samples/``. Nothing fetched is
written into the repository; the corpus is rebuilt from a seed on every run.

Two parts, both with a baseline measured in the same process:

- ``inside``: documents with planted in-page repeats of every kind (whole paragraph,
  suffix windows, a grafted >=100-char passage, near-identical copies: traditional
  script, full-width punctuation, U+FFFD at the cut, a few characters changed) and
  legitimately repeated short lines. The ``dedup`` stage is scored on removed
  characters (precision/recall against the planted copies) and on planted paragraphs
  removed; the baseline drops exact repeated lines.
- ``crawl``: notices reprinted by several "sites" (own furniture, a few characters
  changed, some in traditional script) among distinct notices. cleankit's pass
  (numpy MinHash, SQLite LSH, rapidfuzz verification) is scored on duplicate document
  pairs against a plain datasketch baseline (``MinHash.update_batch`` with its default
  hash on the raw text's 5-grams, ``MinHashLSH`` at the same threshold, connected
  components). Each size runs in its own process so peak memory (ru_maxrss) is its own.

    python benchmarks/bench_dedup.py inside --docs 2000
    python benchmarks/bench_dedup.py pipeline            # MB/s of input per CPU second, with/without dedup
    python benchmarks/bench_dedup.py crawl --docs 10000 40000 160000   # each side in its own process
    python benchmarks/bench_dedup.py sweep --docs 5000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import opencc  # noqa: E402
from make_corpus import DEFAULT_SAMPLES, DEFAULT_SOURCE, load_pools  # noqa: E402

from cleankit.stages.repeats import RepeatsStage  # noqa: E402
from cleankit.text.fold import canonical  # noqa: E402

T2TW = opencc.OpenCC("s2tw")
FURNITURE = [
    ("首页 > 新闻中心 > 通知公告", "主办单位：{city}人民政府办公室 版权所有"),
    ("您当前的位置：首页 > 政务公开 > 政策文件", "网站标识码{code} 备案号{code}"),
    ("当前位置：首页 > 科技动态 > {city}", "联系我们 | 网站地图 | 主办：{city}科学技术局"),
    ("【字体：大 中 小】 【打印本页】 【关闭窗口】", "本网站由{city}信息中心维护"),
    ("信息来源：{city}政府办公室 发布时间：2024-05-{day}", "扫一扫在手机上查看当前页"),
]
CITIES = ["南宁市", "柳州市", "桂林市", "梧州市", "北海市", "钦州市", "玉林市", "百色市", "贺州市", "河池市"]
SENTENCE_END = "。！？；"


def paragraph_pool() -> list[str]:
    pools = load_pools(DEFAULT_SOURCE, DEFAULT_SAMPLES)
    seen: set[str] = set()
    pool: list[str] = []
    for doc in pools.simplified:
        for paragraph in doc:
            view = canonical(paragraph)
            if len(view) >= 40 and view not in seen:
                seen.add(view)
                pool.append(paragraph)
    return pool


def _edit_chars(text: str, rng: random.Random, count: int) -> str:
    chars = list(text)
    for _ in range(count):
        chars[rng.randrange(len(chars))] = rng.choice("的和与及在对")
    return "".join(chars)


# -- inside one page -------------------------------------------------------------------


def near_variant(text: str, rng: random.Random) -> tuple[str, str]:
    kind = rng.randrange(4)
    if kind == 0:
        return T2TW.convert(text), "near: traditional"
    if kind == 1:
        return text.replace(",", "\uff0c").replace("，", ",").replace(":", "\uff1a"), "near: punctuation width"
    if kind == 2:
        return "\ufffd" + text[1:], "near: U+FFFD at cut"
    return _edit_chars(text, rng, 2), "near: 2 chars changed"


def planted_page(pool: list[str], rng: random.Random) -> tuple[str, list[tuple[int, int, str]]]:
    """A page and the spans (offsets in its text) and kinds of every planted copy."""
    paras = rng.sample(pool, rng.randint(5, 12))
    pieces: list[list[tuple[str, str]]] = [[(p, "")] for p in paras]  # (text, kind if planted)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(4)
        source = rng.randrange(len(paras))
        where = rng.randint(source + 1, len(paras))
        text = paras[source]
        if kind == 0:
            copy, label = text, "whole paragraph"
        elif kind == 1:  # overlapping scraper window: a suffix
            copy, label = text[rng.randrange(0, max(1, len(text) - 15)) :], "suffix window"
        elif kind == 2:
            copy, label = near_variant(text, rng)
        else:  # a long passage grafted into a later paragraph
            if len(text) < 120 or where >= len(paras):
                continue
            start = rng.randrange(0, len(text) - 110)
            passage = text[start : start + rng.randint(110, len(text) - start)]
            host = pieces[where]
            host_text = "".join(t for t, _ in host)
            cut = rng.randrange(len(host_text) + 1)
            pieces[where] = [(host_text[:cut], ""), (passage, "grafted passage"), (host_text[cut:], "")]
            continue
        pieces.insert(where, [(copy, label)])
        paras.insert(where, copy)
    # Legitimate short repeats: table cells and a repeated header.
    for _ in range(rng.randint(0, 2)):
        spot = rng.randrange(len(pieces) + 1)
        pieces[spot:spot] = [[("序号", "")], [("1", "")], [("2", "")], [("合计", "")]]
    text_parts: list[str] = []
    planted: list[tuple[int, int, str]] = []
    offset = 0
    for number, paragraph in enumerate(pieces):
        if number:
            text_parts.append("\n\n")
            offset += 2
        for piece, label in paragraph:
            if label and piece:
                planted.append((offset, offset + len(piece), label))
            text_parts.append(piece)
            offset += len(piece)
    return "".join(text_parts) + "\n", planted


def exact_line_baseline(text: str) -> list[tuple[int, int]]:
    seen: set[str] = set()
    removed = []
    offset = 0
    for line in text.split("\n"):
        if line and line in seen:
            removed.append((offset, offset + len(line)))
        seen.add(line)
        offset += len(line) + 1
    return removed


def _score_chars(removed: list[tuple[int, int]], planted: list[tuple[int, int]]) -> tuple[int, int, int]:
    def chars(spans: list[tuple[int, int]]) -> set[int]:
        return {i for start, end in spans for i in range(start, end)}

    planted_set, removed_set = chars(planted), chars(removed)
    return len(removed_set & planted_set), len(removed_set), len(planted_set)


def bench_inside(docs: int, seed: int) -> dict:
    pool = paragraph_pool()
    rng = random.Random(seed)
    pages = [planted_page(pool, rng) for _ in range(docs)]
    stage = RepeatsStage()
    totals = {"cleankit": [0, 0, 0], "exact lines": [0, 0, 0]}
    paragraph_hits = [0, 0]
    removal_hits = {"cleankit": [0, 0], "exact lines": [0, 0]}
    base_hits = [0, 0]
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    chars_in = sum(len(t) for t, _ in pages)
    for text, _ in pages[:50]:
        canonical(text)  # warm the character fold table (built once per process)
    started = time.process_time()
    results = [stage.find_edits(text) for text, _ in pages]
    seconds = time.process_time() - started
    base_started = time.process_time()
    baseline = [exact_line_baseline(text) for text, _ in pages]
    base_seconds = time.process_time() - base_started
    for (text, planted), edits, base in zip(pages, results, baseline, strict=True):
        # Separators removed with a paragraph are not content: score paragraph text only.
        removed = [(e.start, e.end) for e in edits]
        spans = [(start, end) for start, end, _ in planted]
        hit, got, want = _score_chars(_strip_newlines(text, removed), spans)
        for i, value in enumerate((hit, got, want)):
            totals["cleankit"][i] += value
        hit, got, want = _score_chars(base, spans)
        for i, value in enumerate((hit, got, want)):
            totals["exact lines"][i] += value
        base_set = {i for s, e in base for i in range(s, e)}
        for start, end in spans:
            base_hits[1] += 1
            base_hits[0] += sum(1 for i in range(start, end) if i in base_set) >= 0.8 * (end - start)
        planted_set = {i for s, e in spans for i in range(s, e)}
        for name, spans in (("cleankit", _strip_newlines(text, removed)), ("exact lines", base)):
            for start, end in spans:
                removal_hits[name][1] += 1
                removal_hits[name][0] += sum(i in planted_set for i in range(start, end)) >= 0.8 * (end - start)
        removed_set = {i for s, e in removed for i in range(s, e)}
        for start, end, label in planted:
            found = sum(1 for i in range(start, end) if i in removed_set) >= 0.8 * (end - start)
            paragraph_hits[1] += 1
            paragraph_hits[0] += found
            by_kind[label][0] += found
            by_kind[label][1] += 1
    report = {"docs": docs, "chars": chars_in}
    for name, (hit, got, want) in totals.items():
        report[name] = {"precision": round(hit / max(1, got), 4), "recall": round(hit / max(1, want), 4)}
    # Unit level: a planted copy counts as found when >= 80 % of it is removed; a removal
    # is right when >= 80 % of what it removes is planted.
    report["cleankit"]["copies_recall"] = round(paragraph_hits[0] / max(1, paragraph_hits[1]), 4)
    for name, (hit, total) in removal_hits.items():
        report[name]["removals_precision"] = round(hit / max(1, total), 4)
    report["exact lines"]["copies_recall"] = round(base_hits[0] / max(1, base_hits[1]), 4)
    report["planted_copies"] = paragraph_hits[1]
    report["cleankit copies_recall by kind"] = {k: f"{h / n:.3f} of {n}" for k, (h, n) in sorted(by_kind.items())}
    utf8 = sum(len(text.encode("utf-8")) for text, _ in pages)
    report["cleankit"]["docs_per_cpu_s"] = round(docs / seconds)
    report["cleankit"]["MB_per_cpu_s"] = round(utf8 / 1e6 / seconds, 2)
    report["exact lines"]["docs_per_cpu_s"] = round(docs / base_seconds)
    return report


def _strip_newlines(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for start, end in spans:
        while start < end and text[start] == "\n":
            start += 1
        while end > start and text[end - 1] == "\n":
            end -= 1
        out.append((start, end))
    return out


# -- across a crawl ----------------------------------------------------------------------


def crawl_corpus(pool: list[str], docs: int, seed: int) -> tuple[list[str], list[int]]:
    """Texts and the notice each reprints (cluster id)."""
    rng = random.Random(seed)
    texts: list[str] = []
    clusters: list[int] = []
    notice = 0
    while len(texts) < docs:
        body = [rng.choice(pool) for _ in range(rng.randint(2, 8))]
        copies = rng.choice([1, 1, 1, 2, 3, 5, 8])
        for _ in range(min(copies, docs - len(texts))):
            site = rng.randrange(len(FURNITURE))
            header, footer = FURNITURE[site]
            fill = {"city": rng.choice(CITIES), "code": rng.randint(1000, 9999), "day": rng.randint(10, 28)}
            paras = [_edit_chars(p, rng, 1) if rng.random() < 0.3 else p for p in body]
            if rng.random() < 0.2 and len(paras) > 3:
                paras = paras[:-1]  # a reprint that lost its last paragraph
            text = "\n\n".join([header.format(**fill), *paras, footer.format(**fill)]) + "\n"
            if rng.random() < 0.1:
                text = T2TW.convert(text)
            texts.append(text)
            clusters.append(notice)
        notice += 1
    order = list(range(len(texts)))
    rng.shuffle(order)
    return [texts[i] for i in order], [clusters[i] for i in order]


def _pairs_from_groups(groups: dict[int, list[int]]) -> set[tuple[int, int]]:
    pairs = set()
    for members in groups.values():
        members = sorted(members)
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                pairs.add((a, b))
    return pairs


def _pr(predicted: set[tuple[int, int]], truth: set[tuple[int, int]]) -> dict:
    hit = len(predicted & truth)
    return {"precision": round(hit / max(1, len(predicted)), 4), "recall": round(hit / max(1, len(truth)), 4)}


def run_cleankit_crawl(
    texts: list[str], threshold: float, shingle: int, verify: float
) -> tuple[dict[int, int], tuple[float, float]]:
    from cleankit.neardup.crawl import NearDupInput, NearDupPass
    from cleankit.neardup.signature import SignatureParams, signature

    params = SignatureParams(shingle_chars=shingle, permutations=128, threshold=threshold)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        for number, text in enumerate(texts):
            (out / f"{number}.txt").write_text(text, encoding="utf-8")
        (out / "provenance.jsonl").write_text("")
        started, cpu = time.perf_counter(), time.process_time()
        crawl = NearDupPass(out, params, verify=verify)
        for number, text in enumerate(texts):
            view = canonical(text)
            name = f"{number}.txt"
            crawl.add(NearDupInput(name, name, name, len(view), (0, -len(view), name), signature(view, params)))
        crawl.finish(out / "provenance.jsonl")
        seconds = (time.perf_counter() - started, time.process_time() - cpu)
        from cleankit.neardup.index import NearDupIndex

        with NearDupIndex(out / "neardup-index.sqlite") as index:
            rows = index.db.execute("SELECT rowid, source, state, duplicate_of FROM docs").fetchall()
    source_of = {rowid: json.loads(source) for rowid, source, _, _ in rows}
    leader: dict[int, int] = {}
    for _rowid, source, state, dup in rows:
        number = int(json.loads(source).split(".")[0])
        leader[number] = int(source_of[dup].split(".")[0]) if state == "duplicate" else number
    return leader, seconds


def run_baseline_crawl(texts: list[str], threshold: float) -> tuple[dict[int, int], tuple[float, float]]:
    from datasketch import MinHash, MinHashLSH

    started, cpu = time.perf_counter(), time.process_time()
    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    signatures = []
    for number, text in enumerate(texts):
        minhash = MinHash(num_perm=128)
        minhash.update_batch({text[i : i + 5].encode("utf-8") for i in range(max(1, len(text) - 4))})
        lsh.insert(number, minhash)
        signatures.append(minhash)
    parent = list(range(len(texts)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for number, minhash in enumerate(signatures):
        for other in lsh.query(minhash):
            if other != number and minhash.jaccard(signatures[other]) >= threshold:
                parent[find(other)] = find(number)
    seconds = (time.perf_counter() - started, time.process_time() - cpu)
    return {n: find(n) for n in range(len(texts))}, seconds


def _speed(docs: int, seconds: tuple[float, float]) -> dict:
    """Wall and CPU time: the machine is shared, so CPU seconds are the steadier figure."""
    wall, cpu = seconds
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "docs_per_cpu_s": round(docs / cpu)}


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 1e6


class PeakRss:
    """Highest resident memory while the block runs, sampled every 20 ms."""

    def __enter__(self) -> PeakRss:
        import threading

        self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def bench_crawl(docs: int, seed: int, threshold: float, shingle: int, verify: float, which: str) -> dict:
    pool = paragraph_pool()
    texts, clusters = crawl_corpus(pool, docs, seed)
    del pool
    rss_corpus = _rss_mb()
    truth_groups: dict[int, list[int]] = defaultdict(list)
    for number, cluster in enumerate(clusters):
        truth_groups[cluster].append(number)
    truth = _pairs_from_groups(truth_groups)
    report: dict = {"docs": docs, "true_pairs": len(truth), "chars": sum(map(len, texts))}
    report["rss_with_corpus_mb"] = round(rss_corpus, 1)
    if which in ("both", "cleankit"):
        with PeakRss() as memory:
            leader, seconds = run_cleankit_crawl(texts, threshold, shingle, verify)
        groups: dict[int, list[int]] = defaultdict(list)
        for number, head in leader.items():
            groups[head].append(number)
        report["cleankit"] = {**_pr(_pairs_from_groups(groups), truth), **_speed(docs, seconds)}
        report["cleankit"]["peak_rss_over_corpus_mb"] = round(memory.peak - rss_corpus, 1)
    if which in ("both", "baseline"):
        with PeakRss() as memory:
            leader, seconds = run_baseline_crawl(texts, threshold)
        groups = defaultdict(list)
        for number, head in leader.items():
            groups[head].append(number)
        report["datasketch baseline"] = {**_pr(_pairs_from_groups(groups), truth), **_speed(docs, seconds)}
        report["datasketch baseline"]["peak_rss_over_corpus_mb"] = round(memory.peak - rss_corpus, 1)
    return report


def _in_subprocess(args: list[str]) -> dict:
    result = subprocess.run([sys.executable, __file__, *args, "--json"], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_pipeline(repeats: int) -> dict:
    """The whole pipeline on the seed pages, with and without the dedup stage, in one process."""
    from cleankit import Pipeline, Settings

    raws = [path.read_bytes() for path in sorted(DEFAULT_SAMPLES.glob("*.txt"))]
    size = sum(map(len, raws)) * repeats
    report: dict = {"MB": round(size / 1e6, 2)}
    for name, skip in (("without dedup", ["dedup"]), ("with dedup", [])):
        pipeline = Pipeline.from_settings(Settings(skip=skip))
        for raw in raws:
            pipeline.clean_bytes(raw)  # warm-up
        started = time.process_time()
        for _ in range(repeats):
            for raw in raws:
                pipeline.clean_bytes(raw)
        report[name] = round(size / 1e6 / (time.process_time() - started), 2)
    report["ratio"] = round(report["with dedup"] / report["without dedup"], 3)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["inside", "pipeline", "crawl", "sweep", "one"])
    parser.add_argument("--docs", type=int, nargs="+", default=[2000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--shingle", type=int, default=5)
    parser.add_argument("--verify", type=float, default=0.8)
    parser.add_argument("--only", choices=["both", "cleankit", "baseline"], default="both")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.part == "pipeline":
        print(json.dumps(bench_pipeline(20), ensure_ascii=False))
    elif args.part == "inside":
        print(json.dumps(bench_inside(args.docs[0], args.seed), ensure_ascii=False))
    elif args.part == "one":
        report = bench_crawl(args.docs[0], args.seed, args.threshold, args.shingle, args.verify, args.only)
        print(json.dumps(report, ensure_ascii=False))
    elif args.part == "crawl":
        for docs in args.docs:
            common = ["--seed", str(args.seed), "--threshold", str(args.threshold), "--shingle", str(args.shingle)]
            for which in ("cleankit", "baseline") if args.only == "both" else (args.only,):
                report = _in_subprocess(["one", "--docs", str(docs), *common, "--only", which])
                print(json.dumps(report, ensure_ascii=False), flush=True)
    else:
        for shingle in (3, 5):
            for threshold in (0.3, 0.4, 0.5, 0.6, 0.7):
                common = ["--seed", str(args.seed), "--threshold", str(threshold), "--shingle", str(shingle)]
                report = _in_subprocess(["one", "--docs", str(args.docs[0]), *common, "--only", "cleankit"])
                print(json.dumps({"shingle": shingle, "threshold": threshold, **report["cleankit"]}), flush=True)


if __name__ == "__main__":
    main()
