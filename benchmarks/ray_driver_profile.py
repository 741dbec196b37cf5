"""Where the Ray engine's driver spends its CPU (issue 16): one run of the Ray engine on the
synthetic crawl of ``bench_ray.py`` (or the same pages as JSON Lines, one file per site),
profiled with cProfile on the driver's main thread CPU (``time.thread_time``: the figures do
not depend on what else the machine runs). Ray's start and its first dataset are outside
the profile.

    python benchmarks/ray_driver_profile.py --mb 3                  # folders of pages
    python benchmarks/ray_driver_profile.py --mb 3 --jsonl --stats driver.prof

Prints the run's driver CPU (main thread and whole process) and the functions with the
most cumulative CPU; ``--stats`` keeps the profile for ``python -m pstats``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_ray import make_crawl  # noqa: E402

from cleankit import Settings  # noqa: E402
from cleankit.core.pipeline import Pipeline  # noqa: E402
from cleankit.run.clean import run_clean  # noqa: E402


def as_jsonl(crawl: Path, folder: Path) -> None:
    """The crawl's pages as JSON Lines: one file per site, one line per page."""
    folder.mkdir()
    for site in sorted(crawl.iterdir()):
        lines = []
        for page in sorted(site.iterdir()):
            raw = page.read_bytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("gbk")
            lines.append(json.dumps({"id": page.name, "text": text}, ensure_ascii=False))
        (folder / f"{site.name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=3.0, help="size of the synthetic crawl (MB)")
    parser.add_argument("--jsonl", action="store_true", help="the pages as JSON Lines (one file per site)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray instance")
    parser.add_argument("--stats", type=Path, help="write the profile here (pstats)")
    parser.add_argument("--top", type=int, default=30, help="functions printed")
    args = parser.parse_args(argv)

    from cleankit.run.ray_engine import RayExecutor, RaySession

    work = Path(tempfile.mkdtemp(prefix="ray-driver-"))
    session = RaySession(num_cpus=args.cpus)
    try:
        source = work / "crawl"
        files, size = make_crawl(source, args.mb)
        settings = Settings(jobs=1)
        if args.jsonl:
            as_jsonl(source, work / "jsonl")
            source = work / "jsonl"
            settings = Settings(jobs=1, jsonl=True, text_field="text")
        ray = session.open()
        ray.data.range(args.cpus, override_num_blocks=args.cpus).map_batches(lambda b: b).materialize()
        profile = cProfile.Profile(time.thread_time)
        cpu, thread = time.process_time(), time.thread_time()
        profile.enable()
        summary = run_clean(
            [source], work / "out", settings, pipeline=Pipeline.from_settings(settings), executor=RayExecutor(session)
        )
        profile.disable()
        figures = {
            "pages": files,
            "bytes": size,
            "jsonl": args.jsonl,
            "documents": summary.documents,
            "duplicates": summary.duplicates,
            "driver_main_thread_cpu_s": round(time.thread_time() - thread, 2),
            "driver_process_cpu_s": round(time.process_time() - cpu, 2),
        }
        print(json.dumps(figures))
        if args.stats:
            profile.dump_stats(args.stats)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
    finally:
        session.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
