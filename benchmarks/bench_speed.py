"""Speed of the whole default pipeline against the naive script, per core, on two cores,
with corpus size, and at start-up (issue 12). One command; cleankit is driven only
through its ``cleankit`` command line, in subprocesses.

1. Builds (seeded; reused when its parameters are identical) a crawl of real government
   text: page bodies from ``text_pool.ParagraphStream`` (report text and the Executive Yuan
   Gazette, each paragraph used once, so only the planted reprints are near-duplicates), and
   ``make_corpus.py``'s web debris and encoding mix (UTF-8, UTF-8 with BOM, GBK, GB18030,
   Big5, UTF-16; traditional and simplified pages through OpenCC ``s2tw``/``tw2s``), laid
   out as pages of 50 sites with site furniture (header, menu, breadcrumb, meta line, related
   links, footer with ICP number), ~30 % reprints (an earlier site's notice again, in another
   site's furniture and encoding, with small edits), a pasted-twice paragraph on ~10 % of the
   pages and a few damaged runs (GBK byte shift, UTF-8 read as Latin-1).
2. Times, interleaved and for ``--rounds`` rounds (order rotated each round),
   ``cleankit clean CORPUS -o OUT -j 1``, the same with ``-j 2``, and the naive script
   (charset-normalizer -> OpenCC t2s -> datasketch MinHash + LSH, see ``naive_clean``):
   wall clock and CPU (the child's rusage from ``wait4``, its waited-for workers included).
3. ``--scale 10``: cleankit ``-j 1`` on a corpus 10x as large (pages and bytes), per-document
   CPU against the small corpus (flat-cost target: within 10 %); ``--scale-jobs 1 2`` also runs
   ``-j 2`` there, for the largest worker's peak memory against the small corpus's (every
   descendant process is sampled: cleankit's workers are its nurseries' children). For each
   crawl it prints the near-duplicate share cleankit marked, planted (reprint families) and
   accidental.
4. Start-up, best of ``--startup-repeats``: ``python -c pass``, ``cleankit --version`` and one
   ~18 kB page through ``cleankit clean -``, as ratios to ``python -c pass``.
5. Identical output: a sha256 over every clean output file and every provenance record with
   the run id (and any timing) removed, records sorted; ``-j 1`` and ``-j 2`` must agree, and
   ``--expect HASH`` fails when the hash differs (to compare two commits).
6. ``--smoke``: ~50 pages, one round, one start-up repeat; exits non-zero if a command fails
   or the outputs differ. ``--profile`` adds ``python -m cProfile -o`` over ``-j 1``.

    nice -n 19 python benchmarks/bench_speed.py                     # 2,000 pages / ~13.5 MB, 3 rounds
    nice -n 19 python benchmarks/bench_speed.py --scale 10 --profile
    nice -n 19 python benchmarks/bench_speed.py --scale 10 --scale-jobs 1 2   # + worker memory at 10x
    nice -n 19 python benchmarks/bench_speed.py --smoke             # CI: < 1 min
    python benchmarks/bench_speed.py --expect 3f2a...               # same outputs as another commit?

Results go to ``benchmarks/results/<short commit>/<corpus>.json`` (and the profile's
top functions to ``profile-<corpus>.txt``); corpora and outputs to the git-ignored
``benchmarks/data/`` and ``benchmarks/work/``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import make_corpus
import text_pool

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / "work" / "speed"
RESULTS = HERE / "results"

CRAWL_FORMAT = 2  # 2: body text from text_pool.ParagraphStream (each paragraph once)
DEFAULT_PAGES = 2000
DEFAULT_MB = 13.5
SMOKE_PAGES = 50
SMOKE_MB = 0.33
REPRINT_SHARE = 0.30
REPEAT_SHARE = 0.10
DAMAGED_SHARE = 0.01
STDIN_PAGE_BYTES = 18_000
FURNITURE_BYTES = 700  # rough size of a page's furniture, taken off its body's size target

# Output files that are not clean text: provenance is hashed separately (records sorted, run
# ids and timings removed); the summary holds timings; the index, the run state and the lock
# (which holds the run's pid) are the run's bookkeeping, checked by the suite, not here. SQLite
# may leave -wal/-shm/-journal files beside them.
NOT_TEXT = ("provenance.jsonl", "summary.json", ".cleankit.lock")
NOT_TEXT_PREFIX = ("dedup-index", "neardup-index", "run-state")
VOLATILE_KEYS = frozenset({"run", "seconds", "started", "finished", "elapsed", "timestamp"})

CITIES: list[tuple[str, str]] = [
    ("南宁市", "桂"), ("柳州市", "桂"), ("桂林市", "桂"), ("梧州市", "桂"), ("北海市", "桂"),
    ("成都市", "蜀"), ("绵阳市", "蜀"), ("宜宾市", "蜀"), ("昆明市", "滇"), ("曲靖市", "滇"),
    ("贵阳市", "黔"), ("遵义市", "黔"), ("长沙市", "湘"), ("株洲市", "湘"), ("岳阳市", "湘"),
    ("武汉市", "鄂"), ("宜昌市", "鄂"), ("襄阳市", "鄂"), ("合肥市", "皖"), ("芜湖市", "皖"),
    ("福州市", "闽"), ("厦门市", "闽"), ("泉州市", "闽"), ("兰州市", "甘"), ("天水市", "甘"),
]  # fmt: skip
DEPARTMENTS = ["人民政府", "发展和改革委员会", "教育局", "科学技术局", "财政局", "生态环境局", "卫生健康委员会"]
SECTIONS = ["通知公告", "政策文件", "政务公开", "工作动态", "部门文件", "公示公告", "政策解读", "规划计划"]
MENU = ["首页", "政务公开", "政务服务", "互动交流", "数据开放", "专题专栏", "机构概况", "新闻中心"]
BREADCRUMBS = [
    "当前位置：首页 > {a} > {b}",
    "您当前的位置：首页 > {a} > {b}",
    "首页 > {a} > {b}",
    "当前位置：首页>>{a}>>{b}",
]
META = [
    "发布时间：{date}　来源：{source}　浏览次数：{views}",
    "信息来源：{source} 发布日期：{date} 【字体：大 中 小】",
    "[ 发布者：{source} | 时间：{date} | 浏览：{views} ]",
    "{date}　{source}　【打印本页】【关闭窗口】",
]
FOOTERS = [
    [
        "主办单位：{site}　承办：{city}大数据发展局",
        "网站标识码：{code}　{prov}ICP备{icp}号-1",
        "联系我们 | 网站地图 | 使用帮助",
    ],
    [
        "版权所有：{site}　技术支持：{city}信息中心",
        "{prov}公网安备 {icp}号　网站标识码{code}",
        "扫一扫在手机上查看当前页",
    ],
    [
        "【打印本页】　【关闭窗口】",
        "主办：{site}　地址：{city}人民路1号　邮编：{post}",
        "{prov}ICP备{icp}号　政府网站找错",
    ],
]
REPRINT_LINES = ["（转载自{site}门户网站）", "来源：{site}", "本文转自{site}，如有侵权请联系删除。"]
EDIT_CHARS = "的和与及在对"


# ---------------------------------------------------------------------------- corpus


@dataclass
class Site:
    name: str
    city: str
    header: list[str]
    meta: str
    footer: list[str]
    sections: tuple[str, str]


@dataclass
class Notice:
    """An original page's body, kept so that later pages can reprint it."""

    site: int
    file: str
    title: str
    body: list[str]
    variant: str
    date: str


