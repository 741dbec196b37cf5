"""The Ray engine against the local engine on one synthetic crawl (issue 16).

The crawl is made on the fly from the text of ``samples/``: sites (one folder each) whose
pages are runs of real paragraphs between the site's furniture lines, about a third of them
reprints of another site's page with a few characters changed (near-duplicates across
shards), a fifth in GBK. It is cleaned three times into fresh folders — local ``-j1``,
local ``-j2``, Ray on a local instance of ``--cpus`` CPUs — the outputs are checked to be the
same (clean files, provenance minus run ids, summary totals, near-duplicate decisions), and
the figures a scaling model needs are printed: docs/s of each engine, Ray's fixed start cost,
the driver's CPU per document (the serial part: committing provenance, the index, the run
state), the near-duplicate shuffle's sizes (band entries, candidate and verified pairs per
document) and the bytes per document of what the driver keeps.

    python benchmarks/bench_ray.py --mb 20            # a 20 MB crawl
    python benchmarks/bench_ray.py --mb 1024 --json results/ray.json
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from cleankit import Settings  # noqa: E402
from cleankit.core.pipeline import Pipeline  # noqa: E402
from cleankit.core.provenance import read_records  # noqa: E402
from cleankit.io.files import INDEX_FILE, PROVENANCE_FILE  # noqa: E402
from cleankit.neardup.index import NearDupIndex  # noqa: E402
from cleankit.run.clean import run_clean  # noqa: E402
from cleankit.run.executor import LocalExecutor  # noqa: E402

FURNITURE = [
    ("首页 > 新闻中心 > 通知公告", "主办单位：{site}人民政府办公厅 版权所有"),
    ("您当前的位置：首页 > 政务公开 > 政策文件", "网站标识码{site} 备案号：ICP备05001234号"),
    ("当前位置：首页 > 科技动态", "联系我们 | 网站地图 | 主办：{site}科学技术局"),
    ("【字体：大 中 小】 【打印本页】", "本网站由{site}信息中心维护"),
]


def sample_paragraphs() -> list[str]:
    found: list[str] = []
    for path in sorted((REPO / "samples").iterdir()):
        text = path.read_bytes().decode("utf-8", errors="replace")
        found += [line.strip() for line in text.splitlines() if len(line.strip()) >= 40]
    return found


def make_crawl(folder: Path, megabytes: float, seed: int = 16) -> tuple[int, int]:
    """Write the synthetic crawl; returns (files, bytes)."""
    rng = random.Random(seed)
    pool = sample_paragraphs()
    target = int(megabytes * 1e6)
    written = files = 0
    pages: list[list[str]] = []
    while written < target:
        site = files // 200
        header, footer = FURNITURE[site % len(FURNITURE)]
        if pages and rng.random() < 0.3:
            body = list(rng.choice(pages))  # a reprint of another site's page, lightly edited
            for _ in range(3):
                which = rng.randrange(len(body))
                cut = rng.randrange(max(1, len(body[which]) - 2))
                body[which] = body[which][:cut] + "的" + body[which][cut + 1 :]
        else:
            start = rng.randrange(len(pool))
            body = [pool[(start + i) % len(pool)] for i in range(rng.randint(4, 14))]
            rng.shuffle(body)
            pages.append(body)
        text = "\r\n\r\n".join([header, *body, footer.format(site=f"第{site}站")]) + "\r\n"
        encoding = "gbk" if rng.random() < 0.2 else "utf-8"
        data = text.encode(encoding, errors="replace")
        path = folder / f"site{site:04d}" / f"page{files:06d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written += len(data)
        files += 1
    return files, written


def comparable(out: Path) -> Any:
    files = {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*.txt"))
        if p.is_file() and not p.name.startswith(".")
    }
    records = sorted(
        json.dumps({k: v for k, v in r.items() if k != "run"}, sort_keys=True)
        for r in read_records(out / PROVENANCE_FILE)
    )
    with NearDupIndex(out / INDEX_FILE) as index:
        states = index.states()
    return files, records, states


def timed_run(corpus: Path, out: Path, executor: Any) -> dict[str, float]:
    """One run; besides its wall time, the driver's CPU in all and in the near-duplicate
    pass's end of run (decisions and rewriting the duplicates' records), the serial part."""
    from cleankit.neardup.crawl import NearDupPass

    settings = Settings(jobs=1)
    pipeline = Pipeline.from_settings(settings)
    finalize = NearDupPass.finalize
    spent = {"cpu": 0.0, "wall": 0.0, "thread": 0.0}

    def timed_finalize(self: NearDupPass, changes: Any) -> dict[str, int]:
        wall, cpu, thread = time.perf_counter(), time.process_time(), time.thread_time()
        try:
            return finalize(self, changes)
        finally:
            spent["cpu"] += time.process_time() - cpu
            spent["thread"] += time.thread_time() - thread
            spent["wall"] += time.perf_counter() - wall

    NearDupPass.finalize = timed_finalize  # type: ignore[method-assign]
    try:
        wall, cpu, thread = time.perf_counter(), time.process_time(), time.thread_time()
        summary = run_clean([corpus], out, settings, pipeline=pipeline, executor=executor)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        thread = time.thread_time() - thread
    finally:
        NearDupPass.finalize = finalize  # type: ignore[method-assign]
    return {
        "documents": summary.documents,
        "duplicates": summary.duplicates,
        "seconds": round(wall, 2),
        "docs_per_s": round(summary.documents / wall, 1),
        "mb_per_s": round(summary.bytes_in / 1e6 / wall, 2),
        "driver_cpu_s": round(cpu, 2),
        "neardup_end_cpu_s": round(spent["cpu"], 2),
        # The main thread alone: Ray's driver threads poll while the driver waits, so the
        # process's CPU grows with the wall time of a run starved by other load.
        "driver_main_thread_cpu_s": round(thread, 2),
        "neardup_end_main_thread_cpu_s": round(spent["thread"], 2),
        "neardup_end_wall_s": round(spent["wall"], 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=20.0, help="size of the synthetic crawl (MB)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray instance")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    from cleankit.neardup.distributed import RayNearDupPass
    from cleankit.run.ray_engine import RayExecutor, RaySession

    work = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    try:
        corpus = work / "crawl"
        made = time.perf_counter()
        files, size = make_crawl(corpus, args.mb)
        print(f"crawl: {files} files, {size / 1e6:.1f} MB, made in {time.perf_counter() - made:.1f}s", flush=True)
        rows: dict[str, Any] = {"crawl": {"files": files, "bytes": size}}
        rows["local -j1"] = timed_run(corpus, work / "j1", LocalExecutor(1))
        print("local -j1", rows["local -j1"], flush=True)
        rows["local -j2"] = timed_run(corpus, work / "j2", LocalExecutor(2))
        print("local -j2", rows["local -j2"], flush=True)

        session = RaySession(num_cpus=args.cpus)
        try:
            started = time.perf_counter()
            ray = session.open()
            init = time.perf_counter() - started
            ray.data.range(args.cpus, override_num_blocks=args.cpus).map_batches(lambda b: b).materialize()
            first = time.perf_counter() - started
            rows["ray start"] = {"init_s": round(init, 2), "init_and_first_dataset_s": round(first, 2)}
            print("ray start", rows["ray start"], flush=True)
            executor = RayExecutor(session)
            rows["ray"] = timed_run(corpus, work / "ray", executor)
            figures = next((p.figures for p in executor.passes if isinstance(p, RayNearDupPass)), {})
            rows["ray"]["neardup"] = figures
            print("ray", rows["ray"], flush=True)
        finally:
            session.close()

        same = comparable(work / "j1") == comparable(work / "j2") == comparable(work / "ray")
        documents = rows["local -j1"]["documents"]
        rows["per_document"] = {
            "input_bytes": round(size / files),
            "provenance_bytes": round((work / "ray" / PROVENANCE_FILE).stat().st_size / documents),
            "index_bytes": round((work / "ray" / INDEX_FILE).stat().st_size / documents),
            "local_j1_cpu_ms": round(1000 * rows["local -j1"]["driver_cpu_s"] / documents, 2),
            "ray_driver_cpu_ms": round(1000 * rows["ray"]["driver_cpu_s"] / documents, 2),
            "ray_driver_neardup_end_cpu_ms": round(1000 * rows["ray"]["neardup_end_cpu_s"] / documents, 2),
            "local_j1_neardup_end_cpu_ms": round(1000 * rows["local -j1"]["neardup_end_cpu_s"] / documents, 2),
            "band_entries": round(figures.get("band_entries", 0) / documents, 2),
            "candidate_pairs": round(figures.get("candidate_pairs", 0) / documents, 3),
            "verified_pairs": round(figures.get("verified_pairs", 0) / documents, 3),
        }
        rows["outputs_identical"] = same
        print("per document", rows["per_document"])
        print("outputs identical across engines:", same)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
        if not same:
            sys.exit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