@dataclass
class Crawl:
    root: Path
    corpus: Path
    stdin_page: Path
    manifest: dict[str, Any] = field(default_factory=dict)


def make_sites(rng: random.Random, count: int = 50) -> list[Site]:
    sites = []
    for number in range(count):
        city, prov = CITIES[number % len(CITIES)]
        name = city + DEPARTMENTS[(number // len(CITIES) + number) % len(DEPARTMENTS)]
        a, b = rng.sample(SECTIONS, 2)
        menu = " | ".join(rng.sample(MENU, 6))
        header = [f"{name}门户网站", menu, rng.choice(BREADCRUMBS).format(a=a, b=b)]
        fields = {
            "site": name,
            "city": city,
            "prov": prov,
            "code": f"{rng.randrange(10**9, 10**10)}",
            "icp": f"{rng.randrange(10**7, 10**8)}",
            "post": f"{rng.randrange(530000, 740000)}",
        }
        footer = [line.format(**fields) for line in rng.choice(FOOTERS)]
        sites.append(Site(name, city, header, rng.choice(META), footer, (a, b)))
    return sites


def headline(paragraph: str) -> str:
    """A title from the opening clause of a real paragraph."""
    for mark in "。；：！？":
        paragraph = paragraph.split(mark, 1)[0]
    clause = paragraph.split("，", 1)[0].strip()
    return clause[:30] if len(clause) >= 6 else (paragraph[:24] or clause or "通知")


def _encodable(lines: list[str], codec: str) -> list[str]:
    return [line for line in lines if make_corpus._encodes(line, codec)]


def byte_shift(text: str, start: int, length: int) -> str:
    """GBK bytes decoded one byte out of step for ``length`` characters (as tests/garble.py)."""
    raw = text.encode("gbk")
    offset = len(text[:start].encode("gbk"))
    end = offset + len(text[start : start + length].encode("gbk"))
    shifted = raw[offset + 1 : end - 1].decode("gb18030", errors="replace").replace("\ufffd", "?")
    shifted = "".join(c for c in shifted if not "\ue000" <= c <= "\uf8ff")
    return text[:start] + "?" + shifted + "?" + text[start + length :]


def damage(rng: random.Random, body: list[str]) -> tuple[list[str], str]:
    """One damaged run in one paragraph: a GBK byte shift or a sentence of UTF-8 read as Latin-1."""
    candidates = [i for i, p in enumerate(body) if len(p) >= 30 and make_corpus._encodes(p, "gbk")]
    if not candidates:
        return body, "none"
    index = rng.choice(candidates)
    paragraph = body[index]
    start = rng.randrange(4, len(paragraph) - 20)
    if rng.random() < 0.6:
        changed, kind = byte_shift(paragraph, start, rng.randrange(6, 10)), "byte-shift"
    else:
        piece = paragraph[start : start + rng.randrange(8, 16)]
        changed, kind = paragraph.replace(piece, piece.encode("utf-8").decode("latin-1"), 1), "utf8-as-latin1"
    return [*body[:index], changed, *body[index + 1 :]], kind


def reprint_edits(rng: random.Random, body: list[str], other: Site) -> list[str]:
    """Small edits a reprint picks up: changed characters, a dropped last paragraph, a credit line."""
    body = list(body)
    if rng.random() < 0.5:
        index = rng.randrange(len(body))
        chars = list(body[index])
        for _ in range(rng.randint(1, 3)):
            chars[rng.randrange(len(chars))] = rng.choice(EDIT_CHARS)
        body[index] = "".join(chars)
    if rng.random() < 0.3 and len(body) > 3:
        body.pop()
    if rng.random() < 0.4:
        credit = rng.choice(REPRINT_LINES).format(site=other.name)
        body = [credit, *body] if rng.random() < 0.5 else [*body, credit]
    if rng.random() < 0.2:
        index = rng.randrange(len(body))
        body[index] = body[index].replace("，", ",").replace("：", ":")
    return body


def page_text(
    rng: random.Random,
    site: Site,
    title: str,
    date: str,
    body: list[str],
    related: list[str],
    variant: str,
    converter: Any,
) -> list[str]:
    """The page's lines: header, title, meta line, body, related links, footer."""
    meta = site.meta.format(
        date=date, source=site.name.removesuffix("人民政府") + "办公室", views=rng.randrange(20, 9000)
    )
    furniture_top = [*site.header, title, meta]
    furniture_end = (["相关链接：", *related] if related else []) + site.footer
    if variant == "traditional":
        furniture_top = [converter.convert(line) for line in furniture_top]
        furniture_end = [converter.convert(line) for line in furniture_end]
    return [*furniture_top, *body, *furniture_end]


def build_crawl(
    pages: int,
    total_mb: float,
    seed: int,
    source: Path | None,
    samples: Path | None,
    gazette: Path | None = text_pool.GAZETTE_MIRROR,
    root: Path | None = None,
    rebuild: bool = False,
) -> Crawl:
    """Write the crawl (and the ~18 kB stdin page) and return where they are; reused when identical."""
    params = {
        "format": CRAWL_FORMAT,
        "make_corpus_format": make_corpus.FORMAT_VERSION,
        "pages": pages,
        "total_mb": total_mb,
        "seed": seed,
        "reprints": REPRINT_SHARE,
        "repeats": REPEAT_SHARE,
        "damaged": DAMAGED_SHARE,
        "source": str(source) if source and source.exists() else None,
        "samples": str(samples) if samples and samples.is_dir() else None,
        "gazette": str(gazette) if gazette and make_corpus._is_git_dir(gazette) else None,
        "gazette_commit": text_pool.GAZETTE_COMMIT,
        "min_han": text_pool.MIN_HAN,
    }
    root = root or make_corpus.DATA / f"speed-{pages}p-{total_mb:g}mb-s{seed}"
    crawl = Crawl(root, root / "crawl", root / "page-18k.txt")
    manifest_path = crawl.corpus / make_corpus.MANIFEST
    if not rebuild and manifest_path.is_file() and crawl.stdin_page.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("params") == params:
            crawl.manifest = manifest
            return crawl
    import opencc

    started = time.perf_counter()
    if params["source"] is None:
        print(f"bench_speed: text source {source} missing; the crawl is cut from samples/ alone", file=sys.stderr)
    pools = make_corpus.load_pools(source, samples)  # the stdin page's text (unchanged)
    # Without both mirrors the text is too short for a crawl of unique paragraphs: it is used
    # again (a smoke run on a fresh machine works; its near-duplicate share is not the planted one).
    reuse = params["source"] is None or params["gazette"] is None
    if reuse:
        print("bench_speed: a text mirror is missing; paragraphs are used again", file=sys.stderr)
    stream = text_pool.ParagraphStream(seed, source, gazette, samples, reuse=reuse)
    to_traditional, to_simplified = opencc.OpenCC("s2tw.json"), opencc.OpenCC("t2s.json")
    if root.exists():
        shutil.rmtree(root)
    crawl.corpus.mkdir(parents=True)
    rng = random.Random(seed)
    sites = make_sites(rng)
    # Page sizes: log-normal (median ~2/3 of the mean), scaled to the wanted total.
    raw_sizes = [math.exp(rng.gauss(0.0, 0.9)) for _ in range(pages)]
    scale = (total_mb * 1e6 - pages * FURNITURE_BYTES) / sum(raw_sizes)
    sizes = [min(make_corpus.MAX_BYTES, max(150, int(s * scale))) for s in raw_sizes]
    damaged = set(rng.sample(range(pages), max(2, round(pages * DAMAGED_SHARE))))
    notices: list[Notice] = []
    titles: dict[int, list[str]] = {}
    entries: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for number, size in enumerate(sizes):
        site_number = number % len(sites)
        site = sites[site_number]
        name, codec, variant = make_corpus._pick_encoding(rng)
        if number in damaged:  # damage that every codec of the page can carry
            name, codec, variant = rng.choice([("utf-8", "utf-8", "simplified"), ("gb18030", "gb18030", "simplified")])
        date = f"20{rng.randint(19, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        entry: dict[str, Any] = {
            "file": f"site{site_number:02d}/{number:05d}.txt",
            "encoding": name,
            "variant": variant,
        }
        reprint = bool(notices) and rng.random() < REPRINT_SHARE and number not in damaged
        if reprint:
            original = rng.choice([n for n in notices[-400:] if n.site != site_number] or notices)
            body, title = original.body, original.title
            if original.variant != variant:
                convert = to_traditional if variant == "traditional" else to_simplified
                body, title = [convert.convert(p) for p in body], convert.convert(title)
            body = reprint_edits(rng, body, sites[original.site])
            entry["reprint_of"] = original.file
        else:
            chars = max(20, int(size / make_corpus.BYTES_PER_CHAR[name]))
            body = stream.take(variant, codec, chars)
            title = headline(body[0])
            if rng.random() < REPEAT_SHARE and len(body) > 2:  # a paragraph pasted twice
                index = rng.randrange(len(body) - 1)
                body.insert(rng.randint(index + 1, len(body)), body[index])
                entry["repeat"] = True
            if number in damaged:
                body, entry["damage"] = damage(rng, body)
            notices.append(Notice(site_number, entry["file"], title, body, variant, date))
        related = rng.sample(titles.get(site_number, []), min(3, len(titles.get(site_number, []))))
        titles.setdefault(site_number, []).append(title)
        lines = _encodable(page_text(rng, site, title, date, body, related, variant, to_traditional), codec)
        data = make_corpus._debris(rng, lines, name).encode(codec)
        path = crawl.corpus / entry["file"]
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        entry["bytes"] = len(data)
        entries.append(entry)
        counts[name] = counts.get(name, 0) + 1
    # The stdin page: one UTF-8 simplified notice of ~18 kB, from its own seed.
    page_rng = random.Random(seed + 1)
    body = make_corpus._cut(page_rng, pools.simplified, int((STDIN_PAGE_BYTES - FURNITURE_BYTES) / 2.9))
    lines = page_text(page_rng, sites[0], headline(body[0]), "2024-05-20", body, [], "simplified", to_traditional)
    crawl.stdin_page.write_bytes(make_corpus._debris(page_rng, lines, "utf-8").encode("utf-8"))
    stream.close()
    crawl.manifest = {
        "params": params,
        "source_repository": make_corpus.SOURCE_REPO if params["source"] else None,
        "text_pool": stream.stats(),
        "files": len(entries),
        "bytes": sum(e["bytes"] for e in entries),
        "encodings": counts,
        "traditional": sum(e["variant"] == "traditional" for e in entries),
        "reprints": sum("reprint_of" in e for e in entries),
        "repeats": sum("repeat" in e for e in entries),
        "damaged": sum("damage" in e for e in entries),
        "stdin_page_bytes": crawl.stdin_page.stat().st_size,
        "seconds": round(time.perf_counter() - started, 1),
        "entries": entries,
    }
    manifest_path.write_text(json.dumps(crawl.manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return crawl


# ---------------------------------------------------------------------------- naive script


def naive_clean(corpus: Path, out: Path) -> None:
    """What a user would write instead: detect, decode, t2s, MinHash + LSH, write the keepers."""
    import opencc
    from charset_normalizer import from_bytes
    from datasketch import MinHash, MinHashLSH

    converter = opencc.OpenCC("t2s.json")
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    for path in sorted(p for p in corpus.rglob("*") if p.is_file() and not p.name.startswith(".")):
        raw = path.read_bytes()
        best = from_bytes(raw).best()
        text = converter.convert(str(best) if best is not None else raw.decode("utf-8", errors="replace"))
        minhash = MinHash(num_perm=128)
        minhash.update_batch([text[i : i + 5].encode("utf-8") for i in range(max(1, len(text) - 4))])
        key = path.relative_to(corpus).as_posix()
        if lsh.query(minhash):
            continue  # a near duplicate of a page already kept
        lsh.insert(key, minhash)
        target = out / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------- timing


@dataclass
class Run:
    """One timed subprocess: wall and CPU seconds (its waited-for children included)."""

    name: str
    wall: float
    cpu: float
    max_rss_mb_upper_bound: float  # wait4's ru_maxrss: Linux starts a forked child at its spawner's peak
    returncode: int
    load: float
    stderr_tail: str = ""
    # Sampled from /proc every 50 ms (ProcessTree): the process's own peak resident memory
    # (VmHWM), its own CPU, and of its worker processes the largest peak and CPU.
    peak_rss_mb: float = 0.0
    parent_cpu: float = 0.0
    worker_processes: int = 0
    worker_peak_rss_mb: float = 0.0
    max_worker_cpu: float = 0.0
    sampler_cpu: float = 0.0  # the sampling thread's own CPU, taken from the cores the run uses


TICK = os.sysconf("SC_CLK_TCK")


class ProcessTree:
    """Samples a process and its descendants from ``/proc`` in a thread until it exits: each
    one's own peak resident memory (``VmHWM``, which a forked worker starts at what it maps
    right after its fork, unlike ``ru_maxrss``) and CPU (user + system of ``/proc/PID/stat``).
    A child's last 50 ms, and a child shorter than that, can be missed."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid = pid
        self.every = every
        self.seen: dict[int, tuple[float, float]] = {}  # pid: (CPU s, peak MB)
        self.done = threading.Event()
        self.cpu = 0.0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @staticmethod
    def _read(pid: int) -> tuple[float, float] | None:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat, open(f"/proc/{pid}/status", "rb") as status:
                fields = stat.read().rsplit(b")", 1)[1].split()
                text = status.read()
        except OSError:
            return None
        at = text.find(b"VmHWM:")
        peak = int(text[at + 6 : text.index(b"kB", at)]) / 1024 if at >= 0 else 0.0
        return (int(fields[11]) + int(fields[12])) / TICK, peak

    @staticmethod
    def _children(pid: int) -> list[int]:
        """The children of every thread of ``pid``."""
        found: list[int] = []
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
        return found

    def _descendants(self) -> list[int]:
        """Children, and theirs: cleankit's workers are forked by nurseries, not by the
        process itself, so its direct children alone would report a nursery's memory."""
        found: list[int] = []
        waiting = [self.pid]
        while waiting:
            children = self._children(waiting.pop())
            found += children
            waiting += children
        return found

    def _run(self) -> None:
        # The sampler's CPU comes out of the cores the run uses: it waits for them at the
        # lowest priority (Linux sets a thread's own nice value by its id).
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        while not self.done.is_set():
            for pid in [self.pid, *self._descendants()]:
                found = self._read(pid)
                if found is not None and found[1]:  # a zombie has no memory left to report
                    self.seen[pid] = (found[0], max(found[1], self.seen.get(pid, (0.0, 0.0))[1]))
            self.done.wait(self.every)
        self.cpu = time.thread_time()

    def stop(self) -> dict[str, float]:
        self.done.set()
        self.thread.join()
        own = self.seen.pop(self.pid, (0.0, 0.0))
        return {
            "peak_rss_mb": round(own[1], 1),
            "parent_cpu": round(own[0], 2),
            "worker_processes": len(self.seen),
            "worker_peak_rss_mb": round(max((peak for _, peak in self.seen.values()), default=0.0), 1),
            "max_worker_cpu": round(max((cpu for cpu, _ in self.seen.values()), default=0.0), 2),
            "sampler_cpu": round(self.cpu, 3),
        }


def timed(
    name: str,
    command: list[str],
    stdin: Path | None = None,
    stdout: Path | None = None,
    timeout: float = 3600,
    env: dict[str, str] | None = None,
) -> Run:
    """Run ``command`` and take its rusage from ``wait4`` (user + system, the child's own
    waited-for children included, so pool workers count)."""
    err_path = WORK / f"{name}.stderr"
    err_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(stdin or os.devnull, "rb") as source,
        open(stdout or os.devnull, "wb") as sink,
        open(err_path, "wb") as err,
    ):
        load = os.getloadavg()[0]
        started = time.perf_counter()
        process = subprocess.Popen(command, stdin=source, stdout=sink, stderr=err, env=env)
        tree = ProcessTree(process.pid) if sys.platform.startswith("linux") else None
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            # Reaped only after the sampler stopped: until then its /proc entries stay readable.
            os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
            sampled = tree.stop() if tree is not None else {}
            _pid, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    tail = err_path.read_text(encoding="utf-8", errors="replace")[-2000:] if process.returncode else ""
    return Run(
        name,
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        process.returncode,
        round(load, 2),
        tail,
        **sampled,
    )


# ---------------------------------------------------------------------------- identical output


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def output_hash(out: Path, corpus: Path) -> dict[str, Any]:
    """sha256 of the clean files (path + content) and of the provenance records with run ids and
    timings removed and paths made relative, records sorted (``-j 2`` finishes in another order)."""
    texts = hashlib.sha256()
    files = 0
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        if rel in NOT_TEXT or rel.startswith(NOT_TEXT_PREFIX):
            continue
        texts.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        files += 1
    records: list[str] = []
    statuses: dict[str, int] = {}
    provenance = out / "provenance.jsonl"
    if provenance.is_file():
        with open(provenance, encoding="utf-8") as handle:
            for line in handle:
                line = line.replace(str(out), "<out>").replace(str(corpus), "<corpus>")
                record = _strip(json.loads(line))
                statuses[str(record.get("status"))] = statuses.get(str(record.get("status")), 0) + 1
                records.append(json.dumps(record, ensure_ascii=False, sort_keys=True))
    records.sort()
    prov = hashlib.sha256("\n".join(records).encode("utf-8")).hexdigest()
    combined = hashlib.sha256(f"{texts.hexdigest()} {prov}".encode()).hexdigest()
    return {"hash": combined, "texts": texts.hexdigest(), "provenance": prov, "files": files, "statuses": statuses}


def near_duplicates(out: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The crawl's near-duplicate share as cleankit measured it (pages its provenance marks
    ``duplicate``), split by the manifest: a duplicate of its own reprint family (the original
    and its reprints) is a planted reprint found; any other is accidental."""
    family = {e["file"]: e.get("reprint_of", e["file"]) for e in manifest["entries"]}
    marked = planted = 0
    accidental: list[tuple[str, str]] = []
    provenance = out / "provenance.jsonl"
    with open(provenance, encoding="utf-8") as handle:
        for line in handle:
            if '"duplicate_of"' not in line:
                continue
            record = json.loads(line)
            source, kept = record.get("source"), record.get("duplicate_of")
            if record.get("status") != "duplicate" or not kept:
                continue
            marked += 1
            if family.get(source, source) == family.get(kept, kept):
                planted += 1
            else:
                accidental.append((source, kept))
    pages = manifest["files"]
    reprints = manifest["reprints"]
    return {
        "pages": pages,
        "marked": marked,
        "marked_share": round(marked / pages, 4),
        "planted_reprints": reprints,
        "planted_share": round(reprints / pages, 4),
        "planted_found": planted,
        "planted_missed": reprints - planted,
        "accidental": len(accidental),
        "accidental_share": round(len(accidental) / pages, 4),
        "accidental_examples": accidental[:10],
    }


def near_duplicate_line(found: dict[str, Any]) -> str:
    return (
        f"near-duplicates marked by cleankit: {found['marked']:,} of {found['pages']:,} pages "
        f"({100 * found['marked_share']:.1f} %); planted reprints {found['planted_reprints']:,} "
        f"({100 * found['planted_share']:.1f} %): {found['planted_found']:,} found, {found['planted_missed']:,} not; "
        f"accidental {found['accidental']:,} ({100 * found['accidental_share']:.1f} %)"
    )


# ---------------------------------------------------------------------------- the benchmark


def cleankit_command(explicit: str | None) -> tuple[str, str]:
    """The ``cleankit`` executable (next to this interpreter, else on PATH) and its interpreter."""
    candidate = explicit or (
        str(Path(sys.executable).parent / "cleankit")
        if (Path(sys.executable).parent / "cleankit").is_file()
        else shutil.which("cleankit")
    )
    if not candidate:
        raise SystemExit("bench_speed: no cleankit executable found (install the package or pass --cleankit)")
    python = sys.executable
    with open(candidate, "rb") as handle:
        first = handle.readline().decode("utf-8", errors="replace").strip()
    if first.startswith("#!") and "python" in first:
        python = first[2:].strip().split()[0]
    return candidate, python


def git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def paired_median(a: list[Run], b: list[Run], key: str) -> float | None:
    """Median over rounds of b/a (the two runs of a round were adjacent in time)."""
    ratios = [getattr(y, key) / getattr(x, key) for x, y in zip(a, b, strict=True) if getattr(x, key)]
    return round(statistics.median(ratios), 3) if ratios else None


def summarize(runs: list[Run], corpus_bytes: int, pages: int) -> dict[str, Any]:
    wall = statistics.median(r.wall for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    return {
        "rounds": len(runs),
        "wall_s": round(wall, 2),
        "wall_all": [round(r.wall, 2) for r in runs],
        "cpu_s": round(cpu, 2),
        "cpu_all": [round(r.cpu, 2) for r in runs],
        "mb_per_s": round(corpus_bytes / 1e6 / wall, 3),
        "mb_per_cpu_s": round(corpus_bytes / 1e6 / cpu, 3),
        "cpu_ms_per_doc": round(1000 * cpu / pages, 2),
        "max_rss_mb_upper_bound": round(max(r.max_rss_mb_upper_bound for r in runs), 1),
        "peak_rss_mb": round(max(r.peak_rss_mb for r in runs), 1),
        "worker_peak_rss_mb": round(max(r.worker_peak_rss_mb for r in runs), 1),
        "parent_cpu_s": round(statistics.median(r.parent_cpu for r in runs), 2),
        "max_worker_cpu_s": round(statistics.median(r.max_worker_cpu for r in runs), 2),
        "sampler_cpu_s": round(statistics.median(r.sampler_cpu for r in runs), 3),
        "load_1min": [r.load for r in runs],
    }


def run_corpus_rounds(
    crawl: Crawl, configs: dict[str, list[str]], rounds: int, timeout: float
) -> tuple[dict[str, list[Run]], dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Each config once per round (order rotated); the output hash of each cleankit run and the
    near-duplicate share of the first one."""
    runs: dict[str, list[Run]] = {c: [] for c in configs}
    hashes: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
    found: dict[str, Any] = {}
    corpus_bytes = crawl.manifest["bytes"]
    order = list(configs)
    for number in range(rounds):
        shift = number % len(order)
        for config in order[shift:] + order[:shift]:
            out = WORK / f"out-{config}"
            if out.exists():
                shutil.rmtree(out)
            command = [part.replace("{out}", str(out)) for part in configs[config]]
            run = timed(config, command, timeout=timeout)
            if run.returncode != 0:
                raise SystemExit(f"bench_speed: {config} failed ({run.returncode}):\n{run.stderr_tail}")
            runs[config].append(run)
            if config != "naive":
                hashes[config].append(output_hash(out, crawl.corpus))
            print(
                f"round {number + 1} {config:12s} wall {run.wall:7.2f} s  CPU {run.cpu:7.2f} s  "
                f"{corpus_bytes / 1e6 / run.wall:5.2f} MB/s  load {run.load}",
                flush=True,
            )
            if config != "naive" and not found:
                found = near_duplicates(out, crawl.manifest)
                print(f"  {near_duplicate_line(found)}", flush=True)
    return runs, hashes, found


def user_environment() -> dict[str, str]:
    """The environment of the start-up rows: this one without ``PYTHONDONTWRITEBYTECODE``.
    A user's Python writes each module's bytecode (``__pycache__``) the first time it runs
    (``pip install`` compiles site-packages; an editable install's own modules are compiled by
    their first import); a machine that sets the variable would recompile every cleankit
    module at every start, which no user pays."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def startup(cleankit: str, python: str, page: Path, repeats: int, timeout: float) -> dict[str, Any]:
    """Best of ``repeats`` (interleaved) of a bare interpreter, ``--version`` and one page through
    stdin, after one untimed warm-up round (it writes the bytecode and cleankit's start-up cache,
    as a user's first call does)."""
    commands = {
        "python -c pass": ([python, "-c", "pass"], None),
        "cleankit --version": ([cleankit, "--version"], None),
        "cleankit clean - (18 kB page)": ([cleankit, "clean", "-"], page),
    }
    env = user_environment()
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    page_out = WORK / "stdin-page.txt"
    page_hashes: set[str] = set()
    for number in range(repeats + 1):
        for name, (command, stdin) in commands.items():
            run = timed("startup", command, stdin=stdin, stdout=page_out if stdin else None, timeout=timeout, env=env)
            if run.returncode != 0:
                raise SystemExit(f"bench_speed: {name} failed ({run.returncode}):\n{run.stderr_tail}")
            if stdin:
                page_hashes.add(hashlib.sha256(page_out.read_bytes()).hexdigest())
            if number:  # round 0 is the warm-up
                runs[name].append(run)
    base = min(r.wall for r in runs["python -c pass"])
    base_cpu = min(r.cpu for r in runs["python -c pass"]) or 1e-3
    rows = {}
    for name, found in runs.items():
        best = min(r.wall for r in found)
        best_cpu = min(r.cpu for r in found)
        rows[name] = {
            "best_wall_s": round(best, 3),
            "best_cpu_s": round(best_cpu, 3),
            "wall_all": [round(r.wall, 3) for r in found],
            "cpu_all": [round(r.cpu, 3) for r in found],
            "load_1min": [r.load for r in found],
            "ratio_wall": round(best / base, 1),
            "ratio_cpu": round(best_cpu / base_cpu, 1),
        }
    return {
        "repeats": repeats,
        "rows": rows,
        "stdin_page_bytes": page.stat().st_size,
        "page_hashes": sorted(page_hashes),
    }


def startup_table(start: dict[str, Any]) -> list[str]:
    lines = [
        f"start-up, best of {start['repeats']} (stdin page {start['stdin_page_bytes']} B):",
        "",
        "| command | best wall s | best CPU s | wall / python -c pass | CPU / python -c pass |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in start["rows"].items():
        lines.append(
            f"| `{name}` | {row['best_wall_s']} | {row['best_cpu_s']} | {row['ratio_wall']}× | {row['ratio_cpu']}× |"
        )
    return lines


def startup_only(args: argparse.Namespace, cleankit: str, python: str, commit: str, dirty: int) -> int:
    """``--startup-only``: the start-up rows alone (the crawl is built only for its stdin page)."""
    pages = args.pages or SMOKE_PAGES
    total_mb = args.total_mb or SMOKE_MB * pages / SMOKE_PAGES
    crawl = build_crawl(pages, total_mb, args.seed, args.source, args.samples, args.gazette, rebuild=args.rebuild)
    start = startup(cleankit, python, crawl.stdin_page, args.startup_repeats or 5, args.timeout)
    failures = [] if len(start["page_hashes"]) == 1 else ["the stdin page's output differs between repeats"]
    if args.expect and start["page_hashes"] != [args.expect]:
        failures.append(f"stdin page output {start['page_hashes']} differs from the expected {args.expect}")
    results = {
        "commit": commit + (" + uncommitted changes" if dirty else ""),
        "cleankit": {"executable": cleankit, "python": python},
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "machine": machine() | {"loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
        "startup": start,
        "failures": failures,
    }
    print()
    print("\n".join(startup_table(start)))
    print(f"\nstdin page output sha256: {start['page_hashes'][0]}")
    target = args.results or RESULTS / commit / "startup.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"results written to {target}")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


def profile(python: str, crawl: Crawl, name: str, top: int, results_dir: Path, timeout: float) -> dict[str, Any]:
    """``python -m cProfile -o`` over ``python -m cleankit clean CORPUS -o OUT -j 1``; top functions."""
    import pstats

    prof = WORK / f"cleankit-j1-{name}.prof"
    out = WORK / "out-profile"
    if out.exists():
        shutil.rmtree(out)
    command = [python, "-m", "cProfile", "-o", str(prof), "-m", "cleankit", "clean", str(crawl.corpus)]
    command += ["-o", str(out), "-j", "1", "-q"]
    run = timed("profile", command, timeout=timeout)
    if run.returncode != 0:
        raise SystemExit(f"bench_speed: profile failed ({run.returncode}):\n{run.stderr_tail}")
    stats = pstats.Stats(str(prof))
    table = stats.stats  # type: ignore[attr-defined]
    total = max((entry[3] for entry in table.values()), default=0.0)

    def label(key: tuple[str, int, str]) -> str:
        filename, line, function = key
        for marker in ("/site-packages/", "/lib/python3"):
            if marker in filename:
                filename = filename.split(marker, 1)[1]
        if "/cleankit/" in filename:
            filename = "cleankit/" + filename.rsplit("/cleankit/", 1)[1]
        return f"{filename}:{line}({function})" if line else function

    rows = [
        {"function": label(key), "calls": calls, "tottime": round(tt, 3), "cumtime": round(ct, 3)}
        for key, (_cc, calls, tt, ct, _callers) in table.items()
    ]
    by_cum = sorted(rows, key=lambda r: r["cumtime"], reverse=True)[:top]
    by_tot = sorted(rows, key=lambda r: r["tottime"], reverse=True)[:top]
    lines = [f"cProfile of cleankit clean -j 1 on {crawl.corpus} ({run.wall:.1f} s wall under the profiler)"]
    for title, chosen in (("by cumulative time", by_cum), ("by own time (tottime)", by_tot)):
        lines += ["", title, f"{'cumtime':>9} {'tottime':>9} {'calls':>10}  function"]
        lines += [f"{r['cumtime']:9.3f} {r['tottime']:9.3f} {r['calls']:10d}  {r['function']}" for r in chosen]
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"profile-{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"wall_s": round(run.wall, 1), "total_s": round(total, 2), "by_cumulative": by_cum, "by_tottime": by_tot}


def report(results: dict[str, Any]) -> str:
    corpus = results["corpus"]
    rows = results["summary"]
    lines = [
        f"commit {results['commit']}; corpus {corpus['files']} pages, {corpus['bytes'] / 1e6:.2f} MB "
        f"({corpus['reprints']} reprints, {corpus['traditional']} traditional, {corpus['damaged']} damaged, "
        f"encodings {corpus['encodings']}); {results['rounds']} round(s); {results['machine']['nproc']} CPUs",
        "",
        "| run | wall s (median) | CPU s (median) | MB/s (wall) | MB per CPU s | CPU ms / page "
        "| CPU s: parent / largest worker | peak RSS MB (VmHWM): parent / largest worker | 1-min load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {row['wall_s']} | {row['cpu_s']} | {row['mb_per_s']} | {row['mb_per_cpu_s']} "
            f"| {row['cpu_ms_per_doc']} | {row.get('parent_cpu_s', '–')} / {row.get('max_worker_cpu_s', '–')} "
            f"| {row.get('peak_rss_mb', '–')} / {row.get('worker_peak_rss_mb', '–')} "
            f"| {', '.join(map(str, row['load_1min']))} |"
        )
    lines += ["", f"{corpus['files']:,} pages: {near_duplicate_line(results['near_duplicates'])}"]
    if results.get("scaled"):
        big = results["scaled"]
        lines.append(f"{big['corpus']['files']:,} pages: {near_duplicate_line(big['near_duplicates'])}")
    lines += ["", "| ratio | measured | target |", "|---|---:|---:|"]
    for name, (value, target) in results["ratios"].items():
        lines.append(f"| {name} | {value if value is not None else '–'} | {target} |")
    lines += ["", *startup_table(results["startup"])]
    lines += ["", f"output hash: {results['identity']['hash']}"]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(), "platform": platform.platform()}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, help=f"pages of the crawl (default {DEFAULT_PAGES}; {SMOKE_PAGES} smoke)")
    parser.add_argument("--total-mb", type=float, help=f"size of the crawl in MB (default {DEFAULT_MB})")
    parser.add_argument("--seed", type=int, default=20240612)
    parser.add_argument("--rounds", type=int, help="interleaved rounds of naive, -j 1, -j 2 (default 3; smoke 1)")
    parser.add_argument("--jobs", type=int, default=2, help="workers of the parallel run (default 2)")
    parser.add_argument("--scale", type=int, default=0, help="also time -j 1 on a corpus this many times larger")
    parser.add_argument("--scale-rounds", type=int, default=1)
    parser.add_argument(
        "--scale-jobs", type=int, nargs="+", default=[1], help="workers of the scaled runs (default 1; e.g. 1 2)"
    )
    parser.add_argument("--startup-repeats", type=int, help="start-up commands, best of N (default 5; smoke 1)")
    parser.add_argument(
        "--startup-only",
        action="store_true",
        help="only the start-up rows (best of --startup-repeats); --expect then takes the stdin page's output sha256",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one -j 1 run, top functions to results")
    parser.add_argument("--top", type=int, default=25, help="functions listed by the profile")
    parser.add_argument("--smoke", action="store_true", help="~50 pages, 1 round: checks it works and outputs agree")
    parser.add_argument("--expect", help="fail if the output hash differs from this one")
    parser.add_argument("--cleankit", help="cleankit executable (default: next to this python, else on PATH)")
    parser.add_argument("--source", type=Path, default=make_corpus.DEFAULT_SOURCE, help="real text: git mirror/folder")
    parser.add_argument("--samples", type=Path, default=make_corpus.DEFAULT_SAMPLES)
    parser.add_argument(
        "--gazette", type=Path, default=text_pool.GAZETTE_MIRROR, help="Executive Yuan Gazette git mirror (more text)"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the corpus even if an identical one exists")
    parser.add_argument("--results", type=Path, help="results JSON (default: results/<short commit>/<corpus>.json)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per command")
    parser.add_argument("--naive-child", nargs=2, type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.naive_child:
        naive_clean(*args.naive_child)
        return 0
    pages = args.pages or (SMOKE_PAGES if args.smoke else DEFAULT_PAGES)
    total_mb = args.total_mb or (SMOKE_MB if args.smoke else DEFAULT_MB * pages / DEFAULT_PAGES)
    rounds = args.rounds or (1 if args.smoke else 3)
    startup_repeats = args.startup_repeats or (1 if args.smoke else 5)
    cleankit, python = cleankit_command(args.cleankit)
    commit = git("rev-parse", "--short", "HEAD")
    code = ("cleankit", "rules", "pyproject.toml")
    dirty = (
        len(git("status", "--porcelain", "--untracked-files=no", "--", *code).splitlines())
        if commit != "unknown"
        else 0
    )
    code_commit = git("log", "-1", "--format=%h", "--", *code)
    version = subprocess.run([cleankit, "--version"], capture_output=True, text=True).stdout.strip()
    print(
        f"cleankit: {cleankit} ({version}); commit {commit}{' + uncommitted changes' if dirty else ''}, "
        f"last commit of its code {code_commit}",
        flush=True,
    )

    if args.startup_only:
        return startup_only(args, cleankit, python, commit, dirty)
    crawl = build_crawl(pages, total_mb, args.seed, args.source, args.samples, args.gazette, rebuild=args.rebuild)
    manifest = crawl.manifest
    print(
        f"corpus {crawl.corpus}: {manifest['files']} pages, {manifest['bytes'] / 1e6:.2f} MB, "
        f"{manifest['reprints']} reprints, {manifest['traditional']} traditional, {manifest['damaged']} damaged",
        flush=True,
    )
    for path in crawl.corpus.rglob("*"):  # warm the page cache
        if path.is_file():
            path.read_bytes()

    corpus = str(crawl.corpus)
    configs = {
        "naive": [python, str(Path(__file__).resolve()), "--naive-child", corpus, "{out}"],
        "cleankit-j1": [cleankit, "clean", corpus, "-o", "{out}", "-j", "1", "-q"],
        f"cleankit-j{args.jobs}": [cleankit, "clean", corpus, "-o", "{out}", "-j", str(args.jobs), "-q"],
    }
    runs, hashes, neardups = run_corpus_rounds(crawl, configs, rounds, args.timeout)
    start = startup(cleankit, python, crawl.stdin_page, startup_repeats, args.timeout)
    summary = {name: summarize(found, manifest["bytes"], manifest["files"]) for name, found in runs.items()}

    failures: list[str] = []
    j1, jn = "cleankit-j1", f"cleankit-j{args.jobs}"
    all_hashes = {h["hash"] for name in (j1, jn) for h in hashes[name]}
    if len(all_hashes) != 1:
        failures.append(f"outputs differ between runs: { {n: [h['hash'][:12] for h in hashes[n]] for n in (j1, jn)} }")
    if len(start["page_hashes"]) != 1:
        failures.append("the stdin page's output differs between repeats")
    for name in (j1, jn):
        failed = hashes[name][0]["statuses"].get("failed", 0)
        if failed:
            failures.append(f"{name}: {failed} document(s) failed")
    identity = hashlib.sha256(f"{hashes[j1][0]['hash']} {start['page_hashes'][0]}".encode()).hexdigest()

    scaled: dict[str, Any] | None = None
    if args.scale > 1:
        big = build_crawl(pages * args.scale, total_mb * args.scale, args.seed, args.source, args.samples, args.gazette)
        print(f"scaled corpus {big.corpus}: {big.manifest['files']} pages, {big.manifest['bytes'] / 1e6:.1f} MB")
        for path in big.corpus.rglob("*"):
            if path.is_file():
                path.read_bytes()
        big_configs = {
            f"cleankit-j{jobs} {args.scale}x": [
                *(cleankit, "clean", str(big.corpus), "-o", "{out}", "-j", str(jobs), "-q")
            ]
            for jobs in args.scale_jobs
        }
        big_runs, big_hashes, big_neardups = run_corpus_rounds(big, big_configs, args.scale_rounds, args.timeout)
        for big_name in big_runs:
            summary[big_name] = summarize(big_runs[big_name], big.manifest["bytes"], big.manifest["files"])
        name = next(iter(big_runs))
        scaled = {
            "factor": args.scale,
            "corpus": {k: v for k, v in big.manifest.items() if k != "entries"} | {"path": str(big.corpus)},
            "hash": big_hashes[name][0],
            "near_duplicates": big_neardups,
        }

    ratios: dict[str, tuple[float | None, str]] = {
        "throughput cleankit -j1 / naive (wall, paired per round)": (
            paired_median(runs[j1], runs["naive"], "wall"),
            "≥ 3×",
        ),
        "throughput cleankit -j1 / naive (CPU, paired per round)": (
            paired_median(runs[j1], runs["naive"], "cpu"),
            "≥ 3×",
        ),
        "cleankit -j1 MB of input per CPU second (per core)": (summary[j1]["mb_per_cpu_s"], "≥ 4"),
        f"throughput cleankit -j{args.jobs} / -j1 (wall, paired per round)": (
            paired_median(runs[jn], runs[j1], "wall"),
            "≥ 1.8×",
        ),
        f"CPU cleankit -j{args.jobs} / -j1 (all processes)": (paired_median(runs[j1], runs[jn], "cpu"), "≈ 1"),
    }
    if scaled and 1 in args.scale_jobs:
        name = f"cleankit-j1 {args.scale}x"
        ratios[f"CPU per page, {args.scale}× corpus / small corpus"] = (
            round(summary[name]["cpu_ms_per_doc"] / summary[j1]["cpu_ms_per_doc"], 3),
            "≤ 1.10",
        )
    if scaled and args.jobs in args.scale_jobs and args.jobs > 1:
        name = f"cleankit-j{args.jobs} {args.scale}x"
        small, large = summary[jn]["worker_peak_rss_mb"], summary[name]["worker_peak_rss_mb"]
        ratios[f"largest worker's peak RSS, {args.scale}× corpus / small corpus (-j{args.jobs})"] = (
            round(large / small, 3) if small else None,
            "≈ 1",
        )
    rows = start["rows"]
    ratios["`cleankit --version` / `python -c pass` (best wall)"] = (rows["cleankit --version"]["ratio_wall"], "≤ 5×")
    ratios["`cleankit clean -` 18 kB page / `python -c pass` (best wall)"] = (
        rows["cleankit clean - (18 kB page)"]["ratio_wall"],
        "≤ 15×",
    )

    corpus_name = crawl.root.name
    results: dict[str, Any] = {
        "commit": commit + (" + uncommitted changes" if dirty else ""),
        "cleankit": {"executable": cleankit, "python": python, "version": version, "last_code_commit": code_commit},
        "command": [Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])],
        "machine": machine() | {"loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
        "corpus": {k: v for k, v in manifest.items() if k != "entries"} | {"path": corpus},
        "rounds": rounds,
        "summary": summary,
        "ratios": {name: {"measured": value, "target": target} for name, (value, target) in ratios.items()},
        "startup": start,
        "identity": {
            "hash": identity,
            "corpus_outputs": hashes[j1][0],
            "stdin_page_output": start["page_hashes"][0],
            "per_round": {name: [h["hash"] for h in hashes[name]] for name in (j1, jn)},
        },
        "near_duplicates": neardups,
        "scaled": scaled,
        "runs": {name: [asdict(r) for r in found] for name, found in runs.items()},
        "failures": failures,
    }
    results_dir = RESULTS / commit
    if args.profile:
        print("profiling cleankit -j 1 ...", flush=True)
        results["profile"] = profile(python, crawl, corpus_name, args.top, results_dir, args.timeout)
    printable = dict(results, ratios=ratios)
    print()
    print(report(printable))
    if args.expect and args.expect != identity:
        failures.append(f"output hash {identity} differs from the expected {args.expect}")
    target = args.results or results_dir / f"{corpus_name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\nresults written to {target}")
    if "profile" in results:
        print(f"profile: {results_dir / f'profile-{corpus_name}.txt'}")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
